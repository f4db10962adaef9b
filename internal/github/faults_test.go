package github_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/layerdiff/layerdiff/internal/github"
	"github.com/layerdiff/layerdiff/internal/github/githubtest"
)

const (
	faultToken = "ghs_FaultT0kenValue0123456789abcdef"
	faultRepo  = "octo-org/octo-repo"
)

// faultClient is a bot client whose waits are recorded instead of slept.
type faultClient struct {
	*github.Client
	srv *githubtest.Server
	mu  sync.Mutex
	// waits are the pauses the client asked for, in order.
	waits []time.Duration
}

func newFaultClient(t *testing.T) *faultClient {
	t.Helper()
	fc := &faultClient{srv: githubtest.New(t, "")}
	fc.srv.AddApp(faultToken, "github-actions")
	c, err := github.New(fc.srv.APIURL(), faultToken, github.WithGraphQLURL(fc.srv.GraphQLURL()),
		github.WithSleep(func(ctx context.Context, d time.Duration) error {
			fc.mu.Lock()
			fc.waits = append(fc.waits, d)
			fc.mu.Unlock()
			return ctx.Err()
		}))
	if err != nil {
		t.Fatal(err)
	}
	fc.Client = c
	return fc
}

func faultSticky(body string) github.Sticky {
	return github.Sticky{Owner: "octo-org", Repo: "octo-repo", Number: 2, Key: "default", Body: body, Create: true, Author: "github-actions[bot]"}
}

// apiFault is a failing answer GitHub gives, and the wait it asks for.
type apiFault struct {
	name string
	resp githubtest.Response
	wait time.Duration // 0: the client's own backoff
}

