package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The answers of a real Docker Engine 20.10.24 for one Dockerfile built twice, with the classic
// builder (DOCKER_BUILDKIT=0) and with its BuildKit (DOCKER_BUILDKIT=1) on a `docker import`ed
// busybox:
//
//	FROM bbtest:1
//	WORKDIR /app
//	ENV X=1
//	RUN mkdir /data
//	RUN true
//	RUN echo hi > /f
//	COPY Dockerfile x/
//	ARG V=1
//	RUN rm /f
//
// `docker save` of the two images gives the truth the loader must reconstruct: the classic builder
// dropped `RUN true` (an empty layer) and kept WORKDIR, `mkdir /data` and `rm /f` as layers of 0
// bytes; BuildKit kept all four.
const (
	classicHistory  = `[{"Comment":"","Created":1795807489,"CreatedBy":"|1 V=1 /bin/sh -c rm /f","Id":"sha256:c6e5a235bce8e72131179e0a617db3c8c811950cccba7d73f1190a81104ab78b","Size":0,"Tags":["bt2:c"]},{"Comment":"","Created":1795807488,"CreatedBy":"/bin/sh -c #(nop)  ARG V=1","Id":"sha256:c569275082ad8ac97961669e30d36212ed7315f00a690452c00445d37ddbcc38","Size":0,"Tags":null},{"Comment":"","Created":1795807488,"CreatedBy":"/bin/sh -c #(nop) COPY file:148d618964f741ee1c8fee9c4b20e6e328f81c86f3200957389fdbee5a7334b0 in x/ ","Id":"sha256:707911198b02b1a55fdd15645cb10f75f8abd964bd180c692dc328d6e4d24f2c","Size":114,"Tags":null},{"Comment":"","Created":1795807486,"CreatedBy":"/bin/sh -c echo hi > /f","Id":"sha256:e60798ac97081d067a80fa2110bdcf73171fa0db312e701df16672dd8437436d","Size":3,"Tags":null},{"Comment":"","Created":1795807485,"CreatedBy":"/bin/sh -c true","Id":"sha256:220469e13e2b4433e75f5f4fdca19721c4b32bfeeb5552be5754ce64465fc574","Size":0,"Tags":null},{"Comment":"","Created":1795807484,"CreatedBy":"/bin/sh -c mkdir /data","Id":"sha256:897143cc05ab00439ebaeef6345a1579ee170b2cb1b1370515b73429791c547b","Size":0,"Tags":null},{"Comment":"","Created":1795807483,"CreatedBy":"/bin/sh -c #(nop)  ENV X=1","Id":"sha256:f708fce147fb53ffc6fbd8f6d07b94f9e7caf5c9127da07efecbcece9c1622b6","Size":0,"Tags":null},{"Comment":"","Created":1795807482,"CreatedBy":"/bin/sh -c #(nop) WORKDIR /app","Id":"sha256:852954fb8a0d636c44dce12cf7279153c51157eeea02d4a0dfb03dea9617b613","Size":0,"Tags":null},{"Comment":"Imported from -","Created":1795807424,"CreatedBy":"","Id":"sha256:4dca680e2a20b415cf01873d8b932a20d84fbf00596e0a5c91ddbbc458c52104","Size":2201913,"Tags":["bbtest:1"]}]`
	classicInspect  = `{"Id":"sha256:c6e5a235bce8e72131179e0a617db3c8c811950cccba7d73f1190a81104ab78b","RepoTags":["bt2:c"],"RepoDigests":[],"Os":"linux","Architecture":"amd64","RootFS":{"Type":"layers","Layers":["sha256:96d1070a7e333aceefff1d05ed0e22b3160c082a03d6ce4fa3694a3a65c4a0cc","sha256:f6bc30b50c33676d24a9f51cd0e789df0d271e73d9660b585675ad9292e9cd03","sha256:77b9ca53ae4c38185df923ebb74937ee942f9f0e4aa8a461e37b768e829c6090","sha256:0c1b296eaa973920b6da742259409770bb409fec62c4ececacc00ad07cc3e575","sha256:fffc74d03e11af77acfa83a088f18937c28ebbb22b9bd727e7bd54a5a7ffdd24","sha256:27f540c91fc68615d0fef019930adc55a245aaccea7c0c1aadee1af0e56e8afc"]}}`
	buildkitHistory = `[{"Comment":"buildkit.dockerfile.v0","Created":1795807491,"CreatedBy":"RUN |1 V=1 /bin/sh -c rm /f # buildkit","Id":"sha256:cdbdc153ea99b624f98be132251ab92635f52a6b4556c2615187e5ba232770ab","Size":0,"Tags":["bt2:b"]},{"Comment":"buildkit.dockerfile.v0","Created":1795807490,"CreatedBy":"ARG V=1","Id":"<missing>","Size":0,"Tags":null},{"Comment":"buildkit.dockerfile.v0","Created":1795807490,"CreatedBy":"COPY Dockerfile x/ # buildkit","Id":"<missing>","Size":114,"Tags":null},{"Comment":"buildkit.dockerfile.v0","Created":1795807490,"CreatedBy":"RUN /bin/sh -c echo hi > /f # buildkit","Id":"<missing>","Size":3,"Tags":null},{"Comment":"buildkit.dockerfile.v0","Created":1795807490,"CreatedBy":"RUN /bin/sh -c true # buildkit","Id":"<missing>","Size":0,"Tags":null},{"Comment":"buildkit.dockerfile.v0","Created":1795807490,"CreatedBy":"RUN /bin/sh -c mkdir /data # buildkit","Id":"<missing>","Size":0,"Tags":null},{"Comment":"buildkit.dockerfile.v0","Created":1795807490,"CreatedBy":"ENV X=1","Id":"<missing>","Size":0,"Tags":null},{"Comment":"buildkit.dockerfile.v0","Created":1795807490,"CreatedBy":"WORKDIR /app","Id":"<missing>","Size":0,"Tags":null},{"Comment":"Imported from -","Created":1795807424,"CreatedBy":"","Id":"<missing>","Size":2201913,"Tags":null}]`
	buildkitInspect = `{"Id":"sha256:cdbdc153ea99b624f98be132251ab92635f52a6b4556c2615187e5ba232770ab","RepoTags":["bt2:b"],"RepoDigests":[],"Os":"linux","Architecture":"amd64","RootFS":{"Type":"layers","Layers":["sha256:96d1070a7e333aceefff1d05ed0e22b3160c082a03d6ce4fa3694a3a65c4a0cc","sha256:113c02d3c115c397236929dd99256ab2b007f43be8393f595f92c76c4293cc49","sha256:6e58dea87c6ccbefaac2854052a671284c84a1ad6afc18fc2743bb4fc91c72e9","sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef","sha256:09a00f3aacc0f669c20394ab896d575f7811c398816ceff34b7a8c0c0b351939","sha256:f967e050a88a261acfd32da3a70676cddb566f0227f499ade84933795e3b0f32","sha256:5fdc2d43d9f7ebab39f2eb9d84aaba1f9ce188644cba0de8cbd19a9b1b436197"]}}`
)

