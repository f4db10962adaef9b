package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/layerdiff/layerdiff/analyze"
	"github.com/layerdiff/layerdiff/internal/changes"
	"github.com/layerdiff/layerdiff/internal/mdsafe"
	"github.com/layerdiff/layerdiff/internal/render"
)

// Version is layerdiff's version, set at build time with -ldflags "-X …/cli.Version=v1.2.3".
var Version = "dev"

const usage = `layerdiff compares the image built at a pull request's base commit with the one built at its
head, layer by layer, and explains which build steps missed the layer cache and why. It reads
manifests and configs only, never a layer.

Usage:
  layerdiff [flags] BASE-IMAGE HEAD-IMAGE
  layerdiff demo        run on the bundled demo images (also what a bare "layerdiff" does)

Images:
  registry/repo:tag or @sha256:…   a registry (loopback registries over plain HTTP; credentials
                                   from the Docker config, DOCKER_CONFIG honoured)
  oci:DIR[:TAG|@DIGEST]            an OCI image layout directory
  oci-archive:FILE[:TAG]           a tar of an OCI layout (buildctl --output type=oci)
  docker-archive:FILE[:TAG]        a docker save tar (buildctl --output type=docker)
  docker-daemon:NAME[:TAG]         an image in the local Docker Engine (DOCKER_HOST), without
                                   exporting it; its layer sizes are uncompressed
  ""                               (empty BASE-IMAGE) no base image: every step is new

Flags:
`

const epilog = `
Exit status: 0 report produced and every gate passed; 1 a gate failed (the report is still
printed); 2 usage or input error (one line on stderr naming the input).

Example:
  layerdiff --repo . --base-commit origin/main --head-commit HEAD \
    ghcr.io/acme/app:main ghcr.io/acme/app:pr-42
`

