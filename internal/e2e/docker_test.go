package e2e

// The Docker tier: the action's own image built from the repository's Dockerfile and run the way
// GitHub's runner runs a container action, the docker-daemon: source on images of the Engine's
// own builders, a whole workflow under act, and layerdiff on its own image. .ci/docker builds
// the stand-in base images, the action's image and act, starts a registry, and runs these tests
// with LAYERDIFF_DOCKER=1; without it they skip, with it anything missing fails them.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rhysd/actionlint"

	"github.com/layerdiff/layerdiff/analyze"
	"github.com/layerdiff/layerdiff/internal/github"
	"github.com/layerdiff/layerdiff/internal/github/githubtest"
)

// The pull request of testdata/github-events/pull_request.opened.json (a real payload).
const (
	dkRepo    = "Codertocat/Hello-World"
	dkPR      = 2
	dkBaseSHA = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
	dkHeadSHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
	// An installation token, as GITHUB_TOKEN is; it must appear in no output.
	dkToken = "ghs_D0ckerT1erS3cretT0ken0123456789abcd"
)

// dockerTier is what .ci/docker provides.
type dockerTier struct {
	tl          *tools // git, busybox, the layerdiff binary, the registry (no BuildKit daemon)
	docker      string
	buildkitCLI string // a docker CLI that builds with the Engine's BuildKit (DOCKER_BUILDKIT=1)
	actionImage string
	act         string
	registry    string
	root        string // the module root
	base        string // a busybox image every scenario builds FROM
	keep        bool
}

var (
	dkOnce sync.Once
	dkTier *dockerTier
	dkErr  error
)

func needDocker(t *testing.T) *dockerTier {
	t.Helper()
	if os.Getenv("LAYERDIFF_DOCKER") != "1" {
		t.Skip("Docker tier skipped: set LAYERDIFF_DOCKER=1 with the Docker Engine, the action image, act and a registry ready (.ci/docker does this)")
	}
	dkOnce.Do(func() { dkTier, dkErr = findDocker() })
	if dkErr != nil {
		t.Fatalf("LAYERDIFF_DOCKER=1 but the Docker tier is not ready: %v", dkErr)
	}
	return dkTier
}

func findDocker() (*dockerTier, error) {
	d := &dockerTier{
		docker:      "docker",
		buildkitCLI: os.Getenv("LAYERDIFF_DOCKER_BUILDKIT_CLI"),
		actionImage: os.Getenv("LAYERDIFF_ACTION_IMAGE"),
		act:         os.Getenv("LAYERDIFF_ACT"),
		registry:    os.Getenv("LAYERDIFF_REGISTRY"),
		keep:        os.Getenv("LAYERDIFF_DOCKER_KEEP") == "1",
	}
	if out, err := exec.Command(d.docker, "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("the Docker Engine does not answer: %v: %s", err, out)
	}
	if d.actionImage == "" {
		return nil, errors.New("LAYERDIFF_ACTION_IMAGE is not set (the action's image, built from the repository's Dockerfile)")
	}
	if err := exec.Command(d.docker, "image", "inspect", d.actionImage).Run(); err != nil {
		return nil, fmt.Errorf("the action image %s is not on the Engine", d.actionImage)
	}
	if d.buildkitCLI == "" {
		return nil, errors.New("LAYERDIFF_DOCKER_BUILDKIT_CLI is not set (a docker CLI that drives the Engine's BuildKit)")
	}
	if d.act == "" {
		return nil, errors.New("LAYERDIFF_ACT is not set (the act binary)")
	}
	if _, err := os.Stat(d.act); err != nil {
		return nil, fmt.Errorf("LAYERDIFF_ACT: %w", err)
	}
	if d.registry == "" {
		return nil, errors.New("LAYERDIFF_REGISTRY is not set (127.0.0.1:PORT of a running registry)")
	}
	resp, err := http.Get("http://" + d.registry + "/v2/")
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", d.registry, err)
	}
	resp.Body.Close()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		return nil, fmt.Errorf("finding the module root: %v", err)
	}
	d.root = filepath.Dir(strings.TrimSpace(string(out)))
	d.tl = &tools{registry: d.registry, busybox: os.Getenv("LAYERDIFF_BUSYBOX")}
	if d.tl.busybox == "" {
		d.tl.busybox = "/bin/busybox"
	}
	if err := checkStatic(d.tl.busybox); err != nil {
		return nil, fmt.Errorf("busybox %s: %w (install busybox-static)", d.tl.busybox, err)
	}
	if d.tl.gitPath, err = exec.LookPath("git"); err != nil {
		return nil, errors.New("git not found")
	}
	// Every scenario builds FROM this image: a static busybox under a fixed name, imported anew
	// each run (the same bytes, so the same layer).
	d.base = "layerdiff-test/busybox:e2e"
	dir, err := os.MkdirTemp("", "layerdiff-busybox")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	script := fmt.Sprintf(`set -e
mkdir -p %[1]s/root/bin %[1]s/root/tmp && chmod 1777 %[1]s/root/tmp
cp %[2]s %[1]s/root/bin/busybox
for a in sh cat cp echo ls mkdir rm true touch; do ln -s busybox %[1]s/root/bin/$a; done
tar -C %[1]s/root -c . | %[3]s import - %[4]s >/dev/null`, dir, d.tl.busybox, d.docker, d.base)
	if out, err := exec.Command("sh", "-c", script).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("importing busybox as %s: %v: %s", d.base, err, out)
	}
	return d, nil
}

