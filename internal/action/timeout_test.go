package action

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/layerdiff/layerdiff/internal/cli"
	"github.com/layerdiff/layerdiff/internal/github/githubtest"
)

// stallingRegistry answers the API ping and then never answers a manifest request, until the
// client gives up. It returns the registry's host:port and a count of manifest requests.
func stallingRegistry(t *testing.T) (host string, manifests *atomic.Int32) {
	t.Helper()
	manifests = new(atomic.Int32)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			w.WriteHeader(http.StatusOK)
			return
		}
		if strings.Contains(r.URL.Path, "/manifests/") {
			manifests.Add(1)
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: Close waits for handlers to return
	return strings.TrimPrefix(srv.URL, "http://"), manifests
}

// errorLines returns the ::error workflow commands of a log.
func errorLines(log string) []string {
	var out []string
	for _, ln := range strings.Split(log, "\n") {
		if strings.HasPrefix(ln, "::error") {
			out = append(out, ln)
		}
	}
	return out
}

// TestTimeoutStalledRegistry runs the real analysis against a registry that never answers the
// manifest: the timeout input ends the run promptly with exit 2 and one error line naming it,
// and, as for any other analysis error, writes no comment, summary or outputs.
func TestTimeoutStalledRegistry(t *testing.T) {
	host, manifests := stallingRegistry(t)
	h := newHarness(t, "pull_request.opened.json")
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, BaseSHA: prBaseSHA, Files: []string{"README.md"}})
	h.vars["INPUT_BASE-IMAGE"] = ""
	h.vars["INPUT_HEAD-IMAGE"] = host + "/codertocat/hello-world:pr-2"
	h.vars["INPUT_TIMEOUT"] = "300ms"
	h.vars["INPUT_COMMENT"] = "always"

	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := Run(context.Background(), h.getenv, &stdout, &stderr)
	elapsed := time.Since(start)
	log := stdout.String()

	if code != cli.ExitInput {
		t.Fatalf("exit %d, want 2\n%s%s", code, log, stderr.String())
	}
	if elapsed > 5*time.Second {
		t.Errorf("the run took %s with timeout 300ms", elapsed)
	}
	if manifests.Load() == 0 {
		t.Errorf("the registry never saw a manifest request: the run did not stall where the test means it to\n%s", log)
	}
	errs := errorLines(log)
	if len(errs) != 1 || errs[0] != "::error::reading the images took longer than the timeout input (300ms)" {
		t.Errorf("error lines %q, want exactly one naming the timeout input\n%s", errs, log)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr: %q", stderr.String())
	}
	if n := len(h.srv.Comments(prRepo, prNumber)); n != 0 {
		t.Errorf("%d comments after a timed-out run", n)
	}
	for _, f := range []string{"GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"} {
		if data := mustRead(t, h.vars[f]); data != "" {
			t.Errorf("%s written after a timed-out run:\n%s", f, data)
		}
	}
}

// TestTimeoutInput: the analysis runs under the timeout input's deadline (2m by default), and a
// bad or non-positive value is an input error before anything is read.
func TestTimeoutInput(t *testing.T) {
	deadline := func(value string) (time.Duration, result) {
		h := newHarness(t, "push.json")
		if value != "" {
			h.vars["INPUT_TIMEOUT"] = value
		}
		var left time.Duration
		h.analyzeHook = func(ctx context.Context) {
			if d, ok := ctx.Deadline(); ok {
				left = time.Until(d)
			}
		}
		return left, h.run()
	}
	for _, tt := range []struct {
		value string
		want  time.Duration
	}{{"", 2 * time.Minute}, {"45s", 45 * time.Second}, {" 1m30s ", 90 * time.Second}} {
		left, res := deadline(tt.value)
		if res.code != 0 {
			t.Errorf("timeout %q: exit %d\n%s", tt.value, res.code, res.stdout)
		}
		if left <= tt.want-5*time.Second || left > tt.want {
			t.Errorf("timeout %q: the analysis had %s left, want about %s", tt.value, left, tt.want)
		}
	}

	for _, value := range []string{"soon", "10", "0s", "-1m"} {
		h := newHarness(t, "push.json")
		h.vars["INPUT_TIMEOUT"] = value
		res := h.run()
		errs := errorLines(res.stdout)
		if res.code != cli.ExitInput || len(errs) != 1 || !strings.HasPrefix(errs[0], "::error::input timeout: ") || !strings.Contains(errs[0], "positive duration") {
			t.Errorf("timeout %q: exit %d, error lines %q", value, res.code, errs)
		}
		if len(h.options) != 0 {
			t.Errorf("timeout %q: the analysis ran", value)
		}
	}
}

// TestTimeoutIsNotTheJobsCancellation: when the job itself is cancelled the error is not blamed
// on the timeout input.
func TestTimeoutIsNotTheJobsCancellation(t *testing.T) {
	h := newHarness(t, "push.json")
	ctx, cancel := context.WithCancel(context.Background())
	h.analyzeHook = func(context.Context) { cancel() }
	h.analyzeE = context.Canceled
	res := h.runContext(ctx)
	if res.code != cli.ExitInput || strings.Contains(res.stdout, "timeout") {
		t.Errorf("exit %d\n%s", res.code, res.stdout)
	}
}