// Run is the layerdiff command: it parses args, writes the report to stdout and returns the
// exit status.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	fail := func(format string, a ...any) int {
		// Messages quote arguments and what registries said: no secret-looking NAME=value, no
		// terminal escape and no workflow command may reach the log through them.
		fmt.Fprintf(stderr, "layerdiff: %s\n", mdsafe.LogSafe(analyze.Redact(fmt.Sprintf(format, a...))))
		return ExitInput
	}
	switch {
	case len(args) == 0:
		fmt.Fprintln(stderr, "layerdiff: no images given: running the bundled demo (a README edit under COPY . .); see layerdiff --help")
		return runDemo(ctx, nil, getenv, stdin, stdout, stderr)
	case args[0] == "demo":
		return runDemo(ctx, args[1:], getenv, stdin, stdout, stderr)
	}

	fs := flag.NewFlagSet("layerdiff", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		opts         Options
		format       string
		output       string
		changedFiles string
		maxBytes     string
		maxLayers    string
		minReuse     string
		showVersion  bool
		timeout      time.Duration
	)
	fs.StringVar(&opts.Platform, "platform", "linux/amd64", "`os/arch` (or os/arch/variant) to pick from a multi-platform image")
	fs.StringVar(&opts.Dockerfile, "dockerfile", "", "`path` of the Dockerfile (default CONTEXT/Dockerfile)")
	fs.StringVar(&opts.Context, "context", "", "build context `dir` (default the Dockerfile's directory)")
	fs.StringVar(&opts.Repo, "repo", ".", "git work tree `dir` that changed files are relative to")
	fs.StringVar(&opts.BaseCommit, "base-commit", "", "`rev` the base image was built from (changed files come from git)")
	fs.StringVar(&opts.HeadCommit, "head-commit", "", "`rev` the head image was built from")
	fs.StringVar(&changedFiles, "changed-files", "", "`file` listing changed paths, one per line, relative to --repo (- for stdin)")
	fs.StringVar(&format, "format", "text", "report `format`: text, markdown or json")
	fs.StringVar(&output, "output", "", "also write the report to `file`")
	fs.StringVar(&maxBytes, "max-rebuilt-bytes", "", "gate: fail when more than `size` is rebuilt (250MB, 1.5GiB, bytes)")
	fs.StringVar(&maxLayers, "max-rebuilt-layers", "", "gate: fail when more than `n` layers are rebuilt")
	fs.StringVar(&minReuse, "min-reuse", "", "gate: fail when less than `percent` of the head's bytes are cached")
	fs.DurationVar(&timeout, "timeout", 2*time.Minute, "give up reading the images after `duration` (e.g. 30s, 5m)")
	fs.BoolVar(&showVersion, "version", false, "print the version and exit")

	positional, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout, fs)
		return ExitOK
	}
	if err != nil {
		return fail("%s (see layerdiff --help)", err)
	}
	if showVersion {
		fmt.Fprintln(stdout, "layerdiff", Version)
		return ExitOK
	}
	if len(positional) != 2 {
		return fail("expected BASE-IMAGE and HEAD-IMAGE, got %d argument(s) (see layerdiff --help)", len(positional))
	}
	opts.Base, opts.Head = positional[0], positional[1]
	switch format {
	case "text", "markdown", "json":
	default:
		return fail("--format %q: use text, markdown or json", format)
	}
	if opts.Limits, err = parseLimits(maxBytes, maxLayers, minReuse); err != nil {
		return fail("%s", err)
	}
	if changedFiles != "" {
		if opts.ChangedFiles, err = readChangedFiles(changedFiles, stdin); err != nil {
			return fail("%s", err)
		}
	}

	if timeout <= 0 {
		return fail("--timeout %s: want a positive duration such as 30s or 2m", timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r, err := Analyze(ctx, opts)
	if errors.Is(err, context.DeadlineExceeded) || (err != nil && ctx.Err() != nil) {
		return fail("reading the images took longer than --timeout %s", timeout)
	}
	if err != nil {
		return fail("%s", oneLine(err))
	}
	return emit(r, format, output, getenv, stdout, stderr)
}

// emit writes the report, warnings and gate failures, and returns the exit status.
func emit(r *analyze.Report, format, output string, getenv func(string) string, stdout, stderr io.Writer) int {
	for _, w := range r.Warnings {
		fmt.Fprintf(stderr, "layerdiff: warning: %s\n", mdsafe.LogSafe(w))
	}
	body, err := renderReport(r, format, isTerminal(stdout) && getenv("NO_COLOR") == "")
	if err != nil {
		fmt.Fprintf(stderr, "layerdiff: rendering the report: %s\n", err)
		return ExitInput
	}
	if output != "" {
		if err := os.WriteFile(output, body, 0o644); err != nil {
			fmt.Fprintf(stderr, "layerdiff: writing --output %q: %s\n", output, unwrapPathError(err))
			return ExitInput
		}
	}
	if _, err := stdout.Write(body); err != nil {
		return ExitInput
	}
	status := ExitOK
	for _, g := range r.Gates {
		if !g.Passed {
			fmt.Fprintf(stderr, "layerdiff: gate %s failed: %s (limit %s)\n", g.Name, g.Actual, g.Limit)
			status = ExitGateFailed
		}
	}
	return status
}

func renderReport(r *analyze.Report, format string, color bool) ([]byte, error) {
	var b strings.Builder
	switch format {
	case "json":
		if err := render.JSON(&b, r); err != nil {
			return nil, err
		}
	case "markdown":
		b.WriteString(render.Markdown(r, render.MarkdownOptions{Version: Version}))
	default:
		render.Text(&b, r, color)
	}
	return []byte(b.String()), nil
}

// parseInterspersed lets flags follow the positional arguments, as users type them.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func parseLimits(maxBytes, maxLayers, minReuse string) (analyze.Limits, error) {
	var l analyze.Limits
	if maxBytes != "" {
		n, err := analyze.ParseSize(maxBytes)
		if err != nil {
			return l, fmt.Errorf("--max-rebuilt-bytes: %w", err)
		}
		l.MaxRebuiltBytes, l.HasMaxRebuiltBytes = n, true
	}
	if maxLayers != "" {
		n, err := analyze.ParseLayerCount(maxLayers)
		if err != nil {
			return l, fmt.Errorf("--max-rebuilt-layers %w", err)
		}
		l.MaxRebuiltLayers, l.HasMaxRebuiltLayers = n, true
	}
	if minReuse != "" {
		p, err := analyze.ParsePercent(minReuse)
		if err != nil {
			return l, fmt.Errorf("--min-reuse %w", err)
		}
		l.MinReuse, l.HasMinReuse = p, true
	}
	return l, nil
}

func readChangedFiles(name string, stdin io.Reader) ([]string, error) {
	if name == "-" {
		files, err := changes.FromList(stdin)
		if err != nil {
			return nil, fmt.Errorf("reading --changed-files from stdin: %w", err)
		}
		return files, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("reading --changed-files %q: %w", name, unwrapPathError(err))
	}
	defer f.Close()
	files, err := changes.FromList(f)
	if err != nil {
		return nil, fmt.Errorf("reading --changed-files %q: %w", name, err)
	}
	return files, nil
}

func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, usage)
	fs.VisitAll(func(f *flag.Flag) {
		name, text := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" {
			text += fmt.Sprintf(" (default %q)", f.DefValue)
		}
		fmt.Fprintf(w, "%-28s %s\n", line, text)
	})
	fmt.Fprint(w, epilog)
}

// isTerminal reports whether w is a character device, so colour is only sent to a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
