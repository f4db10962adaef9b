package action

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/layerdiff/layerdiff/analyze"
	"github.com/layerdiff/layerdiff/internal/github"
	"github.com/layerdiff/layerdiff/internal/github/githubtest"
)

func TestStickyCommentAcrossRuns(t *testing.T) {
	h := newHarness(t, "pull_request.opened.json")
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, BaseSHA: prBaseSHA, Files: []string{"README.md"}})

	first := h.run()
	if first.code != 0 {
		t.Fatalf("first run exit %d\n%s", first.code, first.stdout)
	}
	comments := h.srv.Comments(prRepo, prNumber)
	if len(comments) != 1 || h.srv.Count("POST", commentsP) != 1 {
		t.Fatalf("first run: %d comments, %d POSTs; want 1 and 1", len(comments), h.srv.Count("POST", commentsP))
	}
	c := comments[0]
	if !strings.HasPrefix(c.Body, "<!-- layerdiff key=default -->\n") || !strings.Contains(c.Body, "2 of 4 layers rebuilt") {
		t.Errorf("comment body:\n%s", c.Body)
	}
	if c.Author != "github-actions[bot]" {
		t.Errorf("comment author %q", c.Author)
	}
	wantURL := fmt.Sprintf("https://github.com/%s/pull/2#issuecomment-%d", prRepo, c.ID)
	if first.outputs["comment-url"] != wantURL {
		t.Errorf("comment-url = %q, want %q", first.outputs["comment-url"], wantURL)
	}

	// Second run, different result: the same comment is edited, nothing is created.
	h.srv.Reset()
	h.report = cachedReport()
	h.report.Summary.RebuiltLayers = 0
	second := h.run()
	if second.code != 0 {
		t.Fatalf("second run exit %d\n%s", second.code, second.stdout)
	}
	if n := h.srv.Count("POST", commentsP); n != 0 {
		t.Errorf("second run made %d POSTs", n)
	}
	if n := h.srv.Count("PATCH", fmt.Sprintf("/repos/%s/issues/comments/%d", prRepo, c.ID)); n != 1 {
		t.Errorf("second run made %d PATCHes of comment %d, want 1", n, c.ID)
	}
	comments = h.srv.Comments(prRepo, prNumber)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "0 of 4 layers rebuilt") {
		t.Fatalf("after the second run: %+v", comments)
	}

	// Third run, same result: no write at all.
	h.srv.Reset()
	third := h.run()
	if h.srv.Count("PATCH", "/") != 0 || h.srv.Count("POST", commentsP) != 0 {
		t.Errorf("unchanged body still written: %+v", h.srv.Requests())
	}
	if third.outputs["comment-url"] != wantURL {
		t.Errorf("third run comment-url = %q", third.outputs["comment-url"])
	}

	// Another key (a monorepo matrix entry) gets its own comment.
	h.vars["INPUT_COMMENT-KEY"] = "services/api"
	h.report = rebuiltReport()
	h.run()
	comments = h.srv.Comments(prRepo, prNumber)
	if len(comments) != 2 || !strings.HasPrefix(comments[1].Body, "<!-- layerdiff key=services/api -->\n") {
		t.Fatalf("with comment-key services/api: %+v", comments)
	}
	if _, err := os.Stat(filepath.Join(h.ws, "layerdiff-report-services_api.json")); err != nil {
		t.Errorf("report file for the key: %v", err)
	}
}

func TestOthersCommentsUntouched(t *testing.T) {
	h := newHarness(t, "pull_request.synchronize.json")
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, Files: []string{"README.md"}})
	marker := github.Marker("default")
	human := h.srv.AddComment(prRepo, prNumber, "Codertocat", "> "+marker+"\n> 2 of 4 layers rebuilt\n\nwhy?")
	copycat := h.srv.AddComment(prRepo, prNumber, "Codertocat", marker+"\nI wrote this myself")
	res := h.run()
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
	for _, id := range []int64{human, copycat} {
		p := fmt.Sprintf("/repos/%s/issues/comments/%d", prRepo, id)
		if h.srv.Count("PATCH", p)+h.srv.Count("DELETE", p) != 0 {
			t.Errorf("comment %d of a human was touched", id)
		}
	}
	if n := len(h.srv.Comments(prRepo, prNumber)); n != 3 {
		t.Errorf("%d comments, want the two human ones and ours", n)
	}
}

