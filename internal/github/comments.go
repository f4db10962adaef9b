package github

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"

	gogithub "github.com/google/go-github/v60/github"
)

// MaxCommentChars is GitHub's limit on an issue comment's body.
const MaxCommentChars = 65536

// keyPattern keeps a comment key from closing the HTML comment it lives in or from breaking the
// marker line; matrix values such as "services/api" or "linux/arm64" fit.
var keyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,99}$`)

// ValidKey reports whether key can be a comment key.
func ValidKey(key string) bool { return keyPattern.MatchString(key) && !strings.Contains(key, "--") }

// Marker is the first line of every comment layerdiff writes; it is how a later run finds it.
func Marker(key string) string { return "<!-- layerdiff key=" + key + " -->" }

// hasMarker reports whether body's first line is exactly the marker, so that a comment that
// merely quotes or mentions the marker further down is never taken for ours.
func hasMarker(body, marker string) bool {
	first, _, _ := strings.Cut(body, "\n")
	return strings.TrimRight(first, "\r ") == marker
}

// Comment is an issue comment as the action sees it.
type Comment struct {
	ID     int64
	URL    string
	Author string
	Body   string
}

// Sticky says what to do with the sticky comment of one pull request and key.
type Sticky struct {
	Owner, Repo string
	Number      int
	Key         string
	// Body is the comment without the marker; Upsert adds it.
	Body string
	// Create allows a new comment; without it an existing comment is still updated (so it never
	// shows a stale failure) but none is created.
	Create bool
	// Author is who the token writes as (see Identity).
	Author string
	// Shrink, when set, gives a smaller body (without the marker) to send once more when GitHub
	// refuses Body with 422: its "body is too long" validation counts characters in ways a
	// client cannot reproduce exactly. It is called at most once per Upsert.
	Shrink func() string
}

// Outcome of Upsert.
const (
	Created   = "created"
	Updated   = "updated"
	Unchanged = "unchanged"
	Skipped   = "skipped" // nothing to update and creating was not allowed
)

// Result says what Upsert did.
type Result struct {
	Action string
	ID     int64
	URL    string
	// Removed are duplicate comments of ours that were deleted.
	Removed []int64
	// Shrunk says GitHub refused the body (422) and the one from Sticky.Shrink was sent instead.
	Shrunk bool
}

// Comments lists every comment of an issue or pull request, across all pages, oldest first.
func (c *Client) Comments(ctx context.Context, owner, repo string, number int) ([]Comment, error) {
	if number <= 0 {
		// Number 0 would list the comments of the whole repository.
		return nil, fmt.Errorf("listing comments: no pull request number")
	}
	opts := &gogithub.IssueListCommentsOptions{ListOptions: gogithub.ListOptions{PerPage: 100}}
	var out []Comment
	for {
		page, resp, err := c.gh.Issues.ListComments(ctx, owner, repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("listing comments of #%d: %w", number, err)
		}
		for _, ic := range page {
			out = append(out, Comment{ID: ic.GetID(), URL: ic.GetHTMLURL(), Author: ic.GetUser().GetLogin(), Body: ic.GetBody()})
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// ours returns the comments with the marker on their first line written by author, oldest first.
func ours(all []Comment, marker, author string) []Comment {
	var out []Comment
	for _, c := range all {
		if strings.EqualFold(c.Author, author) && hasMarker(c.Body, marker) {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// normalize is how GitHub stores a body: line endings as \n, no trailing blank space.
func normalize(body string) string {
	return strings.TrimRight(strings.ReplaceAll(body, "\r\n", "\n"), " \n")
}

// Upsert keeps exactly one comment of ours per pull request and key: it edits the existing one
// in place (not at all when the body is unchanged), or creates one when allowed, and converges
// duplicates left by concurrent runs onto the oldest. Comments of anyone else, including ones
// quoting our marker, are never touched.
func (c *Client) Upsert(ctx context.Context, s Sticky) (Result, error) {
	if !ValidKey(s.Key) {
		return Result{}, fmt.Errorf("comment key %q: use letters, digits and . _ / : @ + -", s.Key)
	}
	if s.Author == "" {
		return Result{}, fmt.Errorf("comment author unknown")
	}
	marker := Marker(s.Key)
	body := marker + "\n" + s.Body

	all, err := c.Comments(ctx, s.Owner, s.Repo, s.Number)
	if err != nil {
		return Result{}, err
	}
	mine := ours(all, marker, s.Author)
	if len(mine) == 0 {
		if !s.Create {
			return Result{Action: Skipped}, nil
		}
		var created *gogithub.IssueComment
		shrunk, err := sendShrinking(s, &body, func(b string) (err error) {
			created, _, err = c.gh.Issues.CreateComment(ctx, s.Owner, s.Repo, s.Number, &gogithub.IssueComment{Body: &b})
			return err
		})
		if err != nil {
			return Result{}, fmt.Errorf("creating comment on #%d: %w", s.Number, err)
		}
		res := Result{Action: Created, ID: created.GetID(), URL: created.GetHTMLURL(), Shrunk: shrunk}
		if shrunk {
			// The duplicates converge onto the body GitHub accepted, without another 422.
			s.Shrink = nil
		}
		// A run of the same workflow on the same pull request may have created its own at the
		// same moment: look again and keep one.
		return c.converge(ctx, s, body, res)
	}
	keep := mine[0]
	res := Result{ID: keep.ID, URL: keep.URL}
	if res.Removed, err = c.remove(ctx, s, mine[1:]); err != nil {
		return Result{}, err
	}
	if normalize(keep.Body) == normalize(body) {
		res.Action = Unchanged
		return res, nil
	}
	var edited *gogithub.IssueComment
	res.Shrunk, err = sendShrinking(s, &body, func(b string) (err error) {
		edited, _, err = c.gh.Issues.EditComment(ctx, s.Owner, s.Repo, keep.ID, &gogithub.IssueComment{Body: &b})
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("editing comment %d on #%d: %w", keep.ID, s.Number, err)
	}
	res.Action = Updated
	if edited.GetHTMLURL() != "" {
		res.URL = edited.GetHTMLURL()
	}
	return res, nil
}

// converge runs after a create: when more than one comment of ours carries the key, the oldest
// stays (with this run's body) and the others are deleted.
func (c *Client) converge(ctx context.Context, s Sticky, body string, res Result) (Result, error) {
	all, err := c.Comments(ctx, s.Owner, s.Repo, s.Number)
	if err != nil {
		// The comment exists; failing to tidy up is not worth failing over.
		return res, nil
	}
	mine := ours(all, Marker(s.Key), s.Author)
	if len(mine) <= 1 {
		return res, nil
	}
	keep := mine[0]
	removed, err := c.remove(ctx, s, mine[1:])
	if err != nil {
		return res, err
	}
	out := Result{Action: res.Action, ID: keep.ID, URL: keep.URL, Removed: removed, Shrunk: res.Shrunk}
	if keep.ID != res.ID && normalize(keep.Body) != normalize(body) {
		var edited *gogithub.IssueComment
		shrunk, err := sendShrinking(s, &body, func(b string) (err error) {
			edited, _, err = c.gh.Issues.EditComment(ctx, s.Owner, s.Repo, keep.ID, &gogithub.IssueComment{Body: &b})
			return err
		})
		out.Shrunk = out.Shrunk || shrunk
		if err != nil {
			return out, fmt.Errorf("editing comment %d on #%d: %w", keep.ID, s.Number, err)
		}
		if edited.GetHTMLURL() != "" {
			out.URL = edited.GetHTMLURL()
		}
	}
	return out, nil
}

func (c *Client) remove(ctx context.Context, s Sticky, dups []Comment) ([]int64, error) {
	var removed []int64
	for _, d := range dups {
		_, err := c.gh.Issues.DeleteComment(ctx, s.Owner, s.Repo, d.ID)
		// 404: the concurrent run deleted it first.
		if err != nil && StatusCode(err) != http.StatusNotFound {
			return removed, fmt.Errorf("deleting duplicate comment %d on #%d: %w", d.ID, s.Number, err)
		}
		removed = append(removed, d.ID)
	}
	return removed, nil
}

// sendShrinking sends *body with send and, when GitHub refuses it with 422 and s.Shrink can
// make a smaller one, sends that once more; *body is then what was sent last. A second refusal
// is returned as it is.
func sendShrinking(s Sticky, body *string, send func(string) error) (shrunk bool, err error) {
	err = send(*body)
	if err == nil || StatusCode(err) != http.StatusUnprocessableEntity || s.Shrink == nil {
		return false, err
	}
	smaller := Marker(s.Key) + "\n" + s.Shrink()
	if len(smaller) >= len(*body) {
		// Not too long after all: the same request would only be refused again.
		return false, err
	}
	*body = smaller
	return true, send(smaller)
}
