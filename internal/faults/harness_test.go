package faults_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// scenario is one base/head pair with the Dockerfile and changed files that explain it.
type scenario struct {
	name       string
	base, head string // references
	dir        string // holds Dockerfile and changed-files.txt
}

// args are the CLI arguments that analyse the scenario as JSON.
func (s scenario) args() []string {
	return []string{"--format", "json",
		"--dockerfile", filepath.Join(s.dir, "Dockerfile"),
		"--changed-files", filepath.Join(s.dir, "changed-files.txt"),
		"--repo", s.dir,
		s.base, s.head}
}

const dockerfile = `FROM alpine:3.20
ARG NPM_TOKEN
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build
`

type hist struct {
	createdBy string
	size      int64 // 0: an empty layer
}

// baseSteps are the FROM image's entries; appSteps the Dockerfile's, with a RUN |1 prefix
// carrying the build arg's value.
func appSteps(token, build string) []hist {
	return []hist{
		{"ARG NPM_TOKEN=" + token, 0},
		{"WORKDIR /app", 90},
		{"COPY package.json package-lock.json ./ # buildkit", 300},
		{"RUN |1 NPM_TOKEN=" + token + " /bin/sh -c npm ci # buildkit", 2000},
		{"COPY . . # buildkit", 700},
		{"RUN |1 NPM_TOKEN=" + token + " /bin/sh -c npm run build # buildkit" + build, 900},
	}
}

var baseSteps = []hist{{"ADD alpine-minirootfs.tar / # buildkit", 1500}, {`CMD ["/bin/sh"]`, 0}}

// imageBuilder makes images whose identical steps share layers, so that unchanged steps are
// cached exactly as BuildKit's would be.
type imageBuilder struct {
	t      testing.TB
	layers map[string]v1.Layer
}

func newImageBuilder(t testing.TB) *imageBuilder {
	return &imageBuilder{t: t, layers: map[string]v1.Layer{}}
}

// build appends steps; a step's layer is shared with every earlier step of the same key and
// position in the chain, so a key names the content.
func (b *imageBuilder) build(plat v1.Platform, steps []hist, keys []string) v1.Image {
	b.t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	stamp := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, s := range steps {
		add := mutate.Addendum{History: v1.History{CreatedBy: s.createdBy, Comment: "buildkit.dockerfile.v0",
			Created: v1.Time{Time: stamp.Add(time.Duration(i) * time.Second)}}}
		if s.size == 0 {
			add.History.EmptyLayer = true
		} else {
			key := keys[i]
			l, ok := b.layers[key]
			if !ok {
				var err error
				if l, err = random.Layer(s.size, types.OCILayer); err != nil {
					b.t.Fatal(err)
				}
				b.layers[key] = l
			}
			add.Layer, add.MediaType = l, types.OCILayer
		}
		var err error
		if img, err = mutate.Append(img, add); err != nil {
			b.t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		b.t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = plat.OS, plat.Architecture, plat.Variant
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		b.t.Fatal(err)
	}
	return img
}

// pushScenarios pushes four kinds of change to host under repo prefix and writes their
// Dockerfiles: a README edit under COPY . ., a new base image, a changed (secret) build arg, and
// a head that is a multi-platform index.
func pushScenarios(t testing.TB, host, prefix string, opts ...remote.Option) []scenario {
	t.Helper()
	b := newImageBuilder(t)
	amd64 := v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 := v1.Platform{OS: "linux", Architecture: "arm64"}
	keys := func(base, deps, app, token string) []string {
		return []string{base, "", "", "workdir" + base, "manifests" + base, "npm-ci" + base + token, "app" + base + app + token, "build" + base + app + token}
	}
	steps := func(token, build string) []hist {
		return append(append([]hist(nil), baseSteps...), appSteps(token, build)...)
	}

	type pair struct {
		name       string
		base, head v1.Image
		headIndex  v1.ImageIndex
		changed    string
		dockerfile string
	}
	secret := "npm_" + strings.Repeat("Zq9", 8)
	pairs := []pair{
		{name: "sources",
			base: b.build(amd64, steps(secret, ""), keys("alpine1", "", "app1", "t1")),
			head: b.build(amd64, steps(secret, ""), keys("alpine1", "", "app2", "t1")), changed: "README.md\n"},
		{name: "base-image",
			base: b.build(amd64, steps(secret, ""), keys("alpine1", "", "app1", "t1")),
			head: b.build(amd64, steps(secret, ""), keys("alpine2", "", "app1", "t1")), changed: ""},
		{name: "build-arg",
			base: b.build(amd64, steps(secret, ""), keys("alpine1", "", "app1", "t1")),
			head: b.build(amd64, steps(secret+"-rotated", ""), keys("alpine1", "", "app1", "t2")), changed: ""},
	}
	headAMD := b.build(amd64, steps(secret, ""), keys("alpine1", "", "app3", "t1"))
	headARM := b.build(arm64, steps(secret, ""), keys("alpine1-arm", "", "app3-arm", "t1"))
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: headARM, Descriptor: v1.Descriptor{Platform: &arm64}},
		mutate.IndexAddendum{Add: headAMD, Descriptor: v1.Descriptor{Platform: &amd64}})
	pairs = append(pairs, pair{name: "index", base: pairs[0].base, headIndex: idx, changed: "src/index.js\n"})

	var out []scenario
	for _, p := range pairs {
		s := scenario{name: p.name, base: host + "/" + prefix + "/" + p.name + ":base", head: host + "/" + prefix + "/" + p.name + ":head", dir: t.TempDir()}
		pushImage(t, s.base, p.base, opts...)
		if p.headIndex != nil {
			ref, err := name.ParseReference(s.head)
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.WriteIndex(ref, p.headIndex, opts...); err != nil {
				t.Fatal(err)
			}
		} else {
			pushImage(t, s.head, p.head, opts...)
		}
		writeFile(t, filepath.Join(s.dir, "Dockerfile"), dockerfile)
		writeFile(t, filepath.Join(s.dir, "changed-files.txt"), p.changed)
		out = append(out, s)
	}
	return out
}

