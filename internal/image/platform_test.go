package image

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestPickManifest(t *testing.T) {
	entry := func(hex byte, os, arch, variant string) v1.Descriptor {
		d := v1.Descriptor{Digest: v1.Hash{Algorithm: "sha256", Hex: string(hex)}}
		if os != "" {
			d.Platform = &v1.Platform{OS: os, Architecture: arch, Variant: variant}
		}
		return d
	}
	attest := entry('z', "unknown", "unknown", "")
	armv6, armv7 := entry('6', "linux", "arm", "v6"), entry('7', "linux", "arm", "v7")
	arm64v8, amd := entry('8', "linux", "arm64", "v8"), entry('a', "linux", "amd64", "")
	annotated := entry('y', "linux", "amd64", "")
	annotated.Annotations = map[string]string{"vnd.docker.reference.type": "attestation-manifest"}
	all := []v1.Descriptor{attest, annotated, armv6, armv7, arm64v8, amd}

	for _, tc := range []struct {
		entries []v1.Descriptor
		want    string
		pick    byte
		err     string
	}{
		{all, "", 'a', ""},
		{all, "linux/amd64", 'a', ""},
		{all, "linux/x86_64", 'a', ""},
		{all, "linux/arm64", '8', ""},
		{all, "linux/arm64/v8", '8', ""},
		{[]v1.Descriptor{entry('9', "linux", "arm64", "")}, "linux/arm64/v8", '9', ""},
		{all, "linux/arm/v6", '6', ""},
		{all, "linux/arm/v7", '7', ""},
		{all, "linux/arm", '7', ""},
		{all, "windows/amd64", 0, "platform windows/amd64 not found; the image has linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8"},
		{[]v1.Descriptor{armv7}, "linux/amd64", 0, "platform linux/amd64 not found; the image has linux/arm/v7"},
		// One entry without platform information is simply the image.
		{[]v1.Descriptor{attest, entry('n', "", "", "")}, "linux/s390x", 'n', ""},
		{[]v1.Descriptor{entry('n', "", "", ""), entry('m', "", "", "")}, "linux/amd64", 0, "platform linux/amd64 not found; the image index has 2 entries without a platform"},
		{[]v1.Descriptor{attest}, "", 0, "the image index lists no images"},
		{nil, "", 0, "the image index lists no images"},
	} {
		want, err := parsePlatform(tc.want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pickManifest(tc.entries, want)
		switch {
		case tc.err != "":
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %q", tc.want, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.want, err)
		case got.Digest.Hex != string(tc.pick):
			t.Errorf("%q: picked %s, want %c", tc.want, got.Digest.Hex, tc.pick)
		}
	}
}

func TestParsePlatform(t *testing.T) {
	for in, want := range map[string]string{"": "linux/amd64", "linux/arm/v7": "linux/arm/v7", "windows/amd64": "windows/amd64"} {
		p, err := parsePlatform(in)
		if err != nil || p.String() != want {
			t.Errorf("parsePlatform(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, in := range []string{"linux", "linux/", "/amd64", "linux/arm/v7/x", "linux//v7"} {
		if _, err := parsePlatform(in); err == nil {
			t.Errorf("parsePlatform(%q): no error", in)
		}
	}
}