// dk runs the docker CLI and fails the test with its output when it fails.
func (d *dockerTier) dk(t *testing.T, args ...string) string {
	t.Helper()
	return strings.TrimSpace(string(run(t, "", nil, d.docker, args...)))
}

// removeImages removes tags when the test ends (not with LAYERDIFF_DOCKER_KEEP=1).
func (d *dockerTier) removeImages(t *testing.T, tags ...string) {
	t.Cleanup(func() {
		if d.keep || len(tags) == 0 {
			return
		}
		exec.Command(d.docker, append([]string{"image", "rm", "-f"}, tags...)...).Run()
	})
}

// builder is one way of running `docker build` on the Engine.
type builder struct {
	name string
	cli  string
	env  string
}

func (d *dockerTier) builders() []builder {
	return []builder{
		{"classic", d.docker, "DOCKER_BUILDKIT=0"},
		{"buildkit", d.buildkitCLI, "DOCKER_BUILDKIT=1"},
	}
}

// build runs `docker build --pull=false -t tag` on dir with b and returns the build log.
func (d *dockerTier) build(t *testing.T, b builder, dir, tag string, extra ...string) string {
	t.Helper()
	args := append([]string{"build", "--pull=false", "-t", tag}, extra...)
	return string(run(t, dir, []string{b.env}, b.cli, append(args, ".")...))
}

// inspectImage is what `docker image inspect` says, read independently of layerdiff.
type inspectImage struct {
	ID     string `json:"Id"`
	RootFS struct {
		Layers []string
	}
}

func (d *dockerTier) inspect(t *testing.T, ref string) inspectImage {
	t.Helper()
	var out []inspectImage
	if err := json.Unmarshal([]byte(d.dk(t, "image", "inspect", ref)), &out); err != nil || len(out) != 1 {
		t.Fatalf("docker image inspect %s: %v", ref, err)
	}
	return out[0]
}

// appFiles is the small repository whose two commits the tier builds: the dependency manifest
// is copied and installed before the sources, and the head commit edits a source file.
func appFiles(base string) map[string]string {
	return map[string]string{
		"Dockerfile": "FROM " + base + `
WORKDIR /app
COPY deps.txt ./
RUN cp deps.txt installed.txt && echo {nonce} >> installed.txt
COPY src/ ./src/
RUN cat src/*.txt > build.txt
CMD ["cat", "/app/build.txt"]
`,
		"deps.txt":     "dep-a 1.0\ndep-b 2.3\n",
		"src/main.txt": "hello from {nonce}\n",
		"src/util.txt": "util\n",
		"README.md":    "# app\n",
	}
}

// appPair is an app repository with a base and a head commit, built into images.
type appPair struct {
	s          *scenario
	base, head string // image references as built (tags on the Engine)
}

// buildApp builds the app's two commits with b as name:base and name:head; the head build runs
// in the same Engine right after, so it reuses the base build's cache.
func (d *dockerTier) buildApp(t *testing.T, b builder, name string) appPair {
	t.Helper()
	s := newScenario(t, d.tl, name)
	s.write(appFiles(d.base))
	s.commit("base")
	p := appPair{s: s, base: "layerdiff-test/" + name + "-" + runID + ":base", head: "layerdiff-test/" + name + "-" + runID + ":head"}
	d.removeImages(t, p.base, p.head)
	d.build(t, b, s.dir, p.base)
	s.write(map[string]string{"src/main.txt": "hello again from {nonce}\n"})
	s.commit("edit src/main.txt")
	d.build(t, b, s.dir, p.head)
	return p
}

