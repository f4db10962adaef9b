package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/layerdiff/layerdiff/analyze"
	"github.com/layerdiff/layerdiff/internal/render"
)

// secretWords are what makes a build-arg name look secret (README "Secrets").
var secretWords = []string{"token", "secret", "password", "passwd", "key", "credential", "auth", "private"}

// secretGen draws build-arg names that look secret and values that look like credentials.
type secretGen struct{ r *rand.Rand }

func (g secretGen) name() string {
	w := []byte(secretWords[g.r.IntN(len(secretWords))])
	for i := range w { // any case
		if g.r.IntN(2) == 0 {
			w[i] = byte(strings.ToUpper(string(w[i]))[0])
		}
	}
	affixes := []string{"", "NPM_", "GH_", "aws_", "Db", "X_", "MY_APP_"}
	suffixes := []string{"", "_VALUE", "_2", "Header", "_B64", "_FILE"}
	return affixes[g.r.IntN(len(affixes))] + string(w) + suffixes[g.r.IntN(len(suffixes))]
}

// value is 12–40 characters of the alphabets tokens use, with a recognisable prefix so that a
// leak is never a coincidence.
func (g secretGen) value(spaces bool) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_.:@-"
	var b strings.Builder
	b.WriteString("Sx9")
	n := 12 + g.r.IntN(29)
	for i := 0; i < n; i++ {
		if spaces && i > 2 && g.r.IntN(8) == 0 {
			b.WriteByte(' ')
			continue
		}
		b.WriteByte(alphabet[g.r.IntN(len(alphabet))])
	}
	return strings.TrimSpace(b.String())
}

// secretImages builds a base and head image whose history carries the secret args: ARG
// entries and RUN |N prefixes, in BuildKit's and the classic builder's formats, with the value
// changed between base and head for some of them.
func secretImages(g secretGen, spaces bool) (base, head *analyze.Image, secrets []string, dockerfile string) {
	n := 1 + g.r.IntN(3)
	type arg struct{ name, base, head string }
	var args []arg
	for i := 0; i < n; i++ {
		a := arg{name: g.name(), base: g.value(spaces)}
		a.head = a.base
		if g.r.IntN(2) == 0 {
			a.head = g.value(spaces)
		}
		args = append(args, a)
		secrets = append(secrets, a.base, a.head)
	}
	classic := g.r.IntN(3) == 0
	mk := func(side string) *analyze.Image {
		img := &analyze.Image{Reference: "registry.example/app:" + side, Digest: "sha256:" + strings.Repeat(side[:1], 64), Platform: "linux/amd64"}
		add := func(createdBy string, empty bool, layer string) {
			img.History = append(img.History, analyze.HistoryEntry{CreatedBy: createdBy, EmptyLayer: empty, Comment: map[bool]string{true: "", false: "buildkit.dockerfile.v0"}[classic]})
			if !empty {
				img.Layers = append(img.Layers, analyze.ImageLayer{Digest: "sha256:" + layer, DiffID: "sha256:d" + layer, Size: int64(100 + len(img.Layers))})
			}
		}
		add("ADD rootfs.tar / # buildkit", false, "root")
		var pairs []string
		for _, a := range args {
			v := a.base
			if side == "head" {
				v = a.head
			}
			pairs = append(pairs, a.name+"="+v)
			if classic {
				add("/bin/sh -c #(nop) ARG "+a.name+"="+v, true, "")
			} else {
				add("ARG "+a.name+"="+v, true, "")
			}
		}
		layer := "same"
		if side == "head" && secrets[0] != secrets[1] || side == "head" && len(args) > 1 && args[1].base != args[1].head {
			layer = "changed"
		}
		prefix := fmt.Sprintf("|%d %s ", len(pairs), strings.Join(pairs, " "))
		if classic {
			add(prefix+"/bin/sh -c npm ci && echo "+pairs[0], false, "ci-"+layer)
		} else {
			add("RUN "+prefix+"/bin/sh -c npm ci && echo "+pairs[0]+" # buildkit", false, "ci-"+layer)
		}
		return img
	}
	var df strings.Builder
	df.WriteString("FROM alpine\n")
	for _, a := range args {
		df.WriteString("ARG " + a.name + "\n")
	}
	df.WriteString("RUN npm ci && echo $" + args[0].name + "\n")
	return mk("base"), mk("head"), secrets, df.String()
}

func leaks(out string, secrets []string) []string {
	var found []string
	for _, s := range secrets {
		// Any 8 consecutive characters of a value are a leak: a partial value is still a secret.
		for i := 0; i+8 <= len(s); i++ {
			if part := s[i : i+8]; !strings.Contains(part, " ") && strings.Contains(out, part) {
				found = append(found, fmt.Sprintf("%q (of %q)", part, s))
				break
			}
		}
	}
	return found
}

