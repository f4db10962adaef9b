package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/layerdiff/layerdiff/analyze"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// root is the repository root, where testdata/ lives.
const root = "../.."

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func demoArgs(extra ...string) []string {
	d := filepath.Join(root, "testdata", "demo")
	return append([]string{
		"--dockerfile", "testdata/demo/Dockerfile",
		"--changed-files", filepath.Join(d, "changed-files.txt"),
		"--repo", d,
	}, append(extra, "oci-archive:testdata/demo/base.tar", "oci-archive:testdata/demo/head.tar")...)
}

// inRoot runs the test from the repository root so paths in the output are the README's.
func inRoot(t *testing.T) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(root); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chdir(wd) })
}

func TestGoldenDemo(t *testing.T) {
	for _, format := range []string{"text", "markdown", "json"} {
		t.Run(format, func(t *testing.T) {
			wd, _ := os.Getwd()
			inRoot(t)
			args := demoArgs("--format", format)
			args[5] = "testdata/demo" // --repo, from the root
			args[3] = "testdata/demo/changed-files.txt"
			code, out, stderr := run(t, args...)
			if code != ExitOK {
				t.Fatalf("exit %d, stderr: %s", code, stderr)
			}
			golden := filepath.Join(wd, root, "testdata", "golden", "demo."+map[string]string{"text": "txt", "markdown": "md", "json": "json"}[format])
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/cli -update)", err)
			}
			if diff := cmp.Diff(string(want), out); diff != "" {
				t.Errorf("output differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func TestDemoReport(t *testing.T) {
	inRoot(t)
	code, out, stderr := run(t, "demo", "--format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r analyze.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Summary.RootCauses) != 1 || r.Summary.RootCauses[0].Kind != analyze.CauseSources {
		t.Fatalf("root causes = %+v", r.Summary.RootCauses)
	}
	st := r.Steps[r.Summary.RootCauses[0].Step-1]
	if st.Instruction != "COPY . ." || st.Line != 3 || strings.Join(st.Cause.Files, ",") != "README.md" {
		t.Errorf("root step = %+v", st)
	}
	if len(r.Suggestions) == 0 || r.Suggestions[0].Kind != analyze.SuggestNarrowCopy {
		t.Errorf("suggestions = %+v", r.Suggestions)
	}
}

func TestGates(t *testing.T) {
	inRoot(t)
	tests := []struct {
		name  string
		flags []string
		code  int
		fails []string
	}{
		{"all pass", []string{"--max-rebuilt-layers", "3", "--max-rebuilt-bytes", "1MB", "--min-reuse", "90"}, ExitOK, nil},
		{"layers", []string{"--max-rebuilt-layers", "2"}, ExitGateFailed, []string{"gate max-rebuilt-layers failed: 3 (limit 2)"}},
		{"bytes", []string{"--max-rebuilt-bytes", "10KiB"}, ExitGateFailed, []string{"gate max-rebuilt-bytes failed: 12415 (limit 10240)"}},
		{"reuse", []string{"--min-reuse", "99.5%"}, ExitGateFailed, []string{"gate min-reuse failed: 98.85 (limit 99.5)"}},
		{"zero layers", []string{"--max-rebuilt-layers", "0", "--min-reuse", "99"}, ExitGateFailed, []string{"max-rebuilt-layers failed", "min-reuse failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := run(t, append([]string{"demo", "--format", "json"}, tt.flags...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			var r analyze.Report
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("the report is not printed when a gate fails: %v", err)
			}
			failed := 0
			for _, g := range r.Gates {
				if !g.Passed {
					failed++
				}
			}
			if failed != len(tt.fails) || len(r.Gates) == 0 {
				t.Errorf("gates = %+v", r.Gates)
			}
			for _, f := range tt.fails {
				if !strings.Contains(stderr, f) {
					t.Errorf("stderr %q lacks %q", stderr, f)
				}
			}
		})
	}
}

func TestInputErrors(t *testing.T) {
	inRoot(t)
	tests := []struct {
		name string
		args []string
		want string // in the one stderr line
	}{
		{"one image", []string{"oci-archive:testdata/demo/head.tar"}, "expected BASE-IMAGE and HEAD-IMAGE"},
		{"bad flag", []string{"--frobnicate", "a", "b"}, "flag provided but not defined: -frobnicate"},
		{"bad format", []string{"--format", "yaml", "a", "b"}, `--format "yaml"`},
		{"bad size", []string{"--max-rebuilt-bytes", "lots", "a", "b"}, `--max-rebuilt-bytes: "lots" is not a size`},
		{"bad unit", []string{"--max-rebuilt-bytes", "3XB", "a", "b"}, `unknown unit "XB"`},
		{"bad layers", []string{"--max-rebuilt-layers", "-1", "a", "b"}, `--max-rebuilt-layers "-1"`},
		{"bad reuse", []string{"--min-reuse", "150", "a", "b"}, `--min-reuse "150"`},
		{"malformed reference", []string{"--dockerfile", "testdata/demo/Dockerfile", "", "Not A Ref!!"}, `reading head image "Not A Ref!!"`},
		{"missing head archive", []string{"--dockerfile", "testdata/demo/Dockerfile", "", "oci-archive:testdata/nope.tar"}, `reading head image "oci-archive:testdata/nope.tar"`},
		{"not an archive", []string{"--dockerfile", "testdata/demo/Dockerfile", "", "oci-archive:testdata/demo/Dockerfile"}, `reading head image "oci-archive:testdata/demo/Dockerfile"`},
		{"unknown platform", []string{"--platform", "linux/s390x", "", "oci-archive:testdata/demo/head.tar"}, ""},
		{"missing Dockerfile", []string{"--dockerfile", "nope/Dockerfile", "", "oci-archive:testdata/demo/head.tar"}, `reading Dockerfile "nope/Dockerfile"`},
		{"missing changed-files", []string{"--changed-files", "nope.txt", "", "oci-archive:testdata/demo/head.tar"}, `reading --changed-files "nope.txt"`},
		{"one commit", []string{"--base-commit", "HEAD", "", "oci-archive:testdata/demo/head.tar"}, "--base-commit and --head-commit go together"},
		{"unknown commit", []string{"--base-commit", "f00dfeed", "--head-commit", "HEAD", "", "oci-archive:testdata/demo/head.tar"}, `commit "f00dfeed" is not in the repository`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := run(t, tt.args...)
			if tt.name == "unknown platform" {
				// A single-platform image is used whatever --platform says.
				if code != ExitOK {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				return
			}
			if code != ExitInput {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, ExitInput, out, stderr)
			}
			if out != "" {
				t.Errorf("stdout not empty on an input error: %q", out)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "layerdiff: ") || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr = %q, want one line containing %q", stderr, tt.want)
			}
		})
	}
}

