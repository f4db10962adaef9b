package action

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/layerdiff/layerdiff/analyze"
	"github.com/layerdiff/layerdiff/internal/github"
	"github.com/layerdiff/layerdiff/internal/github/githubtest"
	"github.com/layerdiff/layerdiff/internal/render"
)

// bigReport makes the harness's report render close to GitHub's comment limit.
func bigReport(h *harness) {
	for i := range 3000 {
		h.report.Steps = append(h.report.Steps, analyze.Step{Index: 100 + i, Instruction: strings.Repeat("RUN echo long ", 5), Status: analyze.StatusRebuilt,
			Cause: &analyze.Cause{Kind: analyze.CauseParent, RootStep: 3}})
	}
}

// commentBodies returns the bodies the action sent with method, in order.
func commentBodies(t *testing.T, srv *githubtest.Server, method string) []string {
	t.Helper()
	var out []string
	for _, r := range srv.Requests() {
		if r.Method != method || !strings.Contains(r.Path, "/comments") {
			continue
		}
		var in struct{ Body string }
		if err := json.Unmarshal([]byte(r.Body), &in); err != nil {
			t.Fatalf("%s %s: %v", r.Method, r.Path, err)
		}
		out = append(out, in.Body)
	}
	return out
}

// checkShrunk checks that bodies are a refused body and its one retry: smaller, cut at a line
// with <details> closed, the marker on the first line and the run linked.
func checkShrunk(t *testing.T, bodies []string) {
	t.Helper()
	if len(bodies) != 2 {
		t.Fatalf("%d requests with a body, want exactly 2", len(bodies))
	}
	first, second := bodies[0], bodies[1]
	if len(second) >= len(first) || len(second) > len(first)/2+len(github.Marker("default"))+1 {
		t.Errorf("second body %d bytes after a first of %d: want at most half", len(second), len(first))
	}
	for i, b := range bodies {
		if !strings.HasPrefix(b, github.Marker("default")+"\n") {
			t.Errorf("body %d does not start with the marker: %.80q", i+1, b)
		}
	}
	if strings.Count(second, "<details") != strings.Count(second, "</details>") {
		t.Error("the shrunk body leaves a <details> open")
	}
	if !strings.Contains(second, "[workflow run](https://github.com/Codertocat/Hello-World/actions/runs/4242)") {
		t.Error("the shrunk body does not link the run")
	}
	if !strings.HasSuffix(second, "\n") || strings.Contains(second, "| 3099 |") {
		t.Errorf("the shrunk body was not cut:\n…%s", second[max(len(second)-300, 0):])
	}
}

// TestOversizedCommentShrunkOnce: GitHub refuses the comment as too long (422) when creating it;
// the action sends it once more cut to half, and everything else goes on as usual.
func TestOversizedCommentShrunkOnce(t *testing.T) {
	for _, real := range []bool{false, true} {
		t.Run(map[bool]string{false: "fake renderer", true: "render.Markdown"}[real], func(t *testing.T) {
			testOversizedCommentShrunkOnce(t, real)
		})
	}
}

func testOversizedCommentShrunkOnce(t *testing.T, realRenderer bool) {
	h := newHarness(t, "pull_request.opened.json")
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, Files: []string{"README.md"}})
	bigReport(h)
	if realRenderer {
		h.markdown = render.Markdown
	}
	h.srv.Script("POST", commentsP, githubtest.BodyTooLong())
	res := h.run()
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
	checkShrunk(t, commentBodies(t, h.srv, "POST"))
	c := h.srv.Comments(prRepo, prNumber)
	if len(c) != 1 || res.outputs["comment-url"] == "" || !strings.HasSuffix(res.outputs["comment-url"], fmt.Sprint(c[0].ID)) {
		t.Fatalf("comments %d, comment-url %q", len(c), res.outputs["comment-url"])
	}
	if !strings.Contains(res.stdout, "GitHub refused the comment as too long (HTTP 422); sent it again cut to half its size\n") {
		t.Errorf("the retry is not in the log:\n%s", res.stdout)
	}
	if len(errorLines(res.stdout)) != 0 || strings.Contains(res.stdout, "::warning::") {
		t.Errorf("a shrunk comment is no warning or error:\n%s", res.stdout)
	}
	if !strings.Contains(res.summary, "Pull request comment: [created]") {
		t.Errorf("summary tail:\n…%s", res.summary[max(len(res.summary)-200, 0):])
	}
}

