package cli

import (
	"context"
	"fmt"
	"io"
)

func runDemo(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "layerdiff: demo not bundled yet")
	return ExitInput
}
