package action

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/layerdiff/layerdiff/internal/github/githubtest"
)

// demoWorkspace lays out a workspace as the one-job setup leaves it: the Dockerfile at the root
// and the two BuildKit OCI archives of testdata/demo (a README.md edit under COPY . .).
func demoWorkspace(t *testing.T, h *harness) {
	t.Helper()
	for _, name := range []string{"Dockerfile", "base.tar", "head.tar"} {
		data, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "demo", name))
		if err != nil {
			t.Fatalf("demo images: %v", err)
		}
		h.write(name, string(data))
	}
	h.vars["INPUT_BASE-IMAGE"] = "oci-archive:base.tar"
	h.vars["INPUT_HEAD-IMAGE"] = "oci-archive:head.tar"
}

// TestRunOnTheDemo runs the exported entry point — the real analysis and renderer — on real
// images, against the fake GitHub.
func TestRunOnTheDemo(t *testing.T) {
	h := newHarness(t, "pull_request.opened.json")
	demoWorkspace(t, h)
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, BaseSHA: prBaseSHA, Files: []string{"README.md"}})
	h.vars["INPUT_MAX-REBUILT-BYTES"] = "1KB"

	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), h.getenv, &stdout, &stderr)
	log := stdout.String()
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the 1KB gate fails)\n%s%s", code, log, stderr.String())
	}
	comments := h.srv.Comments(prRepo, prNumber)
	if len(comments) != 1 {
		t.Fatalf("%d comments\n%s", len(comments), log)
	}
	body := comments[0].Body
	for _, want := range []string{
		"<!-- layerdiff key=default -->\n",
		"3 of 7 layers rebuilt",
		"README.md",
		"https://github.com/Codertocat/Hello-World/blob/" + prHeadSHA + "/Dockerfile#L3",
		"max-rebuilt-bytes",
		"https://github.com/Codertocat/Hello-World/actions/runs/4242",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
	if !strings.HasPrefix(body, "<!-- layerdiff key=default -->\n") {
		t.Errorf("marker not on the first line")
	}
	if !regexp.MustCompile(`(?m)^::warning file=Dockerfile,line=3,title=layerdiff%3A cache miss::COPY \. \. missed the layer cache \(sources\)`).MatchString(log) {
		t.Errorf("no annotation on Dockerfile:3:\n%s", log)
	}
	if !regexp.MustCompile(`(?m)^::error::gate max-rebuilt-bytes failed: `).MatchString(log) {
		t.Errorf("no gate error line:\n%s", log)
	}
	out := parseOutputs(t, mustRead(t, h.vars["GITHUB_OUTPUT"]))
	if out["rebuilt-layers"] != "3" || out["root-cause"] != "sources" || out["report"] != "layerdiff-report.json" || out["comment-url"] == "" {
		t.Errorf("outputs %v", out)
	}
	if s := mustRead(t, h.vars["GITHUB_STEP_SUMMARY"]); !strings.Contains(s, "3 of 7 layers rebuilt") {
		t.Errorf("summary:\n%s", s)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestActExampleEvent runs the README's act example: its event file with real commits of a
// checkout, and the comment it leads to.
func TestActExampleEvent(t *testing.T) {
	readme := mustRead(t, readmeFile(t))
	event := mustRead(t, eventPath(t, "act-pull_request.json"))
	if !strings.Contains(readme, "```json\n"+event+"```") {
		t.Fatal("the README's act event differs from testdata/github-events/act-pull_request.json")
	}
	if !strings.Contains(readme, "testdata/github-events/act-pull_request.json > /tmp/event.json") {
		t.Error("the README's act command does not use the tested event file")
	}
	h := newHarness(t, "")
	demoWorkspace(t, h)
	base, head := gitRepo(t, h.ws, map[string]string{"README.md": "one\n"}, map[string]string{"README.md": "two\n"})
	// The README's sed command.
	event = strings.NewReplacer("BASE_SHA", base, "HEAD_SHA", head).Replace(event)
	h.writeEvent("pull_request", event)
	h.vars["GITHUB_REPOSITORY"] = "acme/app"
	h.srv.AddUser(testToken, "octocat") // act runs with a personal token
	var stdout bytes.Buffer
	if code := Run(context.Background(), h.getenv, &stdout, &stdout); code != 0 {
		t.Fatalf("exit %d\n%s", code, stdout.String())
	}
	c := h.srv.Comments("acme/app", 7)
	if len(c) != 1 || c[0].Author != "octocat" || !strings.Contains(c[0].Body, "README.md") {
		t.Fatalf("comments %+v\n%s", c, stdout.String())
	}
	if !strings.Contains(stdout.String(), "changed files: 1 from git") {
		t.Errorf("changed files not from the checkout:\n%s", stdout.String())
	}
}

// TestBinaryAsTheRunnerRunsIt builds layerdiff and runs it the way GitHub runs the container's
// entrypoint: no arguments, GITHUB_ACTIONS=true, hyphenated INPUT_* variables, the real event
// payload and the runner's files.
func TestBinaryAsTheRunnerRunsIt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "layerdiff")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	h := newHarness(t, "pull_request.synchronize.json")
	demoWorkspace(t, h)
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, Files: []string{"README.md"}})

	runBinary := func() (int, string) {
		cmd := exec.Command(bin)
		cmd.Dir = h.ws // GitHub sets the container's working directory to the workspace
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/github/home"}
		for k, v := range h.vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String()
	}
	code, log := runBinary()
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, log)
	}
	if n := len(h.srv.Comments(prRepo, prNumber)); n != 1 {
		t.Fatalf("%d comments after the first run\n%s", n, log)
	}
	code, log = runBinary()
	if code != 0 || len(h.srv.Comments(prRepo, prNumber)) != 1 || h.srv.Count("POST", commentsP) != 1 {
		t.Fatalf("second run: exit %d, %d comments, %d POSTs\n%s", code, len(h.srv.Comments(prRepo, prNumber)), h.srv.Count("POST", commentsP), log)
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, testToken) && line != "::add-mask::"+testToken {
			t.Errorf("the token is printed: %q", line)
		}
	}
	if out := parseOutputs(t, mustRead(t, h.vars["GITHUB_OUTPUT"])); out["rebuilt-layers"] != "3" {
		t.Errorf("outputs %v", out)
	}
}

