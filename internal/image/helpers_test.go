package image

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/layerdiff/layerdiff/analyze"
)

// testRegistry is go-containerregistry's in-memory registry on httptest, recording every
// request and optionally answering some paths itself.
type testRegistry struct {
	host string

	mu        sync.Mutex
	requests  []string // "METHOD PATH"
	overrides map[string]override
}

type override struct {
	status      int
	contentType string
	body        string
}

// newRegistry starts a registry; wrap (may be nil) sits in front of it, e.g. to require auth.
func newRegistry(t *testing.T, wrap func(http.Handler) http.Handler) *testRegistry {
	t.Helper()
	r := &testRegistry{overrides: map[string]override{}}
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.requests = append(r.requests, req.Method+" "+req.URL.Path)
		o, ok := r.overrides[req.URL.Path]
		r.mu.Unlock()
		if ok {
			w.Header().Set("Content-Type", o.contentType)
			w.WriteHeader(o.status)
			io.WriteString(w, o.body)
			return
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

func (r *testRegistry) ref(repoTag string) string { return r.host + "/" + repoTag }

func (r *testRegistry) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = nil
}

func (r *testRegistry) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.requests...)
}

func (r *testRegistry) override(path string, o override) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.overrides[path] = o
}

// step is one build step of a test image: a layer of size bytes, or an empty-layer entry.
type step struct {
	createdBy string
	size      int64 // 0: empty layer
}

var stamp = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// buildImage makes an OCI image for plat whose history is steps, in order.
func buildImage(t *testing.T, plat v1.Platform, steps ...step) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for i, s := range steps {
		add := mutate.Addendum{History: v1.History{
			CreatedBy: s.createdBy,
			Comment:   "buildkit.dockerfile.v0",
			Created:   v1.Time{Time: stamp.Add(time.Duration(i) * time.Second)},
		}}
		if s.size == 0 {
			add.History.EmptyLayer = true
		} else {
			l, err := random.Layer(s.size, types.OCILayer)
			if err != nil {
				t.Fatal(err)
			}
			add.Layer = l
			add.MediaType = types.OCILayer
		}
		var err error
		if img, err = mutate.Append(img, add); err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = plat.OS, plat.Architecture, plat.Variant
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

var appSteps = []step{
	{createdBy: "ADD rootfs.tar / # buildkit", size: 300},
	{createdBy: "ENV PATH=/usr/bin"},
	{createdBy: "WORKDIR /app", size: 120},
	{createdBy: "ARG VERSION=1.0"},
	{createdBy: "COPY . . # buildkit", size: 500},
}

var linuxAMD64 = v1.Platform{OS: "linux", Architecture: "amd64"}

// want is what Load should report for img, worked out from go-containerregistry's own view of it.
func want(t *testing.T, ref string, img v1.Image) *analyze.Image {
	t.Helper()
	mf, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	w := &analyze.Image{Reference: ref, Digest: d.String(), Platform: cf.Platform().String()}
	for i, l := range mf.Layers {
		w.Layers = append(w.Layers, analyze.ImageLayer{
			Digest: l.Digest.String(), DiffID: cf.RootFS.DiffIDs[i].String(), Size: l.Size, MediaType: string(l.MediaType),
		})
	}
	for _, h := range cf.History {
		w.History = append(w.History, analyze.HistoryEntry{
			Created: h.Created.Time, CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer,
		})
	}
	return w
}

func checkImage(t *testing.T, got, want *analyze.Image) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("image mismatch (-want +got):\n%s", diff)
	}
}

// checkAppHistory pins the history of appSteps literally, not just as go-containerregistry sees it.
func checkAppHistory(t *testing.T, got *analyze.Image) {
	t.Helper()
	var lines []string
	for _, h := range got.History {
		lines = append(lines, h.CreatedBy+map[bool]string{true: " (empty)", false: ""}[h.EmptyLayer])
	}
	wantLines := []string{"ADD rootfs.tar / # buildkit", "ENV PATH=/usr/bin (empty)", "WORKDIR /app", "ARG VERSION=1.0 (empty)", "COPY . . # buildkit"}
	if diff := cmp.Diff(wantLines, lines); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if len(got.Layers) != 3 {
		t.Errorf("got %d layers, want 3", len(got.Layers))
	}
	if len(got.History) > 0 && !got.History[0].Created.Equal(stamp) {
		t.Errorf("first history entry created %v, want %v", got.History[0].Created, stamp)
	}
}

func push(t *testing.T, ref string, img v1.Image, opts ...remote.Option) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, opts...); err != nil {
		t.Fatal(err)
	}
}

func pushIndex(t *testing.T, ref string, idx v1.ImageIndex, opts ...remote.Option) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx, opts...); err != nil {
		t.Fatal(err)
	}
}

// rawManifest lets a test put arbitrary bytes as a manifest.
type rawManifest struct {
	body      string
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return []byte(m.body), nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }

func layerDigests(t *testing.T, img v1.Image) []string {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var ds []string
	for _, l := range ls {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d.String())
	}
	return ds
}

func wantErr(t *testing.T, err error, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", substr)
	}
	if !strings.Contains(err.Error(), substr) {
		t.Errorf("error %q does not contain %q", err, substr)
	}
}

func (r *testRegistry) refRepo(repo string) (name.Repository, error) {
	return name.NewRepository(r.host + "/" + repo)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
