package cli

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// benchRegistry serves two 100-layer images (base and head differ from layer 60 up) from an
// in-process registry and counts the requests it answers.
func benchRegistry(b *testing.B) (host string, requests *atomic.Int64, blobGets *atomic.Int64) {
	b.Helper()
	requests, blobGets = new(atomic.Int64), new(atomic.Int64)
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if strings.Contains(r.URL.Path, "/blobs/") && r.Method == http.MethodGet {
			blobGets.Add(1)
		}
		reg.ServeHTTP(w, r)
	}))
	b.Cleanup(srv.Close)
	host = strings.TrimPrefix(srv.URL, "http://")
	shared := make([]v1.Layer, 100)
	for i := range shared {
		l, err := random.Layer(64, "application/vnd.oci.image.layer.v1.tar+gzip")
		if err != nil {
			b.Fatal(err)
		}
		shared[i] = l
	}
	for _, tag := range []string{"base", "head"} {
		img := empty.Image
		for i := 0; i < 100; i++ {
			l := shared[i]
			if tag == "head" && i >= 60 {
				l, _ = random.Layer(64, "application/vnd.oci.image.layer.v1.tar+gzip")
			}
			var err error
			img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: fmt.Sprintf("RUN /bin/sh -c step %d # buildkit", i), Comment: "buildkit.dockerfile.v0"}})
			if err != nil {
				b.Fatal(err)
			}
		}
		ref, _ := name.ParseReference(host + "/bench:" + tag)
		if err := remote.Write(ref, img); err != nil {
			b.Fatal(err)
		}
	}
	return host, requests, blobGets
}

// BenchmarkAnalyze100Layers is a full analysis of two 100-layer images; compare its ns/op and
// requests/op with BenchmarkBaselineFetch100Layers, which only fetches the two manifests and
// configs.
func BenchmarkAnalyze100Layers(b *testing.B) {
	host, requests, blobGets := benchRegistry(b)
	ctx := context.Background()
	requests.Store(0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := Analyze(ctx, Options{Base: host + "/bench:base", Head: host + "/bench:head", Dockerfile: "", Context: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		if r.Summary.RebuiltLayers != 40 {
			b.Fatalf("rebuilt %d layers, want 40", r.Summary.RebuiltLayers)
		}
	}
	b.ReportMetric(float64(requests.Load())/float64(b.N), "requests/op")
	b.ReportMetric(float64(blobGets.Load())/float64(b.N), "blob-GETs/op")
}

func BenchmarkBaselineFetch100Layers(b *testing.B) {
	host, requests, blobGets := benchRegistry(b)
	requests.Store(0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, tag := range []string{"base", "head"} {
			ref, _ := name.ParseReference(host + "/bench:" + tag)
			desc, err := remote.Get(ref)
			if err != nil {
				b.Fatal(err)
			}
			img, err := desc.Image()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := img.RawConfigFile(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(requests.Load())/float64(b.N), "requests/op")
	b.ReportMetric(float64(blobGets.Load())/float64(b.N), "blob-GETs/op")
}

// BenchmarkCLIPeakMemory runs the built layerdiff binary on the two 100-layer images and reports
// its peak resident memory. It asks GNU time: the rusage of a child that Go starts shares the
// parent's memory until exec, so Maxrss would report the benchmark's own size.
func BenchmarkCLIPeakMemory(b *testing.B) {
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		b.Skip("needs GNU time (/usr/bin/time, Debian package time)")
	}
	host, _, _ := benchRegistry(b)
	bin := filepath.Join(b.TempDir(), "layerdiff")
	build := exec.Command("go", "build", "-o", bin, "github.com/layerdiff/layerdiff")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	var peakKB int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command("/usr/bin/time", "-f", "%M", bin, "--format", "json", host+"/bench:base", host+"/bench:head")
		cmd.Dir = b.TempDir()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("%v: %s", err, stderr.String())
		}
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		kb, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
		if err != nil {
			b.Fatalf("reading GNU time's output %q: %v", stderr.String(), err)
		}
		peakKB = max(peakKB, kb)
	}
	b.ReportMetric(float64(peakKB)/1024, "peak-RSS-MB")
}
