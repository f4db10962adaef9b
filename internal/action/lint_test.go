package action

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rhysd/actionlint"
	yaml "go.yaml.in/yaml/v4"
)

const repoRoot = "../.."

// lint runs actionlint over files of a project rooted at root, with shellcheck when it is
// installed. Local actions (uses: ./) are checked against root's action.yml: inputs, outputs,
// runs, branding.
func lint(t *testing.T, root string, files []string) {
	t.Helper()
	opts := &actionlint.LinterOptions{WorkingDir: root}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = sc
	}
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, opts)
	if err != nil {
		t.Fatal(err)
	}
	proj, err := actionlint.NewProject(root)
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.LintFiles(files, proj)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("actionlint: %s:%d:%d: %s [%s]", e.Filepath, e.Line, e.Column, e.Message, e.Kind)
	}
}

// TestWorkflowsLint validates every workflow of the repository, and through their `uses: ./`
// steps the action's action.yml.
func TestWorkflowsLint(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, ".github", "workflows", "*.y*ml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows: %v", err)
	}
	usesLocal := false
	for _, f := range files {
		data, _ := os.ReadFile(f)
		usesLocal = usesLocal || strings.Contains(string(data), "uses: ./\n")
	}
	if !usesLocal {
		t.Error("no workflow runs the action from the checkout (uses: ./): action.yml would go unchecked")
	}
	lint(t, repoRoot, files)
}

// readmeFile is the README that documents the action.
func readmeFile(t *testing.T) string {
	t.Helper()
	return filepath.Join(repoRoot, "README.md")
}

// TestReadmeWorkflowsLint checks every workflow example of the README with actionlint, with
// `layerdiff/layerdiff@v1` pointing at this checkout's action.yml so its inputs are checked too.
func TestReadmeWorkflowsLint(t *testing.T) {
	data, err := os.ReadFile(readmeFile(t))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(data), -1)
	dir := t.TempDir()
	wf := filepath.Join(dir, ".github", "workflows")
	if err := os.MkdirAll(wf, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"action.yml", "Dockerfile"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	var files []string
	for i, b := range blocks {
		if !strings.Contains(b[1], "jobs:") {
			continue
		}
		if !strings.Contains(b[1], "uses: layerdiff/layerdiff@v1") {
			t.Errorf("README workflow %d does not use layerdiff/layerdiff@v1", i)
		}
		f := filepath.Join(wf, "example"+string(rune('a'+i))+".yml")
		os.WriteFile(f, []byte(strings.ReplaceAll(b[1], "uses: layerdiff/layerdiff@v1", "uses: ./")), 0o644)
		files = append(files, f)
	}
	if len(files) < 5 {
		t.Fatalf("%d workflow examples in the README, want the quick start, one-job, two fork-safe and matrix ones", len(files))
	}
	lint(t, dir, files)
}

type actionMeta struct {
	Name   string `yaml:"name"`
	Inputs map[string]struct {
		Description string  `yaml:"description"`
		Required    bool    `yaml:"required"`
		Default     *string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Image string `yaml:"image"`
	} `yaml:"runs"`
}