// checkAppReport checks a report on the app's pair: the COPY of the sources is the one root
// cause, naming src/main.txt; the dependency steps are cached; the step after it is rebuilt.
func checkAppReport(t *testing.T, rep *analyze.Report, p appPair, headImg inspectImage) {
	t.Helper()
	if rep.Head == nil || rep.Head.Digest != headImg.ID || rep.Head.Layers != len(headImg.RootFS.Layers) {
		t.Errorf("head = %+v, want digest %s (the image ID) and %d layers", rep.Head, headImg.ID, len(headImg.RootFS.Layers))
	}
	byInstr := map[string]analyze.Step{}
	for _, st := range rep.Steps {
		byInstr[st.Instruction] = st
	}
	copySrc, ok := byInstr["COPY src/ ./src/"]
	if !ok {
		t.Fatalf("no step COPY src/ ./src/ in the report:\n%s", dumpSteps(rep))
	}
	if copySrc.Status != analyze.StatusRebuilt || copySrc.Cause == nil || copySrc.Cause.Kind != analyze.CauseSources ||
		strings.Join(copySrc.Cause.Files, ",") != "src/main.txt" || copySrc.Line != p.s.line("COPY src/ ./src/") {
		t.Errorf("COPY src/ ./src/ = %s %s line %d, want rebuilt for sources [src/main.txt] at line %d", copySrc.Status, causeString(copySrc.Cause), copySrc.Line, p.s.line("COPY src/ ./src/"))
	}
	if want := []analyze.RootCause{{Step: copySrc.Index, Kind: analyze.CauseSources}}; fmt.Sprint(rep.Summary.RootCauses) != fmt.Sprint(want) {
		t.Errorf("root causes = %+v, want %+v", rep.Summary.RootCauses, want)
	}
	for _, instr := range []string{"COPY deps.txt ./", "RUN cp deps.txt installed.txt && echo " + p.s.nonce + " >> installed.txt"} {
		if st, ok := byInstr[instr]; !ok || st.Status != analyze.StatusCached {
			t.Errorf("%s = %+v, want cached (the second build reused the first's cache)", instr, st)
		}
	}
	if st := byInstr["RUN cat src/*.txt > build.txt"]; st.Status != analyze.StatusRebuilt || st.Cause == nil || st.Cause.Kind != analyze.CauseParent || st.Cause.RootStep != copySrc.Index {
		t.Errorf("RUN cat src/*.txt > build.txt = %s %s, want rebuilt after step %d", st.Status, causeString(st.Cause), copySrc.Index)
	}
	if rep.Summary.RebuiltLayers != 2 {
		t.Errorf("%d layers rebuilt, want 2 (the COPY and the RUN after it)\n%s", rep.Summary.RebuiltLayers, dumpSteps(rep))
	}
	if t.Failed() {
		t.Logf("report:\n%s", dumpSteps(rep))
	}
}

// TestDockerDaemonSource reads images of the Engine's own builders straight from the daemon:
// two commits of the app built with `docker build`, the second reusing the first's cache.
func TestDockerDaemonSource(t *testing.T) {
	d := needDocker(t)
	for _, b := range d.builders() {
		t.Run(b.name, func(t *testing.T) {
			p := d.buildApp(t, b, "daemon-"+b.name)
			base, head := d.inspect(t, p.base), d.inspect(t, p.head)
			// The Engine's own word that the head build reused the cache: every layer below the
			// COPY of the sources is the base's.
			n := len(head.RootFS.Layers)
			if len(base.RootFS.Layers) != n || n < 4 {
				t.Fatalf("base has %d layers, head %d", len(base.RootFS.Layers), n)
			}
			if strings.Join(base.RootFS.Layers[:n-2], " ") != strings.Join(head.RootFS.Layers[:n-2], " ") || base.RootFS.Layers[n-2] == head.RootFS.Layers[n-2] {
				t.Fatalf("the head build did not reuse exactly the base's first %d layers:\nbase %q\nhead %q", n-2, base.RootFS.Layers, head.RootFS.Layers)
			}
			rep, r := p.s.report(0, "docker-daemon:"+p.base, "docker-daemon:"+p.head)
			checkAppReport(t, rep, p, head)
			if rep.Base == nil || rep.Base.Digest != base.ID {
				t.Errorf("base = %+v, want digest %s", rep.Base, base.ID)
			}
			text := p.s.layerdiff(append(p.s.gitArgs(), "docker-daemon:"+p.base, "docker-daemon:"+p.head)...)
			if text.code != 0 || !strings.Contains(text.stdout, "src/main.txt") {
				t.Errorf("text report:\n%s", text)
			}
			t.Logf("layerdiff %s:\n%s%s", strings.Join(text.args, " "), text.stdout, r.stderr)

			missing := p.s.layerdiff("--format", "json", "docker-daemon:"+p.base, "docker-daemon:layerdiff-test/nothing-"+runID+":x")
			if missing.code != 2 || !strings.Contains(missing.stderr, "docker-daemon:layerdiff-test/nothing-"+runID+":x") {
				t.Errorf("a head image the daemon does not have: want exit 2 naming it\n%s", missing)
			}
		})
	}
}

