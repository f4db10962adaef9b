package image

import (
	"context"
	"errors"
	"strings"

	"github.com/layerdiff/layerdiff/analyze"
)

// ErrNotFound reports that the image does not exist: the registry has no such repository, tag or
// digest, the archive or layout is missing, or the tag is not in it. Callers use it to tell "no
// base image yet" from a failure.
var ErrNotFound = errors.New("image not found")

// Source prefixes of a reference; anything else is a registry reference.
const (
	prefixOCI           = "oci:"
	prefixOCIArchive    = "oci-archive:"
	prefixDockerArchive = "docker-archive:"
)

// Load reads one image's manifest and config (never a layer blob).
//
// ref is a registry reference ("127.0.0.1:5000/app:head", "ghcr.io/o/r@sha256:…"),
// "oci:DIR[:TAG|@DIGEST]", "oci-archive:FILE[:TAG|@DIGEST]" or "docker-archive:FILE[:TAG]".
// platform ("os/arch[/variant]", default "linux/amd64") picks the manifest from an index; a
// single-platform image is returned whatever it says.
//
// Errors do not repeat ref; callers wrap them once with it.
func Load(ctx context.Context, ref string, platform string, opts ...Option) (*analyze.Image, error) {
	want, err := parsePlatform(platform)
	if err != nil {
		return nil, err
	}
	var img *analyze.Image
	switch {
	case strings.HasPrefix(ref, prefixOCI):
		img, err = loadOCIDir(ctx, strings.TrimPrefix(ref, prefixOCI), want)
	case strings.HasPrefix(ref, prefixOCIArchive):
		img, err = loadOCIArchive(ctx, strings.TrimPrefix(ref, prefixOCIArchive), want)
	case strings.HasPrefix(ref, prefixDockerDaemon):
		img, err = loadDaemon(ctx, strings.TrimPrefix(ref, prefixDockerDaemon))
	case strings.HasPrefix(ref, prefixDockerArchive):
		img, err = loadDockerArchive(ctx, strings.TrimPrefix(ref, prefixDockerArchive))
	default:
		img, err = loadRemote(ctx, ref, want, makeOptions(opts))
	}
	if err != nil {
		return nil, err
	}
	img.Reference = ref
	return img, nil
}