// TestSecretsNeverLeakProperty: for random secret-looking build args, no value appears in the
// JSON, markdown or text report or in the warnings.
func TestSecretsNeverLeakProperty(t *testing.T) {
	runs := 500
	if n, err := strconv.Atoi(os.Getenv("LAYERDIFF_SECRET_RUNS")); err == nil && n > 0 {
		runs = n
	}
	var fig strings.Builder
	fig.WriteString("### Secrets\n\nA property test draws build args whose names look secret (" + strings.Join(secretWords, ", ") + ", in any case, with prefixes and suffixes) and credential-like values, puts them in `ARG` entries and `RUN |N …` prefixes (BuildKit and classic formats, values changed between base and head or not), analyses the pair and searches the JSON, markdown and text reports for any 8 consecutive characters of any value. `go test ./internal/cli -run TestSecretsNeverLeakProperty` (runs: `LAYERDIFF_SECRET_RUNS`)\n\n| values | analyses | secrets drawn | analyses leaking any part of a value |\n|---|---:|---:|---:|\n")
	for _, spaces := range []bool{false, true} {
		g := secretGen{rand.New(rand.NewPCG(42, map[bool]uint64{false: 1, true: 2}[spaces]))}
		leaked, drawn := 0, 0
		for i := 0; i < runs; i++ {
			base, head, secrets, dfText := secretImages(g, spaces)
			drawn += len(secrets)
			df, err := analyze.ParseDockerfile([]byte(dfText))
			if err != nil {
				t.Fatal(err)
			}
			r, err := analyze.Analyze(analyze.Input{Base: base, Head: head, Dockerfile: df, DockerfilePath: "Dockerfile"})
			if err != nil {
				t.Fatal(err)
			}
			var js, txt bytes.Buffer
			if err := render.JSON(&js, r); err != nil {
				t.Fatal(err)
			}
			render.Text(&txt, r, false)
			md := render.Markdown(r, render.MarkdownOptions{})
			all := js.String() + "\n" + txt.String() + "\n" + md
			if found := leaks(all, secrets); len(found) > 0 {
				leaked++
				if leaked <= 3 {
					t.Errorf("spaces=%v run %d: secret values in the output: %s\nhistory: %q", spaces, i, strings.Join(found, ", "), head.History[len(head.History)-1].CreatedBy)
				}
			}
		}
		if leaked > 0 {
			t.Errorf("spaces=%v: %d of %d analyses leaked a secret value", spaces, leaked, runs)
		}
		kind := "token alphabet, no blanks"
		if spaces {
			kind = "with blanks (unquoted in the history, so ambiguous)"
		}
		fmt.Fprintf(&fig, "| %s | %d | %d | **%d** |\n", kind, runs, drawn, leaked)
	}
	writeFigures(t, "50-secrets.md", fig.String()+"\n")
}

// writeFigures writes a section of RELIABILITY.md when LAYERDIFF_RELIABILITY_DIR is set.
func writeFigures(t *testing.T, file, markdown string) {
	t.Helper()
	if dir := os.Getenv("LAYERDIFF_RELIABILITY_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(markdown), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSecretsNeverLeakThroughTheCLI covers what the CLI adds: warnings and errors, including a
// Dockerfile that does not parse and quotes its line, and a bad flag value.
func TestSecretsNeverLeakThroughTheCLI(t *testing.T) {
	dir := t.TempDir()
	const value = "Sx9ghp_0123456789abcdefABCDEF"
	df := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(df, []byte("FROM alpine\nARG NPM_TOKEN="+value+"\nFROBNICATE NPM_TOKEN="+value+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inRoot(t)
	for _, args := range [][]string{
		{"--dockerfile", df, "oci-archive:testdata/demo/base.tar", "oci-archive:testdata/demo/head.tar"},
		{"--dockerfile", df, "--format", "NPM_TOKEN=" + value, "a", "b"},
		{"--dockerfile", df, "", "oci-archive:missing/NPM_TOKEN=" + value + ".tar"},
	} {
		_, out, stderr := run(t, append([]string{"--format", "json"}, args...)...)
		if found := leaks(out+stderr, []string{value}); len(found) > 0 {
			t.Errorf("layerdiff %q: %s in stdout/stderr:\n%s", args, found, stderr)
		}
		var r analyze.Report
		if out != "" && json.Unmarshal([]byte(out), &r) != nil {
			t.Errorf("bad JSON")
		}
	}
}
