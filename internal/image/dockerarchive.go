package image

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/layerdiff/layerdiff/analyze"
)

// dockerManifest is one image of a docker archive's manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// loadDockerArchive reads a `docker save` or `buildctl --output type=docker` tarball. Its
// manifest.json names the config and the layer files; a platform does not apply, as each
// entry is a single-platform image.
func loadDockerArchive(ctx context.Context, s string) (*analyze.Image, error) {
	p, tag, _, err := splitPathRef(s, false)
	if err != nil {
		return nil, err
	}
	t, err := openTar(p)
	if err != nil {
		return nil, err
	}
	defer t.Close()

	raw, err := t.read("manifest.json", maxManifestSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errors.New("not a docker archive: no manifest.json")
	} else if err != nil {
		return nil, err
	}
	var entries []dockerManifest
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("invalid manifest.json: %w", err)
	}
	m, err := pickDockerImage(entries, tag)
	if err != nil {
		return nil, err
	}
	cfgRaw, err := t.read(m.Config, maxConfigSize)
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", m.Config, err)
	}
	cfg, err := parseConfig(cfgRaw)
	if err != nil {
		return nil, err
	}
	cfgDigest := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(cfgRaw))}

	// The legacy format has no manifest, so the config digest (Docker's image ID) stands in for
	// the manifest digest; newer archives also hold an OCI layout with the real manifest.
	digest, ociLayers := cfgDigest.String(), []v1.Descriptor(nil)
	if d, mf := ociManifestFor(ctx, t, cfgDigest); mf != nil {
		digest, ociLayers = d.String(), mf.Layers
	}

	layers := make([]analyze.ImageLayer, len(m.Layers))
	for i, lp := range m.Layers {
		e, err := t.entry(lp)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i+1, err)
		}
		layers[i] = analyze.ImageLayer{Size: e.size, MediaType: layerMediaType(lp)}
		if len(ociLayers) == len(m.Layers) {
			layers[i].MediaType = string(ociLayers[i].MediaType)
		}
	}
	img := cfg.image(digest, layers)
	for i, lp := range m.Layers {
		// Layer files named by digest are content-addressed blobs; others (the legacy
		// "<id>/layer.tar") have only the diff ID to identify them.
		if hex, ok := strings.CutPrefix(cleanEntryName(lp), "blobs/sha256/"); ok {
			img.Layers[i].Digest = "sha256:" + hex
		} else {
			img.Layers[i].Digest = img.Layers[i].DiffID
		}
	}
	return img, nil
}

func pickDockerImage(entries []dockerManifest, tag string) (dockerManifest, error) {
	var tags []string
	for _, e := range entries {
		tags = append(tags, e.RepoTags...)
	}
	slices.Sort(tags)
	have := "no tags"
	if len(tags) > 0 {
		have = "tags " + strings.Join(tags, ", ")
	}
	if tag == "" {
		switch len(entries) {
		case 0:
			return dockerManifest{}, errors.New("the archive holds no images")
		case 1:
			return entries[0], nil
		}
		return dockerManifest{}, fmt.Errorf("the archive holds %d images; choose one by tag (it has %s)", len(entries), have)
	}
	for _, e := range entries {
		for _, rt := range e.RepoTags {
			if sameTag(rt, tag) {
				return e, nil
			}
		}
	}
	return dockerManifest{}, fmt.Errorf("%w: tag %q is not in the archive (it has %s)", ErrNotFound, tag, have)
}

// sameTag compares RepoTags the way docker does, so "app" finds "app:latest" and
// "docker.io/library/app:1" finds "app:1".
func sameTag(a, b string) bool {
	if a == b {
		return true
	}
	ra, errA := name.ParseReference(a)
	rb, errB := name.ParseReference(b)
	return errA == nil && errB == nil && ra.Name() == rb.Name()
}

func layerMediaType(p string) string {
	switch {
	case strings.HasSuffix(p, ".gz"), strings.HasSuffix(p, ".tgz"):
		return string(types.DockerLayer)
	case strings.HasSuffix(p, ".zst"):
		return string(types.OCILayerZStd)
	}
	// docker save writes layers uncompressed.
	return string(types.DockerUncompressedLayer)
}

// ociManifestFor finds, in the OCI layout that newer archives also carry, the manifest whose
// config is cfg. Any problem just means there is no such manifest.
func ociManifestFor(ctx context.Context, t *tarFiles, cfg v1.Hash) (v1.Hash, *v1.Manifest) {
	raw, err := t.read("index.json", maxManifestSize)
	if err != nil {
		return v1.Hash{}, nil
	}
	f := layoutFetcher{t}
	var walk func(raw []byte, depth int) (v1.Hash, *v1.Manifest)
	walk = func(raw []byte, depth int) (v1.Hash, *v1.Manifest) {
		var idx v1.IndexManifest
		if json.Unmarshal(raw, &idx) != nil {
			return v1.Hash{}, nil
		}
		for _, d := range idx.Manifests {
			b, err := f.manifest(ctx, d.Digest)
			if err != nil {
				continue // docker save may leave out other platforms' blobs
			}
			isIndex, err := classify(b, d.MediaType)
			switch {
			case err != nil:
			case isIndex && depth < maxIndexDepth:
				if h, mf := walk(b, depth+1); mf != nil {
					return h, mf
				}
			case !isIndex:
				var mf v1.Manifest
				if json.Unmarshal(b, &mf) == nil && mf.Config.Digest == cfg {
					return d.Digest, &mf
				}
			}
		}
		return v1.Hash{}, nil
	}
	return walk(raw, 0)
}