func TestForbiddenCommentIsAWarning(t *testing.T) {
	for _, status := range []int{403, 404} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			h := newHarness(t, "pull_request.opened.json")
			h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, Files: []string{"README.md"}})
			h.srv.Script("POST", commentsP, githubtest.Response{Status: status,
				Body: `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/issues/comments#create-an-issue-comment"}`})
			res := h.run()
			if res.code != 0 {
				t.Fatalf("exit %d, want 0\n%s", res.code, res.stdout)
			}
			if !regexp.MustCompile(`(?m)^::warning::cannot comment on pull request #2 \(HTTP ` + fmt.Sprint(status) + `\)`).MatchString(res.stdout) {
				t.Errorf("no warning about the comment:\n%s", res.stdout)
			}
			if !strings.Contains(res.summary, "2 of 4 layers rebuilt") || !strings.Contains(res.summary, "No pull request comment: the token cannot write comments") {
				t.Errorf("summary:\n%s", res.summary)
			}
			if res.outputs["rebuilt-layers"] != "2" || res.outputs["comment-url"] != "" {
				t.Errorf("outputs %v", res.outputs)
			}
		})
	}
}

func TestGateFailure(t *testing.T) {
	h := newHarness(t, "pull_request.opened.json")
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, Files: []string{"README.md"}})
	h.vars["INPUT_MAX-REBUILT-LAYERS"] = "1"
	h.report.Gates = []analyze.Gate{
		{Name: "max-rebuilt-layers", Limit: "1", Actual: "2", Passed: false},
		{Name: "min-reuse", Limit: "50%", Actual: "76.92%", Passed: true},
	}
	res := h.run()
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", res.code, res.stdout)
	}
	want := map[string]string{
		"rebuilt-layers": "2", "rebuilt-bytes": "300000", "cached-bytes": "1000000", "reuse": "76.92",
		"root-cause": "sources", "report": "layerdiff-report.json",
		"comment-url": res.outputs["comment-url"],
	}
	if diff := cmp.Diff(want, res.outputs); diff != "" || want["comment-url"] == "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	errs := regexp.MustCompile(`(?m)^::error::.*$`).FindAllString(res.stdout, -1)
	if diff := cmp.Diff([]string{"::error::gate max-rebuilt-layers failed: 2 (limit 1)"}, errs); diff != "" {
		t.Errorf("error lines (-want +got):\n%s", diff)
	}
	// The gate failure is reported after everything else was written.
	if strings.Index(res.stdout, "::error::") < strings.Index(res.stdout, "comment created") {
		t.Errorf("error line before the comment was written:\n%s", res.stdout)
	}
	if len(h.srv.Comments(prRepo, prNumber)) != 1 || res.summary == "" {
		t.Error("comment or summary missing on gate failure")
	}
	if len(h.options) != 1 || !h.options[0].Limits.HasMaxRebuiltLayers || h.options[0].Limits.MaxRebuiltLayers != 1 {
		t.Errorf("limits passed to the analysis: %+v", h.options)
	}
}

func TestTokenNeverLeaks(t *testing.T) {
	h := newHarness(t, "pull_request.opened.json")
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, Files: []string{"README.md"}})
	h.vars["INPUT_REGISTRY-USERNAME"] = "robot"
	h.vars["INPUT_REGISTRY-PASSWORD"] = "registry-pa55word-value"
	// A build argument named so that nothing redacts it carried the token into the history.
	h.report.Steps[3].Instruction = "RUN |1 GH_PAT=" + testToken + " /bin/sh -c npm ci"
	h.report.Steps[3].Cause.Detail = "GH_PAT=" + testToken
	h.report.Summary.RootCauses = append(h.report.Summary.RootCauses, analyze.RootCause{Step: 4, Kind: analyze.CauseBuildArg})
	h.analyzeE = nil
	res := h.run()
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
	secrets := []string{testToken, "registry-pa55word-value"}
	for _, secret := range secrets {
		for _, line := range strings.Split(res.stdout, "\n") {
			if strings.Contains(line, secret) && line != "::add-mask::"+secret {
				t.Errorf("log line shows a secret: %q", line)
			}
		}
		if !strings.Contains(res.stdout, "::add-mask::"+secret+"\n") {
			t.Errorf("secret not masked")
		}
		report, _ := os.ReadFile(filepath.Join(h.ws, "layerdiff-report.json"))
		for what, text := range map[string]string{"stderr": res.stderr, "summary": res.summary, "report file": string(report), "outputs": fmt.Sprint(res.outputs)} {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains a secret", what)
			}
		}
		for _, r := range h.srv.Requests() {
			if strings.Contains(r.Body, secret) || strings.Contains(r.Path, secret) || strings.Contains(r.Query.Encode(), secret) {
				t.Errorf("%s %s sends a secret outside the Authorization header", r.Method, r.Path)
			}
			if r.Authorization != "Bearer "+testToken {
				t.Errorf("%s %s: Authorization %q", r.Method, r.Path, r.Authorization)
			}
		}
	}
	// The step in the comment still says what happened, with the value hidden (the renderer
	// may write "*" as a character reference).
	if c := h.srv.Comments(prRepo, prNumber); len(c) != 1 || !strings.Contains(strings.ReplaceAll(c[0].Body, "&#42;", "*"), "PAT=*** /bin/sh -c npm ci") {
		t.Errorf("comment: %+v", c)
	}
}