func pushImage(t testing.TB, ref string, img v1.Image, opts ...remote.Option) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, opts...); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// inProcessRegistry is go-containerregistry's registry on httptest.
func inProcessRegistry(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// outcome classifies one analysis under faults.
type outcome int

const (
	right outcome = iota // exit 0 and the fault-free report, byte for byte
	clear                // exit 2 and one line on stderr naming the image and what failed
	wrong                // anything else: another report, a panic, a vague or multi-line error
)

func (o outcome) String() string { return [...]string{"right", "clear failure", "wrong"}[o] }

// classify judges a run against the fault-free report want; hosts maps the proxy's address in
// the output back to the one want was made with.
func classify(code int, stdout, stderr, want string) (outcome, string) {
	switch code {
	case 0:
		if stdout == want {
			return right, ""
		}
		return wrong, "exit 0 with a different report"
	case 2:
		line := strings.TrimSuffix(stderr, "\n")
		switch {
		case stdout != "":
			return wrong, "exit 2 but a report was printed"
		case strings.Contains(line, "\n") || line == "":
			return wrong, fmt.Sprintf("exit 2 without exactly one line on stderr: %q", stderr)
		case strings.Contains(line, "panic") || strings.Contains(line, "goroutine"):
			return wrong, "panic: " + line
		case !strings.HasPrefix(line, "layerdiff: "):
			return wrong, "stderr line is not layerdiff's: " + line
		case strings.Contains(line, "took longer than --timeout"):
			return clear, line
		case !strings.Contains(line, "reading base image") && !strings.Contains(line, "reading head image"):
			return wrong, "the error does not name the image: " + line
		case !strings.Contains(line, "registry "):
			return wrong, "the error does not name the registry: " + line
		}
		return clear, line
	}
	return wrong, fmt.Sprintf("exit %d: %s", code, stderr)
}

// tally counts outcomes and remembers examples of each failure message.
type tally struct {
	mu       sync.Mutex
	counts   [3]int
	faults   int
	requests int
	kinds    map[string]int
	messages map[string]int // clear-failure lines with addresses and digests blanked
	wrongs   []string
}

func newTally() *tally { return &tally{kinds: map[string]int{}, messages: map[string]int{}} }

func (t *tally) add(o outcome, detail string, stats interface {
	Faults() int
}, injected map[string]int, requests int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.counts[o]++
	t.faults += stats.Faults()
	t.requests += requests
	for k, v := range injected {
		t.kinds[k] += v
	}
	switch o {
	case clear:
		t.messages[blank(detail)]++
	case wrong:
		t.wrongs = append(t.wrongs, detail)
	}
}

// blank replaces what differs between runs (addresses, images, digests, sizes) in a message.
func blank(s string) string {
	for _, r := range blanks {
		s = r.re.ReplaceAllString(s, r.with)
	}
	return s
}

var blanks = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`"[^"]*"`), `"IMAGE"`},
	{regexp.MustCompile(`(sha256|sha512):[0-9a-f]+`), "$1:…"},
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "HOST"},
	{regexp.MustCompile(`\d+-byte`), "N-byte"},
}

// figures writes a markdown section for RELIABILITY.md when LAYERDIFF_RELIABILITY_DIR is set.
func figures(t testing.TB, file, markdown string) {
	t.Helper()
	dir := os.Getenv("LAYERDIFF_RELIABILITY_DIR")
	if dir == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(markdown), 0o644); err != nil {
		t.Fatal(err)
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// layerdiffBinary is $LAYERDIFF_BIN, or layerdiff built once for this test process.
func layerdiffBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("LAYERDIFF_BIN"); p != "" {
		return p
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "layerdiff-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "layerdiff")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/layerdiff/layerdiff").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// runBinary runs layerdiff with args and returns its exit code, outputs and peak RSS in KiB.
//
// The peak is measured by GNU time, which forks: a process started by Go's os/exec is cloned
// with CLONE_VM, and Linux carries the parent's high-water mark into the child's ru_maxrss at
// exec, so ProcessState.SysUsage reports the test process's memory, not layerdiff's.
func runBinary(ctx context.Context, bin string, env []string, args ...string) (code int, stdout, stderr string, maxRSS int64, err error) {
	rssFile, err := os.CreateTemp("", "layerdiff-rss")
	if err != nil {
		return -1, "", "", 0, err
	}
	rssFile.Close()
	defer os.Remove(rssFile.Name())
	cmd := exec.CommandContext(ctx, "/usr/bin/time", append([]string{"-q", "-f", "%M", "-o", rssFile.Name(), bin}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Env = append(os.Environ(), env...)
	err = cmd.Run()
	if cmd.ProcessState == nil {
		return -1, "", "", 0, err
	}
	if data, rerr := os.ReadFile(rssFile.Name()); rerr == nil {
		if f := strings.Fields(string(data)); len(f) > 0 {
			maxRSS, _ = strconv.ParseInt(f[len(f)-1], 10, 64)
		}
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String(), maxRSS, nil
}
