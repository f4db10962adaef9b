package analyze

import "time"

// Image is what the analysis needs of one image: its manifest's layers and its config's history.
// Sources fill it from a registry or an archive; nothing here fetches anything.
type Image struct {
	// Reference is the reference as the user gave it (e.g. "oci-archive:head.tar").
	Reference string
	// Digest is the digest of the platform manifest.
	Digest string
	// Platform is "os/arch[/variant]" from the config.
	Platform string
	// Layers are the manifest's layers in order, each with the config's diff_id at the same index
	// (empty when rootfs.diff_ids is shorter than the manifest's layers).
	Layers []ImageLayer
	// History is the config's history, in order.
	History []HistoryEntry
}

// ImageLayer is one manifest layer.
type ImageLayer struct {
	Digest    string
	DiffID    string
	Size      int64
	MediaType string
}

// HistoryEntry is one entry of the config's history.
type HistoryEntry struct {
	Created    time.Time
	CreatedBy  string
	Comment    string
	EmptyLayer bool
}
