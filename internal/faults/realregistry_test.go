package faults_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The real-registry tier runs only when LAYERDIFF_RELIABILITY is set (.ci/reliability does): it
// starts Debian's docker-registry (CNCF distribution) itself and runs the layerdiff binary.
func needReliability(t *testing.T) {
	t.Helper()
	if os.Getenv("LAYERDIFF_RELIABILITY") == "" {
		t.Skip("set LAYERDIFF_RELIABILITY=1 to run the real-registry tier (.ci/reliability does)")
	}
	if _, err := exec.LookPath("docker-registry"); err != nil {
		t.Fatal("docker-registry is not installed (apt-get install docker-registry)")
	}
}

// startDockerRegistry runs `docker-registry serve` on a free loopback port with the given
// extra YAML (e.g. an auth section) and returns its host:port once it answers.
func startDockerRegistry(t *testing.T, extra string) string {
	t.Helper()
	dir := t.TempDir()
	for attempt := 0; attempt < 3; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
%s`, filepath.Join(dir, "data"), addr, extra)
		cfgPath := filepath.Join(dir, "config.yml")
		writeFile(t, cfgPath, cfg)
		logf, err := os.Create(filepath.Join(dir, "registry.log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("docker-registry", "serve", cfgPath)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		stop := func() {
			cmd.Process.Kill()
			<-exited
			logf.Close()
		}
		for i := 0; i < 100; i++ {
			resp, err := http.Get("http://" + addr + "/v2/")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
					t.Cleanup(stop)
					return addr
				}
			}
			select {
			case <-exited:
				i = 100
			case <-time.After(100 * time.Millisecond):
			}
		}
		stop()
	}
	log, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
	t.Fatalf("docker-registry did not start:\n%s", log)
	return ""
}

func execOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}
