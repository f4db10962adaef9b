package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/layerdiff/layerdiff/analyze"
	"github.com/layerdiff/layerdiff/internal/faults/mdcheck"
)

// hostileCase is one image of testdata/hostile/images and the behaviour documented for it in
// its case.txt.
type hostileCase struct {
	name, about string
	// expect is "report" or "error <substring of the one-line message>".
	expect      string
	warning     string // a substring of a warning the report must carry
	contentType string // of the manifest (or index); default from its mediaType
	manifest    []byte
	config      []byte // nil: no config blob is pushed
	index       []byte // when set, the tag names this index and manifest is its child
}

func loadHostileCases(t *testing.T) []hostileCase {
	t.Helper()
	dir := filepath.Join(root, "testdata", "hostile", "images")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var cases []hostileCase
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c := hostileCase{name: e.Name()}
		read := func(f string) []byte {
			b, err := os.ReadFile(filepath.Join(dir, e.Name(), f))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			return b
		}
		lines := strings.Split(strings.TrimSpace(string(read("case.txt"))), "\n")
		c.about = lines[0]
		for _, l := range lines[1:] {
			k, v, _ := strings.Cut(l, ": ")
			switch k {
			case "expect":
				c.expect = v
			case "warning":
				c.warning = v
			case "content-type":
				c.contentType = v
			default:
				t.Fatalf("%s/case.txt: unknown line %q", e.Name(), l)
			}
		}
		c.manifest, c.config, c.index = read("manifest.json"), read("config.json"), read("index.json")
		cases = append(cases, c)
	}
	if len(cases) < 20 {
		t.Fatalf("only %d cases in %s", len(cases), dir)
	}
	return cases
}