func TestRateLimitedCreateIsRetried(t *testing.T) {
	h := newHarness(t, "pull_request.opened.json")
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, Files: []string{"README.md"}})
	h.srv.Script("POST", commentsP, githubtest.Response{Status: 429, Header: map[string]string{"Retry-After": "3"}, Body: `{"message":"API rate limit exceeded"}`})
	res := h.run()
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
	if diff := cmp.Diff([]time.Duration{3 * time.Second}, h.sleeps); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	if n := len(h.srv.Comments(prRepo, prNumber)); n != 1 || h.srv.Count("POST", commentsP) != 2 {
		t.Errorf("%d comments after %d POSTs, want 1 after 2", n, h.srv.Count("POST", commentsP))
	}
	if !strings.Contains(res.stdout, "GitHub API answered 429 to POST "+commentsP+"; retrying in 3s") {
		t.Errorf("retry not logged:\n%s", res.stdout)
	}
}

func TestFindsOurCommentAfter250Others(t *testing.T) {
	h := newHarness(t, "pull_request.opened.json")
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, Files: []string{"README.md"}})
	for i := range 250 {
		h.srv.AddComment(prRepo, prNumber, "Codertocat", fmt.Sprintf("review comment %d", i))
	}
	ours := h.srv.AddComment(prRepo, prNumber, "github-actions[bot]", github.Marker("default")+"\nold result")
	res := h.run()
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
	if h.srv.Count("POST", commentsP) != 0 || h.srv.Count("PATCH", fmt.Sprintf("/repos/%s/issues/comments/%d", prRepo, ours)) != 1 {
		t.Errorf("requests: %d POST, want 0, and one PATCH of %d", h.srv.Count("POST", commentsP), ours)
	}
	if h.srv.Count("GET", commentsP) != 3 {
		t.Errorf("%d pages listed, want 3", h.srv.Count("GET", commentsP))
	}
}

func TestDuplicatesConverge(t *testing.T) {
	h := newHarness(t, "pull_request.opened.json")
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, Files: []string{"README.md"}})
	keep := h.srv.AddComment(prRepo, prNumber, "github-actions[bot]", github.Marker("default")+"\nrun A")
	h.srv.AddComment(prRepo, prNumber, "github-actions[bot]", github.Marker("default")+"\nrun B")
	res := h.run()
	if res.code != 0 {
		t.Fatal(res.stdout)
	}
	c := h.srv.Comments(prRepo, prNumber)
	if len(c) != 1 || c[0].ID != keep || !strings.Contains(c[0].Body, "2 of 4") {
		t.Errorf("comments %+v", c)
	}
}

func TestOnRebuild(t *testing.T) {
	h := newHarness(t, "pull_request.opened.json")
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, Files: []string{"package.json"}})
	h.report = cachedReport()
	res := h.run()
	if res.code != 0 || len(h.srv.Comments(prRepo, prNumber)) != 0 {
		t.Fatalf("all cached with on-rebuild created a comment (exit %d)", res.code)
	}
	if !strings.Contains(res.summary, "No pull request comment: nothing rebuilt") {
		t.Errorf("summary:\n%s", res.summary)
	}
	// An earlier failing comment is replaced even though nothing is rebuilt now.
	id := h.srv.AddComment(prRepo, prNumber, "github-actions[bot]", github.Marker("default")+"\n**Gate max-rebuilt-layers failed**")
	res = h.run()
	c := h.srv.Comments(prRepo, prNumber)
	if len(c) != 1 || c[0].ID != id || strings.Contains(c[0].Body, "failed") {
		t.Errorf("stale comment not replaced: %+v", c)
	}
	h.vars["INPUT_COMMENT"] = "always"
	h.srv.AddPull(prRepo, 3, githubtest.PullRequest{})
	h.vars["INPUT_COMMENT"] = "never"
	h.srv.Reset()
	h.run()
	if h.srv.Count("GET", commentsP)+h.srv.Count("POST", commentsP) != 0 {
		t.Errorf("comment: never still talked to the comments API")
	}
}

