package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/layerdiff/layerdiff/analyze"
)

// wantLegacy is what the legacy docker format can tell: the config digest stands in for the
// manifest digest and the diff ID for each layer's digest.
func wantLegacy(t *testing.T, ref string, img v1.Image) *analyze.Image {
	t.Helper()
	w := want(t, ref, img)
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	w.Digest = cfg.String()
	for i := range w.Layers {
		w.Layers[i].Digest = w.Layers[i].DiffID
		// tarball writes the compressed layer as <hex>.tar.gz, so the file size is the
		// compressed size.
		w.Layers[i].MediaType = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	}
	return w
}

func TestLoadDockerArchiveLegacy(t *testing.T) {
	head := buildImage(t, linuxAMD64, appSteps...)
	base := buildImage(t, linuxAMD64, appSteps[:3]...)
	file := filepath.Join(t.TempDir(), "images.tar")
	refs := map[name.Reference]v1.Image{}
	for tag, img := range map[string]v1.Image{"app:head": head, "registry.example.com/team/app:base": base} {
		r, err := name.NewTag(tag)
		if err != nil {
			t.Fatal(err)
		}
		refs[r] = img
	}
	if err := tarball.MultiRefWriteToFile(file, refs); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		tag string
		img v1.Image
	}{
		{"app:head", head},
		{"docker.io/library/app:head", head},
		{"registry.example.com/team/app:base", base},
	} {
		ref := "docker-archive:" + file + ":" + tc.tag
		got, err := Load(context.Background(), ref, "linux/arm64") // the platform does not apply
		if err != nil {
			t.Fatalf("%s: %v", tc.tag, err)
		}
		checkImage(t, got, wantLegacy(t, ref, tc.img))
	}
	got, err := Load(context.Background(), "docker-archive:"+file+":app:head", "")
	if err != nil {
		t.Fatal(err)
	}
	checkAppHistory(t, got)

	single := filepath.Join(t.TempDir(), "one.tar")
	if err := tarball.WriteToFile(single, name.MustParseReference("app:head"), head); err != nil {
		t.Fatal(err)
	}
	got, err = Load(context.Background(), "docker-archive:"+single, "")
	if err != nil {
		t.Fatal(err)
	}
	checkImage(t, got, wantLegacy(t, "docker-archive:"+single, head))

	for _, tc := range []struct {
		ref, want string
		notFound  bool
	}{
		{"docker-archive:" + file, "the archive holds 2 images; choose one by tag (it has tags", false},
		{"docker-archive:" + file + ":app:nope", `tag "app:nope" is not in the archive`, true},
		{"docker-archive:" + file + ".missing", "the archive file does not exist", true},
	} {
		_, err := Load(context.Background(), tc.ref, "")
		wantErr(t, err, tc.want)
		if errors.Is(err, ErrNotFound) != tc.notFound {
			t.Errorf("%s: errors.Is(ErrNotFound) = %v, want %v", tc.ref, !tc.notFound, tc.notFound)
		}
	}
}

// TestLoadDockerArchiveWithOCILayout builds what newer `docker save` and
// `buildctl --output type=docker` write: an OCI layout plus manifest.json pointing into blobs/.
func TestLoadDockerArchiveWithOCILayout(t *testing.T) {
	img := buildImage(t, linuxAMD64, appSteps...)
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		annotationContainerName: "docker.io/library/app:new", annotationRefName: "new",
	})); err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	entry := dockerManifest{Config: "blobs/sha256/" + cfg.Hex, RepoTags: []string{"app:new"}}
	for _, d := range layerDigests(t, img) {
		entry.Layers = append(entry.Layers, "blobs/sha256/"+strings.TrimPrefix(d, "sha256:"))
	}
	mj, err := json.Marshal([]dockerManifest{entry})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), mj, 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := map[string]bool{}
	for _, d := range layerDigests(t, img) {
		garbage[strings.TrimPrefix(d, "sha256:")] = true
	}
	file := filepath.Join(t.TempDir(), "new.tar")
	if err := os.WriteFile(file, tarDir(t, dir, "", garbage), 0o644); err != nil {
		t.Fatal(err)
	}

	ref := "docker-archive:" + file
	got, err := Load(context.Background(), ref, "")
	if err != nil {
		t.Fatal(err)
	}
	// Everything as in the registry: the manifest digest, compressed layer digests and sizes.
	checkImage(t, got, want(t, ref, img))
}

func TestLoadDockerArchiveBroken(t *testing.T) {
	build := func(files map[string]string) string {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for n, body := range files {
			tw.WriteHeader(&tar.Header{Name: n, Typeflag: tar.TypeReg, Size: int64(len(body)), Mode: 0o644})
			tw.Write([]byte(body))
		}
		tw.Close()
		f := filepath.Join(t.TempDir(), "x.tar")
		if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return "docker-archive:" + f
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no manifest.json", map[string]string{"index.json": "{}"}, "not a docker archive: no manifest.json"},
		{"invalid manifest.json", map[string]string{"manifest.json": `[{"Config":`}, "invalid manifest.json"},
		{"empty manifest.json", map[string]string{"manifest.json": `[]`}, "the archive holds no images"},
		{"missing config", map[string]string{"manifest.json": `[{"Config":"c.json","Layers":[]}]`}, "reading config c.json"},
		{"invalid config", map[string]string{"manifest.json": `[{"Config":"c.json","Layers":[]}]`, "c.json": `{"rootfs":`}, "invalid image config"},
		{"missing layer", map[string]string{"manifest.json": `[{"Config":"c.json","Layers":["l/layer.tar"]}]`, "c.json": `{}`}, "layer 1: l/layer.tar"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(context.Background(), build(tc.files), "")
			wantErr(t, err, tc.want)
		})
	}

	// Legacy docker save: <id>/layer.tar files, uncompressed; a short diff_ids list leaves the
	// extra layer without diff ID (and so without digest) rather than failing.
	config := `{"os":"linux","architecture":"arm64","variant":"v8","rootfs":{"diff_ids":["sha256:` + strings.Repeat("1", 64) + `"]},"history":[{"created":"not a date","created_by":"x"}]}`
	got, err := Load(context.Background(), build(map[string]string{
		"manifest.json": `[{"Config":"abc.json","RepoTags":["old:1"],"Layers":["l1/layer.tar","l2/layer.tar"]}]`,
		"abc.json":      config,
		"l1/layer.tar":  "aaaa",
		"l2/layer.tar":  "bbbbbbbb",
	}), "")
	if err != nil {
		t.Fatal(err)
	}
	wantLayers := []analyze.ImageLayer{
		{Digest: "sha256:" + strings.Repeat("1", 64), DiffID: "sha256:" + strings.Repeat("1", 64), Size: 4, MediaType: "application/vnd.docker.image.rootfs.diff.tar"},
		{Size: 8, MediaType: "application/vnd.docker.image.rootfs.diff.tar"},
	}
	checkImage(t, got, &analyze.Image{
		Reference: got.Reference,
		Digest:    fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(config))),
		Platform:  "linux/arm64/v8",
		Layers:    wantLayers,
		History:   []analyze.HistoryEntry{{CreatedBy: "x"}},
	})
}