// hostileRegistry serves a good image at app:good whose history the hostile ones are compared
// with.
func hostileRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	good := hostileCase{
		contentType: string(types.OCIManifestSchema1),
		manifest:    []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{config}}","size":{{config.size}}},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":100},{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","size":200}]}`),
		config:      []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]},"history":[{"created_by":"ADD rootfs.tar / # buildkit","comment":"buildkit.dockerfile.v0"},{"created_by":"WORKDIR /app","comment":"buildkit.dockerfile.v0"}]}`),
	}
	pushHostile(t, host, "app", "good", good)
	return host
}

// pushHostile puts a case's documents in the registry, byte for byte, under repo:tag.
func pushHostile(t *testing.T, host, repo, tag string, c hostileCase) {
	t.Helper()
	r, err := name.NewRepository(host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	digest := func(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }
	manifest := c.manifest
	if c.config != nil {
		if err := remote.WriteLayer(r, static.NewLayer(c.config, types.OCIConfigJSON)); err != nil {
			t.Fatal(err)
		}
		manifest = bytes.ReplaceAll(manifest, []byte("{{config}}"), []byte(digest(c.config)))
		manifest = bytes.ReplaceAll(manifest, []byte("{{config.size}}"), []byte(fmt.Sprint(len(c.config))))
	}
	put := func(ref name.Reference, body []byte, contentType string) {
		if contentType == "" {
			var probe struct {
				MediaType string `json:"mediaType"`
			}
			json.Unmarshal(body, &probe)
			contentType = probe.MediaType
		}
		if contentType == "" {
			contentType = string(types.OCIManifestSchema1)
		}
		req, err := http.NewRequest(http.MethodPut, "http://"+host+"/v2/"+repo+"/manifests/"+ref.Identifier(), bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("putting %s: %s", ref, resp.Status)
		}
	}
	if c.index == nil {
		put(r.Tag(tag), manifest, c.contentType)
		return
	}
	put(r.Digest(digest(manifest)), manifest, "")
	index := bytes.ReplaceAll(c.index, []byte("{{manifest}}"), []byte(digest(manifest)))
	index = bytes.ReplaceAll(index, []byte("{{manifest.size}}"), []byte(fmt.Sprint(len(manifest))))
	put(r.Tag(tag), index, c.contentType)
}

// panics counts the panics runCatching caught.
var panics atomic.Int64

// runCatching runs the CLI and turns a panic into a test failure with its stack.
func runCatching(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			panics.Add(1)
			t.Errorf("layerdiff %q panicked: %v\n%s", args, p, debug.Stack())
			code = -1
		}
	}()
	return run(t, args...)
}

// checkOutputs renders the analysis in every format and checks what a hostile text could do
// to each: the markdown gains no element, link, mention or cell; the text no workflow command
// or terminal escape; the JSON parses.
func checkOutputs(t *testing.T, label string, args []string) {
	t.Helper()
	for _, format := range []string{"json", "markdown", "text"} {
		code, out, stderr := runCatching(t, append([]string{"--format", format}, args...)...)
		if code != ExitOK {
			t.Errorf("%s --format %s: exit %d: %s", label, format, code, stderr)
			continue
		}
		for _, p := range mdcheck.CheckLog(stderr) {
			t.Errorf("%s --format %s: stderr: %s", label, format, p)
		}
		switch format {
		case "json":
			var r analyze.Report
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Errorf("%s: the JSON report does not parse: %v", label, err)
			}
		case "markdown":
			res := mdcheck.Check(out)
			for _, p := range res.Problems {
				t.Errorf("%s markdown: %s", label, p)
			}
			if res.Details != res.DetailsClosed || res.Headings != 1 {
				t.Errorf("%s markdown: structure %+v", label, res)
			}
		case "text":
			for _, p := range mdcheck.CheckLog(out) {
				t.Errorf("%s text: %s", label, p)
			}
		}
	}
}

func TestHostileImagesCorpus(t *testing.T) {
	host := hostileRegistry(t)
	good := host + "/app:good"
	var rows strings.Builder
	cases := loadHostileCases(t)
	for _, c := range cases {
		seen := map[string]string{}
		ok := t.Run(c.name, func(t *testing.T) {
			pushHostile(t, host, "hostile", c.name, c)
			bad := host + "/hostile:" + c.name
			for _, side := range []struct{ name, base, head string }{{"head", good, bad}, {"base", bad, good}} {
				args := []string{side.base, side.head}
				code, out, stderr := runCatching(t, append([]string{"--format", "json"}, args...)...)
				seen[side.name] = fmt.Sprintf("exit %d", code)
				if code == ExitOK && c.warning != "" && side.name == "head" {
					seen[side.name] += ", warns"
				}
				if want, ok := strings.CutPrefix(c.expect, "error "); ok {
					line := strings.TrimSuffix(stderr, "\n")
					if code != ExitInput || out != "" || strings.Contains(line, "\n") ||
						!strings.HasPrefix(line, fmt.Sprintf("layerdiff: reading %s image %q: ", side.name, bad)) || !strings.Contains(line, want) {
						t.Errorf("%s as %s: exit %d, stderr %q; want exit 2 and one line with %q", c.name, side.name, code, stderr, want)
					}
					for _, p := range mdcheck.CheckLog(stderr) {
						t.Errorf("%s as %s: stderr: %s", c.name, side.name, p)
					}
					continue
				}
				if code != ExitOK {
					t.Errorf("%s as %s: exit %d: %s", c.name, side.name, code, stderr)
					continue
				}
				if c.warning != "" && side.name == "head" && !strings.Contains(stderr, c.warning) {
					t.Errorf("%s: warnings %q lack %q", c.name, stderr, c.warning)
				}
				checkOutputs(t, c.name+" as "+side.name, args)
			}
		})
		status := "as documented"
		if !ok {
			status = "**NOT as documented**"
		}
		behaviour := "report"
		if c.warning != "" {
			behaviour = "report, warning “" + c.warning + "”"
		}
		if e, ok := strings.CutPrefix(c.expect, "error "); ok {
			behaviour = "exit 2: “… " + e + "”"
		}
		fmt.Fprintf(&rows, "| `%s` | %s | %s | %s / %s | %s |\n", c.name, c.about, behaviour, seen["head"], seen["base"], status)
	}
	writeFigures(t, "10-hostile-images.md", fmt.Sprintf("### Hostile and malformed images\n\n%d images of `testdata/hostile/images` served byte for byte by an in-process registry and analysed by the CLI as the head and as the base image (every format; markdown parsed, text checked for workflow commands and escapes), plus the generated cases below. Panics: **%d**. `go test ./internal/cli -run TestHostileImages`\n\n| image | what | documented behaviour | exit as head / base | outcome |\n|---|---|---|---|---|\n%s\n", len(cases), panics.Load(), rows.String()))
}

// TestHostileImagesGenerated covers the cases too big to keep as files.
func TestHostileImagesGenerated(t *testing.T) {
	host := hostileRegistry(t)
	good := host + "/app:good"
	digestOf := func(i int) string { return fmt.Sprintf("sha256:%064x", i+1) }
	image := func(history []string, layers int) hostileCase {
		var ls, ds, hs []string
		for i := 0; i < layers; i++ {
			ls = append(ls, fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":%d}`, digestOf(i), 100+i))
			ds = append(ds, fmt.Sprintf("%q", digestOf(i+1<<20)))
		}
		for _, h := range history {
			b, _ := json.Marshal(map[string]any{"created_by": h, "comment": "buildkit.dockerfile.v0"})
			hs = append(hs, string(b))
		}
		return hostileCase{
			manifest: []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{config}}","size":{{config.size}}},"layers":[` + strings.Join(ls, ",") + `]}`),
			config:   []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[` + strings.Join(ds, ",") + `]},"history":[` + strings.Join(hs, ",") + `]}`),
		}
	}

	t.Run("10000 history entries", func(t *testing.T) {
		var hist []string
		for i := 0; i < 10000; i++ {
			hist = append(hist, fmt.Sprintf("RUN /bin/sh -c step %d # buildkit", i))
		}
		pushHostile(t, host, "big", "a", image(hist, 10000))
		hist[5000] = "RUN /bin/sh -c step changed # buildkit"
		pushHostile(t, host, "big", "b", image(hist, 10000))
		start := time.Now()
		code, out, stderr := runCatching(t, "--format", "json", host+"/big:a", host+"/big:b")
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var r analyze.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Steps) != 10000 || len(r.Summary.RootCauses) != 1 || r.Summary.RootCauses[0].Step != 5001 {
			t.Errorf("steps %d, root causes %+v; want 10000 steps and step 5001 as the root", len(r.Steps), r.Summary.RootCauses)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("took %v", d)
		}
		code, md, _ := runCatching(t, "--format", "markdown", host+"/big:a", host+"/big:b")
		if code != ExitOK || len(mdcheck.Check(md).Problems) > 0 {
			t.Errorf("markdown: exit %d, %v", code, mdcheck.Check(md).Problems)
		}
	})

	t.Run("64 KiB created_by", func(t *testing.T) {
		long := "RUN /bin/sh -c echo " + strings.Repeat("<b>@team|`x`</b> ", 64<<10/17) + " # buildkit"
		pushHostile(t, host, "long", "x", image([]string{"ADD rootfs.tar / # buildkit", long}, 2))
		checkOutputs(t, "64 KiB created_by", []string{good, host + "/long:x"})
		_, md, _ := runCatching(t, "--format", "markdown", good, host+"/long:x")
		if len(md) > 16<<10 {
			t.Errorf("markdown is %d bytes: the long instruction is not cut", len(md))
		}
	})

	for _, tc := range []struct {
		name, config, want string
	}{
		{"deeply nested config", `{"history":` + strings.Repeat("[", 200000) + strings.Repeat("]", 200000) + `}`, "invalid image config"},
		{"config over 32 MiB", `{"history":[{"created_by":"` + strings.Repeat("x", 33<<20) + `"}]}`, "blob is larger than 33554432 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := image(nil, 1)
			c.config = []byte(tc.config)
			pushHostile(t, host, "gen", strings.ReplaceAll(tc.name, " ", "-"), c)
			code, _, stderr := runCatching(t, good, host+"/gen:"+strings.ReplaceAll(tc.name, " ", "-"))
			if code != ExitInput || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %.300q; want exit 2 and %q", code, stderr, tc.want)
			}
		})
	}
}

// TestHostileRegistryErrorCannotInjectIntoTheLog: a registry's error message is quoted in the
// one-line error; it must not carry a workflow command or a terminal escape into the log.
func TestHostileRegistryErrorCannotInjectIntoTheLog(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"errors":[{"code":"DENIED","message":"nope\n::error::pwned\r\u001b]0;title\u0007\u001b[2J\u202eevil ##[warning]x"}]}`)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	code, _, stderr := runCatching(t, "", host+"/app:x")
	if code != ExitInput || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	for _, p := range mdcheck.CheckLog(stderr) {
		t.Errorf("stderr: %s", p)
	}
}