func TestCommentAlwaysCreatesWhenCached(t *testing.T) {
	h := newHarness(t, "pull_request.opened.json")
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA})
	h.vars["INPUT_COMMENT"] = "always"
	h.report = cachedReport()
	if res := h.run(); res.code != 0 || len(h.srv.Comments(prRepo, prNumber)) != 1 {
		t.Fatalf("comment: always did not create (exit %d)", res.code)
	}
}

func TestActEmptyPayload(t *testing.T) {
	h := newHarness(t, "act-empty.json")
	h.vars["GITHUB_EVENT_NAME"] = "push"
	res := h.run()
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
	if !regexp.MustCompile(`(?m)^::notice::No pull request in the event payload`).MatchString(res.stdout) {
		t.Errorf("no notice:\n%s", res.stdout)
	}
	if !strings.Contains(res.stdout, "::group::layerdiff report\n") || !strings.Contains(res.stdout, "2 of 4 layers rebuilt") {
		t.Errorf("report not printed:\n%s", res.stdout)
	}
	for _, r := range h.srv.Requests() {
		if strings.Contains(r.Path, "/comments") {
			t.Errorf("act run talked to %s %s", r.Method, r.Path)
		}
	}
	if res.outputs["rebuilt-layers"] != "2" {
		t.Errorf("outputs %v", res.outputs)
	}

	// Without any payload file at all (GITHUB_EVENT_PATH unset) it is the same.
	delete(h.vars, "GITHUB_EVENT_PATH")
	if res := h.run(); res.code != 0 || !strings.Contains(res.stdout, "::notice::No pull request") {
		t.Errorf("no payload: exit %d\n%s", res.code, res.stdout)
	}
}

func TestNoRunnerFiles(t *testing.T) {
	h := newHarness(t, "act-empty.json")
	delete(h.vars, "GITHUB_OUTPUT")
	delete(h.vars, "GITHUB_STEP_SUMMARY")
	if res := h.run(); res.code != 0 {
		t.Fatalf("exit %d without GITHUB_OUTPUT and GITHUB_STEP_SUMMARY\n%s", res.code, res.stdout)
	}
}

