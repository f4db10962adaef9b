package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/moby/patternmatcher/ignorefile"

	"github.com/layerdiff/layerdiff/analyze"
	"github.com/layerdiff/layerdiff/internal/changes"
	"github.com/layerdiff/layerdiff/internal/image"
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
	// ImageOptions are passed to every image load (transport, keychain) after the defaults.
	ImageOptions []image.Option
}

// Analyze reads both images and the Dockerfile and returns the report, gates evaluated. The
// returned error names the input at fault; the report's Warnings hold what was degraded.
func Analyze(ctx context.Context, opts Options) (*analyze.Report, error) {
	if opts.Head == "" {
		return nil, errors.New("no head image given")
	}
	if (opts.BaseCommit == "") != (opts.HeadCommit == "") {
		return nil, errors.New("--base-commit and --head-commit go together: give both or neither")
	}
	if opts.Repo == "" {
		opts.Repo = "."
	}
	var warnings []string
	in := analyze.Input{}

	dfPath, dfData, err := readDockerfile(opts.Dockerfile, opts.Context)
	if err != nil {
		return nil, err
	}
	if dfData != nil {
		in.DockerfilePath = dfPath
		df, err := analyze.ParseDockerfile(dfData)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("the Dockerfile %q does not parse (%s): steps are not mapped to Dockerfile lines", dfPath, oneLine(err)))
		} else {
			in.Dockerfile = df
		}
	}
	contextDir := opts.Context
	if contextDir == "" {
		contextDir = "."
		if dfPath != "" {
			contextDir = filepath.Dir(dfPath)
		}
	}

	files := opts.ChangedFiles
	if files == nil && opts.BaseCommit != "" {
		files, err = changes.FromGit(ctx, opts.Repo, opts.BaseCommit, opts.HeadCommit)
		if err != nil {
			return nil, fmt.Errorf("listing changed files in %q: %w", opts.Repo, err)
		}
	}
	if files != nil {
		rel, err := relativeTo(opts.Repo, contextDir)
		if err != nil {
			return nil, fmt.Errorf("build context %q: %w", contextDir, err)
		}
		ignore, err := readDockerignore(contextDir, dfPath)
		var outside *ignoreOutsideError
		switch {
		case errors.As(err, &outside):
			warnings = append(warnings, "the .dockerignore "+outside.Error())
		case err != nil:
			return nil, err
		}
		if n := ignoreBytes(ignore); n*len(files) > maxIgnoreWork {
			// Matching takes time in proportion to both; a hostile .dockerignore must not stall
			// the run (three long "**/" patterns against 10,000 files took 19 s).
			warnings = append(warnings, fmt.Sprintf("the .dockerignore (%d patterns, %d bytes) is too large to match against %d changed files: it is not applied, so a file it excludes may be named as a cause", len(ignore), n, len(files)))
			ignore = nil
		}
		in.Changes = &analyze.Changes{Files: files, Context: rel, Ignore: ignore}
	}
	if opts.BaseCommit != "" && dfPath != "" {
		if rel, err := relativeTo(opts.Repo, dfPath); err == nil {
			if data, ok := changes.Show(ctx, opts.Repo, opts.BaseCommit, rel); ok {
				if df, err := analyze.ParseDockerfile(data); err == nil {
					in.BaseDockerfile = df
				}
			}
		}
	}

	base, head, err := loadImages(ctx, opts)
	if err != nil {
		return nil, err
	}
	if opts.Base != "" && base == nil {
		warnings = append(warnings, fmt.Sprintf("the base image %q does not exist: every step is reported as no-base", opts.Base))
	}
	in.Base, in.Head = base, head
	r, err := analyze.Analyze(in)
	if err != nil {
		return nil, err
	}
	r.Warnings = append(warnings, r.Warnings...)
	analyze.EvaluateGates(r, opts.Limits)
	return r, nil
}

