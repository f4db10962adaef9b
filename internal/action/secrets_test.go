package action

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	githubactions "github.com/sethvargo/go-githubactions"

	"github.com/layerdiff/layerdiff/internal/github/githubtest"
	"github.com/layerdiff/layerdiff/internal/mdsafe"
)

// The words that make a build-arg name look secret (GUIDE §2, README "Secrets").
var secretNameWords = []string{"token", "secret", "password", "passwd", "key", "credential", "auth", "private"}

// secretDraw draws one scenario of the property test.
type secretDraw struct{ r *rand.Rand }

const (
	identStart = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
	identChars = identStart + "0123456789"
	// valueChars are what a --build-arg value may hold on a command line once quoted: letters
	// and digits, blanks, and everything a shell or markdown gives a meaning to.
	alnumChars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	specialChars = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

func (d secretDraw) from(chars string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[d.r.IntN(len(chars))]
	}
	return string(b)
}

// name is a secret word in any case, anywhere in an identifier.
func (d secretDraw) name() string {
	w := []byte(secretNameWords[d.r.IntN(len(secretNameWords))])
	for i := range w {
		if d.r.IntN(2) == 0 {
			w[i] ^= 0x20 // flip the case of a letter
		}
	}
	prefix := ""
	if n := d.r.IntN(6); n > 0 {
		prefix = d.from(identStart, 1) + d.from(identChars, n-1)
	}
	return prefix + string(w) + d.from(identChars, d.r.IntN(6))
}

// value is 12 to 40 characters, about a third of them blanks and shell or markdown specials,
// starting with a letter so that no value is a substring of the analysis' own words by chance.
func (d secretDraw) value() string {
	n := 12 + d.r.IntN(29)
	b := []byte(d.from(alnumChars[:52], 1))
	for len(b) < n {
		if d.r.IntN(3) == 0 {
			b = append(b, specialChars[d.r.IntN(len(specialChars))])
		} else {
			b = append(b, alnumChars[d.r.IntN(len(alnumChars))])
		}
	}
	return strings.TrimSpace(string(b))
}

type buildArg struct{ name, base, head string }

// secretScenario is a base and head image pair and the Dockerfile they were built from.
type secretScenario struct {
	args    []buildArg
	classic bool
	// echo, when >= 0, is the arg whose value the last RUN's command also holds literally (an
	// `echo` of the expanded value), so the value reaches free text that no NAME= precedes.
	echo       int
	dockerfile string
	secrets    []string
}

// A handful of layers, made once: the images of every scenario are assembled from them.
var secretLayers = func() []v1.Layer {
	var ls []v1.Layer
	for range 8 {
		l, err := random.Layer(64, types.OCILayer)
		if err != nil {
			panic(err)
		}
		ls = append(ls, l)
	}
	return ls
}()

func (d secretDraw) scenario(token string) secretScenario {
	var sc secretScenario
	seen := map[string]bool{}
	for n := 1 + d.r.IntN(3); len(sc.args) < n; {
		a := buildArg{name: d.name(), base: d.value()}
		if seen[strings.ToUpper(a.name)] {
			continue
		}
		seen[strings.ToUpper(a.name)] = true
		a.head = a.base
		if d.r.IntN(2) == 0 {
			a.head = d.value()
		}
		sc.args = append(sc.args, a)
		sc.secrets = append(sc.secrets, a.base, a.head)
	}
	// Args whose names look harmless, around the secret ones: a version, and sometimes the
	// workflow's token under a name nothing would redact (an earlier run's token in the base).
	sc.args = append(sc.args, buildArg{name: "VERSION", base: "1.0." + strconv.Itoa(d.r.IntN(9)), head: "1.1.0"})
	if d.r.IntN(3) == 0 {
		sc.args = append(sc.args, buildArg{name: "GH_PAT", base: "ghs_" + d.from(alnumChars, 36), head: token})
	}
	d.r.Shuffle(len(sc.args), func(i, j int) { sc.args[i], sc.args[j] = sc.args[j], sc.args[i] })
	sc.classic = d.r.IntN(3) == 0
	sc.echo = -1
	if d.r.IntN(2) == 0 {
		for i, a := range sc.args {
			if a.name != "VERSION" && (sc.echo < 0 || d.r.IntN(2) == 0) {
				sc.echo = i
			}
		}
	}

	var df strings.Builder
	df.WriteString("FROM alpine:3.20\nWORKDIR /app\n")
	for _, a := range sc.args {
		df.WriteString("ARG " + a.name + "\n")
	}
	df.WriteString("RUN npm ci\nCOPY . .\nRUN npm run build && echo done\n")
	sc.dockerfile = df.String()
	return sc
}