func TestReportFileMode(t *testing.T) {
	const runHead = "5779607b49aab1200488439f02372c57b4f75444" // workflow_run.completed.json
	writeReport := func(h *harness, pr int, head string) {
		prov := &Provenance{Repository: prRepo, PullRequest: pr, HeadSHA: head, BaseSHA: prBaseSHA, CommentKey: "default", Event: "pull_request"}
		rep := rebuiltReport()
		rep.Dockerfile = "Dockerfile"
		rep.Steps[2].Cause.Files = []string{"<!-- x --> @maintainers `|`"}
		if err := writeReportFile(filepath.Join(h.ws, "in", "report.json"), rep, prov, func(s string) string { return s }); err != nil {
			t.Fatal(err)
		}
	}
	setup := func(t *testing.T) *harness {
		h := newHarness(t, "workflow_run.completed.json")
		os.MkdirAll(filepath.Join(h.ws, "in"), 0o755)
		delete(h.vars, "INPUT_HEAD-IMAGE")
		delete(h.vars, "INPUT_BASE-IMAGE")
		h.vars["INPUT_REPORT-FILE"] = "in/report.json"
		h.analyzeE = errors.New("report-file mode must not read images")
		return h
	}

	t.Run("fork pull request checked through the API", func(t *testing.T) {
		h := setup(t)
		h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: runHead, BaseSHA: prBaseSHA})
		writeReport(h, prNumber, runHead)
		res := h.run()
		if res.code != 0 {
			t.Fatalf("exit %d\n%s", res.code, res.stdout)
		}
		c := h.srv.Comments(prRepo, prNumber)
		if len(c) != 1 || !strings.Contains(c[0].Body, "2 of 4 layers rebuilt") {
			t.Fatalf("comments %+v", c)
		}
		if strings.Contains(c[0].Body, "<!-- x") || strings.Contains(c[0].Body, "@maintainers") {
			t.Errorf("untrusted file name reached the comment unescaped:\n%s", c[0].Body)
		}
		if len(h.options) != 0 {
			t.Error("report-file mode analysed images")
		}
		if res.outputs["report"] != "in/report.json" {
			t.Errorf("report output %q", res.outputs["report"])
		}
		if !strings.Contains(c[0].Body, `\#2 @​ 5779607`) {
			t.Errorf("head label missing:\n%s", c[0].Body)
		}
	})
	t.Run("head SHA of the report does not match the run", func(t *testing.T) {
		h := setup(t)
		h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: runHead})
		writeReport(h, prNumber, prHeadSHA)
		res := h.run()
		if res.code != 2 || !strings.Contains(res.stdout, "::error::input report-file: the report is for commit ec26c3e, this run is for 5779607: refusing to post it") {
			t.Fatalf("exit %d\n%s", res.code, res.stdout)
		}
		if h.srv.Count("POST", "/") != 0 || h.srv.Count("PATCH", "/") != 0 {
			t.Error("a refused report was posted")
		}
	})
	t.Run("pull request moved on", func(t *testing.T) {
		h := setup(t)
		h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA})
		writeReport(h, prNumber, runHead)
		res := h.run()
		if res.code != 2 || !strings.Contains(res.stdout, "pull request #2 is at ec26c3e, not at the run's commit 5779607") {
			t.Fatalf("exit %d\n%s", res.code, res.stdout)
		}
		if h.srv.Count("POST", "/") != 0 {
			t.Error("posted")
		}
	})
	t.Run("pull_request event with another number", func(t *testing.T) {
		h := setup(t)
		h.vars["GITHUB_EVENT_PATH"] = eventPath(t, "pull_request.opened.json")
		h.vars["GITHUB_EVENT_NAME"] = "pull_request"
		writeReport(h, 3, prHeadSHA)
		res := h.run()
		if res.code != 2 || !strings.Contains(res.stdout, "the report is for pull request #3, this run is for #2") {
			t.Fatalf("exit %d\n%s", res.code, res.stdout)
		}
	})
	t.Run("not a report", func(t *testing.T) {
		h := setup(t)
		h.write("in/report.json", `{"schemaVersion": 1, "summary": {}}`)
		res := h.run()
		if res.code != 2 || !strings.Contains(res.stdout, "no \"github\" provenance") {
			t.Fatalf("exit %d\n%s", res.code, res.stdout)
		}
	})
}

func TestChangedFiles(t *testing.T) {
	t.Run("pull request files from the API", func(t *testing.T) {
		h := newHarness(t, "pull_request.opened.json")
		h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, Files: []string{"README.md", "src/app.js"}})
		h.run()
		if len(h.options) != 1 {
			t.Fatal("analysis not called")
		}
		if diff := cmp.Diff([]string{"README.md", "src/app.js"}, h.options[0].ChangedFiles); diff != "" {
			t.Errorf("changed files (-want +got):\n%s", diff)
		}
	})
	t.Run("merge group from the compare API", func(t *testing.T) {
		h := newHarness(t, "merge_group.checks_requested.json")
		h.vars["GITHUB_REPOSITORY"] = "octo-org/octo-repo"
		h.srv.AddCompare("octo-org/octo-repo", "380387fbc80638b734a49e1be1c4dfec1c01b33c", "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d", []string{"go.mod"})
		res := h.run()
		if diff := cmp.Diff([]string{"go.mod"}, h.options[0].ChangedFiles); diff != "" {
			t.Errorf("changed files (-want +got):\n%s\n%s", diff, res.stdout)
		}
		if strings.Contains(res.stdout, "/comments") || h.srv.Count("GET", "/repos/octo-org/octo-repo/issues") != 0 {
			t.Error("merge group run looked for a comment")
		}
	})
	t.Run("from the workspace checkout", func(t *testing.T) {
		h := newHarness(t, "")
		base, head := gitRepo(t, h.ws,
			map[string]string{"Dockerfile": "FROM scratch\nCOPY . .\n", "README.md": "one\n", "keep.txt": "same\n"},
			map[string]string{"README.md": "two\n", "dir/new file.txt": "x\n"})
		h.writeEvent("pull_request", fmt.Sprintf(`{"number": 2, "pull_request": {"number": 2, "base": {"ref": "main", "sha": %q}, "head": {"ref": "x", "sha": %q}}, "repository": {"name": "Hello-World", "full_name": %q, "owner": {"login": "Codertocat"}}}`, base, head, prRepo))
		h.run()
		if diff := cmp.Diff([]string{"README.md", "dir/new file.txt"}, h.options[0].ChangedFiles); diff != "" {
			t.Errorf("changed files (-want +got):\n%s", diff)
		}
		if h.srv.Count("GET", "/repos/"+prRepo+"/pulls") != 0 {
			t.Error("asked the API although the checkout has both commits")
		}
	})
	t.Run("push of a new branch names no base", func(t *testing.T) {
		h := newHarness(t, "push.json")
		h.run()
		if h.options[0].ChangedFiles != nil {
			t.Errorf("changed files %v for a push without a before commit", h.options[0].ChangedFiles)
		}
	})
}