// classicStepLayers are the layer counts of the classic builder's step images, as the Engine
// answers GET /images/{id}/json for them.
var classicStepLayers = map[string]int{
	"sha256:c6e5a235bce8e72131179e0a617db3c8c811950cccba7d73f1190a81104ab78b": 6,
	"sha256:c569275082ad8ac97961669e30d36212ed7315f00a690452c00445d37ddbcc38": 5,
	"sha256:707911198b02b1a55fdd15645cb10f75f8abd964bd180c692dc328d6e4d24f2c": 5,
	"sha256:e60798ac97081d067a80fa2110bdcf73171fa0db312e701df16672dd8437436d": 4,
	"sha256:220469e13e2b4433e75f5f4fdca19721c4b32bfeeb5552be5754ce64465fc574": 3,
	"sha256:897143cc05ab00439ebaeef6345a1579ee170b2cb1b1370515b73429791c547b": 3,
	"sha256:f708fce147fb53ffc6fbd8f6d07b94f9e7caf5c9127da07efecbcece9c1622b6": 2,
	"sha256:852954fb8a0d636c44dce12cf7279153c51157eeea02d4a0dfb03dea9617b613": 2,
	"sha256:4dca680e2a20b415cf01873d8b932a20d84fbf00596e0a5c91ddbbc458c52104": 1,
}