// image builds one side's image the way BuildKit (or the classic builder) records it: the
// values of the build args in every ARG entry and in the "|N NAME=value ..." prefix of each
// RUN. Layers that differ between the sides are picked by changed.
func (sc secretScenario) image(head bool, changed [3]bool) (v1.Image, error) {
	var pairs []string
	for _, a := range sc.args {
		v := a.base
		if head {
			v = a.head
		}
		pairs = append(pairs, a.name+"="+v)
	}
	prefix := fmt.Sprintf("|%d %s ", len(pairs), strings.Join(pairs, " "))
	build := "npm run build && echo done"
	if sc.echo >= 0 {
		_, v, _ := strings.Cut(pairs[sc.echo], "=")
		build += " " + v
	}
	pick := func(i int, differs bool) v1.Layer {
		if head && differs {
			return secretLayers[i+1]
		}
		return secretLayers[i]
	}
	hist := func(createdBy string, empty bool) v1.History {
		h := v1.History{CreatedBy: createdBy, EmptyLayer: empty, Created: v1.Time{Time: time.Unix(1700000000, 0).UTC()}}
		if !sc.classic {
			h.Comment = "buildkit.dockerfile.v0"
		}
		return h
	}
	var adds []mutate.Addendum
	layer := func(l v1.Layer, createdBy string) {
		adds = append(adds, mutate.Addendum{Layer: l, History: hist(createdBy, false)})
	}
	meta := func(createdBy string) { adds = append(adds, mutate.Addendum{History: hist(createdBy, true)}) }

	// The base image's own steps.
	adds = append(adds, mutate.Addendum{Layer: secretLayers[0], History: v1.History{CreatedBy: "/bin/sh -c #(nop) ADD file:5d673d25da3a14ce1f6cf66e4c7fd4f4b85a3759a9d93efb3fd9ff852b5b56e4 in / "}})
	adds = append(adds, mutate.Addendum{History: v1.History{CreatedBy: `/bin/sh -c #(nop)  CMD ["/bin/sh"]`, EmptyLayer: true}})
	if sc.classic {
		meta("/bin/sh -c #(nop) WORKDIR /app")
		for _, p := range pairs {
			meta("/bin/sh -c #(nop) ARG " + p)
		}
		layer(pick(1, changed[0]), prefix+"/bin/sh -c npm ci")
		layer(pick(3, changed[1]), "/bin/sh -c #(nop) COPY dir:"+strings.Repeat("ab", 32)+" in . ")
		layer(pick(5, changed[2]), prefix+"/bin/sh -c "+build)
	} else {
		layer(secretLayers[7], "WORKDIR /app")
		for _, p := range pairs {
			meta("ARG " + p)
		}
		layer(pick(1, changed[0]), "RUN "+prefix+"/bin/sh -c npm ci # buildkit")
		layer(pick(3, changed[1]), "COPY . . # buildkit")
		layer(pick(5, changed[2]), "RUN "+prefix+"/bin/sh -c "+build+" # buildkit")
	}
	cf, err := empty.Image.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	img, err := mutate.ConfigFile(empty.Image, cf)
	if err != nil {
		return nil, err
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	return mutate.Append(img, adds...)
}

var (
	jsonUnicode = regexp.MustCompile(`\\u([0-9a-fA-F]{4})`)
	mdBackslash = regexp.MustCompile("\\\\([!-/:-@\\[-`{-~])")
	alnumRun    = regexp.MustCompile(`[A-Za-z0-9]`)
	wfUnescape  = strings.NewReplacer("%25", "%", "%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",")
)

// readable undoes every escaping a value may have gone through on its way out: workflow-command
// escapes, JSON's \u escapes, HTML character references, markdown backslashes and the invisible
// spaces that break mentions and commands. A leak must not hide behind an escape.
func readable(s string) string {
	s = wfUnescape.Replace(s)
	s = jsonUnicode.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.ParseUint(m[2:], 16, 32)
		return string(rune(n))
	})
	s = html.UnescapeString(s)
	s = strings.ReplaceAll(s, "\u200b", "")
	return mdBackslash.ReplaceAllString(s, "$1")
}

