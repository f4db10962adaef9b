package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/layerdiff/layerdiff/analyze"
)

// runID keeps the repositories of one run apart from those of earlier runs against the same registry.
var runID = randHex(4)

// tools are the programs and daemons the tier drives; .ci/test installs and starts them.
type tools struct {
	buildctl    string // LAYERDIFF_BUILDCTL or buildctl on PATH
	buildkit    string // BUILDKIT_HOST, unix://…
	registry    string // LAYERDIFF_REGISTRY, 127.0.0.1:PORT (plain HTTP)
	busybox     string // a statically linked busybox (LAYERDIFF_BUSYBOX or /bin/busybox)
	buildah     string // buildah on PATH, or "" (only the classic-format scenario needs it)
	buildahErr  error
	gitPath     string
	layerdiff   string // built once from the module root
	layerdiffMu sync.Mutex
}

var (
	toolsOnce sync.Once
	theTools  *tools
	toolsErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// needTools skips the test unless LAYERDIFF_E2E=1; with it set, a missing tool fails the test, so
// CI cannot pass by skipping the tier.
func needTools(t *testing.T) *tools {
	t.Helper()
	if os.Getenv("LAYERDIFF_E2E") != "1" {
		t.Skip("end-to-end tier skipped: set LAYERDIFF_E2E=1 with BuildKit, a registry and buildah running (.ci/test does this)")
	}
	toolsOnce.Do(func() { theTools, toolsErr = findTools() })
	if toolsErr != nil {
		t.Fatalf("LAYERDIFF_E2E=1 but the end-to-end tools are not ready: %v", toolsErr)
	}
	return theTools
}

func findTools() (*tools, error) {
	tl := &tools{
		buildctl: os.Getenv("LAYERDIFF_BUILDCTL"),
		buildkit: os.Getenv("BUILDKIT_HOST"),
		registry: os.Getenv("LAYERDIFF_REGISTRY"),
		busybox:  os.Getenv("LAYERDIFF_BUSYBOX"),
	}
	var err error
	if tl.buildctl == "" {
		if tl.buildctl, err = exec.LookPath("buildctl"); err != nil {
			return nil, errors.New("buildctl not found: set LAYERDIFF_BUILDCTL")
		}
	}
	if _, err := os.Stat(tl.buildctl); err != nil {
		return nil, fmt.Errorf("LAYERDIFF_BUILDCTL: %w", err)
	}
	if tl.buildkit == "" {
		return nil, errors.New("BUILDKIT_HOST is not set (unix:// socket of a running buildkitd)")
	}
	if tl.registry == "" {
		return nil, errors.New("LAYERDIFF_REGISTRY is not set (127.0.0.1:PORT of a running registry)")
	}
	if tl.gitPath, err = exec.LookPath("git"); err != nil {
		return nil, errors.New("git not found")
	}
	if tl.busybox == "" {
		tl.busybox = "/bin/busybox"
	}
	if err := checkStatic(tl.busybox); err != nil {
		return nil, fmt.Errorf("busybox %s: %w (install busybox-static)", tl.busybox, err)
	}
	if tl.buildah, err = exec.LookPath("buildah"); err != nil {
		tl.buildahErr = errors.New("buildah not found (install buildah)")
	}
	resp, err := http.Get("http://" + tl.registry + "/v2/")
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", tl.registry, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("registry %s: GET /v2/ answered %s", tl.registry, resp.Status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, tl.buildctl, "--addr", tl.buildkit, "debug", "workers").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("buildkitd at %s: %v: %s", tl.buildkit, err, out)
	}
	return tl, nil
}

// checkStatic fails for a dynamically linked binary: a FROM scratch image has no loader.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("is dynamically linked")
		}
	}
	return nil
}

// binary builds the layerdiff command once per test binary.
func (tl *tools) binary(t *testing.T) string {
	t.Helper()
	tl.layerdiffMu.Lock()
	defer tl.layerdiffMu.Unlock()
	if tl.layerdiff != "" {
		return tl.layerdiff
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("finding the module root: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	if binDir, err = os.MkdirTemp("", "layerdiff-e2e-bin"); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(binDir, "layerdiff")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/layerdiff/layerdiff")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build github.com/layerdiff/layerdiff: %v\n%s", err, out)
	}
	tl.layerdiff = bin
	return bin
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// run runs a command and fails the test with its output when it fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, tail(out, 4000))
	}
	return out
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// scenario is one throwaway git repository whose commits are built into images.
type scenario struct {
	t       *testing.T
	tl      *tools
	name    string // registry repository under the run's namespace
	dir     string // git work tree, build context and the CLI's working directory
	nonce   string
	commits []string
	files   map[string]string // current content, for line lookups
	// dockerfile is the Dockerfile's path in the repository when it is not ./Dockerfile.
	dockerfile string
}