// actionInputs reads action.yml's inputs and their defaults, which the runner passes to the
// container as INPUT_* variables (hyphens kept) whether or not the workflow sets them.
func (d *dockerTier) actionInputs(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(d.root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string]string{}
	in, name := false, ""
	for _, line := range strings.Split(string(raw), "\n") {
		switch {
		case line == "inputs:":
			in = true
		case in && line != "" && !strings.HasPrefix(line, " "):
			in = false
		case in && regexp.MustCompile(`^  [a-z0-9-]+:\s*$`).MatchString(line):
			name = strings.TrimSuffix(strings.TrimSpace(line), ":")
			inputs[name] = ""
		case in && name != "" && strings.HasPrefix(line, "    default: "):
			v := strings.TrimSpace(strings.TrimPrefix(line, "    default: "))
			v = strings.Trim(v, `'"`)
			if v == "${{ github.token }}" {
				v = dkToken
			}
			inputs[name] = v
		}
	}
	for _, want := range []string{"base-image", "head-image", "github-token", "max-rebuilt-layers"} {
		if _, ok := inputs[want]; !ok {
			t.Fatalf("action.yml has no input %s (read %v)", want, inputs)
		}
	}
	return inputs
}

// runnerStep is one step of a job as GitHub's runner lays it out for a container action: the
// workspace, the workflow folder with event.json, the file-commands folder and the home folder,
// all bind-mounted, and the GITHUB_* and INPUT_* variables.
type runnerStep struct {
	ws, workflow, fileCommands, home string
	env                              map[string]string
	inputs                           map[string]string
	step                             int
}

func (d *dockerTier) newRunnerStep(t *testing.T, ws string, srv *githubtest.Server) *runnerStep {
	t.Helper()
	tmp := t.TempDir()
	st := &runnerStep{ws: ws, workflow: filepath.Join(tmp, "_github_workflow"), fileCommands: filepath.Join(tmp, "_runner_file_commands"), home: filepath.Join(tmp, "_github_home")}
	for _, dir := range []string{st.workflow, st.fileCommands, st.home} {
		if err := os.MkdirAll(dir, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	event, err := os.ReadFile(filepath.Join(d.root, "testdata", "github-events", "pull_request.opened.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(st.workflow, "event.json"), event, 0o644); err != nil {
		t.Fatal(err)
	}
	st.env = map[string]string{
		"HOME":                    "/github/home",
		"CI":                      "true",
		"GITHUB_ACTIONS":          "true",
		"GITHUB_JOB":              "image-cache",
		"GITHUB_WORKFLOW":         "layerdiff",
		"GITHUB_RUN_ID":           "9001",
		"GITHUB_RUN_NUMBER":       "1",
		"GITHUB_RUN_ATTEMPT":      "1",
		"GITHUB_ACTOR":            "Codertocat",
		"GITHUB_REPOSITORY":       dkRepo,
		"GITHUB_REPOSITORY_OWNER": "Codertocat",
		"GITHUB_EVENT_NAME":       "pull_request",
		"GITHUB_EVENT_PATH":       "/github/workflow/event.json",
		"GITHUB_WORKSPACE":        "/github/workspace",
		"GITHUB_SHA":              dkHeadSHA,
		"GITHUB_REF":              fmt.Sprintf("refs/pull/%d/merge", dkPR),
		"GITHUB_SERVER_URL":       "https://github.com",
		"GITHUB_API_URL":          srv.APIURL(),
		"GITHUB_GRAPHQL_URL":      srv.GraphQLURL(),
		"RUNNER_OS":               "Linux",
		"RUNNER_ARCH":             "X64",
	}
	st.inputs = d.actionInputs(t)
	return st
}

// actionRun is what one `docker run` of the action left behind.
type actionRun struct {
	args           []string
	code           int
	stdout, stderr string
	outputs        map[string]string
	summary        string
}

func (r actionRun) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s\noutputs: %v", r.code, r.stdout, r.stderr, r.outputs)
}

// dockerSocket is the Engine's socket on the host, which the runner mounts into the container.
func dockerSocket() string {
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "unix://") {
		return strings.TrimPrefix(h, "unix://")
	}
	return "/var/run/docker.sock"
}

// runAction runs the action's image as the runner does (`docker run --rm --workdir
// /github/workspace -v … -e INPUT_BASE-IMAGE …`), on the host network so that the registry and
// the fake GitHub on loopback are reachable.
func (d *dockerTier) runAction(t *testing.T, st *runnerStep) actionRun {
	t.Helper()
	st.step++
	env := map[string]string{}
	for k, v := range st.env {
		env[k] = v
	}
	// Fresh file-command files for each step, as the runner makes them.
	out := fmt.Sprintf("set_output_%d_%s", st.step, randHex(8))
	sum := fmt.Sprintf("step_summary_%d_%s", st.step, randHex(8))
	for _, f := range []string{out, sum} {
		if err := os.WriteFile(filepath.Join(st.fileCommands, f), nil, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	env["GITHUB_OUTPUT"] = "/github/file_commands/" + out
	env["GITHUB_STEP_SUMMARY"] = "/github/file_commands/" + sum
	for k, v := range st.inputs {
		env["INPUT_"+strings.ToUpper(k)] = v
	}
	args := []string{"run", "--name", "layerdiff-e2e-" + randHex(6), "--label", "layerdiff-e2e", "--workdir", "/github/workspace", "--rm"}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-e", k+"="+env[k])
	}
	args = append(args,
		"-v", dockerSocket()+":/var/run/docker.sock",
		"-v", st.home+":/github/home",
		"-v", st.workflow+":/github/workflow",
		"-v", st.fileCommands+":/github/file_commands",
		"-v", st.ws+":/github/workspace",
		"--network", "host",
		d.actionImage)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.docker, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := actionRun{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("docker run: %v", err)
	}
	o, _ := os.ReadFile(filepath.Join(st.fileCommands, out))
	r.outputs = parseGitHubOutput(t, string(o))
	s, _ := os.ReadFile(filepath.Join(st.fileCommands, sum))
	r.summary = string(s)
	return r
}

// parseGitHubOutput reads the GITHUB_OUTPUT file format: name=value or name<<DELIMITER lines.
func parseGitHubOutput(t *testing.T, data string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if l == "" {
			continue
		}
		if name, delim, ok := strings.Cut(l, "<<"); ok {
			var val []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				val = append(val, lines[i])
			}
			if i == len(lines) {
				t.Fatalf("GITHUB_OUTPUT: %s<<%s is not closed:\n%s", name, delim, data)
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		name, val, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("GITHUB_OUTPUT line %q", l)
		}
		out[name] = val
	}
	return out
}

// noToken fails the test when the token appears in any of what the run left behind, but for
// the ::add-mask:: command that tells the runner to hide it (the runner consumes that line).
func noToken(t *testing.T, what string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		for _, line := range strings.Split(s, "\n") {
			if strings.Contains(line, dkToken) && line != "::add-mask::"+dkToken {
				t.Errorf("the token appears in %s: %q", what, strings.ReplaceAll(line, dkToken, "<TOKEN>"))
			}
		}
	}
}

