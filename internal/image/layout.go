package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/layerdiff/layerdiff/analyze"
)

// Annotations that name the images of a layout's index.json. BuildKit and containerd write the
// tag in the first and the full name in the second.
const (
	annotationRefName       = "org.opencontainers.image.ref.name"
	annotationContainerName = "io.containerd.image.name"
)

// files reads the named (slash-separated, relative) files of a layout, directory or archive,
// failing with fs.ErrNotExist for a missing one.
type files interface {
	read(name string, max int64) ([]byte, error)
}

func loadOCIDir(ctx context.Context, s string, want platform) (*analyze.Image, error) {
	dir, tag, digest, err := splitPathRef(s, true)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w: the layout directory does not exist", ErrNotFound)
	case err != nil:
		return nil, err
	case !fi.IsDir():
		return nil, errors.New("not an OCI layout: not a directory")
	}
	return loadLayout(ctx, dirFiles(dir), tag, digest, want)
}

type dirFiles string

func (d dirFiles) read(name string, max int64) ([]byte, error) {
	f, err := os.Open(filepath.Join(string(d), filepath.FromSlash(name)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, max)
}

// loadLayout picks the image of an OCI layout by tag, by digest, or as its only image.
func loadLayout(ctx context.Context, fsys files, tag string, digest *v1.Hash, want platform) (*analyze.Image, error) {
	raw, err := fsys.read("index.json", maxManifestSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errors.New("not an OCI layout: no index.json")
	} else if err != nil {
		return nil, fmt.Errorf("reading index.json: %w", err)
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("invalid index.json: %w", err)
	}
	f := layoutFetcher{fsys}
	if digest != nil {
		return f.loadDigest(ctx, idx.Manifests, *digest, want)
	}
	entries, err := layoutEntries(idx.Manifests, tag)
	if err != nil {
		return nil, err
	}
	d := entries[0]
	// Several entries left (no tags, or one tag on each platform's manifest) are the platforms
	// of one image, as in an index.
	if len(entries) > 1 {
		if d, err = pickManifest(entries, want); err != nil {
			return nil, err
		}
	}
	m, err := f.manifest(ctx, d.Digest)
	if err != nil {
		return nil, err
	}
	return resolve(ctx, f, manifestBlob{raw: m, digest: d.Digest, mediaType: d.MediaType}, want)
}

// layoutEntries returns the index.json entries named by tag, or all of them when tag is empty
// and they do not name different images.
func layoutEntries(all []v1.Descriptor, tag string) ([]v1.Descriptor, error) {
	var tags []string
	for _, d := range all {
		if t := d.Annotations[annotationRefName]; t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	slices.Sort(tags)
	if tag == "" {
		switch {
		case len(all) == 0:
			return nil, errors.New("the layout holds no images")
		case len(tags) > 1:
			return nil, fmt.Errorf("the layout holds %d images; choose one by tag: %s", len(tags), strings.Join(tags, ", "))
		}
		return all, nil
	}
	var match []v1.Descriptor
	for _, d := range all {
		if d.Annotations[annotationRefName] == tag || d.Annotations[annotationContainerName] == tag {
			match = append(match, d)
		}
	}
	if len(match) == 0 {
		have := "no tags"
		if len(tags) > 0 {
			have = "tags " + strings.Join(tags, ", ")
		}
		return nil, fmt.Errorf("%w: tag %q is not in the layout (it has %s)", ErrNotFound, tag, have)
	}
	return match, nil
}

// layoutFetcher reads the blobs of a layout and checks each against its digest, since nothing
// else has.
type layoutFetcher struct {
	files files
}

func (l layoutFetcher) loadDigest(ctx context.Context, entries []v1.Descriptor, d v1.Hash, want platform) (*analyze.Image, error) {
	m := manifestBlob{digest: d}
	// The descriptor's media type helps when the manifest omits its own; a child manifest of a
	// multi-platform image is not listed in index.json and is read by digest alone.
	for _, e := range entries {
		if e.Digest == d {
			m.mediaType = e.MediaType
		}
	}
	raw, err := l.blob(d, maxManifestSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: manifest %s is not in the layout", ErrNotFound, d)
	} else if err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", d, err)
	}
	m.raw = raw
	return resolve(ctx, l, m, want)
}

func (l layoutFetcher) manifest(_ context.Context, d v1.Hash) ([]byte, error) {
	b, err := l.blob(d, maxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", d, err)
	}
	return b, nil
}

func (l layoutFetcher) config(_ context.Context, d v1.Hash) ([]byte, error) {
	b, err := l.blob(d, maxConfigSize)
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", d, err)
	}
	return b, nil
}

func (l layoutFetcher) blob(d v1.Hash, max int64) ([]byte, error) {
	b, err := l.files.read("blobs/"+d.Algorithm+"/"+d.Hex, max)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob is missing: %w", fs.ErrNotExist)
	} else if err != nil {
		return nil, err
	}
	if err := verify(b, d); err != nil {
		return nil, err
	}
	return b, nil
}

func verify(b []byte, d v1.Hash) error {
	h, err := v1.Hasher(d.Algorithm)
	if err != nil {
		return err
	}
	h.Write(b)
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != d.Hex {
		return fmt.Errorf("content does not match its digest (got %s:%s)", d.Algorithm, got)
	}
	return nil
}
