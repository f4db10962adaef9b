package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/layerdiff/layerdiff/internal/httpwait"
)

// retryPolicy bounds how long and how often Load insists on a flaky registry. Two levels retry:
// the transport repeats a request that got no answer or a temporary status (5xx, 429, 408),
// honouring Retry-After; the fetcher repeats a whole read whose body arrived cut short or
// damaged, which only shows once the body is read. The caller's context bounds both.
type retryPolicy struct {
	// attempts is how often one request is sent before giving up (1: never retried).
	attempts int
	// reads is how often one manifest or config is read before a damaged body is final.
	reads int
	// backoff is the first wait; it doubles after each failure, up to maxBackoff, ±20%.
	backoff, maxBackoff time.Duration
	// maxRetryAfter is the longest Retry-After honoured; a registry asking for more fails now.
	maxRetryAfter time.Duration
	// stall abandons an attempt that receives nothing (no headers, no body bytes) for this long.
	stall time.Duration
}

var defaultRetryPolicy = retryPolicy{
	attempts:      5,
	reads:         3,
	backoff:       250 * time.Millisecond,
	maxBackoff:    4 * time.Second,
	maxRetryAfter: time.Minute,
	stall:         30 * time.Second,
}

// wait is the pause before attempt n+1 (n counts from 1).
func (p retryPolicy) wait(n int) time.Duration {
	d := p.backoff
	for i := 1; i < n && d < p.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.maxBackoff)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// retryTransport retries idempotent requests (GET, HEAD) on connection failures and temporary
// statuses, and verifies manifest and blob bodies against their digests as they are read.
type retryTransport struct {
	inner  http.RoundTripper
	policy retryPolicy
	// retries counts the requests repeated, for tests and the reliability figures.
	retries atomic.Int64
}

// retryableStatus are answers that say "try again later" rather than "no".
var retryableStatus = map[int]bool{
	http.StatusRequestTimeout:      true,
	http.StatusTooManyRequests:     true,
	http.StatusInternalServerError: true,
	http.StatusBadGateway:          true,
	http.StatusServiceUnavailable:  true,
	http.StatusGatewayTimeout:      true,
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		// A token POST carries a body that can't be replayed safely; send it once.
		return t.attempt(req)
	}
	ctx := req.Context()
	for n := 1; ; n++ {
		resp, err := t.attempt(req)
		if ctx.Err() != nil {
			if resp != nil {
				resp.Body.Close()
			}
			return nil, ctx.Err()
		}
		var problem string
		var after time.Duration
		switch {
		case err != nil:
			if !connectionFault(err) {
				return nil, err
			}
			problem = connectionProblem(err)
		case retryableStatus[resp.StatusCode]:
			problem = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
			var ok bool
			if after, ok = httpwait.RetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				left := t.policy.maxRetryAfter
				if dl, has := ctx.Deadline(); has {
					left = min(left, time.Until(dl))
				}
				if after > left {
					drain(resp)
					return nil, &unavailableError{host: req.URL.Host, problem: problem, attempts: n, retryAfter: after, tooLong: true}
				}
			}
			drain(resp)
		default:
			return t.verified(req, resp), nil
		}
		if n >= t.policy.attempts {
			return nil, &unavailableError{host: req.URL.Host, problem: problem, attempts: n, cause: err}
		}
		if after == 0 {
			after = t.policy.wait(n)
		}
		t.retries.Add(1)
		if err := httpwait.Sleep(ctx, after); err != nil {
			return nil, err
		}
	}
}

// attempt sends req once, abandoning it when nothing arrives for policy.stall: a registry that
// accepts a connection and then goes silent must not use up the whole --timeout on one request.
func (t *retryTransport) attempt(req *http.Request) (*http.Response, error) {
	if t.policy.stall <= 0 {
		return t.inner.RoundTrip(req)
	}
	ctx, cancel := context.WithCancel(req.Context())
	w := &watchdog{cancel: cancel}
	w.timer = time.AfterFunc(t.policy.stall, w.fire)
	resp, err := t.inner.RoundTrip(req.WithContext(ctx))
	if err != nil {
		w.stop()
		if w.fired.Load() && req.Context().Err() == nil {
			return nil, errStalled
		}
		return nil, err
	}
	w.timer.Reset(t.policy.stall)
	resp.Body = &watchedBody{ReadCloser: resp.Body, w: w, stall: t.policy.stall}
	return resp, nil
}