// jsonStrings returns every string inside a JSON document (none when it is not JSON).
func jsonStrings(data string) []string {
	var v any
	if json.Unmarshal([]byte(data), &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for k, e := range v {
				out = append(out, k)
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// leakedParts returns, for each secret found in text (as it is or once made readable), the
// first piece of it found: any 8 consecutive characters without a blank and with at least four
// letters or digits are a leak, since a partial value is still a secret.
func leakedParts(text string, secrets []string) []string {
	views := []string{text, readable(text)}
	for _, s := range jsonStrings(text) {
		views = append(views, s, readable(s))
	}
	all := strings.Join(views, "\n")
	var found []string
	for _, sec := range secrets {
		for _, part := range telltales(sec) {
			if strings.Contains(all, part) {
				found = append(found, fmt.Sprintf("%q of %q", part, sec))
				break
			}
		}
	}
	return found
}

// telltales are the pieces of a secret that betray it: every 8 consecutive characters without
// a blank and with at least four letters or digits (fewer could match text by chance).
func telltales(secret string) []string {
	var out []string
	for i := 0; i+8 <= len(secret); i++ {
		if part := secret[i : i+8]; !strings.Contains(part, " ") && alnumCount(part) >= 4 {
			out = append(out, part)
		}
	}
	return out
}

// TestSecretBuildArgsNeverLeakFromTheAction is the property test of issue 4 item 5 at the
// action's level: images whose histories carry random secret-looking build args (in ARG entries
// and RUN |N prefixes, BuildKit and classic formats, sometimes also echoed in a command) are
// served by an in-process registry and go through action.Run — the real analysis and renderer —
// with the fake GitHub. No part of a value, nor the github-token, may come out in the log,
// annotations, outputs, job summary, report file or any request GitHub received.
func TestSecretBuildArgsNeverLeakFromTheAction(t *testing.T) {
	runs := 300
	if n, err := strconv.Atoi(os.Getenv("LAYERDIFF_ACTION_SECRET_RUNS")); err == nil && n > 0 {
		runs = n
	}
	seed := uint64(20240605)
	if s, err := strconv.ParseUint(os.Getenv("LAYERDIFF_ACTION_SECRET_SEED"), 10, 64); err == nil {
		seed = s
	}
	d := secretDraw{rand.New(rand.NewPCG(seed, 5))}
	st := newSecretStep(t)
	start := time.Now()
	var leaking, hidden, withToken, echoed, drawn int
	for i := range runs {
		sc := d.scenario(testToken)
		changed := [3]bool{false, d.r.IntN(2) == 0, true}
		for _, a := range sc.args {
			changed[0] = changed[0] || a.base != a.head
		}
		drawn += len(sc.secrets)
		if slices.ContainsFunc(sc.args, func(a buildArg) bool { return a.name == "GH_PAT" }) {
			withToken++
		}
		if sc.echo >= 0 {
			echoed++
		}
		out := st.run(t, i, sc, changed)
		if out.code != 0 {
			t.Fatalf("seed %d run %d: exit %d\n%s%s", seed, i, out.code, out.texts["stdout"], out.texts["stderr"])
		}
		leaked := false
		for what, text := range out.texts {
			if found := leakedParts(text, sc.secrets); len(found) > 0 {
				leaked = true
				t.Errorf("seed %d run %d: %s shows secret values: %s\nargs: %q", seed, i, what, strings.Join(found, ", "), sc.args)
			}
			if what != "stdout" && strings.Contains(readable(text), testToken) {
				leaked = true
				t.Errorf("seed %d run %d: %s shows the github-token", seed, i, what)
			}
		}
		for _, ln := range strings.Split(out.texts["stdout"], "\n") {
			if strings.Contains(readable(ln), testToken) && ln != "::add-mask::"+testToken {
				leaked = true
				t.Errorf("seed %d run %d: log line shows the github-token: %q", seed, i, ln)
			}
		}
		for _, r := range out.requests {
			if r.Authorization != "Bearer "+testToken {
				t.Errorf("seed %d run %d: %s %s: Authorization %q", seed, i, r.Method, r.Path, r.Authorization)
			}
		}
		if leaked {
			if leaking++; leaking >= 3 {
				t.Fatalf("stopping after %d leaking runs", leaking)
			}
		}
		// The property only means something if the args reached the outputs: every secret arg
		// is named in the comment, its value hidden.
		comment := readable(out.texts["comment"])
		for _, a := range sc.args {
			if a.name != "VERSION" && a.name != "GH_PAT" && !strings.Contains(comment, a.name) {
				t.Errorf("seed %d run %d: the comment does not name build arg %s", seed, i, a.name)
			}
		}
		if strings.Contains(comment, "value hidden") || strings.Contains(comment, "***") {
			hidden++
		}
	}
	t.Logf("%d runs (seed %d): %d secret values drawn, %d runs with the token in a harmless-looking arg, %d with a value echoed in a command, %d comments saying a value is hidden, %d leaking; %s",
		runs, seed, drawn, withToken, echoed, hidden, leaking, time.Since(start).Round(time.Millisecond))
	if hidden < runs/2 {
		t.Errorf("only %d of %d comments say a value is hidden", hidden, runs)
	}
}

// secretStep is the one workflow step environment every run of the property test reuses: the
// first run creates the pull request's sticky comment and later runs edit it, as pushes to one
// pull request do. The images come from an in-process registry.
type secretStep struct {
	h        *harness
	registry string
}

func newSecretStep(t *testing.T) *secretStep {
	h := newHarness(t, "pull_request.opened.json")
	h.srv.AddPull(prRepo, prNumber, githubtest.PullRequest{HeadSHA: prHeadSHA, BaseSHA: prBaseSHA, Files: []string{"README.md"}})
	h.vars["INPUT_COMMENT"] = "always"
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	return &secretStep{h: h, registry: strings.TrimPrefix(reg.URL, "http://")}
}

type secretRun struct {
	code     int
	texts    map[string]string // what the step left behind, by name
	requests []githubtest.Request
}

// run pushes sc's images, runs the action once as a pull_request step and collects everything
// it wrote.
func (st *secretStep) run(t *testing.T, i int, sc secretScenario, changed [3]bool) secretRun {
	t.Helper()
	h := st.h
	for _, side := range []string{"base", "head"} {
		img, err := sc.image(side == "head", changed)
		if err != nil {
			t.Fatal(err)
		}
		ref := fmt.Sprintf("%s/codertocat/hello-world:%s-%d", st.registry, side, i)
		tag, err := name.NewTag(ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(tag, img); err != nil {
			t.Fatal(err)
		}
		h.vars["INPUT_"+strings.ToUpper(side)+"-IMAGE"] = ref
	}
	h.write("Dockerfile", sc.dockerfile)
	for _, f := range []string{h.vars["GITHUB_OUTPUT"], h.vars["GITHUB_STEP_SUMMARY"]} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reportPath := filepath.Join(h.ws, "layerdiff-report.json")
	os.Remove(reportPath)
	h.srv.Reset()

	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), h.getenv, &stdout, &stderr)
	texts := map[string]string{
		"stdout":              stdout.String(),
		"stderr":              stderr.String(),
		"GITHUB_OUTPUT":       mustRead(t, h.vars["GITHUB_OUTPUT"]),
		"GITHUB_STEP_SUMMARY": mustRead(t, h.vars["GITHUB_STEP_SUMMARY"]),
		"report file":         mustRead(t, reportPath),
	}
	reqs := h.srv.Requests()
	for j, r := range reqs {
		texts[fmt.Sprintf("request %d (%s %s)", j, r.Method, r.Path)] = r.Method + " " + r.Path + "?" + r.Query.Encode() + "\n" + r.Body
	}
	if c := h.srv.Comments(prRepo, prNumber); len(c) == 1 {
		texts["comment"] = c[0].Body
	} else {
		t.Errorf("run %d: %d comments, want 1", i, len(c))
	}
	return secretRun{code: code, texts: texts, requests: reqs}
}

// TestLeakDetectorSeesThroughEscapes checks the property test's oracle: a value is found however
// the outputs escape it, and a redacted one is not.
func TestLeakDetectorSeesThroughEscapes(t *testing.T) {
	d := secretDraw{rand.New(rand.NewPCG(7, 7))}
	for range 200 {
		v := d.value()
		js, _ := json.Marshal(map[string]string{"body": mdsafe.Escape("x " + v + " y")})
		var log bytes.Buffer
		l := &logger{a: githubactions.New(githubactions.WithWriter(&log)), w: &log}
		l.annotate("Dockerfile", 3, "t", "RUN echo "+v)
		l.warnf("%s", v)
		for what, text := range map[string]string{
			"plain":        "RUN |1 NPM_TOKEN=" + v + " /bin/sh",
			"escaped":      mdsafe.Escape(v),
			"code span":    mdsafe.Code(v),
			"code with |":  mdsafe.Code(v + "|"),
			"JSON":         string(js),
			"workflow log": log.String(),
		} {
			if len(telltales(v)) > 0 && len(leakedParts(text, []string{v})) == 0 {
				t.Errorf("%s: %q not found in %q", what, v, text)
			}
		}
		if found := leakedParts("RUN |1 NPM_TOKEN=*** /bin/sh -c npm ci", []string{v}); len(found) > 0 {
			t.Errorf("redacted text reported as a leak: %v", found)
		}
	}
}

func alnumCount(s string) int { return len(alnumRun.FindAllString(s, -1)) }
