package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

var linuxARM64 = v1.Platform{OS: "linux", Architecture: "arm64"}

// testLayout is an OCI layout with three tagged entries: two images and a two-platform index.
type testLayout struct {
	dir                string
	head, base         v1.Image
	multiAMD, multiARM v1.Image
	multi              v1.ImageIndex
}

func writeLayout(t *testing.T, dir string) *testLayout {
	t.Helper()
	l := &testLayout{
		dir:      dir,
		head:     buildImage(t, linuxAMD64, appSteps...),
		base:     buildImage(t, linuxAMD64, appSteps[:3]...),
		multiAMD: buildImage(t, linuxAMD64, step{createdBy: "COPY amd64", size: 64 << 10}),
		multiARM: buildImage(t, linuxARM64, step{createdBy: "COPY arm64", size: 64 << 10}),
	}
	l.multi = mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: l.multiAMD, Descriptor: v1.Descriptor{Platform: &linuxAMD64}},
		mutate.IndexAddendum{Add: l.multiARM, Descriptor: v1.Descriptor{Platform: &linuxARM64}},
	)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for tag, img := range map[string]v1.Image{"head": l.head, "base": l.base} {
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{annotationRefName: tag})); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.AppendIndex(l.multi, layout.WithAnnotations(map[string]string{
		annotationRefName:       "multi",
		annotationContainerName: "docker.io/library/multi:2",
	})); err != nil {
		t.Fatal(err)
	}
	return l
}

func digestOf(t *testing.T, d interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// layoutCases are the selections both the directory and the archive form must honour.
func layoutCases(t *testing.T, l *testLayout) []struct {
	suffix, platform string
	img              v1.Image
} {
	return []struct {
		suffix, platform string
		img              v1.Image
	}{
		{":head", "", l.head},
		{":base", "linux/s390x", l.base}, // single-platform: the platform does not matter
		{":multi", "", l.multiAMD},
		{":multi", "linux/arm64", l.multiARM},
		{":docker.io/library/multi:2", "linux/arm64", l.multiARM},
		{"@" + digestOf(t, l.head), "", l.head},
		{"@" + digestOf(t, l.multi), "linux/arm64", l.multiARM},
		// A platform manifest is not listed in index.json but is still in the layout.
		{"@" + digestOf(t, l.multiARM), "", l.multiARM},
	}
}

func TestLoadOCIDir(t *testing.T) {
	l := writeLayout(t, t.TempDir())
	for _, tc := range layoutCases(t, l) {
		t.Run(tc.suffix+"/"+tc.platform, func(t *testing.T) {
			ref := "oci:" + l.dir + tc.suffix
			got, err := Load(context.Background(), ref, tc.platform)
			if err != nil {
				t.Fatal(err)
			}
			checkImage(t, got, want(t, ref, tc.img))
		})
	}
	head, err := Load(context.Background(), "oci:"+l.dir+":head", "")
	if err != nil {
		t.Fatal(err)
	}
	checkAppHistory(t, head)

	for _, tc := range []struct {
		ref, want string
		notFound  bool
	}{
		{"oci:" + l.dir, "the layout holds 3 images; choose one by tag: base, head, multi", false},
		{"oci:" + l.dir + ":nope", `tag "nope" is not in the layout (it has tags base, head, multi)`, true},
		{"oci:" + l.dir + "@sha256:" + strings.Repeat("0", 64), "is not in the layout", true},
		{"oci:" + l.dir + ":multi", "platform linux/s390x not found; the image has linux/amd64, linux/arm64", false},
		{"oci:" + filepath.Join(l.dir, "missing") + ":head", "the layout directory does not exist", true},
		{"oci:" + filepath.Join(l.dir, "index.json"), "not an OCI layout: not a directory", false},
		{"oci:" + filepath.Join(l.dir, "blobs"), "not an OCI layout: no index.json", false},
		{"oci:", "the path is missing", false},
	} {
		_, err := Load(context.Background(), tc.ref, "linux/s390x")
		wantErr(t, err, tc.want)
		if errors.Is(err, ErrNotFound) != tc.notFound {
			t.Errorf("%s: errors.Is(ErrNotFound) = %v, want %v", tc.ref, !tc.notFound, tc.notFound)
		}
	}
}

func TestLoadOCIDirWithColonAndSingleEntry(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "build:42")
	img := buildImage(t, linuxAMD64, appSteps...)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{annotationRefName: "app:1.0"})); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"oci:" + dir, "oci:" + dir + ":app:1.0"} {
		got, err := Load(context.Background(), ref, "")
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		checkImage(t, got, want(t, ref, img))
	}
}

