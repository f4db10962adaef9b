package faults_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/layerdiff/layerdiff/internal/cli"
	"github.com/layerdiff/layerdiff/internal/faults"
	"github.com/layerdiff/layerdiff/internal/image"
	"github.com/layerdiff/layerdiff/internal/render"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// analyzeFunc runs one analysis of args (CLI arguments) and returns what the CLI would: exit
// code, stdout, stderr.
type analyzeFunc func(ctx context.Context, args []string) (int, string, string)

// scheduleResult is what a seeded schedule found.
type scheduleResult struct {
	runs   int
	seed   uint64
	tally  *tally
	config faults.Config
	took   time.Duration
}

// runSchedule analyses the scenarios runs times, each through a fresh proxy with its own seeded
// plan, and classifies every outcome against the fault-free report.
func runSchedule(t *testing.T, target string, scens []scenario, runs, parallel int, seed uint64, cfg faults.Config, maxStall time.Duration, analyze analyzeFunc) scheduleResult {
	t.Helper()
	through := func(plan faults.Plan) (*faults.Proxy, string) {
		p, err := faults.NewProxy("http://"+target, plan)
		if err != nil {
			t.Fatal(err)
		}
		p.MaxStall = maxStall
		srv := httptest.NewServer(p)
		t.Cleanup(srv.Close)
		return p, strings.TrimPrefix(srv.URL, "http://")
	}
	rehost := func(args []string, host string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			out[i] = strings.Replace(a, target, host, 1)
		}
		return out
	}

	// The fault-free report of each scenario, with the proxy's address blanked.
	want := make([]string, len(scens))
	for i, s := range scens {
		_, host := through(nil)
		code, out, errOut := analyze(context.Background(), rehost(s.args(), host))
		if code != 0 {
			t.Fatalf("scenario %s without faults: exit %d: %s", s.name, code, errOut)
		}
		want[i] = strings.ReplaceAll(out, host, "REGISTRY")
	}

	res := scheduleResult{runs: runs, seed: seed, tally: newTally(), config: cfg}
	start := time.Now()
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := 0; i < runs; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			s := scens[i%len(scens)]
			proxy, host := through(faults.Random(seed+uint64(i), cfg))
			code, out, errOut := analyze(context.Background(), rehost(s.args(), host))
			o, detail := classify(code, strings.ReplaceAll(out, host, "REGISTRY"), errOut, want[i%len(scens)])
			st := proxy.Stats()
			injected := map[string]int{}
			for k, v := range st.Injected {
				injected[string(k)] = v
			}
			if o == wrong {
				detail = fmt.Sprintf("run %d (scenario %s, seed %d, faults %s): %s", i, s.name, seed+uint64(i), st, detail)
			}
			res.tally.add(o, detail, st, injected, st.Requests)
		}(i)
	}
	wg.Wait()
	res.took = time.Since(start)
	return res
}

// markdown is the schedule's section of RELIABILITY.md.
func (r scheduleResult) markdown(title, setup string) string {
	var b strings.Builder
	t := r.tally
	fmt.Fprintf(&b, "### %s\n\n%s\n\n", title, setup)
	fmt.Fprintf(&b, "| analyses | faults injected | requests | right report | clear failure (exit 2, one line) | wrong |\n|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | **%d** |\n\n", r.runs, t.faults, t.requests, t.counts[right], t.counts[clear], t.counts[wrong])
	var kinds []string
	for _, k := range faults.AllKinds {
		if n := t.kinds[string(k)]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("`%s` %d", k, n))
		}
	}
	fmt.Fprintf(&b, "Faults by kind: %s. Seeds %d–%d (fault rate %.0f%% per request, %.0f%% of paths in an outage of %d requests); %s.\n\n",
		strings.Join(kinds, ", "), r.seed, r.seed+uint64(r.runs)-1, r.config.Rate*100, r.config.Outage*100, r.config.OutageLength, r.took.Round(time.Second))
	if len(t.messages) > 0 {
		b.WriteString("Clear failures, by message (addresses and digests blanked):\n\n")
		var msgs []string
		for m := range t.messages {
			msgs = append(msgs, m)
		}
		sort.Slice(msgs, func(i, j int) bool {
			return t.messages[msgs[i]] > t.messages[msgs[j]] || t.messages[msgs[i]] == t.messages[msgs[j]] && msgs[i] < msgs[j]
		})
		for _, m := range msgs {
			fmt.Fprintf(&b, "- %d× `%s`\n", t.messages[m], m)
		}
		b.WriteString("\n")
	}
	for _, w := range t.wrongs {
		fmt.Fprintf(&b, "- WRONG: %s\n", w)
	}
	return b.String()
}

// inProcess analyses as layerdiff's Run does (same Analyze, same JSON, same one-line error),
// with millisecond retries so that hundreds of faulty runs fit in a unit test.
func inProcess(ctx context.Context, args []string) (int, string, string) {
	opts := cli.Options{
		Dockerfile: args[3], Repo: args[7], Base: args[8], Head: args[9],
		ImageOptions: []image.Option{image.WithRetry(5, 2*time.Millisecond), image.WithStallTimeout(100 * time.Millisecond)},
	}
	data, err := os.ReadFile(args[5])
	if err != nil {
		return 2, "", "layerdiff: " + err.Error() + "\n"
	}
	opts.ChangedFiles = strings.Fields(string(data))
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r, err := cli.Analyze(ctx, opts)
	if err != nil {
		if ctx.Err() != nil {
			return 2, "", "layerdiff: reading the images took longer than --timeout 30s\n"
		}
		return 2, "", "layerdiff: " + strings.Join(strings.Fields(err.Error()), " ") + "\n"
	}
	var b strings.Builder
	if err := render.JSON(&b, r); err != nil {
		return 2, "", "layerdiff: rendering the report: " + err.Error() + "\n"
	}
	return 0, b.String(), ""
}

func TestFaultScheduleInProcess(t *testing.T) {
	host := inProcessRegistry(t)
	scens := pushScenarios(t, host, "sched")
	cfg := faults.Config{Rate: 0.35, Outage: 0.04, OutageLength: 8, MaxDelay: 30 * time.Millisecond}
	runs := envInt("LAYERDIFF_FAULT_RUNS", 200)
	res := runSchedule(t, host, scens, runs, 8, 1000, cfg, 5*time.Second, inProcess)
	t.Logf("%d runs: %d right, %d clear failures, %d wrong; %d faults injected", runs, res.tally.counts[right], res.tally.counts[clear], res.tally.counts[wrong], res.tally.faults)
	for _, w := range res.tally.wrongs {
		t.Errorf("wrong: %s", w)
	}
	if res.tally.counts[right] == 0 || res.tally.counts[clear] == 0 {
		t.Errorf("the schedule should produce both right reports and clear failures: %v", res.tally.counts)
	}
	figures(t, "20-faults-inprocess.md", res.markdown("Registry faults: in-process registry",
		"go-containerregistry's registry on httptest behind `internal/faults`' proxy, a fresh seeded plan per analysis, analysed in-process by `cli.Analyze` (the CLI's code path) with millisecond retry waits; four scenarios (COPY sources, new base image, changed secret build arg, multi-platform index). `go test ./internal/faults -run TestFaultScheduleInProcess`"))
}
