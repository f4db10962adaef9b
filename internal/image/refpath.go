package image

import (
	"errors"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

var errMissingPath = errors.New("not a valid reference: the path is missing")

// splitPathRef splits "PATH[:TAG]" (and, with allowDigest, "PATH@DIGEST"). Paths may hold ':'
// themselves, so the longest prefix that exists on disk wins; when none exists the last ':'
// starts a tag only if what follows has no '/'. Tags may then hold ':' ("app:1.0").
func splitPathRef(s string, allowDigest bool) (path, tag string, digest *v1.Hash, err error) {
	if allowDigest {
		if i := strings.LastIndex(s, "@"); i >= 0 {
			if h, err := v1.NewHash(s[i+1:]); err == nil {
				s, digest = s[:i], &h
				if s == "" {
					return "", "", nil, errMissingPath
				}
				return s, "", digest, nil
			}
		}
	}
	path = s
	if !exists(s) {
		path = lastTagSplit(s)
		for i := len(s) - 1; i > 0; i-- {
			if s[i] == ':' && exists(s[:i]) {
				path = s[:i]
				break
			}
		}
	}
	if path == "" {
		return "", "", nil, errMissingPath
	}
	if len(path) < len(s) {
		tag = s[len(path)+1:]
	}
	return path, tag, nil, nil
}

func lastTagSplit(s string) string {
	if i := strings.LastIndex(s, ":"); i >= 0 && !strings.Contains(s[i+1:], "/") {
		return s[:i]
	}
	return s
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
