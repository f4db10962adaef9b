package action

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/layerdiff/layerdiff/analyze"
	"github.com/layerdiff/layerdiff/internal/cli"
	"github.com/layerdiff/layerdiff/internal/github"
	"github.com/layerdiff/layerdiff/internal/github/githubtest"
	"github.com/layerdiff/layerdiff/internal/mdsafe"
	"github.com/layerdiff/layerdiff/internal/render"
)

// The pull request of testdata/github-events/pull_request.*.json.
const (
	prRepo    = "Codertocat/Hello-World"
	prNumber  = 2
	prBaseSHA = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
	prHeadSHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
	// GITHUB_TOKEN is an installation token: GET /user refuses it.
	testToken = "ghs_S3cr3tT0kenValue0123456789abcdef"
	commentsP = "/repos/Codertocat/Hello-World/issues/2/comments"
)

// harness is one workflow step's environment: a workspace, the runner's files, the inputs as
// INPUT_* variables and a fake GitHub.
type harness struct {
	t       *testing.T
	vars    map[string]string
	ws      string
	srv     *githubtest.Server
	sleeps  []time.Duration
	mu      sync.Mutex
	options []cli.Options // what each run asked the analysis for

	report   *analyze.Report
	analyzeE error
	// analyzeHook, when set, sees the context each analysis is called with.
	analyzeHook func(context.Context)
	// markdown renders the comment and summary; fakeMarkdown unless a test sets it.
	markdown func(*analyze.Report, render.MarkdownOptions) string
}