// TestDockerActionRunner runs the action's image exactly as GitHub's runner runs a container
// action, against images in a real registry and a recording GitHub fake.
func TestDockerActionRunner(t *testing.T) {
	d := needDocker(t)
	p := d.buildApp(t, d.builders()[0], "runner")
	regBase, regHead := p.s.ref("base"), p.s.ref("head")
	d.removeImages(t, regBase, regHead)
	for _, pair := range [][2]string{{p.base, regBase}, {p.head, regHead}} {
		d.dk(t, "tag", pair[0], pair[1])
		d.dk(t, "push", pair[1])
	}
	headFacts := registryFacts(t, regHead, amd64)

	srv := githubtest.New(t, "")
	srv.AddApp(dkToken, "github-actions")
	srv.AddPull(dkRepo, dkPR, githubtest.PullRequest{BaseSHA: dkBaseSHA, HeadSHA: dkHeadSHA, Files: []string{"README.md", "src/main.txt"}})
	st := d.newRunnerStep(t, p.s.dir, srv)
	st.inputs["base-image"] = regBase
	st.inputs["head-image"] = regHead
	st.inputs["max-rebuilt-layers"] = "1"
	commentsPath := fmt.Sprintf("/repos/%s/issues/%d/comments", dkRepo, dkPR)

	r1 := d.runAction(t, st)
	t.Logf("first run: docker %s\n%s", strings.Join(redactArgs(r1.args), " "), r1)
	if r1.code != 1 {
		t.Fatalf("first run: want exit 1 (max-rebuilt-layers 1, 2 rebuilt)\n%s", r1)
	}
	if !strings.Contains(r1.stdout, "::error") || !strings.Contains(r1.stdout, "max-rebuilt-layers") {
		t.Errorf("first run: no ::error line for the failed gate:\n%s", r1.stdout)
	}
	want := map[string]string{"rebuilt-layers": "2", "root-cause": "sources"}
	for k, v := range want {
		if r1.outputs[k] != v {
			t.Errorf("output %s = %q, want %q (outputs %v)", k, r1.outputs[k], v, r1.outputs)
		}
	}
	if r1.outputs["reuse"] == "" || r1.outputs["rebuilt-bytes"] == "" || r1.outputs["cached-bytes"] == "" {
		t.Errorf("outputs %v: want reuse, rebuilt-bytes and cached-bytes", r1.outputs)
	}
	comments := srv.Comments(dkRepo, dkPR)
	if len(comments) != 1 || srv.Count(http.MethodPost, commentsPath) != 1 {
		t.Fatalf("first run: %d comments, %d POSTs; want one created", len(comments), srv.Count(http.MethodPost, commentsPath))
	}
	body := comments[0].Body
	if !strings.HasPrefix(body, github.Marker("default")) || !strings.Contains(body, "src/main.txt") || !strings.Contains(body, "COPY src/ ./src/") {
		t.Errorf("comment body:\n%s", body)
	}
	if u := r1.outputs["comment-url"]; u == "" || !strings.Contains(u, fmt.Sprint(comments[0].ID)) {
		t.Errorf("comment-url = %q, want the comment %d", u, comments[0].ID)
	}
	if !strings.Contains(r1.summary, "src/main.txt") || !strings.Contains(r1.summary, "max-rebuilt-layers") {
		t.Errorf("job summary:\n%s", r1.summary)
	}
	// The report lands in the workspace, owned by the container's root, and holds the
	// registry's digest of the head image.
	repPath := r1.outputs["report"]
	raw, err := os.ReadFile(filepath.Join(p.s.dir, repPath))
	if err != nil {
		t.Fatalf("report output %q: %v", repPath, err)
	}
	var rep analyze.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("report %s: %v", repPath, err)
	}
	if rep.Head == nil || rep.Head.Digest != headFacts.digest {
		t.Errorf("report head = %+v, want digest %s", rep.Head, headFacts.digest)
	}
	checkAppReport(t, &rep, p, inspectImage{ID: headFacts.digest, RootFS: struct{ Layers []string }{Layers: hashes(headFacts)}})

	// A re-run of the job edits the same comment (its footer links the new run).
	st.env["GITHUB_RUN_ID"] = "9002"
	r2 := d.runAction(t, st)
	if r2.code != 1 {
		t.Fatalf("second run: want exit 1\n%s", r2)
	}
	comments = srv.Comments(dkRepo, dkPR)
	patches := srv.Count(http.MethodPatch, fmt.Sprintf("/repos/%s/issues/comments/", dkRepo))
	if len(comments) != 1 || srv.Count(http.MethodPost, commentsPath) != 1 || patches != 1 {
		t.Errorf("second run: %d comments, %d POSTs, %d PATCHes; want the one comment edited", len(comments), srv.Count(http.MethodPost, commentsPath), patches)
	}
	if !strings.Contains(comments[0].Body, "9002") {
		t.Errorf("the edited comment does not link the second run:\n%s", comments[0].Body)
	}

	// The socket the runner mounts serves docker-daemon: images built by an earlier step.
	st.inputs["base-image"] = "docker-daemon:" + p.base
	st.inputs["head-image"] = "docker-daemon:" + p.head
	st.inputs["max-rebuilt-layers"] = ""
	st.env["GITHUB_RUN_ID"] = "9003"
	r3 := d.runAction(t, st)
	if r3.code != 0 || r3.outputs["root-cause"] != "sources" || r3.outputs["rebuilt-layers"] != "2" {
		t.Errorf("docker-daemon: images through the mounted socket: want exit 0, root-cause sources, 2 rebuilt\n%s", r3)
	}
	if n := len(srv.Comments(dkRepo, dkPR)); n != 1 {
		t.Errorf("%d comments after the third run, want 1", n)
	}

	var bodies []string
	for _, rq := range srv.Requests() {
		bodies = append(bodies, rq.Body)
	}
	for _, r := range []actionRun{r1, r2, r3} {
		if !strings.Contains(r.stdout, "::add-mask::"+dkToken+"\n") {
			t.Errorf("the token is not masked before anything else is printed:\n%s", r.stdout)
		}
		noToken(t, "the container's output", r.stdout, r.stderr, r.summary, fmt.Sprint(r.outputs))
	}
	noToken(t, "a request body or the comment", append(bodies, srv.Comments(dkRepo, dkPR)[0].Body, string(raw))...)
}