// TestContainerAsTheRunnerRunsIt runs the static binary in a container the way GitHub runs a
// Docker container action: as root, HOME=/github/home, the workspace (owned by the runner's
// user) mounted at /github/workspace as the working directory, the event and the runner's
// command files mounted under /github, hyphenated INPUT_* variables.
func TestContainerAsTheRunnerRunsIt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and an image")
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skip("no Docker Engine")
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "img")
	os.MkdirAll(filepath.Join(img, "usr", "local", "bin"), 0o755)
	build := exec.Command("go", "build", "-o", filepath.Join(img, "usr", "local", "bin", "layerdiff"), ".")
	build.Dir = repoRoot
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The Engine here pulls nothing: the final stage of the action's Dockerfile, on scratch.
	os.WriteFile(filepath.Join(img, "Dockerfile"), []byte("FROM scratch\nCOPY usr /usr\nENTRYPOINT [\"/usr/local/bin/layerdiff\"]\n"), 0o644)
	tag := "layerdiff-action-test:" + strings.ToLower(filepath.Base(dir))
	if out, err := exec.Command("docker", "build", "-q", "-t", tag, img).CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })

	h := newHarness(t, "pull_request.opened.json")
	demoWorkspace(t, h)
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, Files: []string{"README.md"}})
	files := filepath.Join(dir, "file_commands")
	os.MkdirAll(files, 0o755)
	os.WriteFile(filepath.Join(files, "output"), nil, 0o666)
	os.WriteFile(filepath.Join(files, "summary"), nil, 0o666)
	os.Chown(h.ws, 1001, 1001) // the runner's user owns the workspace

	args := []string{"run", "--rm", "--network", "host", "--workdir", "/github/workspace",
		"-v", h.ws + ":/github/workspace", "-v", files + ":/github/file_commands",
		"-v", h.vars["GITHUB_EVENT_PATH"] + ":/github/workflow/event.json:ro"}
	env := map[string]string{}
	for k, v := range h.vars {
		env[k] = v
	}
	env["HOME"] = "/github/home"
	env["GITHUB_WORKSPACE"] = "/github/workspace"
	env["GITHUB_EVENT_PATH"] = "/github/workflow/event.json"
	env["GITHUB_OUTPUT"] = "/github/file_commands/output"
	env["GITHUB_STEP_SUMMARY"] = "/github/file_commands/summary"
	for k, v := range env {
		args = append(args, "-e", k+"="+v)
	}
	args = append(args, tag)
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker run: %v\n%s", err, out)
	}
	c := h.srv.Comments(prRepo, prNumber)
	if len(c) != 1 || !strings.Contains(c[0].Body, "3 of 7 layers rebuilt") {
		t.Fatalf("comments %+v\n%s", c, out)
	}
	if o := parseOutputs(t, mustRead(t, filepath.Join(files, "output"))); o["rebuilt-layers"] != "3" || o["comment-url"] == "" {
		t.Errorf("outputs %v", o)
	}
	if !strings.Contains(mustRead(t, filepath.Join(files, "summary")), "3 of 7 layers rebuilt") {
		t.Error("no job summary")
	}
	if _, err := os.Stat(filepath.Join(h.ws, "layerdiff-report.json")); err != nil {
		t.Errorf("report not in the workspace: %v", err)
	}
}
