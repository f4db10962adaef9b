package action

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// workspace is GITHUB_WORKSPACE, resolved: the only directory the action reads files from.
type workspace struct {
	dir string // absolute, symlinks resolved
}

func newWorkspace(dir string) (workspace, error) {
	if dir == "" {
		var err error
		if dir, err = os.Getwd(); err != nil {
			return workspace{}, err
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return workspace{}, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return workspace{}, fmt.Errorf("workspace %s: %w", dir, err)
	}
	return workspace{dir: real}, nil
}

func (w workspace) contains(p string) bool {
	rel, err := filepath.Rel(w.dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// errOutside is returned for a path that leaves the workspace, directly or through a symlink.
var errOutside = errors.New("is outside the workspace")

// resolve maps a path given in an input (relative to the workspace, or absolute inside it) to
// an absolute path with every symlink resolved, and refuses it when that leaves the workspace.
// A path that does not exist is resolved as far as it exists; fs.ErrNotExist is returned with it.
func (w workspace) resolve(p string) (abs, rel string, err error) {
	if p == "" {
		p = "."
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(w.dir, p)
	}
	p = filepath.Clean(p)
	if !w.contains(p) {
		return "", "", errOutside
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return "", "", err
		}
		// Resolve the part that exists, so a dangling path through a symlinked directory is
		// still caught.
		dir, tail := filepath.Dir(p), filepath.Base(p)
		for {
			rd, derr := filepath.EvalSymlinks(dir)
			if derr == nil {
				real = filepath.Join(rd, tail)
				break
			}
			if !errors.Is(derr, fs.ErrNotExist) || dir == filepath.Dir(dir) {
				return "", "", derr
			}
			tail = filepath.Join(filepath.Base(dir), tail)
			dir = filepath.Dir(dir)
		}
		if !w.contains(real) {
			return "", "", errOutside
		}
		rel, _ = filepath.Rel(w.dir, real)
		return real, filepath.ToSlash(rel), fs.ErrNotExist
	}
	if !w.contains(real) {
		return "", "", errOutside
	}
	rel, _ = filepath.Rel(w.dir, real)
	return real, filepath.ToSlash(rel), nil
}

// archivePrefixes are the image references that name a file or directory.
var archivePrefixes = []string{"oci-archive:", "docker-archive:", "oci:"}

// confineReference rewrites a reference to an archive or OCI layout so that it names an
// absolute path inside the workspace, and refuses one outside it. Registry and daemon references
// pass unchanged.
func (w workspace) confineReference(ref string) (string, error) {
	for _, prefix := range archivePrefixes {
		if !strings.HasPrefix(ref, prefix) {
			continue
		}
		p := strings.TrimPrefix(ref, prefix)
		// An image in a layout or archive may be selected with "path:tag" (or "path@digest" in
		// a layout); the path is what must stay in the workspace.
		suffix := ""
		if i := strings.LastIndex(p, "@"); prefix == "oci:" && i > 0 {
			p, suffix = p[:i], p[i:]
		} else if i := strings.LastIndex(p, ":"); i > 0 && !strings.Contains(p[i:], "/") {
			p, suffix = p[:i], p[i:]
		}
		abs, _, err := w.resolve(p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return prefix + abs + suffix, nil
	}
	return ref, nil
}

// registryHost returns the registry of a registry reference ("ghcr.io" for
// "ghcr.io/acme/app:1"), and false for archives, layouts and the Docker daemon.
func registryHost(ref string) (string, bool) {
	if ref == "" || strings.HasPrefix(ref, "docker-daemon:") {
		return "", false
	}
	for _, prefix := range archivePrefixes {
		if strings.HasPrefix(ref, prefix) {
			return "", false
		}
	}
	ref = strings.TrimPrefix(ref, "docker://")
	first, _, found := strings.Cut(ref, "/")
	if found && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return strings.ToLower(first), true
	}
	return "index.docker.io", true
}

// repository strips the tag and digest from a registry reference, for the comment's title.
func repository(ref string) string {
	if _, ok := registryHost(ref); !ok {
		return ref
	}
	ref = strings.TrimPrefix(ref, "docker://")
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}