// hashes lists the diff IDs of an image's facts.
func hashes(f facts) []string {
	var out []string
	for _, h := range f.diffIDs {
		out = append(out, h.String())
	}
	return out
}

// redactArgs hides the token in a logged command line.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.ReplaceAll(a, dkToken, "***")
	}
	return out
}

// copyRepo copies the repository's files (tracked and untracked, less what git ignores) into a
// new git repository with one commit, whose origin is remote (act reads the repository's name
// from it). It returns the copy's directory.
func (d *dockerTier) copyRepo(t *testing.T, remote string) *scenario {
	t.Helper()
	list := run(t, d.root, nil, d.tl.gitPath, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	s := newScenario(t, d.tl, "repo")
	for _, f := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		src := filepath.Join(d.root, f)
		fi, err := os.Lstat(src)
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the work tree, or not a file
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(s.dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	if remote != "" {
		s.git("remote", "add", "origin", remote)
	}
	s.commit("copy of layerdiff")
	return s
}

// copyTree copies the regular files of src (not .git) under dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() && fi.Name() == ".git" {
			return filepath.SkipDir
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDockerAct runs testdata/act/workflow.yml under act on a real pull_request payload: act
// builds the action's Dockerfile on the Engine (FROM the stand-in base images), runs the image
// against the app's two docker-daemon: images, and the fake GitHub receives the comment.
func TestDockerAct(t *testing.T) {
	d := needDocker(t)
	p := d.buildApp(t, d.builders()[0], "act")
	repo := d.copyRepo(t, "https://github.com/Codertocat/Hello-World.git")
	// The app under analysis sits under testdata/, which the action's .dockerignore keeps out of
	// its build context: act's build of the action reuses the cache of .ci/docker's.
	copyTree(t, p.s.dir, filepath.Join(repo.dir, "testdata", "act", "app"))
	repo.commit("the app under analysis")

	srv := githubtest.New(t, "")
	srv.AddApp(dkToken, "github-actions")
	srv.AddPull(dkRepo, dkPR, githubtest.PullRequest{BaseSHA: dkBaseSHA, HeadSHA: dkHeadSHA, Files: []string{"testdata/act/app/src/main.txt", "testdata/act/app/README.md"}})

	d.removeImages(t, "act-dockeraction:latest") // act's name for the image of a local action
	home := t.TempDir()
	cache := filepath.Join(home, ".cache", "act") // act's own folders on the host
	args := []string{"pull_request",
		"-W", "testdata/act/workflow.yml",
		"-e", "testdata/github-events/pull_request.opened.json",
		"-P", "ubuntu-latest=-self-hosted",
		"-s", "GITHUB_TOKEN=" + dkToken,
		"--env", "GITHUB_API_URL=" + srv.APIURL(),
		"--env", "GITHUB_GRAPHQL_URL=" + srv.GraphQLURL(),
		"--env", "CHECKOUT=" + repo.dir,
		"--env", "BASE_IMAGE=docker-daemon:" + p.base,
		"--env", "HEAD_IMAGE=docker-daemon:" + p.head,
		"--env", "DOCKERFILE=testdata/act/app/Dockerfile",
		"--container-options", "-v " + cache + ":" + cache + " --network host",
		"--pull=false",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.act, args...)
	cmd.Dir = repo.dir
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CACHE_HOME=")
	out, err := cmd.CombinedOutput()
	log := string(out)
	t.Logf("cd %s && HOME=%s %s %s", repo.dir, home, d.act, strings.Join(redactArgs(args), " "))
	if err != nil {
		t.Fatalf("act: %v\n%s", err, log)
	}
	t.Logf("act log (build steps left out):\n%s", actLog(log))

	for _, want := range []string{
		"docker build -t act-dockeraction:latest",       // act built the action's Dockerfile
		"Summary - ### layerdiff",                       // the job summary, which act prints
		"src/main.txt",                                  // the report names the file
		"::set-output:: root-cause=sources",             // the outputs
		"root-cause=sources rebuilt-layers=2",           // as the next step reads them
		"comment created: https://github.com/" + dkRepo, // the comment
		"Job succeeded",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("act's log lacks %q", want)
		}
	}
	comments := srv.Comments(dkRepo, dkPR)
	if len(comments) != 1 || srv.Count(http.MethodPost, fmt.Sprintf("/repos/%s/issues/%d/comments", dkRepo, dkPR)) != 1 {
		t.Fatalf("%d comments; want the one comment created", len(comments))
	}
	if body := comments[0].Body; !strings.HasPrefix(body, github.Marker("default")) || !strings.Contains(body, "src/main.txt") {
		t.Errorf("comment:\n%s", body)
	}
	noToken(t, "act's log", log)
}

// actLog drops the docker build's step lines from act's log.
func actLog(log string) string {
	var b strings.Builder
	for _, l := range strings.Split(log, "\n") {
		if regexp.MustCompile(`\| (Step \d+/\d+|---> |Removing intermediate|Sending build context|Successfully (built|tagged)|\s*$)`).MatchString(l) {
			continue
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// TestDockerDogfood builds layerdiff's own action image at two commits, a Go source edit apart,
// the second build reusing the first's cache, and runs layerdiff on the pair from the daemon:
// in the build stage the COPY of the sources is the root cause and the module download stays
// cached; in the final image it is the COPY of the binary from that stage, for the same file.
func TestDockerDogfood(t *testing.T) {
	d := needDocker(t)
	repo := d.copyRepo(t, "")
	for _, b := range d.builders() {
		t.Run(b.name, func(t *testing.T) {
			s := repo.on(t)
			s.commits = s.commits[:1]
			s.git("checkout", "-q", "--detach", s.commits[0])
			name := "layerdiff-test/dogfood-" + b.name + "-" + runID
			d.removeImages(t, name+":base", name+":base-build", name+":head", name+":head-build")
			start := time.Now()
			d.build(t, b, s.dir, name+":base")
			baseTime := time.Since(start)
			d.build(t, b, s.dir, name+":base-build", "--target", "build")

			main, err := os.ReadFile(filepath.Join(s.dir, "main.go"))
			if err != nil {
				t.Fatal(err)
			}
			edit := string(main) + "\n// dogfood: an edit of the sources that changes the binary.\nvar _ = os.Getenv(\"LAYERDIFF_DOGFOOD_" + b.name + "\")\n"
			if err := os.WriteFile(filepath.Join(s.dir, "main.go"), []byte(edit), 0o644); err != nil {
				t.Fatal(err)
			}
			s.commit("dogfood: edit main.go")
			start = time.Now()
			d.build(t, b, s.dir, name+":head")
			headTime := time.Since(start)
			d.build(t, b, s.dir, name+":head-build", "--target", "build")
			t.Logf("%s: base image built in %v, head (after editing main.go) in %v", b.name, baseTime.Round(time.Second), headTime.Round(time.Second))

			// The build stage.
			rep, _ := s.report(0, "docker-daemon:"+name+":base-build", "docker-daemon:"+name+":head-build")
			steps := map[string]analyze.Step{}
			for _, st := range rep.Steps {
				steps[st.Instruction] = st
			}
			copyAll := steps["COPY . ."]
			if copyAll.Status != analyze.StatusRebuilt || copyAll.Cause == nil || copyAll.Cause.Kind != analyze.CauseSources ||
				strings.Join(copyAll.Cause.Files, ",") != "main.go" {
				t.Errorf("COPY . . = %s %s, want rebuilt for sources [main.go]\n%s", copyAll.Status, causeString(copyAll.Cause), dumpSteps(rep))
			}
			if fmt.Sprint(rep.Summary.RootCauses) != fmt.Sprint([]analyze.RootCause{{Step: copyAll.Index, Kind: analyze.CauseSources}}) {
				t.Errorf("root causes = %+v, want only COPY . . (step %d)", rep.Summary.RootCauses, copyAll.Index)
			}
			for _, instr := range []string{"COPY go.mod go.sum ./", "RUN go mod download"} {
				if st, ok := steps[instr]; !ok || st.Status != analyze.StatusCached {
					t.Errorf("%s = %+v, want cached\n%s", instr, st, dumpSteps(rep))
				}
			}
			// The Dockerfile already copies go.mod and go.sum and downloads the modules before
			// COPY . ., so there is nothing to fix (issue 3: the Dockerfile follows its own advice).
			if len(rep.Suggestions) != 0 {
				t.Errorf("suggestions for the action's own build stage, which already follows the advice: %+v", rep.Suggestions)
			}
			text := s.layerdiff(append(s.gitArgs(), "docker-daemon:"+name+":base-build", "docker-daemon:"+name+":head-build")...)
			t.Logf("the build stage (docker build --target build):\n$ layerdiff %s\n%s", strings.Join(text.args, " "), text.stdout)

			// The final image: the binary's COPY from the build stage, for the same file.
			rep, _ = s.report(0, "docker-daemon:"+name+":base", "docker-daemon:"+name+":head")
			var rebuilt []string
			for _, st := range rep.Steps {
				if st.Status == analyze.StatusRebuilt {
					rebuilt = append(rebuilt, st.Instruction)
					if st.Cause == nil || st.Cause.Kind != analyze.CauseSources || strings.Join(st.Cause.Files, ",") != "main.go" {
						t.Errorf("final image: %s = %s, want sources [main.go]", st.Instruction, causeString(st.Cause))
					}
				}
			}
			if len(rebuilt) != 1 || !strings.HasPrefix(rebuilt[0], "COPY --from=build /out/layerdiff") {
				t.Errorf("final image: rebuilt %q, want only the COPY of the binary from the build stage\n%s", rebuilt, dumpSteps(rep))
			}
			if len(rep.Suggestions) != 0 {
				t.Errorf("suggestions for the action's final image: %+v", rep.Suggestions)
			}
			text = s.layerdiff(append(s.gitArgs(), "docker-daemon:"+name+":base", "docker-daemon:"+name+":head")...)
			t.Logf("the action's image:\n$ layerdiff %s\n%s", strings.Join(text.args, " "), text.stdout)
		})
	}
}

// TestActWorkflowLint keeps the act example valid for GitHub too: actionlint checks it, and
// through its `uses: ./` step the inputs it passes against action.yml. It needs no Docker.
func TestActWorkflowLint(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{WorkingDir: root})
	if err != nil {
		t.Fatal(err)
	}
	proj, err := actionlint.NewProject(root)
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.LintFiles([]string{filepath.Join(root, "testdata", "act", "workflow.yml")}, proj)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("actionlint: %s:%d:%d: %s [%s]", e.Filepath, e.Line, e.Column, e.Message, e.Kind)
	}
}