func TestOptionsPassedToAnalysis(t *testing.T) {
	h := newHarness(t, "pull_request.opened.json")
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA})
	h.write("services/api/Dockerfile", "FROM scratch\n")
	h.vars["INPUT_CONTEXT"] = "services/api"
	h.vars["INPUT_PLATFORM"] = "linux/arm64"
	h.vars["INPUT_HEAD-IMAGE"] = "oci-archive:build/head.tar"
	h.vars["INPUT_BASE-IMAGE"] = "ghcr.io/codertocat/hello-world:main"
	res := h.run()
	if res.code != 0 {
		t.Fatal(res.stdout)
	}
	o := h.options[0]
	ws, _ := filepath.EvalSymlinks(h.ws)
	want := map[string]string{
		"Dockerfile": filepath.Join(ws, "services/api/Dockerfile"),
		"Context":    filepath.Join(ws, "services/api"),
		"Repo":       ws,
		"Head":       "oci-archive:" + filepath.Join(ws, "build/head.tar"),
		"Base":       "ghcr.io/codertocat/hello-world:main",
		"Platform":   "linux/arm64",
	}
	got := map[string]string{"Dockerfile": o.Dockerfile, "Context": o.Context, "Repo": o.Repo, "Head": o.Head, "Base": o.Base, "Platform": o.Platform}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
	// The comment links the Dockerfile at the head commit, by its path in the repository.
	c := h.srv.Comments(prRepo, prNumber)
	if len(c) != 1 || !strings.Contains(c[0].Body, "https://github.com/Codertocat/Hello-World/blob/"+prHeadSHA+"/services/api/Dockerfile") {
		t.Errorf("comment: %+v", c)
	}
}

func TestRegistryCredentials(t *testing.T) {
	resolve := func(t *testing.T, kc authn.Keychain, registry string) authn.AuthConfig {
		t.Helper()
		reg, err := name.NewRegistry(registry)
		if err != nil {
			t.Fatal(err)
		}
		a, err := kc.Resolve(reg)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := a.Authorization()
		if err != nil {
			t.Fatal(err)
		}
		return *cfg
	}
	t.Run("github-token for ghcr.io only", func(t *testing.T) {
		t.Setenv("DOCKER_CONFIG", t.TempDir())
		kc := registryKeychain(testToken, "Codertocat", true)
		if got := resolve(t, kc, "ghcr.io"); got.Username != "Codertocat" || got.Password != testToken {
			t.Errorf("ghcr.io: %+v", got)
		}
		for _, other := range []string{"index.docker.io", "quay.io", "ghcr.io.evil.example", "127.0.0.1:5000"} {
			if got := resolve(t, kc, other); got != (authn.AuthConfig{}) {
				t.Errorf("%s gets credentials %+v", other, got)
			}
		}
	})
	t.Run("DOCKER_CONFIG wins", func(t *testing.T) {
		dir := t.TempDir()
		cfg := `{"auths": {"ghcr.io": {"auth": "` + base64.StdEncoding.EncodeToString([]byte("bot:pat-from-config")) + `"}}}`
		os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600)
		t.Setenv("DOCKER_CONFIG", dir)
		kc := registryKeychain(testToken, "Codertocat", true)
		if got := resolve(t, kc, "ghcr.io"); got.Username != "bot" || got.Password != "pat-from-config" {
			t.Errorf("ghcr.io: %+v", got)
		}
	})
	t.Run("no ghcr.io reference", func(t *testing.T) {
		t.Setenv("DOCKER_CONFIG", t.TempDir())
		if got := resolve(t, registryKeychain(testToken, "Codertocat", false), "ghcr.io"); got != (authn.AuthConfig{}) {
			t.Errorf("token offered without a ghcr.io image: %+v", got)
		}
	})
	t.Run("explicit inputs", func(t *testing.T) {
		h := newHarness(t, "push.json")
		h.vars["INPUT_REGISTRY-USERNAME"], h.vars["INPUT_REGISTRY-PASSWORD"] = "robot", "pw-value"
		if res := h.run(); res.code != 0 {
			t.Fatal(res.stdout)
		}
		if o := h.options[0]; o.Username != "robot" || o.Password != "pw-value" || len(o.ImageOptions) != 0 {
			t.Errorf("options %+v", o)
		}
	})
	t.Run("keychain passed", func(t *testing.T) {
		h := newHarness(t, "push.json")
		res := h.run()
		if o := h.options[0]; o.Username != "" || o.Password != "" || len(o.ImageOptions) != 1 {
			t.Errorf("options %+v", o)
		}
		if !strings.Contains(res.stdout, "registry credentials: github-token as Codertocat for ghcr.io") {
			t.Errorf("log:\n%s", res.stdout)
		}
	})
}

