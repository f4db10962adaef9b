package github_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/layerdiff/layerdiff/internal/github"
	"github.com/layerdiff/layerdiff/internal/github/githubtest"
)

const issueCommentsPath = "/repos/octo-org/octo-repo/issues/2/comments"

// sentBodies returns the comment bodies of the requests with method, in order.
func sentBodies(t *testing.T, srv *githubtest.Server, method string) []string {
	t.Helper()
	var out []string
	for _, r := range srv.Requests() {
		if r.Method != method {
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

// shrinker returns a Shrink func that counts its calls and returns small.
func shrinker(calls *int, small string) func() string {
	return func() string { *calls++; return small }
}

// TestUpsertShrinksOnceOn422: GitHub's "body is too long" on create or edit gets exactly one
// more request, with the smaller body, the marker still on its first line.
func TestUpsertShrinksOnceOn422(t *testing.T) {
	ctx := context.Background()
	big, small := strings.Repeat("| row |\n", 4000), "cut to fit"
	marker := github.Marker("default")

	t.Run("create", func(t *testing.T) {
		srv, c := newBotClient(t)
		srv.Script("POST", issueCommentsPath, githubtest.BodyTooLong())
		calls := 0
		s := sticky("default", big, true)
		s.Shrink = shrinker(&calls, small)
		res, err := c.Upsert(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if res.Action != github.Created || !res.Shrunk || calls != 1 {
			t.Errorf("result %+v, Shrink called %d times", res, calls)
		}
		posts := sentBodies(t, srv, "POST")
		if len(posts) != 2 || len(posts[1]) >= len(posts[0]) || posts[0] != marker+"\n"+big || posts[1] != marker+"\n"+small {
			t.Fatalf("%d POSTs, sizes %v", len(posts), lens(posts))
		}
		if got := srv.Comments(repo, 2); len(got) != 1 || got[0].Body != marker+"\n"+small {
			t.Errorf("comments %+v", got)
		}
	})

	t.Run("edit", func(t *testing.T) {
		srv, c := newBotClient(t)
		id := srv.AddComment(repo, 2, "github-actions[bot]", marker+"\nold")
		patch := fmt.Sprintf("/repos/octo-org/octo-repo/issues/comments/%d", id)
		srv.Script("PATCH", patch, githubtest.BodyTooLong())
		calls := 0
		s := sticky("default", big, true)
		s.Shrink = shrinker(&calls, small)
		res, err := c.Upsert(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if res.Action != github.Updated || !res.Shrunk || res.ID != id || calls != 1 {
			t.Errorf("result %+v, Shrink called %d times", res, calls)
		}
		patches := sentBodies(t, srv, "PATCH")
		if len(patches) != 2 || len(patches[1]) >= len(patches[0]) || !strings.HasPrefix(patches[1], marker+"\n") || srv.Count("POST", "/repos") != 0 {
			t.Fatalf("%d PATCHes, sizes %v, %d POSTs", len(patches), lens(patches), srv.Count("POST", "/repos"))
		}
		if got := srv.Comments(repo, 2); len(got) != 1 || got[0].Body != marker+"\n"+small {
			t.Errorf("comments %+v", got)
		}
	})

	t.Run("the fake's own limit", func(t *testing.T) {
		// Not scripted: the server counts the body and refuses it, as GitHub does.
		srv, c := newBotClient(t)
		srv.SetMaxCommentChars(1000)
		calls := 0
		s := sticky("default", big, true)
		s.Shrink = shrinker(&calls, small)
		if res, err := c.Upsert(ctx, s); err != nil || !res.Shrunk {
			t.Fatalf("%+v %v", res, err)
		}
		if n := srv.Count("POST", issueCommentsPath); n != 2 {
			t.Errorf("%d POSTs, want 2", n)
		}
	})

	t.Run("refused twice", func(t *testing.T) {
		srv, c := newBotClient(t)
		srv.Script("POST", issueCommentsPath, githubtest.BodyTooLong(), githubtest.BodyTooLong(), githubtest.BodyTooLong())
		calls := 0
		s := sticky("default", big, true)
		s.Shrink = shrinker(&calls, small)
		_, err := c.Upsert(ctx, s)
		if github.StatusCode(err) != 422 || !strings.Contains(err.Error(), "Body is too long") {
			t.Fatalf("error %v, want the 422", err)
		}
		if n := srv.Count("POST", issueCommentsPath); n != 2 || calls != 1 {
			t.Errorf("%d POSTs and %d Shrink calls, want exactly one retry", n, calls)
		}
	})

	t.Run("nothing smaller", func(t *testing.T) {
		// Without Shrink, or when it cannot make the body smaller, the same request would only
		// be refused again: it is not sent.
		for _, shrink := range []func() string{nil, func() string { return big }} {
			srv, c := newBotClient(t)
			srv.Script("POST", issueCommentsPath, githubtest.BodyTooLong())
			s := sticky("default", big, true)
			s.Shrink = shrink
			if _, err := c.Upsert(ctx, s); github.StatusCode(err) != 422 {
				t.Errorf("error %v", err)
			}
			if n := srv.Count("POST", issueCommentsPath); n != 1 {
				t.Errorf("%d POSTs, want 1", n)
			}
		}
	})

	t.Run("other errors are not retried this way", func(t *testing.T) {
		srv, c := newBotClient(t)
		srv.Script("POST", issueCommentsPath, githubtest.Response{Status: 403, Body: `{"message":"Resource not accessible by integration"}`})
		calls := 0
		s := sticky("default", big, true)
		s.Shrink = shrinker(&calls, small)
		if _, err := c.Upsert(ctx, s); github.StatusCode(err) != 403 || calls != 0 || srv.Count("POST", issueCommentsPath) != 1 {
			t.Errorf("error %v, %d Shrink calls, %d POSTs", err, calls, srv.Count("POST", issueCommentsPath))
		}
	})
}

func lens(ss []string) []int {
	var out []int
	for _, s := range ss {
		out = append(out, len(s))
	}
	return out
}
