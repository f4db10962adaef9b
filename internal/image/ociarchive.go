package image

import (
	"context"

	"github.com/layerdiff/layerdiff/analyze"
)

// loadOCIArchive reads a tar of an OCI layout, as `buildctl --output type=oci` writes it, in place.
func loadOCIArchive(ctx context.Context, s string, want platform) (*analyze.Image, error) {
	p, tag, digest, err := splitPathRef(s, true)
	if err != nil {
		return nil, err
	}
	t, err := openTar(p)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	return loadLayout(ctx, t, tag, digest, want)
}
