// Command layerdiff explains which build steps of a pull request's image missed the layer cache
// and why. See README.md.
package main

import (
	"context"
	"embed"
	"io/fs"
	"os"
	"os/signal"

	"github.com/layerdiff/layerdiff/internal/action"
	"github.com/layerdiff/layerdiff/internal/cli"
)

//go:embed testdata/demo/base.tar testdata/demo/head.tar testdata/demo/Dockerfile testdata/demo/changed-files.txt
var demo embed.FS

func main() {
	cli.Demo, _ = fs.Sub(demo, "testdata/demo")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	var code int
	if os.Getenv("GITHUB_ACTIONS") == "true" && len(os.Args) == 1 {
		// As a container action GitHub runs the entrypoint with no arguments; inputs come from
		// INPUT_* variables.
		code = action.Run(ctx, os.Getenv, os.Stdout, os.Stderr)
	} else {
		code = cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	}
	stop()
	os.Exit(code)
}
