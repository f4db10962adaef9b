package github_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/layerdiff/layerdiff/internal/github"
	"github.com/layerdiff/layerdiff/internal/github/githubtest"
)

func sticky(key, body string, create bool) github.Sticky {
	return github.Sticky{Owner: owner, Repo: name, Number: 2, Key: key, Body: body, Create: create, Author: "github-actions[bot]"}
}

func newBotClient(t *testing.T) (*githubtest.Server, *github.Client) {
	srv := githubtest.New(t, "")
	srv.AddApp(token, "github-actions")
	c, _ := newClient(t, srv)
	return srv, c
}

func TestUpsertLifecycle(t *testing.T) {
	ctx := context.Background()
	srv, c := newBotClient(t)
	commentsPath := "/repos/octo-org/octo-repo/issues/2/comments"

	res, err := c.Upsert(ctx, sticky("default", "3 of 7 layers rebuilt", true))
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != github.Created || res.URL == "" {
		t.Fatalf("first run: %+v, want created with a URL", res)
	}
	if n := srv.Count("POST", commentsPath); n != 1 {
		t.Fatalf("first run: %d POSTs, want 1", n)
	}

	srv.Reset()
	res2, err := c.Upsert(ctx, sticky("default", "everything cached", true))
	if err != nil {
		t.Fatal(err)
	}
	if res2.Action != github.Updated || res2.ID != res.ID {
		t.Fatalf("second run: %+v, want the same comment updated", res2)
	}
	if srv.Count("POST", commentsPath) != 0 || srv.Count("PATCH", fmt.Sprintf("/repos/octo-org/octo-repo/issues/comments/%d", res.ID)) != 1 {
		t.Fatalf("second run requests: %+v", srv.Requests())
	}
	got := srv.Comments(repo, 2)
	if len(got) != 1 || got[0].Body != "<!-- layerdiff key=default -->\neverything cached" {
		t.Fatalf("comments = %+v", got)
	}

	srv.Reset()
	res3, err := c.Upsert(ctx, sticky("default", "everything cached", true))
	if err != nil {
		t.Fatal(err)
	}
	if res3.Action != github.Unchanged || srv.Count("PATCH", "/") != 0 || srv.Count("POST", "/") != 0 {
		t.Fatalf("unchanged run: %+v, requests %+v", res3, srv.Requests())
	}

	// A different key is a different comment.
	res4, err := c.Upsert(ctx, sticky("services/api", "api image", true))
	if err != nil {
		t.Fatal(err)
	}
	if res4.Action != github.Created || res4.ID == res.ID || len(srv.Comments(repo, 2)) != 2 {
		t.Fatalf("other key: %+v, comments %+v", res4, srv.Comments(repo, 2))
	}
}

func TestUpsertOnRebuildNeverCreatesButUpdates(t *testing.T) {
	ctx := context.Background()
	srv, c := newBotClient(t)
	res, err := c.Upsert(ctx, sticky("default", "all cached", false))
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != github.Skipped || len(srv.Comments(repo, 2)) != 0 {
		t.Fatalf("%+v, comments %+v", res, srv.Comments(repo, 2))
	}
	id := srv.AddComment(repo, 2, "github-actions[bot]", github.Marker("default")+"\n**gate failed**")
	res, err = c.Upsert(ctx, sticky("default", "all cached", false))
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != github.Updated || res.ID != id {
		t.Fatalf("existing failing comment not replaced: %+v", res)
	}
}

