package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/layerdiff/layerdiff/analyze"
)

// Caps on what Load reads into memory. Real manifests are a few KiB and configs rarely reach
// 1 MiB; the caps only stop a broken or hostile source from exhausting memory.
const (
	maxManifestSize = 4 << 20
	maxConfigSize   = 32 << 20
)

// maxLayerSize bounds a layer's size in a manifest (1 TiB). Even the most layers a manifest
// can list within maxManifestSize sum far below int64's limit.
const maxLayerSize = 1 << 40

// maxIndexDepth is how many indexes Load follows before a manifest: a layout's index.json
// entry may itself be a multi-platform index.
const maxIndexDepth = 2

var errSchema1 = errors.New("docker schema 1 manifests are not supported")

// fetcher reads manifests and config blobs by digest from one source.
type fetcher interface {
	manifest(ctx context.Context, d v1.Hash) ([]byte, error)
	config(ctx context.Context, d v1.Hash) ([]byte, error)
}

// manifestBlob is a manifest or index as a source returned it.
type manifestBlob struct {
	raw    []byte
	digest v1.Hash
	// mediaType is what the source said (Content-Type or descriptor); it may be empty.
	mediaType types.MediaType
}

// resolve follows indexes from m down to the manifest for want and reads that image.
func resolve(ctx context.Context, f fetcher, m manifestBlob, want platform) (*analyze.Image, error) {
	for depth := 0; ; depth++ {
		isIndex, err := classify(m.raw, m.mediaType)
		if err != nil {
			return nil, err
		}
		if !isIndex {
			return readImage(ctx, f, m)
		}
		if depth == maxIndexDepth {
			return nil, errors.New("image indexes are nested too deeply")
		}
		var idx v1.IndexManifest
		if err := json.Unmarshal(m.raw, &idx); err != nil {
			return nil, fmt.Errorf("invalid image index: %w", err)
		}
		d, err := pickManifest(idx.Manifests, want)
		if err != nil {
			return nil, err
		}
		raw, err := f.manifest(ctx, d.Digest)
		if err != nil {
			return nil, err
		}
		m = manifestBlob{raw: raw, digest: d.Digest, mediaType: d.MediaType}
	}
}

// classify tells an index from an image manifest. It trusts a known media type from the source,
// then the document's own mediaType, then its shape, because registries and layouts in the wild
// omit or generalise media types (e.g. "application/json").
func classify(raw []byte, mediaType types.MediaType) (isIndex bool, err error) {
	if known, isIndex, err := knownMediaType(mediaType); known {
		return isIndex, err
	}
	var probe struct {
		SchemaVersion int             `json:"schemaVersion"`
		MediaType     types.MediaType `json:"mediaType"`
		Manifests     json.RawMessage `json:"manifests"`
		Config        json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return false, fmt.Errorf("invalid manifest: %w", err)
	}
	if known, isIndex, err := knownMediaType(probe.MediaType); known {
		return isIndex, err
	}
	switch {
	case probe.SchemaVersion == 1:
		return false, errSchema1
	case probe.Manifests != nil:
		return true, nil
	case probe.Config != nil:
		return false, nil
	}
	mt := probe.MediaType
	if mt == "" {
		mt = mediaType
	}
	return false, fmt.Errorf("unsupported manifest (media type %q)", mt)
}

func knownMediaType(mt types.MediaType) (known, isIndex bool, err error) {
	switch mt {
	case types.OCIImageIndex, types.DockerManifestList:
		return true, true, nil
	case types.OCIManifestSchema1, types.DockerManifestSchema2:
		return true, false, nil
	case types.DockerManifestSchema1, types.DockerManifestSchema1Signed:
		return true, false, errSchema1
	case "application/vnd.oci.artifact.manifest.v1+json":
		return true, false, fmt.Errorf("not a container image (manifest media type %s)", mt)
	}
	return false, false, nil
}

// readImage reads an image manifest and its config.
func readImage(ctx context.Context, f fetcher, m manifestBlob) (*analyze.Image, error) {
	var mf v1.Manifest
	if err := json.Unmarshal(m.raw, &mf); err != nil {
		return nil, fmt.Errorf("invalid manifest: %w", err)
	}
	if mf.Config.Digest == (v1.Hash{}) {
		return nil, errors.New("invalid manifest: no config descriptor")
	}
	switch mt := mf.Config.MediaType; mt {
	// An empty media type is tolerated: parsing the config below still checks it.
	case types.OCIConfigJSON, types.DockerConfigJSON, "":
	default:
		return nil, fmt.Errorf("not a container image (config media type %s)", mt)
	}
	raw, err := f.config(ctx, mf.Config.Digest)
	if err != nil {
		return nil, err
	}
	cfg, err := parseConfig(raw)
	if err != nil {
		return nil, err
	}
	layers := make([]analyze.ImageLayer, len(mf.Layers))
	for i, l := range mf.Layers {
		// Sizes are summed into the report's totals; one impossible size would make every
		// figure wrong rather than fail.
		if l.Size < 0 || l.Size > maxLayerSize {
			return nil, fmt.Errorf("invalid manifest: layer %d has an impossible size %d", i+1, l.Size)
		}
		layers[i] = analyze.ImageLayer{Digest: l.Digest.String(), Size: l.Size, MediaType: string(l.MediaType)}
	}
	return cfg.image(m.digest.String(), layers), nil
}