func TestLoadOCIDirCorruptBlob(t *testing.T) {
	l := writeLayout(t, t.TempDir())
	cfg, err := l.head.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l.dir, "blobs", "sha256", cfg.Hex), []byte(`{"os":"linux"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(context.Background(), "oci:"+l.dir+":head", "")
	wantErr(t, err, "reading config "+cfg.String()+": content does not match its digest")
}

// layerBlobs returns the layer digests of every image in l; no archive test may read them.
func (l *testLayout) layerBlobs(t *testing.T) map[string]bool {
	blobs := map[string]bool{}
	for _, img := range []v1.Image{l.head, l.base, l.multiAMD, l.multiARM} {
		for _, d := range layerDigests(t, img) {
			blobs[strings.TrimPrefix(d, "sha256:")] = true
		}
	}
	return blobs
}

// tarDir archives dir with every entry named prefix+path. Layer blobs are replaced by garbage
// of the same size: reading them would fail any digest or gzip check.
func tarDir(t *testing.T, dir, prefix string, garbage map[string]bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		hdr := &tar.Header{Name: prefix + filepath.ToSlash(rel), Mode: 0o644}
		if d.IsDir() {
			hdr.Typeflag, hdr.Name = tar.TypeDir, hdr.Name+"/"
			return tw.WriteHeader(hdr)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if garbage[d.Name()] {
			b = bytes.Repeat([]byte{0xde, 0xad}, len(b)/2+1)[:len(b)]
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(b))
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLoadOCIArchive(t *testing.T) {
	l := writeLayout(t, t.TempDir())
	for _, prefix := range []string{"", "./"} {
		file := filepath.Join(t.TempDir(), "image.tar")
		if err := os.WriteFile(file, tarDir(t, l.dir, prefix, l.layerBlobs(t)), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, tc := range layoutCases(t, l) {
			t.Run(prefix+tc.suffix+"/"+tc.platform, func(t *testing.T) {
				ref := "oci-archive:" + file + tc.suffix
				got, err := Load(context.Background(), ref, tc.platform)
				if err != nil {
					t.Fatal(err)
				}
				checkImage(t, got, want(t, ref, tc.img))
			})
		}
	}

	for _, tc := range []struct {
		ref, want string
		notFound  bool
	}{
		{"oci-archive:" + filepath.Join(l.dir, "missing.tar") + ":head", "the archive file does not exist", true},
		{"oci-archive:" + l.dir, "not an archive: it is a directory", false},
		{"oci-archive:" + filepath.Join(l.dir, "index.json"), "not a tar archive", false},
	} {
		_, err := Load(context.Background(), tc.ref, "")
		wantErr(t, err, tc.want)
		if errors.Is(err, ErrNotFound) != tc.notFound {
			t.Errorf("%s: errors.Is(ErrNotFound) = %v, want %v", tc.ref, !tc.notFound, tc.notFound)
		}
	}
}

// recordingReaderAt remembers every byte range read.
type recordingReaderAt struct {
	r      io.ReaderAt
	mu     sync.Mutex
	ranges [][2]int64
}

func (r *recordingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.r.ReadAt(p, off)
	r.mu.Lock()
	r.ranges = append(r.ranges, [2]int64{off, off + int64(n)})
	r.mu.Unlock()
	return n, err
}

func TestOCIArchiveNeverReadsLayerBytes(t *testing.T) {
	l := writeLayout(t, t.TempDir())
	layers := l.layerBlobs(t)
	data := tarDir(t, l.dir, "./", nil) // real layer bytes this time
	rec := &recordingReaderAt{r: bytes.NewReader(data)}

	tf, err := indexTar(rec, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	arm, err := parsePlatform("linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"head", "base", "multi"} {
		if _, err := loadLayout(context.Background(), tf, tag, nil, arm); err != nil {
			t.Fatal(err)
		}
	}

	if len(layers) == 0 || len(rec.ranges) == 0 {
		t.Fatal("nothing to check")
	}
	for hex := range layers {
		e, err := tf.entry("blobs/sha256/" + hex)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rec.ranges {
			if r[0] < e.offset+e.size && e.offset < r[1] {
				t.Errorf("read [%d,%d) overlaps layer blob %s at [%d,%d)", r[0], r[1], hex[:12], e.offset, e.offset+e.size)
			}
		}
	}
}

func TestTarLinksAndTruncation(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	write := func(hdr *tar.Header, body string) {
		hdr.Size = int64(len(body))
		if hdr.Typeflag != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, body)
	}
	write(&tar.Header{Name: "./a/file", Typeflag: tar.TypeReg}, "hello")
	write(&tar.Header{Name: "b/sym", Typeflag: tar.TypeSymlink, Linkname: "../a/file"}, "")
	write(&tar.Header{Name: "hard", Typeflag: tar.TypeLink, Linkname: "./a/file"}, "")
	write(&tar.Header{Name: "loop", Typeflag: tar.TypeSymlink, Linkname: "loop"}, "")
	tw.Close()
	data := buf.Bytes()

	tf, err := indexTar(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a/file", "/a/file", "b/sym", "hard"} {
		b, err := tf.read(n, 100)
		if err != nil || string(b) != "hello" {
			t.Errorf("read(%q) = %q, %v", n, b, err)
		}
	}
	if _, err := tf.read("a/file", 2); err == nil {
		t.Error("no error over the size limit")
	}
	if _, err := tf.read("nope", 100); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing entry: %v", err)
	}
	if _, err := tf.read("loop", 100); err == nil {
		t.Error("no error for a link loop")
	}

	// Cut inside the first entry's content: the header scan must notice.
	cut := data[:512+3]
	if _, err := indexTar(bytes.NewReader(cut), int64(len(cut))); err == nil {
		t.Error("no error for a truncated archive")
	}
}
