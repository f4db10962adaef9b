// Command layerdiff explains which build steps of a pull request's image missed the layer cache
// and why. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/layerdiff/layerdiff/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
