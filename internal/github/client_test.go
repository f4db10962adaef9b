package github_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/layerdiff/layerdiff/internal/github"
	"github.com/layerdiff/layerdiff/internal/github/githubtest"
)

const (
	repo  = "octo-org/octo-repo"
	owner = "octo-org"
	name  = "octo-repo"
	token = "ghp_testtoken0123456789"
)

type sleeps struct{ d []time.Duration }

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.d = append(s.d, d)
	return nil
}

func newClient(t *testing.T, srv *githubtest.Server, opts ...github.Option) (*github.Client, *sleeps) {
	t.Helper()
	sl := &sleeps{}
	opts = append([]github.Option{github.WithSleep(sl.sleep), github.WithGraphQLURL(srv.GraphQLURL())}, opts...)
	c, err := github.New(srv.APIURL(), token, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, sl
}

func TestIdentity(t *testing.T) {
	ctx := context.Background()
	t.Run("personal token", func(t *testing.T) {
		srv := githubtest.New(t, "")
		srv.AddUser(token, "octocat")
		c, _ := newClient(t, srv)
		id, err := c.Identity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if id.Login != "octocat" || id.Source != "user" {
			t.Errorf("Identity = %+v, want octocat from GET /user", id)
		}
	})
	t.Run("installation token", func(t *testing.T) {
		srv := githubtest.New(t, "")
		srv.AddApp(token, "acme-ci")
		c, _ := newClient(t, srv)
		id, err := c.Identity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if id.Login != "acme-ci[bot]" || id.Source != "graphql" {
			t.Errorf("Identity = %+v, want acme-ci[bot] from GraphQL", id)
		}
		if srv.Count("GET", "/user") != 1 || srv.Count("POST", "/graphql") != 1 {
			t.Errorf("requests = %+v", srv.Requests())
		}
	})
	t.Run("both refuse", func(t *testing.T) {
		srv := githubtest.New(t, "")
		srv.AddApp(token, "github-actions")
		srv.Script("POST", "/graphql", githubtest.Response{Status: 403, Body: `{"message":"Resource not accessible by integration"}`})
		c, _ := newClient(t, srv)
		id, err := c.Identity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if id.Login != "github-actions[bot]" || id.Source != "fallback" {
			t.Errorf("Identity = %+v, want the github-actions[bot] fallback", id)
		}
	})
	t.Run("bad credentials", func(t *testing.T) {
		srv := githubtest.New(t, "")
		c, _ := newClient(t, srv)
		if _, err := c.Identity(ctx); err == nil || github.StatusCode(err) != 401 {
			t.Errorf("Identity with an unknown token: err = %v, want a 401", err)
		}
	})
}

func TestGHESBaseURL(t *testing.T) {
	srv := githubtest.New(t, "/api/v3")
	srv.AddApp(token, "github-actions")
	srv.AddPull(repo, 7, githubtest.PullRequest{HeadSHA: "h", BaseSHA: "b", Files: []string{"a.txt"}})
	// GITHUB_API_URL has no trailing slash on GHES; GITHUB_GRAPHQL_URL is /api/graphql.
	c, err := github.New(srv.URL+"/api/v3", token)
	if err != nil {
		t.Fatal(err)
	}
	files, _, err := c.PullRequestFiles(context.Background(), owner, name, 7)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a.txt"}, files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	id, err := c.Identity(context.Background())
	if err != nil || id.Login != "github-actions[bot]" || id.Source != "graphql" {
		t.Errorf("Identity = %+v, %v; want github-actions[bot] through /api/graphql", id, err)
	}
	for _, r := range srv.Requests() {
		if r.Path == "/api/graphql" {
			return
		}
	}
	t.Errorf("no request to /api/graphql: %+v", srv.Requests())
}

func TestPullRequestFilesPaginates(t *testing.T) {
	srv := githubtest.New(t, "")
	srv.AddUser(token, "octocat")
	var want []string
	for i := range 230 {
		want = append(want, fmt.Sprintf("src/file%03d.go", i))
	}
	srv.AddPull(repo, 2, githubtest.PullRequest{Files: want})
	c, _ := newClient(t, srv)
	got, truncated, err := c.PullRequestFiles(context.Background(), owner, name, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if truncated {
		t.Error("truncated = true for 230 files")
	}
	if n := srv.Count("GET", "/repos/octo-org/octo-repo/pulls/2/files"); n != 3 {
		t.Errorf("%d page requests, want 3", n)
	}
}

func TestCompareFiles(t *testing.T) {
	srv := githubtest.New(t, "")
	srv.AddUser(token, "octocat")
	srv.AddCompare(repo, "380387f", "2ffea6d", []string{"Dockerfile", "go.mod"})
	c, _ := newClient(t, srv)
	got, _, err := c.CompareFiles(context.Background(), owner, name, "380387f", "2ffea6d")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Dockerfile", "go.mod"}, got); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if n := srv.Count("GET", "/repos/octo-org/octo-repo/compare/380387f...2ffea6d"); n != 1 {
		t.Errorf("compare requests = %d, want 1: %+v", n, srv.Requests())
	}
}

func TestRetries(t *testing.T) {
	ctx := context.Background()
	path := "/repos/octo-org/octo-repo/pulls/2/files"
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name      string
		responses []githubtest.Response
		wantSleep []time.Duration
		wantErr   int // status of the final error, 0 for success
	}{
		{
			name:      "429 with Retry-After",
			responses: []githubtest.Response{{Status: 429, Header: map[string]string{"Retry-After": "7"}}},
			wantSleep: []time.Duration{7 * time.Second},
		},
		{
			name: "secondary rate limit",
			responses: []githubtest.Response{{Status: 403, Header: map[string]string{"Retry-After": "3"},
				Body: `{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`}},
			wantSleep: []time.Duration{3 * time.Second},
		},
		{
			name: "primary rate limit waits for x-ratelimit-reset",
			responses: []githubtest.Response{{Status: 403, Header: map[string]string{
				"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": fmt.Sprint(now.Unix() + 20)},
				Body: `{"message":"API rate limit exceeded"}`}},
			wantSleep: []time.Duration{21 * time.Second},
		},
		{
			name:      "5xx backs off",
			responses: []githubtest.Response{{Status: 502}, {Status: 503}},
			wantSleep: []time.Duration{time.Second, 2 * time.Second},
		},
		{
			name:      "gives up after four attempts",
			responses: []githubtest.Response{{Status: 500}, {Status: 500}, {Status: 500}, {Status: 500}},
			wantSleep: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
			wantErr:   500,
		},
		{
			name: "does not wait an hour",
			responses: []githubtest.Response{{Status: 403, Header: map[string]string{
				"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": fmt.Sprint(now.Unix() + 3600)}}},
			wantErr: 403,
		},
		{
			name:      "permission 403 is final",
			responses: []githubtest.Response{{Status: 403, Body: `{"message":"Resource not accessible by integration"}`}},
			wantErr:   403,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := githubtest.New(t, "")
			srv.AddUser(token, "octocat")
			srv.AddPull(repo, 2, githubtest.PullRequest{Files: []string{"README.md"}})
			srv.Script("GET", path, tt.responses...)
			c, sl := newClient(t, srv, github.WithClock(func() time.Time { return now }))
			files, _, err := c.PullRequestFiles(ctx, owner, name, 2)
			if tt.wantErr != 0 {
				if got := github.StatusCode(err); got != tt.wantErr {
					t.Fatalf("err = %v (status %d), want status %d", err, got, tt.wantErr)
				}
			} else if err != nil || len(files) != 1 {
				t.Fatalf("files = %v, err = %v", files, err)
			}
			if diff := cmp.Diff(tt.wantSleep, sl.d); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRetryReplaysBody(t *testing.T) {
	srv := githubtest.New(t, "")
	srv.AddUser(token, "octocat")
	srv.Script("POST", "/repos/octo-org/octo-repo/issues/2/comments", githubtest.Response{Status: 429, Header: map[string]string{"Retry-After": "1"}})
	c, _ := newClient(t, srv)
	res, err := c.Upsert(context.Background(), github.Sticky{Owner: owner, Repo: name, Number: 2, Key: "default", Body: "hello", Create: true, Author: "octocat"})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Comments(repo, 2)
	if res.Action != github.Created || len(got) != 1 || got[0].Body != "<!-- layerdiff key=default -->\nhello" {
		t.Fatalf("result %+v, comments %+v", res, got)
	}
	var posts []string
	for _, r := range srv.Requests() {
		if r.Method == "POST" {
			posts = append(posts, r.Body)
		}
	}
	if len(posts) != 2 || posts[0] != posts[1] || !strings.Contains(posts[1], "hello") {
		t.Errorf("POST bodies = %q, want the same body twice", posts)
	}
}

func TestTokenOnlyInAuthorizationHeader(t *testing.T) {
	srv := githubtest.New(t, "")
	srv.AddUser(token, "octocat")
	c, _ := newClient(t, srv)
	if _, err := c.Upsert(context.Background(), github.Sticky{Owner: owner, Repo: name, Number: 2, Key: "k", Body: "b", Create: true, Author: "octocat"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.Requests() {
		if r.Authorization != "Bearer "+token {
			t.Errorf("%s %s: Authorization = %q", r.Method, r.Path, r.Authorization)
		}
		if strings.Contains(r.Body, token) || strings.Contains(r.Query.Encode(), token) {
			t.Errorf("%s %s carries the token outside the header", r.Method, r.Path)
		}
	}
}