func TestMissingBaseIsNotAnError(t *testing.T) {
	inRoot(t)
	for _, base := range []string{"", "oci-archive:testdata/demo/nothing-here.tar"} {
		code, out, stderr := run(t, "--format", "json", "--dockerfile", "testdata/demo/Dockerfile", base, "oci-archive:testdata/demo/head.tar")
		if code != ExitOK {
			t.Fatalf("base %q: exit %d: %s", base, code, stderr)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &raw); err != nil {
			t.Fatal(err)
		}
		if string(raw["base"]) != "null" {
			t.Errorf("base %q: base = %s, want null", base, raw["base"])
		}
		var r analyze.Report
		json.Unmarshal([]byte(out), &r)
		for _, st := range r.Steps {
			if st.Cause == nil || st.Cause.Kind != analyze.CauseNoBase {
				t.Errorf("step %d cause %+v, want no-base", st.Index, st.Cause)
			}
		}
	}
}

func TestOutputFileAndHelp(t *testing.T) {
	inRoot(t)
	out := filepath.Join(t.TempDir(), "report.json")
	code, stdout, _ := run(t, "demo", "--format", "json", "--output", out)
	if code != ExitOK {
		t.Fatal(code)
	}
	written, err := os.ReadFile(out)
	if err != nil || string(written) != stdout {
		t.Errorf("--output wrote %q (err %v), stdout was %q", written, err, stdout)
	}
	code, help, _ := run(t, "--help")
	for _, flagName := range []string{"--platform", "--dockerfile", "--context", "--repo", "--base-commit", "--head-commit", "--changed-files", "--format", "--output", "--max-rebuilt-bytes", "--max-rebuilt-layers", "--min-reuse"} {
		if !strings.Contains(help, "-"+flagName) && !strings.Contains(help, flagName) {
			t.Errorf("--help does not document %s", flagName)
		}
	}
	if code != ExitOK || !strings.Contains(help, "Exit status") {
		t.Errorf("help exit %d: %s", code, help)
	}
}

func TestNoColorAndNoTerminal(t *testing.T) {
	inRoot(t)
	_, out, _ := run(t, "demo")
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour codes written to a non-terminal")
	}
}

// TestReadmeExample keeps the README's example output true: every line of it is in what the
// demo prints.
func TestReadmeExample(t *testing.T) {
	inRoot(t)
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "```text\n3 of 7")
	if !ok {
		t.Fatal("README.md has no example output block")
	}
	block, _, _ = strings.Cut("3 of 7"+block, "```")
	_, out, _ := run(t, "demo")
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		if !strings.Contains(out, line) {
			t.Errorf("README line %q is not in the demo's output", line)
		}
	}
}

func TestUnparsableDockerfileDegrades(t *testing.T) {
	inRoot(t)
	bad := filepath.Join(t.TempDir(), "Dockerfile")
	os.WriteFile(bad, []byte("FROM\nRUN [\n"), 0o644)
	code, out, stderr := run(t, "--format", "json", "--dockerfile", bad, "oci-archive:testdata/demo/base.tar", "oci-archive:testdata/demo/head.tar")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "does not parse") {
		t.Errorf("stderr does not say the Dockerfile did not parse: %q", stderr)
	}
	var r analyze.Report
	json.Unmarshal([]byte(out), &r)
	if r.Summary.RebuiltLayers != 3 || r.Steps[6].Line != 0 {
		t.Errorf("summary %+v, step 7 line %d", r.Summary, r.Steps[6].Line)
	}
}