func TestWorkspaceConfinement(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	tests := []struct {
		name  string
		setup func(h *harness)
		input string
	}{
		{"symlinked Dockerfile", func(h *harness) {
			os.Remove(filepath.Join(h.ws, "Dockerfile"))
			os.Symlink(filepath.Join(outside, "Dockerfile"), filepath.Join(h.ws, "Dockerfile"))
		}, "dockerfile"},
		{"symlinked directory", func(h *harness) {
			os.Symlink(outside, filepath.Join(h.ws, "sub"))
			h.vars["INPUT_DOCKERFILE"] = "sub/Dockerfile"
		}, "dockerfile"},
		{"dot-dot", func(h *harness) { h.vars["INPUT_DOCKERFILE"] = "../x/Dockerfile" }, "dockerfile"},
		{"absolute", func(h *harness) { h.vars["INPUT_DOCKERFILE"] = filepath.Join(outside, "Dockerfile") }, "dockerfile"},
		{"archive outside", func(h *harness) { h.vars["INPUT_HEAD-IMAGE"] = "oci-archive:/etc/passwd" }, "head-image"},
		{"context outside", func(h *harness) { h.vars["INPUT_CONTEXT"] = "../.." }, "context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, "push.json")
			tt.setup(h)
			res := h.run()
			if res.code != 2 || !strings.Contains(res.stdout, "::error::input "+tt.input+": ") || !strings.Contains(res.stdout, "outside the workspace") {
				t.Errorf("exit %d\n%s", res.code, res.stdout)
			}
			if len(h.options) != 0 {
				t.Error("analysis ran")
			}
		})
	}
}

func TestInputErrors(t *testing.T) {
	tests := []struct{ env, value, want string }{
		{"INPUT_COMMENT", "sometimes", "::error::input comment: \"sometimes\" is not one of on-rebuild, always, never"},
		{"INPUT_COMMENT-KEY", "a -->b", "::error::input comment-key:"},
		{"INPUT_HEAD-IMAGE", "", "::error::input head-image: required"},
		{"INPUT_MAX-REBUILT-LAYERS", "three", "::error::input max-rebuilt-layers: \"three\" is not a whole number"},
		{"INPUT_MIN-REUSE", "120%", "::error::input min-reuse: \"120%25\" is not a percentage"},
	}
	for _, tt := range tests {
		h := newHarness(t, "push.json")
		h.vars[tt.env] = tt.value
		res := h.run()
		if res.code != 2 || !strings.Contains(res.stdout, tt.want) {
			t.Errorf("%s=%q: exit %d\n%s", tt.env, tt.value, res.code, res.stdout)
		}
	}
}