// fakeEngine answers the Engine API's image routes from canned JSON, on a unix socket or TCP,
// and records the paths asked for.
type fakeEngine struct {
	mu       sync.Mutex
	inspect  map[string]string // name or ID -> GET /images/{name}/json body
	history  map[string]string // ID -> GET /images/{id}/history body
	requests []string
}

func (e *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.requests = append(e.requests, r.Method+" "+r.URL.Path)
	e.mu.Unlock()
	p := strings.TrimPrefix(r.URL.Path, "/images/")
	var body string
	var ok bool
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(p, "/json"):
		body, ok = e.inspect[strings.TrimSuffix(p, "/json")]
	case r.Method == http.MethodGet && strings.HasSuffix(p, "/history"):
		body, ok = e.history[strings.TrimSuffix(p, "/history")]
	}
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"message":"No such image: %s"}`, strings.TrimSuffix(strings.TrimSuffix(p, "/json"), "/history"))
		return
	}
	io.WriteString(w, body)
}

func (e *fakeEngine) paths() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.requests...)
}

// engine serves the two real images as "app:classic" and "ghcr.io/acme/app:buildkit" on a
// unix socket and points DOCKER_HOST at it.
func engine(t *testing.T) *fakeEngine {
	t.Helper()
	e := &fakeEngine{inspect: map[string]string{}, history: map[string]string{}}
	add := func(name, inspect, history string) {
		var in daemonInspect
		if err := json.Unmarshal([]byte(inspect), &in); err != nil {
			t.Fatal(err)
		}
		e.inspect[name], e.inspect[in.ID], e.history[in.ID] = inspect, inspect, history
	}
	add("app:classic", classicInspect, classicHistory)
	add("ghcr.io/acme/app:buildkit", buildkitInspect, buildkitHistory)
	for id, n := range classicStepLayers {
		if _, ok := e.inspect[id]; !ok {
			layers, _ := json.Marshal(make([]string, n))
			e.inspect[id] = fmt.Sprintf(`{"Id":%q,"Os":"linux","Architecture":"amd64","RootFS":{"Type":"layers","Layers":%s}}`, id, layers)
		}
	}
	// A short path: unix socket paths are limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "ld-engine")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(e)
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	t.Setenv("DOCKER_HOST", "unix://"+sock)
	t.Setenv("DOCKER_TLS_VERIFY", "")
	return e
}

// summary is one history entry as the tests compare it.
type summary struct {
	CreatedBy string
	Empty     bool
	Size      int64 // of its layer, -1 for none
}

func summarize(t *testing.T, ref string) ([]summary, []string) {
	t.Helper()
	img, err := Load(context.Background(), ref, "")
	if err != nil {
		t.Fatalf("Load(%q): %v", ref, err)
	}
	var out []summary
	var diffIDs []string
	li := 0
	for _, h := range img.History {
		s := summary{CreatedBy: h.CreatedBy, Empty: h.EmptyLayer, Size: -1}
		if !h.EmptyLayer {
			s.Size = img.Layers[li].Size
			li++
		}
		out = append(out, s)
	}
	if li != len(img.Layers) {
		t.Fatalf("%d layer entries for %d layers", li, len(img.Layers))
	}
	for _, l := range img.Layers {
		if l.Digest != l.DiffID {
			t.Errorf("layer digest %s differs from its diff ID %s: the daemon has no compressed blobs", l.Digest, l.DiffID)
		}
		diffIDs = append(diffIDs, l.DiffID)
	}
	return out, diffIDs
}

func TestDaemonBuildKitHistory(t *testing.T) {
	e := engine(t)
	got, diffIDs := summarize(t, "docker-daemon:ghcr.io/acme/app:buildkit")
	// WORKDIR, `mkdir /data`, `RUN true` and `rm /f` are layers of 0 bytes: a loader that took
	// "Size 0" for "no layer" (as go-containerregistry's daemon package does) would shift every
	// step after WORKDIR onto the wrong layer.
	want := []summary{
		{"", false, 2201913},
		{"WORKDIR /app", false, 0},
		{"ENV X=1", true, -1},
		{"RUN /bin/sh -c mkdir /data # buildkit", false, 0},
		{"RUN /bin/sh -c true # buildkit", false, 0},
		{"RUN /bin/sh -c echo hi > /f # buildkit", false, 3},
		{"COPY Dockerfile x/ # buildkit", false, 114},
		{"ARG V=1", true, -1},
		{"RUN |1 V=1 /bin/sh -c rm /f # buildkit", false, 0},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("history (-want +got):\n%s", d)
	}
	var in daemonInspect
	json.Unmarshal([]byte(buildkitInspect), &in)
	if d := cmp.Diff(in.RootFS.Layers, diffIDs); d != "" {
		t.Errorf("diff IDs (-want +got):\n%s", d)
	}
	// Two API calls and nothing that exports the image (GET /images/{name}/get).
	wantPaths := []string{
		"GET /images/ghcr.io/acme/app:buildkit/json",
		"GET /images/sha256:cdbdc153ea99b624f98be132251ab92635f52a6b4556c2615187e5ba232770ab/history",
	}
	if d := cmp.Diff(wantPaths, e.paths()); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
}

func TestDaemonClassicHistory(t *testing.T) {
	e := engine(t)
	got, _ := summarize(t, "docker-daemon:app:classic")
	// The classic builder dropped `RUN true`; only the step images' layer counts tell it from
	// `mkdir /data` and `rm /f`, which made layers of 0 bytes.
	want := []summary{
		{"", false, 2201913},
		{"/bin/sh -c #(nop) WORKDIR /app", false, 0},
		{"/bin/sh -c #(nop)  ENV X=1", true, -1},
		{"/bin/sh -c mkdir /data", false, 0},
		{"/bin/sh -c true", true, -1},
		{"/bin/sh -c echo hi > /f", false, 3},
		{"/bin/sh -c #(nop) COPY file:148d618964f741ee1c8fee9c4b20e6e328f81c86f3200957389fdbee5a7334b0 in x/ ", false, 114},
		{"/bin/sh -c #(nop)  ARG V=1", true, -1},
		{"|1 V=1 /bin/sh -c rm /f", false, 0},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("history (-want +got):\n%s", d)
	}
	for _, p := range e.paths() {
		if strings.HasSuffix(p, "/get") || !strings.HasPrefix(p, "GET /images/") {
			t.Errorf("request %s: the loader must only describe the image, never export it", p)
		}
	}
}

func TestDaemonClassicStepImagesGone(t *testing.T) {
	e := engine(t)
	for id := range classicStepLayers {
		if id != "sha256:c6e5a235bce8e72131179e0a617db3c8c811950cccba7d73f1190a81104ab78b" {
			delete(e.inspect, id) // `docker image prune` removed the intermediate images
		}
	}
	got, _ := summarize(t, "docker-daemon:app:classic")
	// Without them the order decides: WORKDIR, then the RUNs earliest first, so `RUN true` is
	// taken for a layer and `rm /f` for none; the layers with bytes stay on their steps.
	var empty []bool
	for _, s := range got {
		empty = append(empty, s.Empty)
	}
	want := []bool{false, false, true, false, false, false, false, true, true}
	if d := cmp.Diff(want, empty); d != "" || got[5].Size != 3 || got[6].Size != 114 {
		t.Errorf("empty flags (-want +got):\n%s\nhistory %+v", d, got)
	}
}

func TestDaemonReference(t *testing.T) {
	engine(t)
	img, err := Load(context.Background(), "docker-daemon:app:classic", "linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	if img.Reference != "docker-daemon:app:classic" || img.Platform != "linux/amd64" ||
		img.Digest != "sha256:c6e5a235bce8e72131179e0a617db3c8c811950cccba7d73f1190a81104ab78b" {
		t.Errorf("image = reference %q platform %q digest %q", img.Reference, img.Platform, img.Digest)
	}
}

func TestDaemonErrors(t *testing.T) {
	e := engine(t)
	ctx := context.Background()
	_, err := Load(ctx, "docker-daemon:app:nope", "")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing image: err = %v, want ErrNotFound", err)
	}
	for _, ref := range []string{"docker-daemon:", "docker-daemon:app?x=1", "docker-daemon:a b"} {
		if _, err := Load(ctx, ref, ""); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Load(%q): err = %v, want an invalid-name error", ref, err)
		}
	}
	if n := len(e.paths()); n != 1 {
		t.Errorf("%d requests, want only the one for app:nope: %q", n, e.paths())
	}

	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	_, err = Load(ctx, "docker-daemon:app:classic", "")
	if err == nil || !strings.Contains(err.Error(), "cannot reach the Docker daemon at unix:///nonexistent/docker.sock") {
		t.Errorf("no daemon: err = %v", err)
	}
	for host, want := range map[string]string{
		"ssh://me@host": "the ssh:// scheme is not supported",
		"/var/run/x":    "invalid DOCKER_HOST",
	} {
		t.Setenv("DOCKER_HOST", host)
		if _, err := Load(ctx, "docker-daemon:app:classic", ""); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DOCKER_HOST=%s: err = %v, want %q", host, err, want)
		}
	}
}

func TestDaemonTCPAndErrorAnswers(t *testing.T) {
	e := &fakeEngine{inspect: map[string]string{"app:1": classicInspect}, history: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/images/sha256:c6e5a235bce8e72131179e0a617db3c8c811950cccba7d73f1190a81104ab78b/history", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"message":"layer store is broken"}`)
	})
	mux.Handle("/", e)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	t.Setenv("DOCKER_HOST", "tcp://"+strings.TrimPrefix(srv.URL, "http://"))
	t.Setenv("DOCKER_TLS_VERIFY", "")
	_, err := Load(context.Background(), "docker-daemon:app:1", "")
	if err == nil || !strings.Contains(err.Error(), "answered 500 Internal Server Error: layer store is broken") {
		t.Errorf("err = %v", err)
	}
	t.Setenv("DOCKER_TLS_VERIFY", "1")
	if _, err := Load(context.Background(), "docker-daemon:app:1", ""); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("DOCKER_TLS_VERIFY: err = %v", err)
	}
}

