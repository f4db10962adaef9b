package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/layerdiff/layerdiff/internal/faults/mdcheck"
)

// hostileNames are file names a pull request can add. (Git allows all of them; a newline in a
// name is impossible in a changed-files list, one path per line, so it is left out.)
var hostileNames = []string{
	"</details>.md",
	"<!-- x.md",
	"-->.md",
	"a|b|c.md",
	"`tick`.md",
	"```.md",
	"@org/team.md",
	"cc @octocat.md",
	"](javascript:alert(1)).md",
	"[x](javascript:alert(1)).md",
	"\u202egnp.exe",
	"::set-output name=x::y",
	"::add-mask::secret",
	"##[error]x.md",
	"<img src=x onerror=alert(1)>.md",
	"\x1b[2J.md",
	"&#64;octocat.md",
}

// pushPair pushes base and head images whose histories are createdBy; head's layers from
// index changedFrom on differ from base's.
func pushPair(t *testing.T, host, repo string, createdBy []string, changedFrom int) (base, head string) {
	t.Helper()
	shared := make([]v1.Layer, len(createdBy))
	for i := range shared {
		l, err := random.Layer(64, types.OCILayer)
		if err != nil {
			t.Fatal(err)
		}
		shared[i] = l
	}
	for _, tag := range []string{"base", "head"} {
		img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
		for i, cb := range createdBy {
			l := shared[i]
			if tag == "head" && i >= changedFrom {
				var err error
				if l, err = random.Layer(64, types.OCILayer); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			img, err = mutate.Append(img, mutate.Addendum{Layer: l, MediaType: types.OCILayer, History: v1.History{CreatedBy: cb, Comment: "buildkit.dockerfile.v0"}})
			if err != nil {
				t.Fatal(err)
			}
		}
		ref, err := name.ParseReference(host + "/" + repo + ":" + tag)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
	}
	return host + "/" + repo + ":base", host + "/" + repo + ":head"
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHostileRepositoryContent: file names and Dockerfile lines a pull request controls render
// literally in every format.
func TestHostileRepositoryContent(t *testing.T) {
	host := hostileRegistry(t)
	dir := t.TempDir()
	// COPY sources are globs (an unclosed "[" fails the build), so the hostile names are copied
	// once literally, cached, and then all together by COPY . ., which the change rebuilds.
	var globs []string
	for _, n := range hostileNames {
		if !strings.Contains(n, "\x1b[") {
			globs = append(globs, n)
		}
	}
	sources, err := json.Marshal(append(globs, "./"))
	if err != nil {
		t.Fatal(err)
	}
	runLine := `echo "</details> <!-- @org/team | ` + "`x`" + ` ](javascript:alert(1)) ` + "\u202e" + `" && echo ::set-output name=x::y`
	dockerfile := "FROM alpine\nWORKDIR /app\nCOPY " + string(sources) + "\nCOPY . .\nRUN " + runLine + "\n"
	writeFile(t, filepath.Join(dir, "Dockerfile"), dockerfile)
	writeFile(t, filepath.Join(dir, "changed.txt"), strings.Join(hostileNames, "\n")+"\n")
	base, head := pushPair(t, host, "repo", []string{
		"ADD rootfs.tar / # buildkit",
		"WORKDIR /app",
		"COPY " + strings.Join(globs, " ") + " ./ # buildkit",
		"COPY . . # buildkit",
		"RUN /bin/sh -c " + runLine + " # buildkit",
	}, 3)
	args := []string{"--dockerfile", filepath.Join(dir, "Dockerfile"), "--changed-files", filepath.Join(dir, "changed.txt"), "--repo", dir, base, head}
	checkOutputs(t, "hostile repository", args)

	// The cause names the files, so the hostile names did reach the outputs.
	_, out, _ := runCatching(t, append([]string{"--format", "json"}, args...)...)
	if !strings.Contains(out, `"a|b|c.md"`) || !strings.Contains(out, `"sources"`) {
		t.Errorf("the report does not name the changed files:\n%.2000s", out)
	}
}

func TestTenThousandChangedFiles(t *testing.T) {
	host := hostileRegistry(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM alpine\nCOPY src/ ./src/\nRUN make\n")
	var files []string
	for i := 0; i < 10000; i++ {
		files = append(files, fmt.Sprintf("src/pkg%03d/file%05d.go", i%500, i))
	}
	writeFile(t, filepath.Join(dir, "changed.txt"), strings.Join(files, "\n"))
	base, head := pushPair(t, host, "many", []string{"ADD rootfs.tar / # buildkit", "COPY src/ ./src/ # buildkit", "RUN /bin/sh -c make # buildkit"}, 1)
	start := time.Now()
	args := []string{"--dockerfile", filepath.Join(dir, "Dockerfile"), "--changed-files", filepath.Join(dir, "changed.txt"), "--repo", dir, base, head}
	checkOutputs(t, "10,000 changed files", args)
	_, md, _ := runCatching(t, append([]string{"--format", "markdown"}, args...)...)
	if !strings.Contains(md, "and 9999 more files") || len(md) > 8<<10 {
		t.Errorf("markdown (%d bytes) does not summarise the 10,000 files:\n%.1500s", len(md), md)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestHugeDockerfiles(t *testing.T) {
	host := hostileRegistry(t)
	base, head := pushPair(t, host, "huge", []string{"ADD rootfs.tar / # buildkit", "RUN /bin/sh -c make # buildkit"}, 1)
	dir := t.TempDir()
	var many strings.Builder
	many.WriteString("FROM alpine\n")
	for many.Len() < 5<<20 {
		many.WriteString("RUN echo " + strings.Repeat("x", 80) + "\n")
	}
	for _, tc := range []struct{ name, content, warning string }{
		{"5 MB of lines", many.String(), "does not match the head image's history"},
		{"a 5 MB line", "FROM alpine\nRUN echo " + strings.Repeat("y", 5<<20) + "\n", "does not parse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			writeFile(t, p, tc.content)
			start := time.Now()
			code, _, stderr := runCatching(t, "--format", "json", "--dockerfile", p, base, head)
			if code != ExitOK || !strings.Contains(stderr, tc.warning) || len(stderr) > 4096 {
				t.Errorf("exit %d, stderr %.500q; want exit 0 and a warning with %q", code, stderr, tc.warning)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestPathologicalDockerignore(t *testing.T) {
	host := hostileRegistry(t)
	base, head := pushPair(t, host, "ignore", []string{"ADD rootfs.tar / # buildkit", "COPY . . # buildkit"}, 1)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM alpine\nCOPY . .\n")
	var files []string
	for i := 0; i < 10000; i++ {
		files = append(files, fmt.Sprintf("src/dir%d/sub/file%d.go", i%100, i))
	}
	writeFile(t, filepath.Join(dir, "changed.txt"), strings.Join(files, "\n"))
	for _, tc := range []struct{ name, ignore, warning string }{
		// Three patterns that took 19 s against these files before the work bound.
		{"nested globs", strings.Repeat("**/", 2000) + "x\n" + strings.Repeat("*a", 5000) + "b\n!" + strings.Repeat("[a-z]", 1000) + "\n", "too large to match"},
		{"10,000 patterns", func() string {
			var b strings.Builder
			for i := 0; i < 10000; i++ {
				fmt.Fprintf(&b, "**/a*b*c*d*e%d/**/*.x%d\n", i, i)
			}
			return b.String()
		}(), "too large to match"},
		{"odd but small", "!\n#comment\n\\\n[\n**\n!**/*.go\n../../etc\n/abs/path\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeFile(t, filepath.Join(dir, ".dockerignore"), tc.ignore)
			start := time.Now()
			code, _, stderr := runCatching(t, "--format", "json", "--dockerfile", filepath.Join(dir, "Dockerfile"),
				"--changed-files", filepath.Join(dir, "changed.txt"), "--repo", dir, base, head)
			if tc.warning != "" && (code != ExitOK || !strings.Contains(stderr, tc.warning)) {
				t.Errorf("exit %d, stderr %.500q; want exit 0 and %q", code, stderr, tc.warning)
			}
			if code != ExitOK && code != ExitInput || strings.Count(stderr, "\n") > 5 {
				t.Errorf("exit %d, stderr %.500q", code, stderr)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestNothingOutsideIsRead: a .dockerignore that links out of its directory is neither read nor
// applied, and a Dockerfile or .dockerignore that is a device or a FIFO fails at once instead of
// hanging or filling memory.
func TestNothingOutsideIsRead(t *testing.T) {
	host := hostileRegistry(t)
	base, head := pushPair(t, host, "outside", []string{"ADD rootfs.tar / # buildkit", "COPY . . # buildkit"}, 1)
	outside := t.TempDir()
	fifo := filepath.Join(outside, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(outside, "secret")
	writeFile(t, secret, "README.md\n")

	run := func(args ...string) (int, string) {
		done := make(chan struct{})
		var code int
		var stderr string
		go func() {
			defer close(done)
			code, _, stderr = runCatching(t, append([]string{"--format", "json"}, args...)...)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("layerdiff %q hung", args)
		}
		return code, stderr
	}

	t.Run("dockerignore links outside", func(t *testing.T) {
		for _, target := range []string{secret, fifo, "/dev/zero"} {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM alpine\nCOPY . .\n")
			writeFile(t, filepath.Join(dir, "changed.txt"), "README.md\n")
			if err := os.Symlink(target, filepath.Join(dir, ".dockerignore")); err != nil {
				t.Fatal(err)
			}
			code, stderr := run("--dockerfile", filepath.Join(dir, "Dockerfile"), "--changed-files", filepath.Join(dir, "changed.txt"), "--repo", dir, base, head)
			if code != ExitOK || !strings.Contains(stderr, "links outside its directory: it is not applied") {
				t.Errorf("-> %s: exit %d, stderr %q", target, code, stderr)
			}
		}
	})
	t.Run("Dockerfile is a device or a FIFO", func(t *testing.T) {
		for _, target := range []string{"/dev/zero", fifo} {
			dir := t.TempDir()
			df := filepath.Join(dir, "Dockerfile")
			if err := os.Symlink(target, df); err != nil {
				t.Fatal(err)
			}
			code, stderr := run("--dockerfile", df, base, head)
			if code != ExitInput || !strings.Contains(stderr, "not a regular file") {
				t.Errorf("-> %s: exit %d, stderr %q", target, code, stderr)
			}
			for _, p := range mdcheck.CheckLog(stderr) {
				t.Error(p)
			}
		}
	})
}
