package image

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSplitPathRef(t *testing.T) {
	tmp := t.TempDir()
	plain := filepath.Join(tmp, "img.tar")
	colon := filepath.Join(tmp, "build:42")
	for _, p := range []string{plain, colon} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	digest := "sha256:" + strings.Repeat("ab", 32)
	missing := filepath.Join(tmp, "missing.tar")

	for _, tc := range []struct {
		in, path, tag, digest string
	}{
		{plain, plain, "", ""},
		{plain + ":head", plain, "head", ""},
		{plain + ":app:1.0", plain, "app:1.0", ""}, // the file exists, so the tag may hold ':'
		{plain + ":", plain, "", ""},
		{colon, colon, "", ""},
		{colon + ":head", colon, "head", ""},
		{plain + "@" + digest, plain, "", digest},
		{plain + "@notadigest", plain + "@notadigest", "", ""},
		// Nothing exists: the last ':' starts a tag only when no '/' follows it.
		{missing + ":head", missing, "head", ""},
		{"rel:dir/sub", "rel:dir/sub", "", ""},
		{"rel:dir/sub:tag", "rel:dir/sub", "tag", ""},
	} {
		path, tag, d, err := splitPathRef(tc.in, true)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		var ds string
		if d != nil {
			ds = d.String()
		}
		if path != tc.path || tag != tc.tag || ds != tc.digest {
			t.Errorf("%q: got (%q, %q, %q), want (%q, %q, %q)", tc.in, path, tag, ds, tc.path, tc.tag, tc.digest)
		}
	}
	for _, in := range []string{"", ":tag", "@" + digest} {
		if _, _, _, err := splitPathRef(in, true); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	// Digests are not a docker-archive selector; "@…" is then part of the path.
	if path, _, d, _ := splitPathRef(plain+"@"+digest, false); d != nil || path != plain+"@sha256" {
		t.Errorf("docker-archive digest: path %q, digest %v", path, d)
	}
}