func TestLayerEntriesInconsistent(t *testing.T) {
	entries := []daemonHistory{{CreatedBy: "ENV A=1"}, {CreatedBy: "COPY . . # buildkit", Size: 5}}
	if _, err := layerEntries(entries, 3, nil); err == nil {
		t.Error("3 layers for one entry that can make one: want an error")
	}
	if _, err := layerEntries(entries, 0, nil); err == nil {
		t.Error("an entry with bytes and no layers: want an error")
	}
	if l, err := layerEntries(nil, 0, nil); err != nil || len(l) != 0 {
		t.Errorf("empty image: %v %v", l, err)
	}
}

// TestDaemonRealEngine checks the loader against `docker save` on the machine's Docker Engine:
// for images built with the classic builder and (where a CLI can drive it) the Engine's own
// BuildKit, every history entry's empty_layer flag, text and diff ID must equal the saved
// config's. Set LAYERDIFF_DOCKER=1 (.ci/docker does); then a missing Engine fails the test.
func TestDaemonRealEngine(t *testing.T) {
	if os.Getenv("LAYERDIFF_DOCKER") != "1" {
		t.Skip("Docker tier skipped: set LAYERDIFF_DOCKER=1 with a Docker Engine running (.ci/docker does this)")
	}
	docker := "docker"
	if out, err := exec.Command(docker, "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		t.Fatalf("LAYERDIFF_DOCKER=1 but the Docker Engine does not answer: %v\n%s", err, out)
	}
	busybox := os.Getenv("LAYERDIFF_BUSYBOX")
	if busybox == "" {
		busybox = "/bin/busybox"
	}
	dir := t.TempDir()
	nonce := fmt.Sprintf("%d", os.Getpid())
	base := "layerdiff-test/daemon-base:" + nonce
	importBusybox(t, docker, busybox, base)
	t.Cleanup(func() { exec.Command(docker, "image", "rm", "-f", base).Run() })

	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+base+"\nWORKDIR /app\nENV X="+nonce+"\nRUN mkdir /data\nRUN true\nRUN echo hi > /f\nCOPY Dockerfile x/\nARG V=1\nRUN rm /f\nWORKDIR /\nLABEL l=1\nRUN touch /empty\nCMD [\"sh\"]\n"), 0o644)

	builders := map[string][]string{"classic": {docker, "DOCKER_BUILDKIT=0"}}
	if cli := os.Getenv("LAYERDIFF_DOCKER_BUILDKIT_CLI"); cli != "" {
		builders["buildkit"] = []string{cli, "DOCKER_BUILDKIT=1"}
	}
	for name, b := range builders {
		t.Run(name, func(t *testing.T) {
			tag := "layerdiff-test/daemon-" + name + ":" + nonce
			cmd := exec.Command(b[0], "build", "-q", "-t", tag, dir)
			cmd.Env = append(os.Environ(), b[1])
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s build: %v\n%s", name, err, out)
			}
			t.Cleanup(func() { exec.Command(docker, "image", "rm", "-f", tag).Run() })

			img, err := Load(context.Background(), "docker-daemon:"+tag, "")
			if err != nil {
				t.Fatal(err)
			}
			cfg := savedConfig(t, docker, tag)
			if len(cfg.History) != len(img.History) {
				t.Fatalf("%d history entries, docker save has %d", len(img.History), len(cfg.History))
			}
			for i, h := range cfg.History {
				got := img.History[i]
				if got.CreatedBy != h.CreatedBy || got.EmptyLayer != h.EmptyLayer {
					t.Errorf("entry %d = %q empty=%v, docker save says %q empty=%v", i+1, got.CreatedBy, got.EmptyLayer, h.CreatedBy, h.EmptyLayer)
				}
			}
			var diffIDs []string
			for _, l := range img.Layers {
				diffIDs = append(diffIDs, l.DiffID)
			}
			if d := cmp.Diff(cfg.RootFS.DiffIDs, diffIDs); d != "" {
				t.Errorf("diff IDs (-docker save +loader):\n%s", d)
			}
		})
	}
}

