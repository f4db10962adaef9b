package image

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/layerdiff/layerdiff/analyze"
	"github.com/layerdiff/layerdiff/internal/faults"
	"github.com/layerdiff/layerdiff/internal/httpwait"
)

// fast keeps the retries of these tests to milliseconds; the policy's shape is what is tested.
var fast = []Option{WithRetry(5, time.Millisecond), WithStallTimeout(150 * time.Millisecond)}

// faultyRegistry puts a fault-injecting proxy with plan in front of a registry holding the app
// image at app:head, and returns the image's reference through the proxy.
func faultyRegistry(t *testing.T, plan faults.Plan) (ref string, img *analyze.Image, proxy *faults.Proxy) {
	t.Helper()
	reg := newRegistry(t, nil)
	v1img := buildImage(t, linuxAMD64, appSteps...)
	push(t, reg.ref("app:head"), v1img)
	proxy, err := faults.NewProxy("http://"+reg.host, plan)
	if err != nil {
		t.Fatal(err)
	}
	proxy.MaxStall = 5 * time.Second
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	ref = host + "/app:head"
	return ref, want(t, ref, v1img), proxy
}

func TestLoadRemoteRecoversFromEveryFault(t *testing.T) {
	for _, k := range faults.AllKinds {
		t.Run(string(k), func(t *testing.T) {
			// Every path fails twice before it works: within the five attempts of a request and
			// the three reads of a body.
			f := faults.Fault{Kind: k, Delay: 20 * time.Millisecond, RetryAfter: 0}
			ref, w, proxy := faultyRegistry(t, faults.FirstN(2, f))
			got, err := Load(context.Background(), ref, "", fast...)
			if err != nil {
				t.Fatalf("Load: %v (faults %s)", err, proxy.Stats())
			}
			checkImage(t, got, w)
			if proxy.Stats().Faults() == 0 {
				t.Errorf("no fault was injected")
			}
		})
	}
}

func TestLoadRemoteFailsClearlyUnderPersistentFaults(t *testing.T) {
	for _, tc := range []struct {
		kind faults.Kind
		want string
	}{
		{faults.Status500, "answered 500 Internal Server Error on all 5 attempts"},
		{faults.Status502, "answered 502 Bad Gateway on all 5 attempts"},
		{faults.Status503, "answered 503 Service Unavailable on all 5 attempts"},
		{faults.RateLimit, "answered 429 Too Many Requests on all 5 attempts"},
		{faults.Reset, "on all 5 attempts"},
		{faults.Truncate, "sent an incomplete or damaged response on all 3 attempts"},
		{faults.ShortBody, "-byte manifest received does not match its digest"},
		{faults.Corrupt, "does not match its digest"},
		{faults.Stall, "sent an incomplete or damaged response on all 3 attempts (the registry stopped sending)"},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			ref, _, _ := faultyRegistry(t, faults.Always(faults.Fault{Kind: tc.kind}))
			start := time.Now()
			img, err := Load(context.Background(), ref, "", fast...)
			if img != nil {
				t.Fatalf("got an image under a persistent %s fault", tc.kind)
			}
			wantErr(t, err, tc.want)
			host := strings.Split(ref, "/")[0]
			if !strings.Contains(err.Error(), "registry "+host) {
				t.Errorf("error %q does not name the registry %s", err, host)
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "http://") {
				t.Errorf("error is not one clean line: %q", err)
			}
			if errors.Is(err, ErrNotFound) {
				t.Error("a failing registry is not a missing image")
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("gave up after %v", d)
			}
		})
	}
}

func TestLoadRemoteHonoursRetryAfter(t *testing.T) {
	ref, w, proxy := faultyRegistry(t, faults.FirstN(1, faults.Fault{Kind: faults.RateLimit, RetryAfter: time.Second}))
	start := time.Now()
	got, err := Load(context.Background(), ref, "", fast...)
	if err != nil {
		t.Fatal(err)
	}
	checkImage(t, got, w)
	// Three paths (ping, manifest, config) each waited the second asked for, one after the other.
	if d := time.Since(start); d < 3*time.Second {
		t.Errorf("took %v: Retry-After: 1 was not honoured on each of %d rate-limited requests", d, proxy.Stats().Injected[faults.RateLimit])
	}
}

func TestLoadRemoteRetryAfterBeyondTheDeadlineFailsAtOnce(t *testing.T) {
	ref, _, _ := faultyRegistry(t, faults.Always(faults.Fault{Kind: faults.RateLimit, RetryAfter: 90 * time.Second}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := Load(ctx, ref, "", fast...)
	wantErr(t, err, "answered 429 Too Many Requests and asks to retry after 1m30s, longer than layerdiff waits")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("waited %v instead of failing at once", d)
	}
}

func TestLoadRemoteStopsRetryingWhenTheContextEnds(t *testing.T) {
	ref, _, _ := faultyRegistry(t, faults.Always(faults.Fault{Kind: faults.Status503}))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	// The default policy would wait 0.25+0.5+1+2 s between its five attempts.
	_, err := Load(ctx, ref, "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned %v after the deadline", d-300*time.Millisecond)
	}
}

func TestLoadRemoteDefaultPolicyRetries(t *testing.T) {
	// Without options: two 503s then success, within the default backoff (0.25s, 0.5s).
	ref, w, proxy := faultyRegistry(t, faults.FirstN(2, faults.Fault{Kind: faults.Status503}))
	got, err := Load(context.Background(), ref, "")
	if err != nil {
		t.Fatal(err)
	}
	checkImage(t, got, w)
	if n := proxy.Stats().Injected[faults.Status503]; n < 6 {
		t.Errorf("%d faults injected, want two on each of three paths", n)
	}
}

func TestLoadRemoteDoesNotRetryARefusal(t *testing.T) {
	var calls int
	reg := newRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/manifests/") {
				calls++
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	_, err := Load(context.Background(), reg.ref("app:x"), "", fast...)
	if err == nil {
		t.Fatal("no error")
	}
	if calls != 1 {
		t.Errorf("a 400 was sent %d times, want once", calls)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"0":                             0,
		"7":                             7 * time.Second,
		" 2 ":                           2 * time.Second,
		"Sat, 01 Mar 2025 12:00:30 GMT": 30 * time.Second,
		"Sat, 01 Mar 2025 11:00:00 GMT": 0,
	} {
		got, ok := httpwait.RetryAfter(v, now)
		if !ok || got != want {
			t.Errorf("retryAfter(%q) = %v, %v; want %v", v, got, ok, want)
		}
	}
	for _, v := range []string{"", "-1", "soon", "1.5"} {
		if _, ok := httpwait.RetryAfter(v, now); ok {
			t.Errorf("retryAfter(%q) accepted", v)
		}
	}
}