// TestOversizedEditShrunkOnce: the same when editing an earlier comment (PATCH).
func TestOversizedEditShrunkOnce(t *testing.T) {
	h := newHarness(t, "pull_request.opened.json")
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, Files: []string{"README.md"}})
	id := h.srv.AddComment(prRepo, prNumber, "github-actions[bot]", github.Marker("default")+"\nan earlier run")
	bigReport(h)
	// Not scripted: the fake counts characters and, like GitHub may, refuses less than 65536.
	h.srv.SetMaxCommentChars(50000)
	res := h.run()
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
	checkShrunk(t, commentBodies(t, h.srv, "PATCH"))
	if n := h.srv.Count("POST", commentsP); n != 0 {
		t.Errorf("%d POSTs: the earlier comment should have been edited", n)
	}
	c := h.srv.Comments(prRepo, prNumber)
	if len(c) != 1 || c[0].ID != id || len(c[0].Body) > 50000 {
		t.Errorf("comments %d (id %d, want %d)", len(c), c[0].ID, id)
	}
}

// TestOversizedCommentRefusedTwice: a second 422 is a warning, not a failure: the exit status
// is the gate's, and the summary and outputs are still written.
func TestOversizedCommentRefusedTwice(t *testing.T) {
	for _, gate := range []bool{false, true} {
		h := newHarness(t, "pull_request.opened.json")
		h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, Files: []string{"README.md"}})
		bigReport(h)
		want := 0
		if gate {
			h.vars["INPUT_MAX-REBUILT-LAYERS"] = "1"
			h.report.Gates = []analyze.Gate{{Name: "max-rebuilt-layers", Limit: "1", Actual: "2", Passed: false}}
			want = 1
		}
		h.srv.Script("POST", commentsP, githubtest.BodyTooLong(), githubtest.BodyTooLong(), githubtest.BodyTooLong())
		res := h.run()
		if res.code != want {
			t.Fatalf("gate %v: exit %d, want %d\n%s", gate, res.code, want, res.stdout)
		}
		checkShrunk(t, commentBodies(t, h.srv, "POST"))
		if len(h.srv.Comments(prRepo, prNumber)) != 0 {
			t.Error("a comment exists")
		}
		var warn string
		for _, ln := range strings.Split(res.stdout, "\n") {
			if strings.HasPrefix(ln, "::warning::") && strings.Contains(ln, "HTTP 422") {
				warn = ln
			}
		}
		if !strings.Contains(warn, "refused the comment on pull request #2 (HTTP 422), also when cut to half its size") || !strings.Contains(warn, "Body is too long") {
			t.Errorf("gate %v: no clear warning:\n%s", gate, res.stdout)
		}
		if n := len(errorLines(res.stdout)); n != want {
			t.Errorf("gate %v: %d error lines, want %d (only the gate's)", gate, n, want)
		}
		if !strings.Contains(res.summary, "2 of 4 layers rebuilt") || !strings.Contains(res.summary, "No pull request comment: GitHub refused the comment body.") {
			t.Errorf("gate %v: summary head %.200q tail %q", gate, res.summary, res.summary[max(len(res.summary)-200, 0):])
		}
		if res.outputs["rebuilt-layers"] != "2" || res.outputs["comment-url"] != "" {
			t.Errorf("gate %v: outputs %v", gate, res.outputs)
		}
	}
}
