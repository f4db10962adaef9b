package image

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestLoadRemoteImage(t *testing.T) {
	reg := newRegistry(t, nil)
	img := buildImage(t, linuxAMD64, appSteps...)
	ref := reg.ref("app:head")
	push(t, ref, img)
	reg.reset()

	got, err := Load(context.Background(), ref, "")
	if err != nil {
		t.Fatal(err)
	}
	checkImage(t, got, want(t, ref, img))
	checkAppHistory(t, got)
	if got.Platform != "linux/amd64" {
		t.Errorf("platform %q, want linux/amd64", got.Platform)
	}

	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	wantRequests := []string{
		"GET /v2/",
		"GET /v2/app/manifests/head",
		"GET /v2/app/blobs/" + cfg.String(),
	}
	if diff := strings.Join(reg.seen(), "\n"); diff != strings.Join(wantRequests, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", diff, strings.Join(wantRequests, "\n"))
	}
	noLayerBlobs(t, reg, img)
}

// noLayerBlobs fails if any layer blob of img was requested.
func noLayerBlobs(t *testing.T, reg *testRegistry, img v1.Image) {
	t.Helper()
	for _, d := range layerDigests(t, img) {
		for _, r := range reg.seen() {
			if strings.HasSuffix(r, "/blobs/"+d) {
				t.Errorf("layer blob requested: %s", r)
			}
		}
	}
}

func TestLoadRemoteByDigestAndSinglePlatformIgnoresPlatform(t *testing.T) {
	reg := newRegistry(t, nil)
	img := buildImage(t, v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, appSteps...)
	push(t, reg.ref("app:x"), img)
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref := reg.ref("app@" + d.String())

	// A single-platform image is what it is: the platform argument only picks from an index.
	got, err := Load(context.Background(), ref, "linux/s390x")
	if err != nil {
		t.Fatal(err)
	}
	checkImage(t, got, want(t, ref, img))
	if got.Platform != "linux/arm/v7" {
		t.Errorf("platform %q, want linux/arm/v7 from the config", got.Platform)
	}
}

func TestLoadRemoteIndex(t *testing.T) {
	reg := newRegistry(t, nil)
	amd := buildImage(t, linuxAMD64, appSteps...)
	arm := buildImage(t, v1.Platform{OS: "linux", Architecture: "arm64"}, appSteps...)
	attestation := mutate.ConfigMediaType(buildImage(t, v1.Platform{}, step{createdBy: "in-toto", size: 50}), "application/vnd.in-toto+json")
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		// The attestation comes first, so skipping it is what makes the pick right.
		mutate.IndexAddendum{Add: attestation, Descriptor: v1.Descriptor{
			Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"},
		}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &linuxAMD64}},
	)
	ref := reg.ref("multi:1")
	pushIndex(t, ref, idx)
	idxDigest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		platform string
		img      v1.Image
	}{
		{"", amd},
		{"linux/amd64", amd},
		{"linux/arm64", arm},
		{"linux/arm64/v8", arm},
	} {
		t.Run(tc.platform, func(t *testing.T) {
			reg.reset()
			got, err := Load(context.Background(), ref, tc.platform)
			if err != nil {
				t.Fatal(err)
			}
			checkImage(t, got, want(t, ref, tc.img))
			if got.Digest == idxDigest.String() {
				t.Error("digest is the index's, want the platform manifest's")
			}
			if n := len(reg.seen()); n > 4 {
				t.Errorf("%d requests, want at most 4: %q", n, reg.seen())
			}
			noLayerBlobs(t, reg, tc.img)
		})
	}

	_, err = Load(context.Background(), ref, "linux/s390x")
	if err == nil || err.Error() != "platform linux/s390x not found; the image has linux/amd64, linux/arm64" {
		t.Errorf("got error %v", err)
	}
}

func TestLoadRemoteNestedIndex(t *testing.T) {
	reg := newRegistry(t, nil)
	img := buildImage(t, linuxAMD64, appSteps...)
	inner := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &linuxAMD64}})
	outer := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: inner})
	ref := reg.ref("nested:1")
	pushIndex(t, ref, outer)
	got, err := Load(context.Background(), ref, "")
	if err != nil {
		t.Fatal(err)
	}
	checkImage(t, got, want(t, ref, img))

	tooDeep := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: outer})
	pushIndex(t, reg.ref("nested:2"), tooDeep)
	_, err = Load(context.Background(), reg.ref("nested:2"), "")
	wantErr(t, err, "nested too deeply")
}