func newScenario(t *testing.T, tl *tools, name string) *scenario {
	t.Helper()
	s := &scenario{t: t, tl: tl, name: name, dir: t.TempDir(), nonce: randHex(6), files: map[string]string{}}
	s.git("init", "-q", "-b", "main")
	return s
}

func (s *scenario) git(args ...string) string {
	s.t.Helper()
	env := []string{
		"GIT_AUTHOR_NAME=e2e", "GIT_AUTHOR_EMAIL=e2e@example.invalid",
		"GIT_COMMITTER_NAME=e2e", "GIT_COMMITTER_EMAIL=e2e@example.invalid",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
	}
	return strings.TrimSpace(string(run(s.t, s.dir, env, s.tl.gitPath, args...)))
}

// write writes files (path relative to the repository); the token {nonce} is replaced by the
// scenario's nonce so no two scenarios share BuildKit cache records.
func (s *scenario) write(files map[string]string) {
	s.t.Helper()
	for p, content := range files {
		content = strings.ReplaceAll(content, "{nonce}", s.nonce)
		content = strings.ReplaceAll(content, "{registry}", s.tl.registry+"/"+runID)
		full := filepath.Join(s.dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			s.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			s.t.Fatal(err)
		}
		s.files[p] = content
	}
}

// busybox copies the static busybox into the repository as path.
func (s *scenario) busybox(path string) {
	s.t.Helper()
	b, err := os.ReadFile(s.tl.busybox)
	if err != nil {
		s.t.Fatal(err)
	}
	full := filepath.Join(s.dir, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(full, b, 0o755); err != nil {
		s.t.Fatal(err)
	}
}

// on returns the scenario bound to a subtest, so failures end the subtest and not its parent.
func (s *scenario) on(t *testing.T) *scenario {
	c := *s
	c.t = t
	return &c
}

func (s *scenario) commit(msg string) string {
	s.t.Helper()
	s.git("add", "-A")
	s.git("commit", "-q", "--allow-empty", "-m", msg)
	sha := s.git("rev-parse", "HEAD")
	s.commits = append(s.commits, sha)
	return sha
}

// ref is the registry reference of one tag of the scenario's repository.
func (s *scenario) ref(tag string) string {
	return s.tl.registry + "/" + runID + "/" + s.name + ":" + tag
}

// line is the 1-based line of the Dockerfile whose trimmed text is text (it must be unique).
func (s *scenario) line(text string) int {
	s.t.Helper()
	df := s.dockerfile
	if df == "" {
		df = "Dockerfile"
	}
	return lineOf(s.t, s.files[df], text)
}

func lineOf(t *testing.T, dockerfile, text string) int {
	t.Helper()
	found := 0
	for i, l := range strings.Split(dockerfile, "\n") {
		if strings.TrimSpace(l) == text {
			if found != 0 {
				t.Fatalf("Dockerfile line %q is not unique", text)
			}
			found = i + 1
		}
	}
	if found == 0 {
		t.Fatalf("Dockerfile has no line %q:\n%s", text, dockerfile)
	}
	return found
}

// bk describes one BuildKit build of the scenario's current work tree.
type bk struct {
	args      map[string]string // --opt build-arg:K=V
	platforms string            // --opt platform=
	noCache   bool
	outputs   []string // extra --output values
	push      bool     // push to s.ref(tag); default true unless outputs are given
	sub       string   // build context and Dockerfile directory inside the repository
}

// buildkit builds the work tree with buildctl and pushes it as s.ref(tag).
func (s *scenario) buildkit(tag string, o bk) string {
	s.t.Helper()
	ref := s.ref(tag)
	args := []string{"--addr", s.tl.buildkit, "build", "--progress", "plain",
		"--frontend", "dockerfile.v0", "--local", "context=" + filepath.Join(s.dir, o.sub), "--local", "dockerfile=" + filepath.Join(s.dir, o.sub)}
	keys := make([]string, 0, len(o.args))
	for k := range o.args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--opt", "build-arg:"+k+"="+o.args[k])
	}
	if o.platforms != "" {
		args = append(args, "--opt", "platform="+o.platforms)
	}
	if o.noCache {
		args = append(args, "--no-cache")
	}
	if o.push || len(o.outputs) == 0 {
		args = append(args, "--output", "type=image,name="+ref+",push=true")
	}
	for _, out := range o.outputs {
		args = append(args, "--output", out)
	}
	run(s.t, s.dir, nil, s.tl.buildctl, args...)
	return ref
}

