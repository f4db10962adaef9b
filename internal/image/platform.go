package image

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const defaultPlatform = "linux/amd64"

// platform is an "os/arch[/variant]" as written by the user or found in an index.
type platform struct {
	os, arch, variant string
}

func (p platform) String() string {
	s := p.os + "/" + p.arch
	if p.variant != "" {
		s += "/" + p.variant
	}
	return s
}

func parsePlatform(s string) (platform, error) {
	if s == "" {
		s = defaultPlatform
	}
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || slices.Contains(parts, "") {
		return platform{}, fmt.Errorf("invalid platform %q: want os/arch[/variant]", s)
	}
	p := platform{os: parts[0], arch: parts[1]}
	if len(parts) == 3 {
		p.variant = parts[2]
	}
	return p, nil
}

// matches compares the way container runtimes do, so that "linux/arm64" finds an entry
// written as arm64/v8 and "linux/arm" finds arm/v7.
func (p platform) matches(o platform) bool {
	return p.os == o.os && normArch(p.arch) == normArch(o.arch) &&
		normVariant(normArch(p.arch), p.variant) == normVariant(normArch(o.arch), o.variant)
}

func normArch(arch string) string {
	switch arch {
	case "x86_64", "x86-64":
		return "amd64"
	case "aarch64":
		return "arm64"
	}
	return arch
}

func normVariant(arch, variant string) string {
	switch {
	case arch == "arm64" && variant == "":
		return "v8"
	case arch == "arm" && variant == "":
		return "v7"
	case arch == "amd64" && variant == "v1":
		return ""
	}
	return variant
}

// isAttestation reports index entries that carry provenance or SBOMs rather than an image;
// BuildKit adds one per platform.
func isAttestation(d v1.Descriptor) bool {
	if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
		return true
	}
	return d.Platform != nil && d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown"
}

// pickManifest chooses the index entry for want.
func pickManifest(entries []v1.Descriptor, want platform) (v1.Descriptor, error) {
	var cands []v1.Descriptor
	for _, d := range entries {
		if !isAttestation(d) {
			cands = append(cands, d)
		}
	}
	if len(cands) == 0 {
		return v1.Descriptor{}, errors.New("the image index lists no images")
	}
	// One image without platform fields (as some layouts write it) leaves nothing to choose.
	if len(cands) == 1 && cands[0].Platform == nil {
		return cands[0], nil
	}
	var have []string
	for _, d := range cands {
		if d.Platform == nil {
			continue
		}
		p := platform{os: d.Platform.OS, arch: d.Platform.Architecture, variant: d.Platform.Variant}
		if want.matches(p) {
			return d, nil
		}
		if s := p.String(); !slices.Contains(have, s) {
			have = append(have, s)
		}
	}
	if len(have) == 0 {
		return v1.Descriptor{}, fmt.Errorf("platform %s not found; the image index has %d entries without a platform", want, len(cands))
	}
	slices.Sort(have)
	return v1.Descriptor{}, fmt.Errorf("platform %s not found; the image has %s", want, strings.Join(have, ", "))
}
