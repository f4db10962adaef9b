package image

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/layerdiff/layerdiff/analyze"
)

// configFile is the part of an image config that Load reports. It is decoded leniently (dates
// as strings, digests unchecked) so that one odd field from some builder does not hide the
// history the analysis needs.
type configFile struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant"`
	RootFS       struct {
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
	History []struct {
		Created    string `json:"created"`
		CreatedBy  string `json:"created_by"`
		Comment    string `json:"comment"`
		EmptyLayer bool   `json:"empty_layer"`
	} `json:"history"`
}

func parseConfig(raw []byte) (*configFile, error) {
	var c configFile
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("invalid image config: %w", err)
	}
	return &c, nil
}

// image combines the manifest's layers (diff IDs not yet set) with the config.
func (c *configFile) image(digest string, layers []analyze.ImageLayer) *analyze.Image {
	img := &analyze.Image{Digest: digest, Layers: layers}
	if c.OS != "" || c.Architecture != "" {
		img.Platform = platform{os: c.OS, arch: c.Architecture, variant: c.Variant}.String()
	}
	for i := range img.Layers {
		// A shorter diff_ids list is the analysis's problem to report, not a reason to fail.
		if i < len(c.RootFS.DiffIDs) {
			img.Layers[i].DiffID = c.RootFS.DiffIDs[i]
		}
	}
	for _, h := range c.History {
		img.History = append(img.History, analyze.HistoryEntry{
			Created:    parseTime(h.Created),
			CreatedBy:  h.CreatedBy,
			Comment:    h.Comment,
			EmptyLayer: h.EmptyLayer,
		})
	}
	return img
}

// parseTime returns the zero time for a missing or malformed date rather than failing.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
