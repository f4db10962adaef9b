package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// fuzzFetcher serves one config blob for any digest.
type fuzzFetcher struct{ rawManifest, rawConfig []byte }

func (f fuzzFetcher) manifest(context.Context, v1.Hash) ([]byte, error) { return f.rawManifest, nil }
func (f fuzzFetcher) config(context.Context, v1.Hash) ([]byte, error) {
	if f.rawConfig == nil {
		return nil, errors.New("no config")
	}
	return f.rawConfig, nil
}

// FuzzManifestAndConfig feeds arbitrary manifest and config documents (and media types) through
// the code that classifies, parses and reads them: no panic, and an image that comes out has one
// layer per manifest layer with sizes that cannot break the report's totals.
func FuzzManifestAndConfig(f *testing.F) {
	f.Add(`{"schemaVersion":2,"config":{"digest":"sha256:`+hex64+`"},"layers":[{"digest":"sha256:`+hex64+`","size":10}]}`,
		`{"os":"linux","architecture":"amd64","rootfs":{"diff_ids":["sha256:x"]},"history":[{"created_by":"RUN x"}]}`, string(types.OCIManifestSchema1))
	f.Add(`{"manifests":[{"digest":"sha256:`+hex64+`","platform":{"os":"linux","architecture":"amd64"}}]}`, `{}`, string(types.OCIImageIndex))
	f.Add(`{"schemaVersion":1}`, `null`, "application/json")
	f.Add(`{"config":{"digest":"sha256:`+hex64+`","mediaType":"application/vnd.cncf.helm.config.v1+json"}}`, `{"history":"x"}`, "")
	f.Add(`{"config":{"digest":"sha256:`+hex64+`"},"layers":[{"size":-1}]}`, `{"history":[[[[[]]]]]}`, "")
	f.Fuzz(func(t *testing.T, manifest, config, mediaType string) {
		sum := sha256.Sum256([]byte(manifest))
		m := manifestBlob{raw: []byte(manifest), digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}, mediaType: types.MediaType(mediaType)}
		img, err := resolve(context.Background(), fuzzFetcher{rawManifest: []byte(manifest), rawConfig: []byte(config)}, m, platform{os: "linux", arch: "amd64"})
		if err != nil {
			if img != nil {
				t.Fatal("an image and an error")
			}
			return
		}
		var total int64
		for _, l := range img.Layers {
			if l.Size < 0 || l.Size > maxLayerSize {
				t.Fatalf("layer size %d passed", l.Size)
			}
			total += l.Size
		}
		if total < 0 {
			t.Fatal("sizes overflow")
		}
	})
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