func readAction(t *testing.T) actionMeta {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var m actionMeta
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestActionMetadata pins what issue 3 asks of action.yml, and that the code reads exactly the
// inputs it declares.
func TestActionMetadata(t *testing.T) {
	m := readAction(t)
	if m.Runs.Using != "docker" || m.Runs.Image != "Dockerfile" {
		t.Errorf("runs = %+v, want docker with image Dockerfile", m.Runs)
	}
	var inputs, outputs []string
	for k := range m.Inputs {
		inputs = append(inputs, k)
	}
	for k := range m.Outputs {
		outputs = append(outputs, k)
	}
	wantIn := []string{"base-image", "comment", "comment-key", "context", "dockerfile", "github-token", "head-image",
		"max-rebuilt-bytes", "max-rebuilt-layers", "min-reuse", "platform", "registry-password", "registry-username", "report-file", "timeout"}
	wantOut := []string{"cached-bytes", "comment-url", "rebuilt-bytes", "rebuilt-layers", "report", "reuse", "root-cause"}
	sortStrings(inputs)
	sortStrings(outputs)
	if diff := cmp.Diff(wantIn, inputs); diff != "" {
		t.Errorf("inputs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantOut, outputs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	defaults := map[string]string{"dockerfile": "Dockerfile", "github-token": "${{ github.token }}", "comment": "on-rebuild", "comment-key": "default", "timeout": "2m"}
	for name, want := range defaults {
		if d := m.Inputs[name].Default; d == nil || *d != want {
			t.Errorf("input %s default %v, want %q", name, d, want)
		}
	}
	// head-image is required, except in report-file mode; actionlint would flag the report-file
	// workflow if action.yml said required: true.
	if !strings.HasPrefix(m.Inputs["head-image"].Description, "Required unless report-file") {
		t.Errorf("head-image: %q", m.Inputs["head-image"].Description)
	}
	// Every input is read by the code, under its exact name.
	src, _ := os.ReadFile("inputs.go")
	run, _ := os.ReadFile("run.go")
	for _, name := range inputs {
		if !strings.Contains(string(src)+string(run), `"`+name+`"`) {
			t.Errorf("input %s is declared but never read", name)
		}
	}
	for _, name := range outputs {
		if !strings.Contains(string(run), `"`+name+`"`) {
			t.Errorf("output %s is declared but never set", name)
		}
	}
}

func sortStrings(s []string) { sort.Strings(s) }

// markdownTable returns the rows of the first table after heading, each as its cells.
func markdownTable(t *testing.T, doc, heading string) [][]string {
	t.Helper()
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README has no %q section", heading)
	}
	var rows [][]string
	inTable := false
	for _, ln := range strings.Split(doc[i+len(heading)+2:], "\n") {
		ln = strings.TrimSpace(ln)
		if !strings.HasPrefix(ln, "|") {
			if inTable {
				break
			}
			continue
		}
		inTable = true
		cells := strings.Split(strings.Trim(ln, "|"), "|")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		if strings.HasPrefix(cells[0], "---") {
			continue
		}
		rows = append(rows, cells)
	}
	return rows[1:] // without the header
}

// TestReadmeTablesMatchActionYML checks the README's inputs and outputs tables against
// action.yml: the same names in the same order, and the same defaults.
func TestReadmeTablesMatchActionYML(t *testing.T) {
	m := readAction(t)
	data, err := os.ReadFile(readmeFile(t))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	order := func(section string) []string {
		var names []string
		data, _ := os.ReadFile(filepath.Join(repoRoot, "action.yml"))
		inSection := false
		for _, ln := range strings.Split(string(data), "\n") {
			switch {
			case ln == section+":":
				inSection = true
			case len(ln) > 0 && ln[0] != ' ':
				inSection = false
			case inSection && strings.HasPrefix(ln, "  ") && !strings.HasPrefix(ln, "   ") && strings.HasSuffix(ln, ":"):
				names = append(names, strings.TrimSuffix(strings.TrimSpace(ln), ":"))
			}
		}
		return names
	}

	var gotIn []string
	for _, row := range markdownTable(t, doc, "### Inputs") {
		name := strings.Trim(row[0], "`")
		gotIn = append(gotIn, name)
		in, ok := m.Inputs[name]
		if !ok {
			continue
		}
		want := ""
		switch {
		case in.Required || strings.HasPrefix(in.Description, "Required"):
			want = "required"
		case in.Default != nil && *in.Default != "":
			want = "`" + *in.Default + "`"
		}
		if row[1] != want {
			t.Errorf("README default of %s is %q, action.yml says %q", name, row[1], want)
		}
		if row[2] == "" {
			t.Errorf("README has no description of %s", name)
		}
	}
	if diff := cmp.Diff(order("inputs"), gotIn); diff != "" {
		t.Errorf("README inputs table vs action.yml (-action.yml +README):\n%s", diff)
	}
	var gotOut []string
	for _, row := range markdownTable(t, doc, "### Outputs") {
		gotOut = append(gotOut, strings.Trim(row[0], "`"))
	}
	if diff := cmp.Diff(order("outputs"), gotOut); diff != "" {
		t.Errorf("README outputs table vs action.yml (-action.yml +README):\n%s", diff)
	}
}
