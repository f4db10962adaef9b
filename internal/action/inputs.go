package action

import (
	"fmt"
	"strings"
	"time"

	githubactions "github.com/sethvargo/go-githubactions"

	"github.com/layerdiff/layerdiff/analyze"
	"github.com/layerdiff/layerdiff/internal/github"
)

// Comment modes of the `comment` input.
const (
	CommentOnRebuild = "on-rebuild"
	CommentAlways    = "always"
	CommentNever     = "never"
)

// DefaultCommentKey is the `comment-key` when none is given.
const DefaultCommentKey = "default"

// DefaultTimeout is the `timeout` when none is given, the same as the CLI's --timeout.
const DefaultTimeout = 2 * time.Minute

// inputs are the action's inputs as action.yml declares them.
type inputs struct {
	BaseImage, HeadImage string
	Dockerfile, Context  string
	Platform             string
	Token                string
	Comment              string
	CommentKey           string
	Limits               analyze.Limits
	Username, Password   string
	ReportFile           string
	// Timeout bounds reading the images (the analysis), not the GitHub API calls around it.
	Timeout time.Duration
}

// inputError names the input that is wrong; it ends the run with exit status 2.
type inputError struct {
	input string
	msg   string
}

func (e *inputError) Error() string { return fmt.Sprintf("input %s: %s", e.input, e.msg) }

// readInputs reads and checks every input. The runner passes `with:` values as INPUT_<NAME> with
// the name upper-cased and its hyphens kept (INPUT_BASE-IMAGE); GetInput does exactly that.
func readInputs(a *githubactions.Action) (inputs, error) {
	in := inputs{
		BaseImage:  a.GetInput("base-image"),
		HeadImage:  a.GetInput("head-image"),
		Dockerfile: a.GetInput("dockerfile"),
		Context:    a.GetInput("context"),
		Platform:   a.GetInput("platform"),
		Token:      a.GetInput("github-token"),
		Comment:    strings.ToLower(a.GetInput("comment")),
		CommentKey: a.GetInput("comment-key"),
		Username:   a.GetInput("registry-username"),
		Password:   a.GetInput("registry-password"),
		ReportFile: a.GetInput("report-file"),
		Timeout:    DefaultTimeout,
	}
	if in.Comment == "" {
		in.Comment = CommentOnRebuild
	}
	switch in.Comment {
	case CommentOnRebuild, CommentAlways, CommentNever:
	default:
		return in, &inputError{"comment", fmt.Sprintf("%q is not one of on-rebuild, always, never", in.Comment)}
	}
	if in.CommentKey != "" && !github.ValidKey(in.CommentKey) {
		return in, &inputError{"comment-key", fmt.Sprintf("%q: use up to 100 letters, digits and . _ / : @ + - (no \"--\")", in.CommentKey)}
	}
	if in.HeadImage == "" && in.ReportFile == "" {
		return in, &inputError{"head-image", "required (or report-file, to post an existing report)"}
	}
	if (in.Username == "") != (in.Password == "") {
		return in, &inputError{"registry-username", "registry-username and registry-password go together"}
	}
	if v := a.GetInput("max-rebuilt-bytes"); v != "" {
		n, err := analyze.ParseSize(v)
		if err != nil || n < 0 {
			return in, &inputError{"max-rebuilt-bytes", fmt.Sprintf("%q is not a size such as 250MB or 1.5GiB", v)}
		}
		in.Limits.MaxRebuiltBytes, in.Limits.HasMaxRebuiltBytes = n, true
	}
	if v := a.GetInput("max-rebuilt-layers"); v != "" {
		n, err := analyze.ParseLayerCount(v)
		if err != nil {
			return in, &inputError{"max-rebuilt-layers", err.Error()}
		}
		in.Limits.MaxRebuiltLayers, in.Limits.HasMaxRebuiltLayers = n, true
	}
	if v := a.GetInput("min-reuse"); v != "" {
		f, err := analyze.ParsePercent(v)
		if err != nil {
			return in, &inputError{"min-reuse", err.Error()}
		}
		in.Limits.MinReuse, in.Limits.HasMinReuse = f, true
	}
	if v := a.GetInput("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return in, &inputError{"timeout", fmt.Sprintf("%q is not a positive duration such as 30s, 5m or 1m30s", v)}
		}
		in.Timeout = d
	}
	return in, nil
}

func (in inputs) hasLimits() bool {
	return in.Limits.HasMaxRebuiltBytes || in.Limits.HasMaxRebuiltLayers || in.Limits.HasMinReuse
}
