package changes

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// FromGit lists the paths that differ between two commits of the repository at dir, relative to
// its root. Renames count as a deletion and an addition, since a build sees both paths.
func FromGit(ctx context.Context, dir, base, head string) ([]string, error) {
	for _, rev := range []string{base, head} {
		if strings.HasPrefix(rev, "-") {
			return nil, fmt.Errorf("%q is not a revision", rev)
		}
		if _, err := git(ctx, dir, "cat-file", "-e", rev+"^{commit}"); err != nil {
			return nil, fmt.Errorf("commit %q is not in the repository (fetch it, e.g. actions/checkout with fetch-depth: 0)", rev)
		}
	}
	out, err := git(ctx, dir, "diff", "--name-only", "--no-renames", "-z", base, head, "--")
	if err != nil {
		return nil, err
	}
	var files []string
	for _, f := range bytes.Split(out, []byte{0}) {
		if len(f) > 0 {
			files = append(files, string(f))
		}
	}
	return files, nil
}

// Show returns a file's content at a commit, or ok=false when it isn't there.
func Show(ctx context.Context, dir, rev, path string) ([]byte, bool) {
	if strings.HasPrefix(rev, "-") {
		return nil, false
	}
	out, err := git(ctx, dir, "show", rev+":"+path)
	if err != nil {
		return nil, false
	}
	return out, true
}

// Prefix is the path of dir relative to the root of its git work tree ("" at the root).
func Prefix(ctx context.Context, dir string) (string, error) {
	out, err := git(ctx, dir, "rev-parse", "--show-prefix")
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(strings.TrimSpace(string(out)), "/"), nil
}

func git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir, "-c", "core.quotepath=off"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			msg := strings.TrimSpace(strings.SplitN(stderr.String(), "\n", 2)[0])
			return nil, fmt.Errorf("git %s: %s", args[0], msg)
		}
		return nil, fmt.Errorf("running git: %w", err)
	}
	return out, nil
}

// FromList reads one path per line; blank lines and lines starting with # are skipped.
func FromList(r io.Reader) ([]string, error) {
	files := []string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		files = append(files, line)
	}
	return files, sc.Err()
}
