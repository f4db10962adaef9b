package faults

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind is one way a registry or the network between fails.
type Kind string

// The faults a Proxy injects.
const (
	None Kind = ""
	// Status500, Status502 and Status503 answer with that status and a distribution error body.
	Status500 Kind = "500"
	Status502 Kind = "502"
	Status503 Kind = "503"
	// RateLimit answers 429 Too Many Requests with a Retry-After header.
	RateLimit Kind = "429"
	// Reset closes the connection with a TCP RST before answering.
	Reset Kind = "reset"
	// Truncate sends the headers, with the full Content-Length, and half the body, then drops
	// the connection: the client sees an unexpected EOF.
	Truncate Kind = "truncate"
	// ShortBody sends half the body with a Content-Length that matches it: only a digest check
	// can tell.
	ShortBody Kind = "short-body"
	// Corrupt flips one bit of the body, length unchanged: only a digest check can tell.
	Corrupt Kind = "corrupt"
	// Delay answers correctly after a pause.
	Delay Kind = "delay"
	// Stall sends the headers and half the body, then nothing until the client gives up.
	Stall Kind = "stall"
)

// AllKinds lists every fault, for schedules that try them all.
var AllKinds = []Kind{Status500, Status502, Status503, RateLimit, Reset, Truncate, ShortBody, Corrupt, Delay, Stall}

// bodyKinds only apply to a successful answer with a body; other answers pass unharmed.
var bodyKinds = []Kind{Truncate, ShortBody, Corrupt, Stall}

// Fault is what happens to one request.
type Fault struct {
	Kind Kind
	// Delay is the pause of a Delay fault.
	Delay time.Duration
	// RetryAfter is the Retry-After of a RateLimit answer (0 is sent as "0") and, when set, of
	// a Status500/502/503 one.
	RetryAfter time.Duration
}

// Plan decides the fault for the n-th request (counting from 1) with this method and path.
// Counting per method and path, not globally, keeps a seeded plan reproducible when requests
// for different paths race.
type Plan interface {
	Fault(method, path string, n int) Fault
}

// PlanFunc adapts a function to Plan.
type PlanFunc func(method, path string, n int) Fault

// Fault calls f.
func (f PlanFunc) Fault(method, path string, n int) Fault { return f(method, path, n) }

// Always injects the same fault into every request.
func Always(f Fault) Plan {
	return PlanFunc(func(string, string, int) Fault { return f })
}

// FirstN injects f into the first n requests of every path, then lets them through.
func FirstN(n int, f Fault) Plan {
	return PlanFunc(func(_, _ string, i int) Fault {
		if i <= n {
			return f
		}
		return Fault{}
	})
}

// Config shapes a Random plan.
type Config struct {
	// Rate is the chance that a request gets a fault.
	Rate float64
	// Kinds are the faults picked from, evenly; default AllKinds.
	Kinds []Kind
	// Outage is the chance that a path, once faulted, keeps failing with the same fault for
	// OutageLength requests in a row — longer than a client's retries, to provoke a clear
	// failure.
	Outage       float64
	OutageLength int
	// MaxDelay bounds Delay faults (default 100ms); RetryAfter is the Retry-After a 429 sends.
	MaxDelay, RetryAfter time.Duration
}

// Random is a seeded plan: the same seed, method, path and count always give the same fault.
func Random(seed uint64, c Config) Plan {
	if len(c.Kinds) == 0 {
		c.Kinds = AllKinds
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = 100 * time.Millisecond
	}
	if c.OutageLength <= 0 {
		c.OutageLength = 10
	}
	return PlanFunc(func(method, path string, n int) Fault {
		// An outage starts at the path's first request and lasts OutageLength requests.
		if u := unit(seed, method, path, 0, "outage"); u < c.Outage {
			if n <= c.OutageLength {
				return c.fault(seed, method, path, 0)
			}
			return Fault{}
		}
		if unit(seed, method, path, n, "rate") >= c.Rate {
			return Fault{}
		}
		return c.fault(seed, method, path, n)
	})
}

func (c Config) fault(seed uint64, method, path string, n int) Fault {
	k := c.Kinds[int(unit(seed, method, path, n, "kind")*float64(len(c.Kinds)))%len(c.Kinds)]
	f := Fault{Kind: k}
	switch k {
	case Delay:
		f.Delay = time.Duration(unit(seed, method, path, n, "delay") * float64(c.MaxDelay))
	case RateLimit:
		f.RetryAfter = c.RetryAfter
	}
	return f
}

// unit is a uniform number in [0,1) drawn from the seed and the request.
func unit(seed uint64, method, path string, n int, salt string) float64 {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], seed)
	binary.LittleEndian.PutUint64(b[8:], uint64(n))
	h.Write(b[:])
	io.WriteString(h, method+" "+path+" "+salt)
	return float64(h.Sum64()>>11) / float64(1<<53)
}