func TestLoadRemoteNotFound(t *testing.T) {
	reg := newRegistry(t, nil)
	push(t, reg.ref("app:head"), buildImage(t, linuxAMD64, appSteps...))
	for _, ref := range []string{
		reg.ref("nosuchrepo:head"),
		reg.ref("app:nosuchtag"),
		reg.ref("app@sha256:" + strings.Repeat("0", 64)),
	} {
		_, err := Load(context.Background(), ref, "")
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("Load(%s) = %v, want ErrNotFound", ref, err)
		}
	}
	// A registry that answers a bare 404 without an error body.
	reg.override("/v2/bare/manifests/x", override{status: http.StatusNotFound, contentType: "text/plain", body: "404 page not found"})
	if _, err := Load(context.Background(), reg.ref("bare:x"), ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("bare 404: %v, want ErrNotFound", err)
	}
}

func TestLoadRemoteNotAnImage(t *testing.T) {
	reg := newRegistry(t, nil)
	chart := mutate.ConfigMediaType(buildImage(t, v1.Platform{}, step{createdBy: "chart", size: 100}), "application/vnd.cncf.helm.config.v1+json")
	push(t, reg.ref("charts/app:1.0.0"), chart)
	_, err := Load(context.Background(), reg.ref("charts/app:1.0.0"), "")
	wantErr(t, err, "not a container image (config media type application/vnd.cncf.helm.config.v1+json)")
	if errors.Is(err, ErrNotFound) {
		t.Error("an artifact is not ErrNotFound")
	}
}

func TestLoadRemoteBadDocuments(t *testing.T) {
	reg := newRegistry(t, nil)
	img := buildImage(t, linuxAMD64, appSteps...)
	push(t, reg.ref("app:good"), img)
	good, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	// A manifest whose config blob holds broken JSON.
	badCfg := static.NewLayer([]byte(`{"os":"linux","history":[{"created_by":`), types.OCIConfigJSON)
	repo, err := reg.refRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteLayer(repo, badCfg); err != nil {
		t.Fatal(err)
	}
	badCfgDigest, _ := badCfg.Digest()
	mf, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	mf = mf.DeepCopy()
	mf.Config.Digest, mf.Config.Size = badCfgDigest, 40

	oci, docker := string(types.OCIManifestSchema1), string(types.DockerManifestSchema2)
	for _, tc := range []struct {
		name        string
		contentType string
		body        string
		want        string
	}{
		{"truncated manifest", oci, string(good[:len(good)/2]), "invalid manifest"},
		{"empty manifest", oci, "", "invalid manifest"},
		{"null manifest", oci, "null", "invalid manifest: no config descriptor"},
		{"array manifest", docker, "[]", "invalid manifest"},
		{"bad digest", oci, `{"schemaVersion":2,"config":{"digest":"sha256:../../x"}}`, "invalid manifest"},
		{"generic content type", "application/json", "{", "invalid manifest"},
		{"unknown shape", "application/json", `{"schemaVersion":2}`, "unsupported manifest"},
		{"truncated index", string(types.OCIImageIndex), `{"manifests":[{"digest":`, "invalid image index"},
		{"empty index", string(types.OCIImageIndex), `{"manifests":[]}`, "lists no images"},
		{"index to missing child", string(types.OCIImageIndex), `{"manifests":[{"mediaType":"` + oci + `","digest":"sha256:` + strings.Repeat("a", 64) + `","platform":{"os":"linux","architecture":"amd64"}}]}`, "reading manifest sha256:aaaa"},
		{"schema1", string(types.DockerManifestSchema1Signed), `{"schemaVersion":1,"fsLayers":[]}`, "docker schema 1 manifests are not supported"},
		{"schema1 untyped", "application/json", `{"schemaVersion":1,"fsLayers":[]}`, "docker schema 1 manifests are not supported"},
		{"bad config", oci, mustJSON(t, mf), "invalid image config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/v2/app/manifests/" + strings.ReplaceAll(tc.name, " ", "-")
			reg.override(path, override{status: http.StatusOK, contentType: tc.contentType, body: tc.body})
			img, err := Load(context.Background(), reg.ref("app:"+strings.ReplaceAll(tc.name, " ", "-")), "")
			if img != nil {
				t.Errorf("got an image %+v", img)
			}
			wantErr(t, err, tc.want)
			if errors.Is(err, ErrNotFound) {
				t.Error("a broken image is not ErrNotFound")
			}
		})
	}
}