// loadImages reads both images at once; a base that does not exist is not an error.
func loadImages(ctx context.Context, opts Options) (base, head *analyze.Image, err error) {
	imgOpts := []image.Option{image.WithUserAgent("layerdiff/" + Version)}
	if opts.Username != "" || opts.Password != "" {
		imgOpts = append(imgOpts, image.WithAuth(opts.Username, opts.Password))
	}
	imgOpts = append(imgOpts, opts.ImageOptions...)
	var wg sync.WaitGroup
	var baseErr, headErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		head, headErr = image.Load(ctx, opts.Head, opts.Platform, imgOpts...)
	}()
	if opts.Base != "" {
		base, baseErr = image.Load(ctx, opts.Base, opts.Platform, imgOpts...)
	}
	wg.Wait()
	if headErr != nil {
		return nil, nil, fmt.Errorf("reading head image %q: %w", opts.Head, headErr)
	}
	if baseErr != nil {
		if errors.Is(baseErr, image.ErrNotFound) {
			return nil, head, nil
		}
		return nil, nil, fmt.Errorf("reading base image %q: %w", opts.Base, baseErr)
	}
	return base, head, nil
}

// readDockerfile finds the Dockerfile: the one given must exist; the default may be absent.
func readDockerfile(path, contextDir string) (string, []byte, error) {
	explicit := path != ""
	if !explicit {
		path = "Dockerfile"
		if contextDir != "" {
			path = filepath.Join(contextDir, "Dockerfile")
		}
	}
	data, err := readRegular(path)
	switch {
	case err == nil:
		return path, data, nil
	case !explicit && errors.Is(err, os.ErrNotExist):
		return "", nil, nil
	}
	return "", nil, fmt.Errorf("reading Dockerfile %q: %w", path, unwrapPathError(err))
}

// readDockerignore reads <Dockerfile>.dockerignore next to the Dockerfile, else the context's
// .dockerignore, as BuildKit does.
func readDockerignore(contextDir, dfPath string) ([]string, error) {
	candidates := []string{filepath.Join(contextDir, ".dockerignore")}
	if dfPath != "" {
		candidates = append([]string{dfPath + ".dockerignore"}, candidates...)
	}
	for _, p := range candidates {
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			continue
		}
		// BuildKit sees only the files of the directory it is sent, so a .dockerignore that
		// links out of it is not applied; nor is it read, as it may be a secret or a device.
		if !insideDir(p) {
			return nil, &ignoreOutsideError{path: p}
		}
		data, err := readRegular(p)
		if err != nil {
			return nil, fmt.Errorf("reading %q: %w", p, unwrapPathError(err))
		}
		patterns, err := ignorefile.ReadAll(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("reading %q: %w", p, err)
		}
		return patterns, nil
	}
	return nil, nil
}

type ignoreOutsideError struct{ path string }

func (e *ignoreOutsideError) Error() string {
	return fmt.Sprintf("%q links outside its directory: it is not applied", e.path)
}

// insideDir reports whether p, symlinks resolved, stays in the (resolved) directory holding it.
func insideDir(p string) bool {
	dir, err := filepath.EvalSymlinks(filepath.Dir(p))
	if err != nil {
		return false
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(dir, real)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// maxFileSize bounds the Dockerfile and .dockerignore read; a 5 MB Dockerfile parses in 0.4 s.
const maxFileSize = 16 << 20

// readRegular reads a regular file of at most maxFileSize bytes: a FIFO or a device (a
// Dockerfile linked to /dev/zero) would hang the run or exhaust its memory.
func readRegular(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("larger than %d MiB", maxFileSize>>20)
	}
	return data, nil
}

// maxIgnoreWork bounds .dockerignore bytes × changed files, about 2 s of matching.
const maxIgnoreWork = 64 << 20

func ignoreBytes(patterns []string) int {
	n := 0
	for _, p := range patterns {
		n += len(p)
	}
	return n
}

// relativeTo is target's path inside root, slash-separated; an error when it is outside.
func relativeTo(root, target string) (string, error) {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	absTarget, err := filepath.Abs(target)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(absRoot, absTarget)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("it is outside the repository %q", root)
	}
	return filepath.ToSlash(rel), nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