func TestAnnotations(t *testing.T) {
	h := newHarness(t, "push.json")
	h.report.Summary.RootCauses = nil
	for i := 1; i <= 12; i++ {
		h.report.Steps = append(h.report.Steps, analyze.Step{Index: 10 + i, Instruction: fmt.Sprintf("RUN step%d", i), Line: 10 + i, Status: analyze.StatusRebuilt,
			Cause: &analyze.Cause{Kind: analyze.CauseInstruction, RootStep: 10 + i, Detail: "the instruction changed"}})
		h.report.Summary.RootCauses = append(h.report.Summary.RootCauses, analyze.RootCause{Step: 10 + i, Kind: analyze.CauseInstruction})
	}
	res := h.run()
	lines := regexp.MustCompile(`(?m)^::warning file=Dockerfile,line=(\d+),title=layerdiff%3A cache miss::(.*)$`).FindAllStringSubmatch(res.stdout, -1)
	if len(lines) != 10 {
		t.Fatalf("%d annotations, want 10:\n%s", len(lines), res.stdout)
	}
	if lines[0][1] != "11" || lines[0][2] != "RUN step1 missed the layer cache (instruction): the instruction changed" {
		t.Errorf("first annotation %q", lines[0][0])
	}
	if res.outputs["root-cause"] != "instruction" {
		t.Errorf("root-cause output %q", res.outputs["root-cause"])
	}
}

func TestCommentWithinGitHubLimit(t *testing.T) {
	h := newHarness(t, "pull_request.opened.json")
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA})
	for i := range 3000 {
		h.report.Steps = append(h.report.Steps, analyze.Step{Index: 100 + i, Instruction: strings.Repeat("RUN echo long ", 5), Status: analyze.StatusRebuilt,
			Cause: &analyze.Cause{Kind: analyze.CauseParent, RootStep: 3}})
	}
	res := h.run()
	if res.code != 0 {
		t.Fatal(res.stdout)
	}
	c := h.srv.Comments(prRepo, prNumber)
	if len(c) != 1 {
		t.Fatalf("%d comments (the server refuses bodies over 65536 characters)", len(c))
	}
	body := c[0].Body
	if len(body) > github.MaxCommentChars || !strings.HasPrefix(body, github.Marker("default")+"\n") {
		t.Errorf("body of %d bytes, marker first: %v", len(body), strings.HasPrefix(body, "<!--"))
	}
	if strings.Count(body, "<details") != strings.Count(body, "</details>") {
		t.Error("a <details> is left open")
	}
	if !strings.Contains(body, "[workflow run](https://github.com/Codertocat/Hello-World/actions/runs/4242)") {
		t.Error("the cut body does not link the run")
	}
}

func TestReportFileContents(t *testing.T) {
	h := newHarness(t, "pull_request.opened.json")
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA})
	h.run()
	data, err := os.ReadFile(filepath.Join(h.ws, "layerdiff-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		SchemaVersion int        `json:"schemaVersion"`
		Dockerfile    string     `json:"dockerfile"`
		GitHub        Provenance `json:"github"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := Provenance{Repository: prRepo, PullRequest: 2, BaseSHA: prBaseSHA, HeadSHA: prHeadSHA, Event: "pull_request", RunID: 4242, CommentKey: "default"}
	if diff := cmp.Diff(want, got.GitHub); diff != "" || got.SchemaVersion != 1 || got.Dockerfile != "Dockerfile" {
		t.Errorf("report file provenance (-want +got):\n%s\n%s", diff, data)
	}
	// The file round-trips through report-file mode.
	rep, prov, err := readReportFile(filepath.Join(h.ws, "layerdiff-report.json"))
	if err != nil || rep.Summary.RebuiltLayers != 2 || prov.HeadSHA != prHeadSHA {
		t.Errorf("readReportFile: %v %+v", err, prov)
	}
}

func TestGHES(t *testing.T) {
	h := newHarness(t, "pull_request.opened.json")
	h.srv = githubtest.New(t, "/api/v3")
	h.srv.AddApp(testToken, "github-actions")
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, Files: []string{"README.md"}})
	h.vars["GITHUB_API_URL"] = h.srv.URL + "/api/v3" // no trailing slash, as GHES sets it
	h.vars["GITHUB_GRAPHQL_URL"] = h.srv.URL + "/api/graphql"
	h.vars["GITHUB_SERVER_URL"] = "https://ghes.example.com"
	res := h.run()
	if res.code != 0 {
		t.Fatal(res.stdout)
	}
	c := h.srv.Comments(prRepo, prNumber)
	if len(c) != 1 || c[0].Author != "github-actions[bot]" {
		t.Fatalf("comments %+v\n%s", c, res.stdout)
	}
	if !strings.Contains(c[0].Body, "https://ghes.example.com/Codertocat/Hello-World/actions/runs/4242") {
		t.Errorf("run link not on the GHES host:\n%s", c[0].Body)
	}
}