// importBusybox makes a one-layer image of a static busybox with `docker import`.
func importBusybox(t *testing.T, docker, busybox, tag string) {
	t.Helper()
	bb, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatalf("busybox: %v (install busybox-static)", err)
	}
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		tw.WriteHeader(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755})
		tw.WriteHeader(&tar.Header{Name: "bin/busybox", Mode: 0o755, Size: int64(len(bb))})
		tw.Write(bb)
		for _, a := range []string{"sh", "mkdir", "true", "echo", "rm", "touch"} {
			tw.WriteHeader(&tar.Header{Name: "bin/" + a, Typeflag: tar.TypeSymlink, Linkname: "busybox"})
		}
		tw.WriteHeader(&tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777})
		pw.CloseWithError(tw.Close())
	}()
	cmd := exec.Command(docker, "import", "-", tag)
	cmd.Stdin = pr
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker import: %v\n%s", err, out)
	}
}

type savedImageConfig struct {
	History []struct {
		CreatedBy  string `json:"created_by"`
		EmptyLayer bool   `json:"empty_layer"`
	} `json:"history"`
	RootFS struct {
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

// savedConfig reads the image's config out of `docker save`: the truth the Engine API hides.
func savedConfig(t *testing.T, docker, tag string) savedImageConfig {
	t.Helper()
	out, err := exec.Command(docker, "save", tag).Output()
	if err != nil {
		t.Fatalf("docker save: %v", err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(strings.NewReader(string(out)))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(h.Name, ".json") || strings.HasPrefix(h.Name, "blobs/") {
			b, _ := io.ReadAll(tr)
			files[h.Name] = b
		}
	}
	var m []struct{ Config string }
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil || len(m) != 1 {
		t.Fatalf("docker save manifest.json: %v", err)
	}
	var c savedImageConfig
	if err := json.Unmarshal(files[m[0].Config], &c); err != nil {
		t.Fatalf("docker save config: %v", err)
	}
	return c
}
