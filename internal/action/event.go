package action

import (
	"encoding/json"
	"strconv"
	"strings"

	githubactions "github.com/sethvargo/go-githubactions"
)

// payload is the part of a webhook payload (GITHUB_EVENT_PATH) the action reads.
type payload struct {
	Number      int `json:"number"`
	PullRequest *struct {
		Number int `json:"number"`
		Head   struct {
			SHA  string `json:"sha"`
			Ref  string `json:"ref"`
			Repo struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"head"`
		Base struct {
			SHA string `json:"sha"`
			Ref string `json:"ref"`
		} `json:"base"`
	} `json:"pull_request"`
	Ref        string `json:"ref"`
	Before     string `json:"before"`
	After      string `json:"after"`
	MergeGroup *struct {
		HeadSHA string `json:"head_sha"`
		HeadRef string `json:"head_ref"`
		BaseSHA string `json:"base_sha"`
		BaseRef string `json:"base_ref"`
	} `json:"merge_group"`
	WorkflowRun *struct {
		ID           int64  `json:"id"`
		Event        string `json:"event"`
		HeadSHA      string `json:"head_sha"`
		HeadBranch   string `json:"head_branch"`
		PullRequests []struct {
			Number int `json:"number"`
			Head   struct {
				SHA string `json:"sha"`
			} `json:"head"`
		} `json:"pull_requests"`
	} `json:"workflow_run"`
}

// target is what the run compares and where it reports: derived from the event payload only,
// never from anything the pull request's code could change.
type target struct {
	Event            string // GITHUB_EVENT_NAME, or the payload's kind
	Owner, Repo      string
	Number           int    // pull request number, 0 when there is none
	BaseSHA, HeadSHA string // commits the two images were built from; BaseSHA may be empty
	BaseLabel        string // e.g. "main @ f95f852"
	HeadLabel        string // e.g. "#2 @ ec26c3e"
	// EmptyPayload is act's default `{}` (or no payload at all).
	EmptyPayload bool
	// WorkflowRunPRs are the pull requests a workflow_run event names (empty for forks).
	WorkflowRunPRs []int
	// WorkflowRunHeadSHA is the head commit of the run a workflow_run event reports on.
	WorkflowRunHeadSHA string
}

const zeroSHA = "0000000000000000000000000000000000000000"

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func readTarget(gc *githubactions.GitHubContext) target {
	t := target{Event: gc.EventName}
	t.Owner, t.Repo = gc.Repo()
	var p payload
	if len(gc.Event) == 0 {
		t.EmptyPayload = true
	} else if raw, err := json.Marshal(gc.Event); err == nil {
		_ = json.Unmarshal(raw, &p)
	}
	switch {
	case p.PullRequest != nil:
		t.Number = p.PullRequest.Number
		if t.Number == 0 {
			t.Number = p.Number
		}
		t.BaseSHA, t.HeadSHA = p.PullRequest.Base.SHA, p.PullRequest.Head.SHA
		t.BaseLabel = strings.TrimSpace(p.PullRequest.Base.Ref + " @ " + shortSHA(t.BaseSHA))
		t.HeadLabel = "#" + strconv.Itoa(t.Number) + " @ " + shortSHA(t.HeadSHA)
		if t.Event == "" {
			t.Event = "pull_request"
		}
	case p.MergeGroup != nil:
		t.BaseSHA, t.HeadSHA = p.MergeGroup.BaseSHA, p.MergeGroup.HeadSHA
		t.BaseLabel = strings.TrimPrefix(p.MergeGroup.BaseRef, "refs/heads/") + " @ " + shortSHA(t.BaseSHA)
		t.HeadLabel = "merge queue @ " + shortSHA(t.HeadSHA)
		if t.Event == "" {
			t.Event = "merge_group"
		}
	case p.WorkflowRun != nil:
		t.WorkflowRunHeadSHA = p.WorkflowRun.HeadSHA
		for _, pr := range p.WorkflowRun.PullRequests {
			t.WorkflowRunPRs = append(t.WorkflowRunPRs, pr.Number)
		}
		t.HeadSHA = p.WorkflowRun.HeadSHA
		t.HeadLabel = p.WorkflowRun.HeadBranch + " @ " + shortSHA(t.HeadSHA)
		if t.Event == "" {
			t.Event = "workflow_run"
		}
	case p.After != "":
		if p.Before != zeroSHA {
			t.BaseSHA = p.Before
			t.BaseLabel = shortSHA(p.Before)
		}
		if p.After != zeroSHA {
			t.HeadSHA = p.After
		}
		t.HeadLabel = strings.TrimPrefix(strings.TrimPrefix(p.Ref, "refs/heads/"), "refs/tags/") + " @ " + shortSHA(p.After)
		if t.Event == "" {
			t.Event = "push"
		}
	}
	if t.HeadSHA == "" {
		t.HeadSHA = gc.SHA
	}
	if t.HeadLabel == "" && t.HeadSHA != "" {
		t.HeadLabel = shortSHA(t.HeadSHA)
	}
	return t
}