// result is what one layerdiff invocation printed and returned.
type result struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("layerdiff %q: exit %d\nstderr: %s\nstdout: %s", r.args, r.code, r.stderr, string(tail([]byte(r.stdout), 6000)))
}

// layerdiff runs the CLI with the scenario's repository as working directory.
func (s *scenario) layerdiff(args ...string) result {
	s.t.Helper()
	return s.layerdiffIn(s.dir, args...)
}

// layerdiffIn runs the CLI in dir.
func (s *scenario) layerdiffIn(dir string, args ...string) result {
	s.t.Helper()
	return s.layerdiffStdin(dir, "", args...)
}

// layerdiffStdin runs the CLI in dir with stdin as its standard input.
func (s *scenario) layerdiffStdin(dir, stdin string, args ...string) result {
	s.t.Helper()
	bin := s.tl.binary(s.t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		s.t.Fatalf("running layerdiff: %v", err)
	}
	return r
}

// gitArgs are the flags that give the CLI the scenario's changed files from its two commits.
func (s *scenario) gitArgs() []string {
	s.t.Helper()
	if len(s.commits) < 2 {
		s.t.Fatalf("scenario %s has %d commits, want base and head", s.name, len(s.commits))
	}
	df := s.dockerfile
	if df == "" {
		df = "Dockerfile"
	}
	return []string{"--repo", s.dir, "--base-commit", s.commits[0], "--head-commit", s.commits[len(s.commits)-1], "--dockerfile", df}
}

// report runs `layerdiff --format json` with the git flags and decodes the report; the exit
// status must be want.
func (s *scenario) report(wantCode int, extra ...string) (*analyze.Report, result) {
	s.t.Helper()
	args := append([]string{"--format", "json"}, s.gitArgs()...)
	args = append(args, extra...)
	if os.Getenv("LAYERDIFF_E2E_HISTORIES") == "1" {
		// Debugging the images, not layerdiff: show what was built and stop here.
		for _, ref := range extra {
			if strings.HasPrefix(ref, s.tl.registry+"/") && !strings.Contains(ref, "/nothing:") {
				s.t.Logf("%s:\n%s", ref, dumpHistory(s.facts(ref, amd64)))
			}
		}
		s.t.Skip("LAYERDIFF_E2E_HISTORIES=1: images built, layerdiff not run")
	}
	r := s.layerdiff(args...)
	return decode(s.t, r, wantCode), r
}

// decode checks the exit status of a `--format json` run and decodes its report.
func decode(t *testing.T, r result, wantCode int) *analyze.Report {
	t.Helper()
	if r.code != wantCode {
		t.Fatalf("want exit %d\n%s", wantCode, r)
	}
	var rep analyze.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("decoding the JSON report: %v\n%s", err, r)
	}
	return &rep
}

// facts are what the registry says about one image, read independently of layerdiff.
type facts struct {
	digest  string
	layers  []v1.Descriptor
	history []v1.History
	diffIDs []v1.Hash
}

func (s *scenario) facts(ref, platform string) facts {
	s.t.Helper()
	return registryFacts(s.t, ref, platform)
}

