package faults_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRealRegistryLoad analyses 50 image pairs with the layerdiff binary against the real
// registry, first one after another and then all at once, and checks that every concurrent
// report is byte-identical to its serial one.
func TestRealRegistryLoad(t *testing.T) {
	needReliability(t)
	host := startDockerRegistry(t, "")
	const pairs = 50
	var scens []scenario
	for i := 0; len(scens) < pairs; i++ {
		scens = append(scens, pushScenarios(t, host, fmt.Sprintf("load/p%02d", i))...)
	}
	scens = scens[:pairs]
	bin := layerdiffBinary(t)
	env := []string{"DOCKER_CONFIG=" + t.TempDir()}

	type run struct {
		code     int
		out, err string
		rssKiB   int64
		took     time.Duration
	}
	analyse := func(s scenario) run {
		start := time.Now()
		code, out, errOut, rss, err := runBinary(context.Background(), bin, env, s.args()...)
		if err != nil && code < 0 {
			t.Fatalf("running layerdiff: %v", err)
		}
		return run{code, out, errOut, rss, time.Since(start)}
	}

	serial := make([]run, pairs)
	serialStart := time.Now()
	for i, s := range scens {
		serial[i] = analyse(s)
		if serial[i].code != 0 {
			t.Fatalf("%s: exit %d: %s", s.name, serial[i].code, serial[i].err)
		}
	}
	serialTook := time.Since(serialStart)

	concurrent := make([]run, pairs)
	var wg sync.WaitGroup
	concStart := time.Now()
	for i, s := range scens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			concurrent[i] = analyse(s)
		}()
	}
	wg.Wait()
	concTook := time.Since(concStart)

	identical := 0
	for i := range scens {
		if concurrent[i].code == 0 && concurrent[i].out == serial[i].out && concurrent[i].err == serial[i].err {
			identical++
		} else {
			t.Errorf("pair %d (%s): concurrent run differs from the serial one: exit %d, stderr %q", i, scens[i].name, concurrent[i].code, concurrent[i].err)
		}
	}
	rss := func(rs []run) (median, peak int64) {
		v := make([]int64, len(rs))
		for i, r := range rs {
			v[i] = r.rssKiB
		}
		slices.Sort(v)
		return v[len(v)/2], v[len(v)-1]
	}
	lat := func(rs []run) (median, peak time.Duration) {
		v := make([]time.Duration, len(rs))
		for i, r := range rs {
			v[i] = r.took
		}
		slices.Sort(v)
		return v[len(v)/2], v[len(v)-1]
	}
	sMed, sPeak := rss(serial)
	cMed, cPeak := rss(concurrent)
	sLat, sLatMax := lat(serial)
	cLat, cLatMax := lat(concurrent)
	mb := func(kib int64) string { return fmt.Sprintf("%.1f MB", float64(kib)/1024) }
	ms := func(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }
	t.Logf("serial %v, concurrent %v, identical %d/%d, peak RSS %s", serialTook, concTook, identical, pairs, mb(cPeak))

	var b strings.Builder
	fmt.Fprintf(&b, "### Load: %d image pairs against the real registry\n\n", pairs)
	fmt.Fprintf(&b, "Each analysis is one `layerdiff --format json` process against Debian's `docker-registry` on loopback (the four scenarios of the fault schedule, with distinct content per pair); a 2-core machine. `LAYERDIFF_RELIABILITY=1 go test ./internal/faults -run TestRealRegistryLoad`\n\n")
	fmt.Fprintf(&b, "| run | wall time | throughput | latency median / max | peak RSS per process median / max |\n|---|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %d one after another | %s | %.1f analyses/s | %s / %s | %s / %s |\n", pairs, ms(serialTook), float64(pairs)/serialTook.Seconds(), ms(sLat), ms(sLatMax), mb(sMed), mb(sPeak))
	fmt.Fprintf(&b, "| %d at once | %s | %.1f analyses/s | %s / %s | %s / %s |\n\n", pairs, ms(concTook), float64(pairs)/concTook.Seconds(), ms(cLat), ms(cLatMax), mb(cMed), mb(cPeak))
	fmt.Fprintf(&b, "Concurrent reports byte-identical to their serial run: **%d of %d** (stdout and stderr, exit 0).\n\n", identical, pairs)
	figures(t, "40-load.md", b.String())
}