func eventPath(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "testdata", "github-events", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newHarness(t *testing.T, event string) *harness {
	t.Helper()
	h := &harness{t: t, ws: t.TempDir(), srv: githubtest.New(t, "")}
	h.srv.AddApp(testToken, "github-actions")
	runnerDir := t.TempDir()
	h.vars = map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_ACTOR":        "Codertocat",
		"GITHUB_API_URL":      h.srv.APIURL(),
		"GITHUB_GRAPHQL_URL":  h.srv.GraphQLURL(),
		"GITHUB_SERVER_URL":   "https://github.com",
		"GITHUB_REPOSITORY":   prRepo,
		"GITHUB_RUN_ID":       "4242",
		"GITHUB_SHA":          "6dcb09b5b57875f334f61aebed695e2e4193db5e",
		"GITHUB_WORKSPACE":    h.ws,
		"GITHUB_OUTPUT":       filepath.Join(runnerDir, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(runnerDir, "summary"),
		"INPUT_BASE-IMAGE":    "ghcr.io/codertocat/hello-world:main",
		"INPUT_HEAD-IMAGE":    "ghcr.io/codertocat/hello-world:pr-2",
		"INPUT_DOCKERFILE":    "Dockerfile",
		"INPUT_GITHUB-TOKEN":  testToken,
		"INPUT_COMMENT":       "on-rebuild",
	}
	if event != "" {
		h.vars["GITHUB_EVENT_PATH"] = eventPath(t, event)
		h.vars["GITHUB_EVENT_NAME"] = strings.SplitN(event, ".", 2)[0]
	}
	for _, f := range []string{h.vars["GITHUB_OUTPUT"], h.vars["GITHUB_STEP_SUMMARY"]} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h.write("Dockerfile", "FROM node:22-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\n")
	h.report = rebuiltReport()
	return h
}

func (h *harness) write(rel, content string) {
	h.t.Helper()
	p := filepath.Join(h.ws, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) getenv(k string) string { return h.vars[k] }

// result is what one run left behind.
type result struct {
	code    int
	stdout  string
	stderr  string
	outputs map[string]string
	summary string
}

// run runs the action once, as the runner would, appending to the same GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY files a step gets (fresh for every run).
func (h *harness) run() result {
	h.t.Helper()
	return h.runContext(context.Background())
}

func (h *harness) runContext(ctx context.Context) result {
	h.t.Helper()
	for _, k := range []string{"GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"} {
		if h.vars[k] != "" {
			os.WriteFile(h.vars[k], nil, 0o644)
		}
	}
	r := &runner{
		analyze: func(ctx context.Context, o cli.Options) (*analyze.Report, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.options = append(h.options, o)
			if h.analyzeHook != nil {
				h.analyzeHook(ctx)
			}
			if h.analyzeE != nil {
				return nil, h.analyzeE
			}
			cp := *h.report
			return &cp, nil
		},
		markdown: fakeMarkdown,
		git:      "git",
		ghOptions: []github.Option{github.WithSleep(func(_ context.Context, d time.Duration) error {
			h.sleeps = append(h.sleeps, d)
			return nil
		})},
	}
	if h.markdown != nil {
		r.markdown = h.markdown
	}
	var stdout, stderr bytes.Buffer
	code := r.run(ctx, h.getenv, &stdout, &stderr)
	res := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	if p := h.vars["GITHUB_OUTPUT"]; p != "" {
		data, _ := os.ReadFile(p)
		res.outputs = parseOutputs(h.t, string(data))
	}
	if p := h.vars["GITHUB_STEP_SUMMARY"]; p != "" {
		data, _ := os.ReadFile(p)
		res.summary = string(data)
	}
	return res
}

// parseOutputs reads the GITHUB_OUTPUT file format (name<<DELIMITER / value / DELIMITER).
func parseOutputs(t *testing.T, data string) map[string]string {
	out := map[string]string{}
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			t.Fatalf("GITHUB_OUTPUT line %q is not name<<delimiter", lines[i])
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

// fakeMarkdown stands in for render.Markdown in tests that are about publishing: it shows the
// numbers that change between runs and the untrusted strings, escaped the way the renderer does.
func fakeMarkdown(r *analyze.Report, o render.MarkdownOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### layerdiff · %s\n\n", mdsafe.Code(o.Title))
	fmt.Fprintf(&b, "**%d of %d layers rebuilt · %d B · %.2f%% reused**\n\n", r.Summary.RebuiltLayers, r.Summary.Layers, r.Summary.RebuiltBytes, r.Summary.Reuse)
	for _, g := range r.Gates {
		if !g.Passed {
			fmt.Fprintf(&b, "**Gate %s failed:** %s > %s\n\n", g.Name, g.Actual, g.Limit)
		}
	}
	b.WriteString("<details><summary>Steps</summary>\n\n| # | step | why |\n|---|---|---|\n")
	for _, s := range r.Steps {
		why := ""
		if s.Cause != nil {
			why = s.Cause.Kind
			for _, f := range s.Cause.Files {
				why += " " + mdsafe.Code(f)
			}
		}
		fmt.Fprintf(&b, "| %d | %s | %s |\n", s.Index, mdsafe.Code(s.Instruction), why)
	}
	b.WriteString("\n</details>\n\n")
	fmt.Fprintf(&b, "<sub>%s → %s · [workflow run](%s) · layerdiff %s · [Dockerfile](%s%s)</sub>\n", mdsafe.Escape(o.BaseLabel), mdsafe.Escape(o.HeadLabel), o.RunURL, o.Version, o.BlobURL, r.Dockerfile)
	return b.String()
}

func rebuiltReport() *analyze.Report {
	return &analyze.Report{
		SchemaVersion: 1,
		Base:          &analyze.ImageInfo{Reference: "ghcr.io/codertocat/hello-world:main", Digest: "sha256:3f1c", Platform: "linux/amd64", Layers: 4, Size: 1100000},
		Head:          &analyze.ImageInfo{Reference: "ghcr.io/codertocat/hello-world:pr-2", Digest: "sha256:9ab0", Platform: "linux/amd64", Layers: 4, Size: 1300000},
		Summary: analyze.Summary{Steps: 4, Layers: 4, CachedLayers: 2, RebuiltLayers: 2, CachedBytes: 1000000, RebuiltBytes: 300000, Reuse: 76.923,
			RootCauses: []analyze.RootCause{{Step: 3, Kind: analyze.CauseSources}}},
		Steps: []analyze.Step{
			{Index: 1, Instruction: "FROM node:22-slim", Origin: analyze.OriginBaseImage, Status: analyze.StatusCached, Layer: &analyze.Layer{Size: 900000}},
			{Index: 2, Instruction: "WORKDIR /app", Origin: analyze.OriginDockerfile, Line: 2, Status: analyze.StatusCached, Layer: &analyze.Layer{Size: 100000}},
			{Index: 3, Instruction: "COPY . .", Origin: analyze.OriginDockerfile, Line: 3, Status: analyze.StatusRebuilt, Layer: &analyze.Layer{Size: 152},
				Cause: &analyze.Cause{Kind: analyze.CauseSources, RootStep: 3, Files: []string{"README.md"}, Detail: "README.md changed"}},
			{Index: 4, Instruction: "RUN npm ci", Origin: analyze.OriginDockerfile, Line: 4, Status: analyze.StatusRebuilt, Layer: &analyze.Layer{Size: 299848},
				Cause: &analyze.Cause{Kind: analyze.CauseParent, RootStep: 3}},
		},
		Suggestions: []analyze.Suggestion{{Step: 3, Line: 3, Kind: "narrow-copy", Message: "copy the manifests first"}},
		Gates:       []analyze.Gate{},
		Warnings:    []string{},
		Dockerfile:  "/github/workspace/Dockerfile",
	}
}

func cachedReport() *analyze.Report {
	r := rebuiltReport()
	r.Summary = analyze.Summary{Steps: 4, Layers: 4, CachedLayers: 4, CachedBytes: 1300000, Reuse: 100}
	for i := range r.Steps {
		r.Steps[i].Status, r.Steps[i].Cause = analyze.StatusCached, nil
	}
	return r
}

// gitRepo makes a repository in dir with two commits and returns their SHAs.
func gitRepo(t *testing.T, dir string, first, second map[string]string) (base, head string) {
	t.Helper()
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	commit := func(files map[string]string) string {
		for name, content := range files {
			p := filepath.Join(dir, name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		git("add", "-A")
		git("commit", "-q", "-m", "c")
		return git("rev-parse", "HEAD")
	}
	return commit(first), commit(second)
}

// writeEvent writes a payload into a temp file and points GITHUB_EVENT_PATH at it.
func (h *harness) writeEvent(name, content string) {
	p := filepath.Join(h.t.TempDir(), "event.json")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
	h.vars["GITHUB_EVENT_PATH"] = p
	h.vars["GITHUB_EVENT_NAME"] = name
}