// errStalled is an attempt abandoned because the registry went silent.
var errStalled = errors.New("the registry stopped sending")

type watchdog struct {
	timer  *time.Timer
	cancel context.CancelFunc
	fired  atomic.Bool
}

func (w *watchdog) fire() {
	w.fired.Store(true)
	w.cancel()
}

func (w *watchdog) stop() {
	w.timer.Stop()
	w.cancel()
}

type watchedBody struct {
	io.ReadCloser
	w     *watchdog
	stall time.Duration
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.w.timer.Reset(b.stall)
	}
	if err != nil && err != io.EOF && b.w.fired.Load() {
		err = errStalled
	}
	return n, err
}

func (b *watchedBody) Close() error {
	b.w.stop()
	return b.ReadCloser.Close()
}

// drain reads a little of a response that is thrown away so its connection can be reused.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// connectionFault reports network failures worth another attempt: the connection was reset or
// closed before a full answer, or went silent. A refused connection, a DNS or TLS failure is a
// configuration problem that repeating will not fix.
func connectionFault(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	case errors.Is(err, errStalled),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	case errors.As(err, &ne) && ne.Timeout():
		return true
	}
	return false
}

func connectionProblem(err error) string {
	switch {
	case errors.Is(err, errStalled):
		return "stopped answering"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED):
		return "reset the connection"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, syscall.EPIPE):
		return "closed the connection"
	}
	return "timed out"
}

// unavailableError is a registry that kept failing a request, or asked to wait too long.
type unavailableError struct {
	host       string
	problem    string // "503 Service Unavailable", "reset the connection"…
	attempts   int
	retryAfter time.Duration
	tooLong    bool // retryAfter is longer than layerdiff waits
	cause      error
}

func (e *unavailableError) Error() string {
	if e.tooLong {
		return fmt.Sprintf("registry %s answered %s and asks to retry after %s, longer than layerdiff waits", e.host, e.problem, e.retryAfter.Round(time.Second))
	}
	if e.problem != "" && e.problem[0] >= '0' && e.problem[0] <= '9' {
		return fmt.Sprintf("registry %s answered %s %s", e.host, e.problem, times(e.attempts))
	}
	return fmt.Sprintf("registry %s %s %s", e.host, e.problem, times(e.attempts))
}

func (e *unavailableError) Unwrap() error { return e.cause }

func times(n int) string {
	if n == 1 {
		return "on the only attempt"
	}
	return fmt.Sprintf("on all %d attempts", n)
}

// damagedError is a manifest or config whose body kept arriving cut short or not matching its
// digest.
type damagedError struct {
	host     string
	attempts int
	cause    error
}

func (e *damagedError) Error() string {
	return fmt.Sprintf("registry %s sent an incomplete or damaged response %s (%s)", e.host, times(e.attempts), oneLine(e.cause.Error()))
}

func (e *damagedError) Unwrap() error { return e.cause }

// bodyFault reports a read that failed after the registry had answered: the body was cut,
// reset or silent, or did not match its digest. Reading again may succeed.
func bodyFault(err error) bool {
	var ue *unavailableError
	if errors.As(err, &ue) {
		return false // the transport has already tried as often as it should
	}
	var de *digestError
	if errors.As(err, &de) {
		return true
	}
	// go-containerregistry's own digest and size checks (e.g. after a redirect to storage).
	if strings.Contains(err.Error(), "error verifying") || strings.Contains(err.Error(), "does not match expected size") {
		return true
	}
	return connectionFault(err)
}

// withReads runs read until it succeeds, fails for another reason than a damaged body, or has
// been tried policy.reads times.
func withReads[T any](ctx context.Context, p retryPolicy, host string, read func() (T, error)) (T, error) {
	for n := 1; ; n++ {
		v, err := read()
		if err == nil || ctx.Err() != nil || !bodyFault(err) {
			return v, err
		}
		if n >= p.reads {
			return v, &damagedError{host: host, attempts: n, cause: err}
		}
		if err := httpwait.Sleep(ctx, p.wait(n)); err != nil {
			return v, err
		}
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