func TestUpsertLeavesOthersAlone(t *testing.T) {
	ctx := context.Background()
	srv, c := newBotClient(t)
	marker := github.Marker("default")
	human := srv.AddComment(repo, 2, "octocat", marker+"\nI copied the bot's comment")
	quote := srv.AddComment(repo, 2, "hubot", "> "+marker+"\n> quoted")
	otherBot := srv.AddComment(repo, 2, "some-app[bot]", marker+"\nanother app's")
	notFirst := srv.AddComment(repo, 2, "github-actions[bot]", "hello\n"+marker)

	res, err := c.Upsert(ctx, sticky("default", "ours", true))
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != github.Created {
		t.Fatalf("%+v, want a new comment of our own", res)
	}
	for _, id := range []int64{human, quote, otherBot, notFirst} {
		p := fmt.Sprintf("/repos/octo-org/octo-repo/issues/comments/%d", id)
		if srv.Count("PATCH", p)+srv.Count("DELETE", p) != 0 {
			t.Errorf("comment %d was touched: %+v", id, srv.Requests())
		}
	}
	if n := len(srv.Comments(repo, 2)); n != 5 {
		t.Errorf("%d comments, want 5", n)
	}
}

func TestUpsertFindsOursAfter250Comments(t *testing.T) {
	ctx := context.Background()
	srv, c := newBotClient(t)
	for i := range 250 {
		srv.AddComment(repo, 2, fmt.Sprintf("user%d", i%7), fmt.Sprintf("comment %d", i))
	}
	ours := srv.AddComment(repo, 2, "github-actions[bot]", github.Marker("default")+"\nold")
	res, err := c.Upsert(ctx, sticky("default", "new", true))
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != github.Updated || res.ID != ours {
		t.Fatalf("%+v, want comment %d (on page 3) updated", res, ours)
	}
	if n := srv.Count("GET", "/repos/octo-org/octo-repo/issues/2/comments"); n != 3 {
		t.Errorf("%d list requests, want 3 pages of 100", n)
	}
	if srv.Count("POST", "/") != 0 {
		t.Error("created a second comment")
	}
}

func TestUpsertConvergesDuplicates(t *testing.T) {
	ctx := context.Background()
	t.Run("existing duplicates", func(t *testing.T) {
		srv, c := newBotClient(t)
		first := srv.AddComment(repo, 2, "github-actions[bot]", github.Marker("default")+"\none")
		dup := srv.AddComment(repo, 2, "github-actions[bot]", github.Marker("default")+"\ntwo")
		res, err := c.Upsert(ctx, sticky("default", "three", true))
		if err != nil {
			t.Fatal(err)
		}
		got := srv.Comments(repo, 2)
		if res.ID != first || len(res.Removed) != 1 || res.Removed[0] != dup || len(got) != 1 || got[0].ID != first {
			t.Fatalf("%+v, comments %+v", res, got)
		}
	})
	t.Run("concurrent create", func(t *testing.T) {
		srv, c := newBotClient(t)
		// Another run's comment appears between our list and our create: the server answers
		// our create normally, so script nothing; add it right before, as a racing run would,
		// by making the first list answer empty.
		srv.Script("GET", "/repos/octo-org/octo-repo/issues/2/comments", githubtest.Response{Status: 200, Body: "[]"})
		other := srv.AddComment(repo, 2, "github-actions[bot]", github.Marker("default")+"\nother run")
		res, err := c.Upsert(ctx, sticky("default", "this run", true))
		if err != nil {
			t.Fatal(err)
		}
		got := srv.Comments(repo, 2)
		if len(got) != 1 || got[0].ID != other || got[0].Body != github.Marker("default")+"\nthis run" {
			t.Fatalf("after converging: %+v", got)
		}
		if res.ID != other || len(res.Removed) != 1 {
			t.Errorf("result %+v", res)
		}
	})
}

func TestUpsertRejectsBadKeys(t *testing.T) {
	_, c := newBotClient(t)
	for _, key := range []string{"", "a b", "x-->y", "x\ny", "-->", "a--b"} {
		if _, err := c.Upsert(context.Background(), sticky(key, "b", true)); err == nil {
			t.Errorf("key %q accepted", key)
		}
	}
}

func TestCommentsRefusesIssueZero(t *testing.T) {
	_, c := newBotClient(t)
	if _, err := c.Comments(context.Background(), owner, name, 0); err == nil {
		t.Error("listing comments of #0 (the whole repository) was not refused")
	}
}