// Proxy is a reverse proxy to a registry that injects the faults its plan decides.
type Proxy struct {
	target *url.URL
	plan   Plan
	client *http.Client
	// MaxStall bounds a Stall fault when the client never gives up (default 1 minute).
	MaxStall time.Duration

	mu       sync.Mutex
	counts   map[string]int
	injected map[Kind]int
	requests int
}

// NewProxy proxies to target (e.g. "http://127.0.0.1:5000") with plan (nil: no faults).
func NewProxy(target string, plan Plan) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("proxy target %q: want a URL such as http://127.0.0.1:5000", target)
	}
	if plan == nil {
		plan = Always(Fault{})
	}
	return &Proxy{
		target:   u,
		plan:     plan,
		client:   &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		MaxStall: time.Minute,
		counts:   map[string]int{},
		injected: map[Kind]int{},
	}, nil
}

// Stats are what a proxy has seen and done.
type Stats struct {
	Requests int
	Injected map[Kind]int
}

// Faults is the number of faults injected, all kinds together.
func (s Stats) Faults() int {
	n := 0
	for _, c := range s.Injected {
		n += c
	}
	return n
}

// String lists the injected faults by kind, e.g. "503×2 reset×1".
func (s Stats) String() string {
	var parts []string
	for _, k := range AllKinds {
		if s.Injected[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s×%d", k, s.Injected[k]))
		}
	}
	return strings.Join(parts, " ")
}

// Stats returns a snapshot of the proxy's counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{Requests: p.requests, Injected: map[Kind]int{}}
	for k, v := range p.injected {
		s.Injected[k] = v
	}
	return s
}

func (p *Proxy) next(r *http.Request) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := r.Method + " " + r.URL.Path
	p.counts[key]++
	p.requests++
	return p.plan.Fault(r.Method, r.URL.Path, p.counts[key])
}

func (p *Proxy) count(k Kind) {
	p.mu.Lock()
	p.injected[k]++
	p.mu.Unlock()
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := p.next(r)
	switch f.Kind {
	case Reset:
		p.count(Reset)
		reset(w)
		return
	case Delay:
		p.count(Delay)
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	case Status500, Status502, Status503, RateLimit:
		p.count(f.Kind)
		status, _ := strconv.Atoi(string(f.Kind))
		if f.Kind == RateLimit || f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter.Round(time.Second)/time.Second)))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		code := "UNAVAILABLE"
		if f.Kind == RateLimit {
			code = "TOOMANYREQUESTS"
		}
		fmt.Fprintf(w, `{"errors":[{"code":%q,"message":"injected fault"}]}`+"\n", code)
		return
	}

	resp, body, err := p.forward(r)
	if err != nil {
		http.Error(w, "faults proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	for k, vs := range resp.Header {
		if k == "Content-Length" {
			continue
		}
		for _, v := range vs {
			w.Header().Add(k, p.rewriteLocation(k, v, r))
		}
	}
	if !slices.Contains(bodyKinds, f.Kind) || resp.StatusCode != http.StatusOK || r.Method != http.MethodGet || len(body) < 2 {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
		return
	}
	p.count(f.Kind)
	half := body[:len(body)/2]
	switch f.Kind {
	case Truncate:
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(resp.StatusCode)
		w.Write(half)
		flush(w)
		panic(http.ErrAbortHandler) // drops the connection without completing the body
	case ShortBody:
		w.Header().Set("Content-Length", strconv.Itoa(len(half)))
		w.WriteHeader(resp.StatusCode)
		w.Write(half)
	case Corrupt:
		bad := bytes.Clone(body)
		i := int(unit(uint64(len(body)), r.Method, r.URL.Path, 0, "flip") * float64(len(bad)))
		bad[i] ^= 0x04
		w.Header().Set("Content-Length", strconv.Itoa(len(bad)))
		w.WriteHeader(resp.StatusCode)
		w.Write(bad)
	case Stall:
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(resp.StatusCode)
		w.Write(half)
		flush(w)
		select {
		case <-r.Context().Done():
		case <-time.After(p.MaxStall):
		}
		panic(http.ErrAbortHandler)
	}
}

// forward sends r to the target and reads the whole answer; registries' manifests and configs
// are small, and layerdiff never reads a layer.
func (p *Proxy) forward(r *http.Request) (*http.Response, []byte, error) {
	u := *p.target
	u.Path = strings.TrimSuffix(p.target.Path, "/") + r.URL.Path
	u.RawQuery = r.URL.RawQuery
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), r.Body)
	if err != nil {
		return nil, nil, err
	}
	out.ContentLength = r.ContentLength
	for k, vs := range r.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
			continue
		}
		out.Header[k] = vs
	}
	resp, err := p.client.Do(out)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, nil, err
	}
	return resp, body, nil
}

// rewriteLocation points redirects to the target back through the proxy.
func (p *Proxy) rewriteLocation(key, v string, r *http.Request) string {
	if key != "Location" {
		return v
	}
	if u, err := url.Parse(v); err == nil && u.Host == p.target.Host {
		u.Host = r.Host
		return u.String()
	}
	return v
}

func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// reset closes the client's connection with a TCP RST (SO_LINGER 0).
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}