var apiFaults = []apiFault{
	{"500", githubtest.Response{Status: 500, Body: `{"message":"Server Error"}`}, 0},
	{"502", githubtest.Response{Status: 502, Body: `{"message":"Bad Gateway"}`}, 0},
	{"503 with Retry-After", githubtest.Response{Status: 503, Header: map[string]string{"Retry-After": "7"}, Body: `{"message":"Unavailable"}`}, 7 * time.Second},
	{"504", githubtest.Response{Status: 504, Body: `{"message":"Gateway Timeout"}`}, 0},
	{"429 with Retry-After", githubtest.Response{Status: 429, Header: map[string]string{"Retry-After": "3"}, Body: `{"message":"Too Many Requests"}`}, 3 * time.Second},
	{"403 secondary rate limit", githubtest.Response{Status: 403, Header: map[string]string{"Retry-After": "60"},
		Body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`}, time.Minute},
	{"403 secondary rate limit without headers", githubtest.Response{Status: 403,
		Body: `{"message":"You have exceeded a secondary rate limit and have been temporarily blocked from content creation."}`}, time.Minute},
}

func TestGitHubAPIFaultsAreRetriedWithinABound(t *testing.T) {
	commentsPath := "/repos/" + faultRepo + "/issues/2/comments"
	var rows strings.Builder
	for _, f := range apiFaults {
		t.Run(f.name, func(t *testing.T) {
			// Two failures on creating the comment, then GitHub answers.
			fc := newFaultClient(t)
			fc.srv.Script("POST", commentsPath, f.resp, f.resp)
			res, err := fc.Upsert(context.Background(), faultSticky("report"))
			if err != nil || res.Action != github.Created {
				t.Fatalf("Upsert: %+v, %v", res, err)
			}
			if n := fc.srv.Count("POST", commentsPath); n != 3 {
				t.Errorf("%d POSTs, want 3", n)
			}
			if f.wait != 0 && (len(fc.waits) != 2 || fc.waits[0] != f.wait) {
				t.Errorf("waits %v, want two of %v", fc.waits, f.wait)
			}
			recovered := "no"
			if len(fc.srv.Comments(faultRepo, 2)) == 1 {
				recovered = "yes, one comment"
			}

			// GitHub keeps failing: the client gives up after its four attempts.
			fc = newFaultClient(t)
			fc.srv.Script("POST", commentsPath, f.resp, f.resp, f.resp, f.resp, f.resp, f.resp)
			_, err = fc.Upsert(context.Background(), faultSticky("report"))
			attempts := fc.srv.Count("POST", commentsPath)
			if err == nil || attempts != 4 || github.StatusCode(err) != f.resp.Status {
				t.Errorf("persistent %s: err %v (status %d) after %d attempts; want the status after 4", f.name, err, github.StatusCode(err), attempts)
			}
			fmt.Fprintf(&rows, "| %s | %s | %d attempts, then the error (status %d); waits %v |\n", f.name, recovered, attempts, github.StatusCode(err), fc.waits)
		})
	}

	t.Run("a wait longer than the bound is not waited", func(t *testing.T) {
		fc := newFaultClient(t)
		long := githubtest.Response{Status: 429, Header: map[string]string{"Retry-After": "3600"}, Body: `{"message":"Too Many Requests"}`}
		fc.srv.Script("POST", commentsPath, long, long)
		_, err := fc.Upsert(context.Background(), faultSticky("report"))
		if err == nil || len(fc.waits) != 0 || fc.srv.Count("POST", commentsPath) != 1 {
			t.Errorf("err %v, waits %v, %d POSTs; want the 429 at once", err, fc.waits, fc.srv.Count("POST", commentsPath))
		}
		fmt.Fprintf(&rows, "| 429 with Retry-After: 3600 (over the 2 min bound) | — | 1 attempt, then the error at once; no wait |\n")
	})

	t.Run("a permission 403 is not retried", func(t *testing.T) {
		fc := newFaultClient(t)
		fc.srv.Script("POST", commentsPath, githubtest.Response{Status: 403, Body: `{"message":"Resource not accessible by integration"}`})
		_, err := fc.Upsert(context.Background(), faultSticky("report"))
		if github.StatusCode(err) != http.StatusForbidden || fc.srv.Count("POST", commentsPath) != 1 || len(fc.waits) != 0 {
			t.Errorf("err %v after %d POSTs", err, fc.srv.Count("POST", commentsPath))
		}
		fmt.Fprintf(&rows, "| 403 Resource not accessible by integration | — | 1 attempt (a permission error is not retried) |\n")
	})

	t.Run("a pull request that does not exist", func(t *testing.T) {
		fc := newFaultClient(t)
		_, err := fc.PullRequest(context.Background(), "octo-org", "octo-repo", 999)
		if github.StatusCode(err) != http.StatusNotFound || fc.srv.Count("GET", "/repos/"+faultRepo+"/pulls/999") != 1 {
			t.Errorf("err %v", err)
		}
		fmt.Fprintf(&rows, "| 404 pull request | — | 1 attempt, status 404 returned to the caller |\n")
	})

	t.Run("an oversized body", func(t *testing.T) {
		fc := newFaultClient(t)
		sticky := faultSticky(strings.Repeat("x", 70000))
		sticky.Shrink = func() string { return strings.Repeat("x", 1000) }
		res, err := fc.Upsert(context.Background(), sticky)
		if err != nil || !res.Shrunk || fc.srv.Count("POST", commentsPath) != 2 {
			t.Errorf("err %v, shrunk %v after %d POSTs; want one 422 and one shrunk POST", err, res.Shrunk, fc.srv.Count("POST", commentsPath))
		}
		sticky.Shrink = func() string { return strings.Repeat("x", 69000) }
		fc = newFaultClient(t)
		if _, err := fc.Upsert(context.Background(), sticky); github.StatusCode(err) != http.StatusUnprocessableEntity || fc.srv.Count("POST", commentsPath) != 2 {
			t.Errorf("a second 422: err %v after %d POSTs", err, fc.srv.Count("POST", commentsPath))
		}
		fmt.Fprintf(&rows, "| 422 body over 65,536 characters | — | the body is shrunk once (half the refused size, cut at a line) and sent again; a second 422 is returned (the action warns) |\n")
	})

	figures(t, "60-github.md", "### GitHub API faults\n\n`internal/github`'s client against the fake GitHub (`githubtest`), waits recorded instead of slept. Each fault is injected twice on creating the comment (then GitHub answers), and then on every attempt. `go test ./internal/github -run TestGitHubAPIFaults`\n\n| fault | recovered after two | when it persists |\n|---|---|---|\n"+rows.String()+"\n")
}

// TestConcurrentRunsConvergeToOneComment runs two upserts for the same pull request at the
// same moment, 50 times, each time on a fresh pull request, and counts the times exactly one
// comment was left.
func TestConcurrentRunsConvergeToOneComment(t *testing.T) {
	const rounds = 50
	one, creates := 0, 0
	for i := 0; i < rounds; i++ {
		fc := newFaultClient(t)
		other, err := github.New(fc.srv.APIURL(), faultToken, github.WithGraphQLURL(fc.srv.GraphQLURL()), github.WithSleep(func(context.Context, time.Duration) error { return nil }))
		if err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, c := range []*github.Client{fc.Client, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[j] = c.Upsert(context.Background(), faultSticky(fmt.Sprintf("run %d", j)))
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Errorf("round %d: %v", i, err)
			}
		}
		creates += fc.srv.Count("POST", "/repos/"+faultRepo+"/issues/2/comments")
		if n := len(fc.srv.Comments(faultRepo, 2)); n == 1 {
			one++
		} else {
			t.Errorf("round %d: %d comments left", i, n)
		}
	}
	figures(t, "61-github-converge.md", fmt.Sprintf("Two runs upserting the sticky comment on the same pull request at the same moment (fake GitHub, real concurrency), %d rounds: **%d of %d** ended with exactly one comment; in %d rounds both runs created a comment and the newer one was deleted. `go test ./internal/github -run TestConcurrentRunsConvergeToOneComment`\n\n", rounds, one, rounds, creates-rounds))
}

// figures writes a section of RELIABILITY.md when LAYERDIFF_RELIABILITY_DIR is set.
func figures(t *testing.T, file, markdown string) {
	t.Helper()
	if dir := os.Getenv("LAYERDIFF_RELIABILITY_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(markdown), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
