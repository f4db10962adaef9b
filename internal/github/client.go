package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	gogithub "github.com/google/go-github/v60/github"

	"github.com/layerdiff/layerdiff/internal/httpwait"
)

// DefaultAPIURL is api.github.com; GitHub Enterprise Server runs at https://HOST/api/v3.
const DefaultAPIURL = "https://api.github.com"

// Client talks to the GitHub REST API (and GraphQL, for one query) on behalf of the action.
type Client struct {
	gh         *gogithub.Client
	http       *http.Client
	graphqlURL string
}

type config struct {
	transport  http.RoundTripper
	graphqlURL string
	attempts   int
	maxWait    time.Duration
	backoff    time.Duration
	sleep      func(context.Context, time.Duration) error
	now        func() time.Time
	logf       func(string, ...any)
	userAgent  string
}

// Option changes a default of New.
type Option func(*config)

// WithTransport sets the HTTP transport under the retries (default http.DefaultTransport).
func WithTransport(rt http.RoundTripper) Option { return func(c *config) { c.transport = rt } }

// WithGraphQLURL sets the GraphQL endpoint (GITHUB_GRAPHQL_URL); by default it is derived from
// the API URL: https://api.github.com/graphql, or https://HOST/api/graphql for GHES.
func WithGraphQLURL(u string) Option { return func(c *config) { c.graphqlURL = u } }

// WithRetries sets the total number of attempts per request (default 4) and the longest single
// wait the client accepts (default 2 minutes).
func WithRetries(attempts int, maxWait time.Duration) Option {
	return func(c *config) { c.attempts, c.maxWait = attempts, maxWait }
}

// WithSleep replaces the wait between retries (tests pass a recorder).
func WithSleep(sleep func(context.Context, time.Duration) error) Option {
	return func(c *config) { c.sleep = sleep }
}

// WithClock replaces time.Now, used to turn x-ratelimit-reset into a wait.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithLogf receives one line per retry.
func WithLogf(logf func(string, ...any)) Option { return func(c *config) { c.logf = logf } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *config) { c.userAgent = ua } }

// New returns a client for apiURL (GITHUB_API_URL; empty means api.github.com) that
// authenticates with token. The token is only ever written to the Authorization header.
func New(apiURL, token string, opts ...Option) (*Client, error) {
	cfg := config{
		transport: http.DefaultTransport,
		attempts:  4,
		maxWait:   2 * time.Minute,
		backoff:   time.Second,
		sleep:     httpwait.Sleep,
		now:       time.Now,
		logf:      func(string, ...any) {},
		userAgent: "layerdiff",
	}
	for _, o := range opts {
		o(&cfg)
	}
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	base, err := url.Parse(apiURL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("parsing GitHub API URL %q: not an absolute URL", apiURL)
	}
	// go-github resolves paths against BaseURL, which must end with a slash or the last segment
	// (GHES's "v3") is dropped.
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	if cfg.graphqlURL == "" {
		cfg.graphqlURL = defaultGraphQLURL(base)
	}
	rt := &retryTransport{
		base:     cfg.transport,
		attempts: max(cfg.attempts, 1),
		maxWait:  cfg.maxWait,
		backoff:  cfg.backoff,
		sleep:    cfg.sleep,
		now:      cfg.now,
		logf:     cfg.logf,
	}
	hc := &http.Client{Transport: &authTransport{base: rt, token: token}, Timeout: 60 * time.Second}
	gh := gogithub.NewClient(hc)
	gh.BaseURL = base
	gh.UserAgent = cfg.userAgent
	return &Client{gh: gh, http: hc, graphqlURL: cfg.graphqlURL}, nil
}

func defaultGraphQLURL(base *url.URL) string {
	u := *base
	if strings.HasSuffix(u.Path, "/api/v3/") {
		u.Path = strings.TrimSuffix(u.Path, "v3/") + "graphql"
	} else {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/graphql"
	}
	return u.String()
}

type authTransport struct {
	base  http.RoundTripper
	token string
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.token == "" {
		return t.base.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+t.token)
	return t.base.RoundTrip(req)
}

// StatusCode returns the HTTP status of a GitHub API error, or 0.
func StatusCode(err error) int {
	var er *gogithub.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	var rl *gogithub.RateLimitError
	if errors.As(err, &rl) && rl.Response != nil {
		return rl.Response.StatusCode
	}
	var ab *gogithub.AbuseRateLimitError
	if errors.As(err, &ab) && ab.Response != nil {
		return ab.Response.StatusCode
	}
	var ge *graphQLError
	if errors.As(err, &ge) {
		return ge.status
	}
	return 0
}

// Identity is who the token acts as: the author of the comments it writes.
type Identity struct {
	// Login is the login as REST comment payloads show it, e.g. "octocat" or
	// "github-actions[bot]".
	Login string
	// Source says how Login was found: "user" (GET /user), "graphql" (the viewer query, for
	// GitHub App installation tokens, which GET /user refuses) or "fallback".
	Source string
}

