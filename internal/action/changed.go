package action

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/layerdiff/layerdiff/internal/github"
)

// changedFiles says which files changed between the two commits. It prefers the workspace's git
// checkout (no API quota, exact two-commit diff) and falls back to the GitHub API. Nil means
// unknown, which is different from an empty list (nothing changed).
type changedFiles struct {
	Files  []string
	Source string // "git", "pull request files", "compare", or "" when unknown
	Note   string // why the list is missing or incomplete
}

// gitHas reports whether the checkout in dir has commit sha. GitHub runs container actions as
// root over a workspace owned by the runner user, so git's safe.directory check is lifted for
// this one invocation; nothing from the checkout is executed (no hooks, diff drivers or
// text conversions run for these commands).
func gitHas(ctx context.Context, git, dir, sha string) bool {
	if git == "" || sha == "" {
		return false
	}
	cmd := exec.CommandContext(ctx, git, "-C", dir, "-c", "safe.directory=*", "cat-file", "-e", sha+"^{commit}")
	cmd.Env = gitEnv()
	return cmd.Run() == nil
}

func gitDiff(ctx context.Context, git, dir, base, head string) ([]string, error) {
	cmd := exec.CommandContext(ctx, git, "-C", dir, "-c", "safe.directory=*", "-c", "core.quotePath=false",
		"diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", "--no-textconv", base, head, "--")
	cmd.Env = gitEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("git diff %s %s: %v: %s", shortSHA(base), shortSHA(head), err, strings.TrimSpace(errb.String()))
	}
	files := []string{}
	for _, f := range strings.Split(out.String(), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files, nil
}

// gitEnv keeps git from prompting, paging or reading a global configuration that is not ours.
func gitEnv() []string {
	return []string{"GIT_TERMINAL_PROMPT=0", "GIT_PAGER=cat", "GIT_CONFIG_NOSYSTEM=1", "HOME=/nonexistent", "PATH=/usr/local/bin:/usr/bin:/bin"}
}

func (r *runner) changedFiles(ctx context.Context, t target, ws workspace, gh *github.Client) changedFiles {
	if t.BaseSHA == "" || t.HeadSHA == "" {
		return changedFiles{Note: "the event names no base commit"}
	}
	if gitHas(ctx, r.git, ws.dir, t.BaseSHA) && gitHas(ctx, r.git, ws.dir, t.HeadSHA) {
		files, err := gitDiff(ctx, r.git, ws.dir, t.BaseSHA, t.HeadSHA)
		if err == nil {
			return changedFiles{Files: files, Source: "git"}
		}
	}
	if gh == nil {
		return changedFiles{Note: "the checkout lacks the commits and there is no github-token to ask the API"}
	}
	var (
		files     []string
		truncated bool
		err       error
		source    string
	)
	if t.Number > 0 {
		source = "pull request files"
		files, truncated, err = gh.PullRequestFiles(ctx, t.Owner, t.Repo, t.Number)
	} else {
		source = "compare"
		files, truncated, err = gh.CompareFiles(ctx, t.Owner, t.Repo, t.BaseSHA, t.HeadSHA)
	}
	if err != nil {
		return changedFiles{Note: err.Error()}
	}
	if files == nil {
		files = []string{}
	}
	cf := changedFiles{Files: files, Source: source}
	if truncated {
		cf.Note = "GitHub lists at most 3000 changed files; causes may name fewer files than changed"
	}
	return cf
}
