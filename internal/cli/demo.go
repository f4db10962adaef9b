package cli

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Demo holds the bundled demo: two BuildKit images of a small app (base.tar, head.tar, OCI
// archives), its Dockerfile and the files its one commit changed. main embeds testdata/demo.
var Demo fs.FS

var demoFiles = []string{"base.tar", "head.tar", "Dockerfile", "changed-files.txt"}

// runDemo runs layerdiff on the bundled demo images; extra args (e.g. --format json) apply.
func runDemo(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	// From a checkout (go run .), use the files in place so the output names them plainly.
	if _, err := os.Stat(filepath.Join(demoDir, "head.tar")); err == nil {
		return runDemoIn(ctx, demoDir, args, getenv, stdin, stdout, stderr)
	}
	if Demo == nil {
		fmt.Fprintln(stderr, "layerdiff: this build has no bundled demo (see layerdiff --help)")
		return ExitInput
	}
	dir, err := os.MkdirTemp("", "layerdiff-demo-")
	if err != nil {
		fmt.Fprintf(stderr, "layerdiff: unpacking the demo: %s\n", err)
		return ExitInput
	}
	defer os.RemoveAll(dir)
	for _, name := range demoFiles {
		data, err := fs.ReadFile(Demo, name)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), data, 0o644)
		}
		if err != nil {
			fmt.Fprintf(stderr, "layerdiff: unpacking the demo: %s\n", err)
			return ExitInput
		}
	}
	return runDemoIn(ctx, dir, args, getenv, stdin, stdout, stderr)
}

// demoDir is where the demo lives in a checkout of layerdiff.
const demoDir = "testdata/demo"

func runDemoIn(ctx context.Context, dir string, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	path := func(name string) string { return filepath.Join(dir, name) }
	full := append([]string{
		"--dockerfile", path("Dockerfile"),
		"--changed-files", path("changed-files.txt"),
		"--repo", dir,
	}, args...)
	full = append(full, "--", "oci-archive:"+path("base.tar"), "oci-archive:"+path("head.tar"))
	return Run(ctx, full, getenv, stdin, stdout, stderr)
}