// FallbackLogin is assumed when neither GET /user nor the GraphQL viewer query answers: it is
// the author of comments written with the workflow's GITHUB_TOKEN.
const FallbackLogin = "github-actions[bot]"

// Identity finds out who the token is. Personal tokens (and act's) answer GET /user. GitHub App
// installation tokens — the workflow's GITHUB_TOKEN included — get 403 there, but the GraphQL
// viewer query answers with the app's bot. Only when both refuse is the author assumed to be
// github-actions[bot].
func (c *Client) Identity(ctx context.Context) (Identity, error) {
	u, _, err := c.gh.Users.Get(ctx, "")
	if err == nil && u.GetLogin() != "" {
		return Identity{Login: u.GetLogin(), Source: "user"}, nil
	}
	if s := StatusCode(err); err != nil && s != http.StatusForbidden && s != http.StatusNotFound {
		return Identity{}, fmt.Errorf("asking GitHub who the token is: %w", err)
	}
	login, gerr := c.viewerLogin(ctx)
	if gerr == nil && login != "" {
		// Only installation tokens get here, and they act as their app's bot, whose REST login
		// always ends in "[bot]"; GraphQL may name it without the suffix.
		if !strings.HasSuffix(login, "[bot]") {
			login += "[bot]"
		}
		return Identity{Login: login, Source: "graphql"}, nil
	}
	return Identity{Login: FallbackLogin, Source: "fallback"}, nil
}

type graphQLError struct {
	status int
	msg    string
}

func (e *graphQLError) Error() string {
	if e.status != 0 && e.status != http.StatusOK {
		return fmt.Sprintf("GraphQL request: HTTP %d", e.status)
	}
	return "GraphQL request: " + e.msg
}

func (c *Client) viewerLogin(ctx context.Context) (string, error) {
	body, _ := json.Marshal(map[string]string{"query": "query { viewer { login } }"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.graphqlURL, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", &graphQLError{status: resp.StatusCode}
	}
	var out struct {
		Data struct {
			Viewer struct {
				Login string `json:"login"`
			} `json:"viewer"`
		} `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return "", &graphQLError{msg: "unreadable answer"}
	}
	if len(out.Errors) > 0 {
		return "", &graphQLError{msg: out.Errors[0].Message}
	}
	return out.Data.Viewer.Login, nil
}

// PullRequest is what the action checks about a pull request.
type PullRequest struct {
	Number  int
	HeadSHA string
	BaseSHA string
	State   string
}

// PullRequest reads one pull request of owner/repo.
func (c *Client) PullRequest(ctx context.Context, owner, repo string, number int) (PullRequest, error) {
	if number <= 0 {
		return PullRequest{}, fmt.Errorf("reading pull request: no number")
	}
	pr, _, err := c.gh.PullRequests.Get(ctx, owner, repo, number)
	if err != nil {
		return PullRequest{}, fmt.Errorf("reading pull request #%d: %w", number, err)
	}
	return PullRequest{
		Number:  pr.GetNumber(),
		HeadSHA: pr.GetHead().GetSHA(),
		BaseSHA: pr.GetBase().GetSHA(),
		State:   pr.GetState(),
	}, nil
}

// maxFiles is where GitHub stops listing a pull request's or a comparison's files.
const maxFiles = 3000

// PullRequestFiles lists the paths a pull request changes, across all pages. Renamed files are
// listed under both names. Truncated reports that GitHub's limit of 3000 files was reached.
func (c *Client) PullRequestFiles(ctx context.Context, owner, repo string, number int) (files []string, truncated bool, err error) {
	if number <= 0 {
		return nil, false, fmt.Errorf("listing pull request files: no pull request number")
	}
	opts := &gogithub.ListOptions{PerPage: 100}
	for {
		page, resp, err := c.gh.PullRequests.ListFiles(ctx, owner, repo, number, opts)
		if err != nil {
			return nil, false, fmt.Errorf("listing files of pull request #%d: %w", number, err)
		}
		files = appendFiles(files, page)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return files, len(files) >= maxFiles, nil
}

// CompareFiles lists the paths changed between base and head (GitHub's base...head comparison,
// from their merge base), across all pages.
func (c *Client) CompareFiles(ctx context.Context, owner, repo, base, head string) (files []string, truncated bool, err error) {
	opts := &gogithub.ListOptions{PerPage: 100}
	for {
		cmp, resp, err := c.gh.Repositories.CompareCommits(ctx, owner, repo, base, head, opts)
		if err != nil {
			return nil, false, fmt.Errorf("comparing %s...%s: %w", short(base), short(head), err)
		}
		files = appendFiles(files, cmp.Files)
		if resp.NextPage == 0 || len(cmp.Files) == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return files, len(files) >= maxFiles, nil
}

func appendFiles(files []string, page []*gogithub.CommitFile) []string {
	for _, f := range page {
		if f.GetFilename() != "" {
			files = append(files, f.GetFilename())
		}
		if f.GetPreviousFilename() != "" {
			files = append(files, f.GetPreviousFilename())
		}
	}
	return files
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
