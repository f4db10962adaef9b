package cli

import (
	"context"

	"github.com/layerdiff/layerdiff/analyze"
)

// Options say what to compare and where the changed files come from; the CLI and the action
// both fill it.
type Options struct {
	// Base and Head are image references (registry, oci:, oci-archive:, docker-archive:).
	// An empty Base means there is no base image: every step is reported as no-base.
	Base, Head string
	// Platform is "os/arch[/variant]" picked from an index; default linux/amd64.
	Platform string
	// Dockerfile is the path of the Dockerfile (default <Context>/Dockerfile, else ./Dockerfile);
	// Context is the build context (default the Dockerfile's directory).
	Dockerfile, Context string
	// Repo is the git work tree the changed files are relative to (default "."); BaseCommit and
	// HeadCommit, when both set, give the changed files from git.
	Repo, BaseCommit, HeadCommit string
	// ChangedFiles, when non-nil, lists changed paths relative to Repo (overrides git).
	ChangedFiles []string
	// Limits are the merge gates.
	Limits analyze.Limits
	// Username and Password, when set, authenticate to the registries of Base and Head instead of
	// the Docker config keychain.
	Username, Password string
}

// Analyze reads both images and the Dockerfile and returns the report, gates evaluated.
func Analyze(ctx context.Context, opts Options) (*analyze.Report, error) {
	panic("TODO")
}
