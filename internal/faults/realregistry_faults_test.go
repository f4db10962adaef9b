package faults_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/layerdiff/layerdiff/internal/faults"
)

// TestRealRegistryFaultSchedule runs the layerdiff binary, with its default retry policy and
// --timeout, through the fault proxy in front of the real docker-registry.
func TestRealRegistryFaultSchedule(t *testing.T) {
	needReliability(t)
	host := startDockerRegistry(t, "")
	scens := pushScenarios(t, host, "sched")
	bin := layerdiffBinary(t)
	env := []string{"DOCKER_CONFIG=" + t.TempDir()}
	binary := func(ctx context.Context, args []string) (int, string, string) {
		code, out, errOut, _, err := runBinary(ctx, bin, env, args...)
		if err != nil && code < 0 {
			return -1, "", err.Error()
		}
		return code, out, errOut
	}
	cfg := faults.Config{Rate: 0.3, Outage: 0.04, OutageLength: 8, MaxDelay: 500 * time.Millisecond, RetryAfter: time.Second}
	runs := envInt("LAYERDIFF_FAULT_RUNS", 200)
	res := runSchedule(t, host, scens, runs, 8, 5000, cfg, 2*time.Second, binary)
	t.Logf("%d runs: %d right, %d clear failures, %d wrong; %d faults injected in %v", runs, res.tally.counts[right], res.tally.counts[clear], res.tally.counts[wrong], res.tally.faults, res.took)
	for _, w := range res.tally.wrongs {
		t.Errorf("wrong: %s", w)
	}
	figures(t, "21-faults-real.md", res.markdown("Registry faults: real docker-registry, layerdiff binary",
		"Debian's `docker-registry` (CNCF distribution "+registryVersion()+") behind the same proxy; each analysis is the `layerdiff` binary with its defaults (5 attempts per request, waits from 250 ms doubling to 4 s, Retry-After honoured up to 1 min, 3 reads of a damaged body, 30 s stall limit, `--timeout 2m`); the proxy gives up a stall after 2 s and sends `Retry-After: 1`. `LAYERDIFF_RELIABILITY=1 go test ./internal/faults -run TestRealRegistryFaultSchedule`"))
}

func registryVersion() string {
	out, err := execOutput("docker-registry", "--version")
	if err != nil {
		return "2.8"
	}
	f := strings.Fields(out)
	for _, w := range f {
		if strings.HasPrefix(w, "v2") || strings.HasPrefix(w, "2.") {
			return strings.TrimPrefix(w, "v")
		}
	}
	return strings.TrimSpace(out)
}
