package github

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/layerdiff/layerdiff/internal/httpwait"
)

// retryTransport retries what GitHub asks to be retried later — 429, a 403 that is a primary or
// secondary rate limit, and 500/502/503/504 — a bounded number of times. It waits as long as
// Retry-After or x-ratelimit-reset say, and gives up at once when that is longer than maxWait, so
// a job is never parked for an hour on an exhausted quota.
//
// It sits below go-github, so go-github only ever sees the final answer and never records a rate
// limit that a retry already waited out.
type retryTransport struct {
	base     http.RoundTripper
	attempts int           // total attempts, at least 1
	maxWait  time.Duration // longest single wait
	backoff  time.Duration // first wait for 5xx and unspecified secondary limits
	sleep    func(context.Context, time.Duration) error
	now      func() time.Time
	logf     func(format string, args ...any)
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			r = req.Clone(req.Context())
			if req.Body != nil && req.Body != http.NoBody {
				if req.GetBody == nil {
					return nil, fmt.Errorf("retrying %s %s: request body cannot be replayed", req.Method, req.URL.Path)
				}
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = body
			}
		}
		resp, err := t.base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		wait, retry := t.retryAfter(resp, attempt)
		if !retry || attempt >= t.attempts {
			return resp, nil
		}
		if wait > t.maxWait {
			t.logf("GitHub API asks to wait %s before retrying %s %s; not waiting that long", wait.Round(time.Second), req.Method, req.URL.Path)
			return resp, nil
		}
		// Drain so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		t.logf("GitHub API answered %d to %s %s; retrying in %s (attempt %d of %d)", resp.StatusCode, req.Method, req.URL.Path, wait.Round(time.Millisecond), attempt+1, t.attempts)
		if err := t.sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

// retryAfter decides whether resp is worth retrying and after how long.
func (t *retryTransport) retryAfter(resp *http.Response, attempt int) (time.Duration, bool) {
	backoff := t.backoff << (attempt - 1)
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		if d, ok := t.headerWait(resp); ok {
			return d, true
		}
		return max(backoff, time.Minute), true
	case http.StatusForbidden:
		if d, ok := t.headerWait(resp); ok && isRateLimited(resp) {
			return d, true
		}
		if isRateLimited(resp) {
			// GitHub documents "wait at least one minute" for a secondary limit without headers.
			return max(backoff, time.Minute), true
		}
		return 0, false
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if d, ok := t.headerWait(resp); ok {
			return d, true
		}
		return backoff, true
	}
	return 0, false
}

// headerWait reads Retry-After (seconds or an HTTP date), then x-ratelimit-reset (epoch seconds)
// when the quota is exhausted.
func (t *retryTransport) headerWait(resp *http.Response) (time.Duration, bool) {
	if d, ok := httpwait.RetryAfter(resp.Header.Get("Retry-After"), t.now()); ok {
		return d, true
	}
	if resp.Header.Get("X-Ratelimit-Remaining") == "0" {
		if v := resp.Header.Get("X-Ratelimit-Reset"); v != "" {
			if s, err := strconv.ParseInt(v, 10, 64); err == nil {
				// One second more: the reset time is truncated to a second.
				return max(time.Unix(s, 0).Sub(t.now())+time.Second, 0), true
			}
		}
	}
	return 0, false
}

// isRateLimited tells a rate-limit 403 from a permission 403 ("Resource not accessible by
// integration"), which must not be retried. It peeks at the body and puts it back.
func isRateLimited(resp *http.Response) bool {
	if resp.Header.Get("X-Ratelimit-Remaining") == "0" || resp.Header.Get("Retry-After") != "" {
		return true
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return false
	}
	body := strings.ToLower(string(data))
	return strings.Contains(body, "secondary rate limit") || strings.Contains(body, "abuse") ||
		strings.Contains(body, "rate limit exceeded")
}