func registryFacts(t *testing.T, ref, platform string) facts {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	p, err := v1.ParsePlatform(platform)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r, remote.WithPlatform(*p))
	if err != nil {
		t.Fatalf("reading %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	c, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return facts{digest: d.String(), layers: m.Layers, history: c.History, diffIDs: c.RootFS.DiffIDs}
}

func (f facts) size() int64 {
	var n int64
	for _, l := range f.layers {
		n += l.Size
	}
	return n
}

const anyKind = "*"

// want is the expected verdict for one step of the head image.
type want struct {
	origin string
	instr  string // compared loosely (quotes, commas and brackets ignored); "" = not checked
	line   int    // 0 = not checked
	status string
	kind   string   // anyKind = rebuilt for a reason the test does not pin down
	root   int      // -1 = not checked
	files  []string // compared (sorted) for kind sources; nil = not checked otherwise
}

func baseCached() want { return want{origin: analyze.OriginBaseImage, status: analyze.StatusCached} }

func baseRebuilt(kind string, root int) want {
	return want{origin: analyze.OriginBaseImage, status: analyze.StatusRebuilt, kind: kind, root: root}
}

func cached(line int, instr string) want {
	return want{origin: analyze.OriginDockerfile, instr: instr, line: line, status: analyze.StatusCached}
}

func rebuilt(line int, instr, kind string, root int, files ...string) want {
	return want{origin: analyze.OriginDockerfile, instr: instr, line: line, status: analyze.StatusRebuilt, kind: kind, root: root, files: files}
}

// loose drops the punctuation that differs between a Dockerfile's JSON form and the history's.
func loose(s string) string {
	s = strings.NewReplacer(`"`, "", ",", " ", "[", " ", "]", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// check compares the report with the registry's facts and the expected steps; rootCauses, when
// not nil, must equal the summary's root causes.
func check(t *testing.T, rep *analyze.Report, head facts, base *facts, platform string, steps []want, rootCauses []analyze.RootCause) {
	t.Helper()
	if rep.SchemaVersion != analyze.SchemaVersion {
		t.Errorf("schemaVersion = %d, want %d", rep.SchemaVersion, analyze.SchemaVersion)
	}
	checkInfo(t, "head", rep.Head, &head, platform)
	checkInfo(t, "base", rep.Base, base, platform)

	if len(head.history) != len(steps) {
		t.Fatalf("test bug: head history has %d entries, the expectation %d:\n%s", len(head.history), len(steps), dumpHistory(head))
	}
	if len(rep.Steps) != len(steps) {
		t.Fatalf("report has %d steps, want %d (one per head history entry)\n%s", len(rep.Steps), len(steps), dumpSteps(rep))
	}
	li := 0
	var sum analyze.Summary
	for i, st := range rep.Steps {
		w := steps[i]
		h := head.history[i]
		where := fmt.Sprintf("step %d (%q)", i+1, st.Instruction)
		if st.Index != i+1 {
			t.Errorf("%s: index = %d, want %d", where, st.Index, i+1)
		}
		if st.Origin != w.origin {
			t.Errorf("%s: origin = %q, want %q", where, st.Origin, w.origin)
		}
		if w.instr != "" && loose(st.Instruction) != loose(w.instr) {
			t.Errorf("%s: instruction = %q, want %q", where, st.Instruction, w.instr)
		}
		if w.line != 0 && st.Line != w.line {
			t.Errorf("%s: line = %d, want %d", where, st.Line, w.line)
		}
		if st.EmptyLayer != h.EmptyLayer {
			t.Errorf("%s: emptyLayer = %v, the history says %v", where, st.EmptyLayer, h.EmptyLayer)
		}
		if h.EmptyLayer {
			if st.Layer != nil {
				t.Errorf("%s: an empty-layer step has layer %+v", where, *st.Layer)
			}
		} else {
			sum.Layers++
			if li >= len(head.layers) {
				t.Fatalf("test bug: more layer steps than layers")
			}
			l := head.layers[li]
			switch {
			case st.Layer == nil:
				t.Errorf("%s: layer = null, want %s", where, l.Digest)
			case st.Layer.Digest != l.Digest.String() || st.Layer.Size != l.Size || st.Layer.DiffID != head.diffIDs[li].String():
				t.Errorf("%s: layer = %+v, want digest %s diffID %s size %d", where, *st.Layer, l.Digest, head.diffIDs[li], l.Size)
			}
			if st.Status == analyze.StatusCached {
				sum.CachedLayers++
				sum.CachedBytes += l.Size
			} else {
				sum.RebuiltLayers++
				sum.RebuiltBytes += l.Size
			}
			li++
		}
		if st.Status != w.status {
			t.Errorf("%s: status = %q, want %q (cause %s)", where, st.Status, w.status, causeString(st.Cause))
			continue
		}
		if w.status == analyze.StatusCached {
			if st.Cause != nil {
				t.Errorf("%s: a cached step has cause %s", where, causeString(st.Cause))
			}
			continue
		}
		if st.Cause == nil {
			t.Errorf("%s: rebuilt with cause null, want %s", where, w.kind)
			continue
		}
		if w.kind == anyKind {
			continue
		}
		if st.Cause.Kind != w.kind {
			t.Errorf("%s: cause = %s, want kind %s root %d files %v", where, causeString(st.Cause), w.kind, w.root, w.files)
		}
		if w.root >= 0 && st.Cause.RootStep != w.root {
			t.Errorf("%s: cause = %s, want rootStep %d", where, causeString(st.Cause), w.root)
		}
		if w.files != nil || w.kind == analyze.CauseSources {
			got := append([]string(nil), st.Cause.Files...)
			sort.Strings(got)
			exp := append([]string(nil), w.files...)
			sort.Strings(exp)
			if strings.Join(got, "\n") != strings.Join(exp, "\n") {
				t.Errorf("%s: files = %q, want %q", where, st.Cause.Files, w.files)
			}
		}
	}
	s := rep.Summary
	if s.Steps != len(steps) || s.Layers != sum.Layers || s.CachedLayers != sum.CachedLayers || s.RebuiltLayers != sum.RebuiltLayers ||
		s.CachedBytes != sum.CachedBytes || s.RebuiltBytes != sum.RebuiltBytes {
		t.Errorf("summary = steps %d layers %d cached %d/%dB rebuilt %d/%dB, want steps %d layers %d cached %d/%dB rebuilt %d/%dB",
			s.Steps, s.Layers, s.CachedLayers, s.CachedBytes, s.RebuiltLayers, s.RebuiltBytes,
			len(steps), sum.Layers, sum.CachedLayers, sum.CachedBytes, sum.RebuiltLayers, sum.RebuiltBytes)
	}
	if total := sum.CachedBytes + sum.RebuiltBytes; total > 0 {
		reuse := 100 * float64(sum.CachedBytes) / float64(total)
		if d := s.Reuse - reuse; d > 0.01 || d < -0.01 {
			t.Errorf("summary.reuse = %v, want %.2f", s.Reuse, reuse)
		}
	}
	if rootCauses != nil && fmt.Sprint(s.RootCauses) != fmt.Sprint(rootCauses) {
		t.Errorf("summary.rootCauses = %+v, want %+v", s.RootCauses, rootCauses)
	}
	t.Logf("report steps:\n%s", dumpSteps(rep))
}

func checkInfo(t *testing.T, side string, got *analyze.ImageInfo, f *facts, platform string) {
	t.Helper()
	switch {
	case f == nil && got != nil:
		t.Errorf("%s = %+v, want null", side, *got)
	case f == nil:
	case got == nil:
		t.Errorf("%s = null, want %s", side, f.digest)
	default:
		if got.Digest != f.digest || got.Layers != len(f.layers) || got.Size != f.size() || got.Platform != platform {
			t.Errorf("%s = digest %s layers %d size %d platform %s, want %s %d %d %s",
				side, got.Digest, got.Layers, got.Size, got.Platform, f.digest, len(f.layers), f.size(), platform)
		}
	}
}

func causeString(c *analyze.Cause) string {
	if c == nil {
		return "null"
	}
	return fmt.Sprintf("{%s root %d files %q detail %q}", c.Kind, c.RootStep, c.Files, c.Detail)
}

func dumpSteps(rep *analyze.Report) string {
	var b strings.Builder
	for _, st := range rep.Steps {
		fmt.Fprintf(&b, "  %2d %-10s line %-2d %-7s %-40q %s\n", st.Index, st.Origin, st.Line, st.Status, st.Instruction, causeString(st.Cause))
	}
	fmt.Fprintf(&b, "  summary %+v\n  warnings %q\n", rep.Summary, rep.Warnings)
	return b.String()
}

func dumpHistory(f facts) string {
	var b strings.Builder
	li := 0
	for i, h := range f.history {
		layer := ""
		if !h.EmptyLayer && li < len(f.layers) {
			layer = fmt.Sprintf("%.19s %d", f.layers[li].Digest, f.layers[li].Size)
			li++
		}
		fmt.Fprintf(&b, "  %2d empty=%-5v %-26s %q\n", i+1, h.EmptyLayer, layer, h.CreatedBy)
	}
	return b.String()
}