func TestLoadRemoteAuth(t *testing.T) {
	const user, pass = "ci-bot", "s3cr3t-Pa55word-xyz"
	reg := newRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	img := buildImage(t, linuxAMD64, appSteps...)
	ref := reg.ref("private/app:head")
	push(t, ref, img, remote.WithAuth(&authn.Basic{Username: user, Password: pass}))

	t.Run("right credentials", func(t *testing.T) {
		got, err := Load(context.Background(), ref, "", WithAuth(user, pass))
		if err != nil {
			t.Fatal(err)
		}
		checkImage(t, got, want(t, ref, img))
	})
	t.Run("docker config keychain", func(t *testing.T) {
		dir := t.TempDir()
		cfg := `{"auths":{"` + reg.host + `":{"username":"` + user + `","password":"` + pass + `"}}}`
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("DOCKER_CONFIG", dir)
		if _, err := Load(context.Background(), ref, ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("wrong credentials", func(t *testing.T) {
		_, err := Load(context.Background(), ref, "", WithAuth(user, pass+"-wrong"))
		wantErr(t, err, "registry "+reg.host+" refused the credentials (401 Unauthorized)")
		if strings.Contains(err.Error(), pass) {
			t.Errorf("error reveals the password: %v", err)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		_, err := Load(context.Background(), ref, "", WithKeychain(authn.NewMultiKeychain()))
		wantErr(t, err, "registry "+reg.host+" denied access without credentials (401 Unauthorized): credentials are missing")
		if errors.Is(err, ErrNotFound) {
			t.Error("an auth failure is not ErrNotFound")
		}
	})
	t.Run("registry echoing the password", func(t *testing.T) {
		path := "/v2/private/app/manifests/echo"
		reg.override(path, override{status: http.StatusBadRequest, contentType: "text/plain", body: "bad request from " + user + ":" + pass})
		_, err := Load(context.Background(), reg.ref("private/app:echo"), "", WithAuth(user, pass))
		wantErr(t, err, "***")
		if strings.Contains(err.Error(), pass) {
			t.Errorf("error reveals the password: %v", err)
		}
	})
}

func TestLoadRemoteOptions(t *testing.T) {
	var agents atomic.Value
	reg := newRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			agents.Store(r.UserAgent())
			next.ServeHTTP(w, r)
		})
	})
	img := buildImage(t, linuxAMD64, appSteps...)
	ref := reg.ref("app:head")
	push(t, ref, img)

	var calls atomic.Int32
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})
	if _, err := Load(context.Background(), ref, "", WithTransport(rt), WithUserAgent("layerdiff-test/1")); err != nil {
		t.Fatal(err)
	}
	if calls.Load() == 0 {
		t.Error("the transport given by WithTransport was not used")
	}
	if ua, _ := agents.Load().(string); !strings.HasPrefix(ua, "layerdiff-test/1") {
		t.Errorf("user agent %q", ua)
	}

	// Fault injection: the transport fails every request.
	failing := roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("network unreachable") })
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // and no retries: a cancelled context stops at once
	if _, err := Load(ctx, ref, "", WithTransport(failing)); err == nil {
		t.Error("no error from a failing transport")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestLoadInvalidReference(t *testing.T) {
	for _, ref := range []string{"", "UPPER/Case:tag", "app:tag:more", "ghcr.io/o/r@sha256:short"} {
		_, err := Load(context.Background(), ref, "")
		wantErr(t, err, "not a valid image reference")
	}
	_, err := Load(context.Background(), "127.0.0.1:1/app:x", "linux")
	wantErr(t, err, `invalid platform "linux"`)
}

func TestLoadRemoteTokenServiceAnswerIsNotQuoted(t *testing.T) {
	const refresh = "rt-SECRET-refresh-123"
	reg := newRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/token" {
				// No "token" field: go-containerregistry then quotes the whole answer.
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"refresh_token":"` + refresh + `"}`))
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="test"`)
			w.WriteHeader(http.StatusUnauthorized)
		})
	})
	for _, opt := range []Option{WithAuth("bot", "pa55-word-abc"), WithKeychain(authn.NewMultiKeychain())} {
		_, err := Load(context.Background(), reg.ref("app:head"), "", opt)
		wantErr(t, err, "the token service of registry "+reg.host+" answered without a token")
		if strings.Contains(err.Error(), refresh) || strings.Contains(err.Error(), "pa55-word-abc") {
			t.Errorf("error reveals a secret: %v", err)
		}
	}
}
