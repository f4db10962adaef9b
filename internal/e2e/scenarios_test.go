package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/layerdiff/layerdiff/analyze"
)

const amd64 = "linux/amd64"

// The shared base image: FROM scratch, a static busybox and its applet links. Scenarios build on
// it with FROM so their first steps are base-image steps 1–3.
const baseDockerfile = `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["sh"]
`

var (
	baseOnce sync.Once
	baseRef  string
)

func sharedBase(t *testing.T, tl *tools) string {
	t.Helper()
	baseOnce.Do(func() {
		s := newScenario(t, tl, "base")
		s.busybox("busybox")
		s.write(map[string]string{"Dockerfile": baseDockerfile})
		baseRef = s.buildkit("1", bk{})
	})
	if baseRef == "" {
		t.Fatal("the shared base image was not built (see the first scenario that needed it)")
	}
	return baseRef
}

// The three history entries of the shared base image, as head steps 1–3.
var base3 = []want{baseCached(), baseCached(), baseCached()}

func steps(parts ...[]want) []want {
	var all []want
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

func TestE2E(t *testing.T) {
	tl := needTools(t)
	for _, sc := range []struct {
		name string
		fn   func(*testing.T, *tools)
	}{
		{"01-readme-under-copy-all", readmeUnderCopyAll},
		{"02-source-edit-well-ordered", sourceEditWellOrdered},
		{"03-lockfile-edit", lockfileEdit},
		{"04-base-image-bump", baseImageBump},
		{"05-edited-run", editedRun},
		{"06-build-arg-value", buildArgValue},
		{"07-env-change", envChange},
		{"08-no-cache", noCache},
		{"09-multi-stage", multiStage},
		{"10-two-platforms", twoPlatforms},
		{"11-secret-build-arg", secretBuildArg},
		{"12-buildah-classic", buildahClassic},
		{"13-archives", archives},
		{"14-no-base-image", noBaseImage},
		{"15-no-blob-downloads", noBlobDownloads},
		{"16-every-instruction", everyInstruction},
		{"17-monorepo-context", monorepoContext},
		{"18-from-earlier-stage", fromEarlierStage},
		{"19-base-tag-moved", baseTagMoved},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.fn(t, tl)
		})
	}
}

// readmeApp is the careless layout: every file of the repository is copied before the install step.
func readmeApp(t *testing.T, tl *tools, name, base string) *scenario {
	s := newScenario(t, tl, name)
	s.write(map[string]string{
		".dockerignore": ".git\n",
		"Dockerfile": fmt.Sprintf(`FROM %s
WORKDIR /%s
COPY . .
RUN cat package.json > deps.lock && echo installed >> deps.lock
CMD ["cat", "deps.lock"]
`, base, name),
		"package.json": `{"name": "` + name + `", "nonce": "{nonce}"}` + "\n",
		"README.md":    "# " + name + "\n",
		"src/app.js":   "console.log('{nonce}')\n",
	})
	s.commit("base")
	return s
}

func readmeWant(s *scenario) []want {
	return steps(base3, []want{
		cached(s.line("WORKDIR /"+s.name), "WORKDIR /"+s.name),
		rebuilt(s.line("COPY . ."), "COPY . .", analyze.CauseSources, 5, "README.md"),
		rebuilt(s.line("RUN cat package.json > deps.lock && echo installed >> deps.lock"),
			"RUN cat package.json > deps.lock && echo installed >> deps.lock", analyze.CauseParent, 5),
		cached(s.line(`CMD ["cat", "deps.lock"]`), `CMD ["cat", "deps.lock"]`),
	})
}

// 1. A README edit under `COPY . .` rebuilds the copy (sources: README.md) and the install after it.
func readmeUnderCopyAll(t *testing.T, tl *tools) {
	s := readmeApp(t, tl, "s01", sharedBase(t, tl))
	baseRef := s.buildkit("base", bk{})
	s.write(map[string]string{"README.md": "# s01\n\nMore documentation.\n"})
	s.commit("docs: explain more")
	headRef := s.buildkit("head", bk{})

	head, base := s.facts(headRef, amd64), s.facts(baseRef, amd64)
	rep, _ := s.report(0, baseRef, headRef)
	check(t, rep, head, &base, amd64, readmeWant(s), []analyze.RootCause{{Step: 5, Kind: analyze.CauseSources}})
	if len(rep.Suggestions) == 0 || rep.Suggestions[0].Step != 5 || rep.Suggestions[0].Line != s.line("COPY . .") {
		t.Errorf("suggestions = %+v, want the first for step 5 at line %d", rep.Suggestions, s.line("COPY . ."))
	}

	// The merge gate: two layers were rebuilt.
	rep, _ = s.report(1, "--max-rebuilt-layers", "1", baseRef, headRef)
	if len(rep.Gates) != 1 || rep.Gates[0] != (analyze.Gate{Name: "max-rebuilt-layers", Limit: "1", Actual: "2", Passed: false}) {
		t.Errorf("gates = %+v, want max-rebuilt-layers 1/2 failed", rep.Gates)
	}
	rep, _ = s.report(0, "--max-rebuilt-layers", "2", baseRef, headRef)
	if len(rep.Gates) != 1 || !rep.Gates[0].Passed {
		t.Errorf("gates = %+v, want max-rebuilt-layers passed", rep.Gates)
	}
	rebuiltBytes := head.layers[3].Size + head.layers[4].Size
	for _, g := range []struct {
		args []string
		code int
	}{
		{[]string{"--max-rebuilt-bytes", "100MB"}, 0},
		{[]string{"--max-rebuilt-bytes", fmt.Sprint(rebuiltBytes)}, 0},
		{[]string{"--max-rebuilt-bytes", fmt.Sprint(rebuiltBytes - 1)}, 1},
		{[]string{"--min-reuse", "50"}, 0},
		{[]string{"--min-reuse", "99.999"}, 1},
		{[]string{"--max-rebuilt-layers", "5", "--min-reuse", "99.999"}, 1},
	} {
		rep, r := s.report(g.code, append(g.args, baseRef, headRef)...)
		failed := 0
		for _, gate := range rep.Gates {
			if !gate.Passed {
				failed++
			}
		}
		if (g.code == 1) != (failed > 0) || len(rep.Gates) == 0 {
			t.Errorf("%v: gates %+v do not explain exit %d\n%s", g.args, rep.Gates, r.code, r)
		}
	}
	if r := s.layerdiff(append([]string{"--max-rebuilt-bytes", "lots"}, baseRef, headRef)...); r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("--max-rebuilt-bytes lots: want exit 2 with one stderr line\n%s", r)
	}

	// The human formats name the file and the step.
	for _, format := range []string{"text", "markdown"} {
		r := s.layerdiff(append(append([]string{"--format", format}, s.gitArgs()...), baseRef, headRef)...)
		if r.code != 0 || !strings.Contains(r.stdout, "README.md") || !strings.Contains(r.stdout, "COPY . .") {
			t.Errorf("--format %s: want exit 0 naming README.md and COPY . .\n%s", format, r)
		}
	}
}

// 2. A source edit in a well-ordered Dockerfile rebuilds only from the source copy on.
func sourceEditWellOrdered(t *testing.T, tl *tools) {
	s := newScenario(t, tl, "s02")
	s.write(map[string]string{
		".dockerignore": ".git\n",
		"Dockerfile": fmt.Sprintf(`FROM %s
WORKDIR /s02
COPY package.json ./
RUN cat package.json > deps.lock
COPY src/ ./src/
RUN cat src/app.js > build.out
`, sharedBase(t, tl)),
		"package.json": `{"name": "s02", "nonce": "{nonce}"}` + "\n",
		"src/app.js":   "console.log('{nonce}')\n",
		"src/util.js":  "export const x = 1\n",
		"README.md":    "# s02\n",
	})
	s.commit("base")
	baseRef := s.buildkit("base", bk{})
	s.write(map[string]string{"src/app.js": "console.log('{nonce}', 'changed')\n"})
	s.commit("feat: change app")
	headRef := s.buildkit("head", bk{})

	head, base := s.facts(headRef, amd64), s.facts(baseRef, amd64)
	rep, _ := s.report(0, baseRef, headRef)
	check(t, rep, head, &base, amd64, steps(base3, []want{
		cached(s.line("WORKDIR /s02"), "WORKDIR /s02"),
		cached(s.line("COPY package.json ./"), "COPY package.json ./"),
		cached(s.line("RUN cat package.json > deps.lock"), "RUN cat package.json > deps.lock"),
		rebuilt(s.line("COPY src/ ./src/"), "COPY src/ ./src/", analyze.CauseSources, 7, "src/app.js"),
		rebuilt(s.line("RUN cat src/app.js > build.out"), "RUN cat src/app.js > build.out", analyze.CauseParent, 7),
	}), []analyze.RootCause{{Step: 7, Kind: analyze.CauseSources}})

	// The changed files given as a list (stdin or a file) instead of git give the same verdicts.
	list := filepath.Join(t.TempDir(), "changed.txt")
	if err := os.WriteFile(list, []byte("src/app.js\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{"-", list} {
		r := s.layerdiffStdin(s.dir, "src/app.js\n", "--format", "json", "--dockerfile", "Dockerfile", "--changed-files", from, baseRef, headRef)
		got := decode(t, r, 0)
		if d := cmp.Diff(rep.Steps, got.Steps); d != "" {
			t.Errorf("--changed-files %s: steps differ from the git ones (-git +list):\n%s", from, d)
		}
	}
}

// 3. A lockfile edit rebuilds the manifest copy (sources) and everything after it (parent).
func lockfileEdit(t *testing.T, tl *tools) {
	s := newScenario(t, tl, "s03")
	s.write(map[string]string{
		".dockerignore": ".git\n",
		"Dockerfile": fmt.Sprintf(`FROM %s
WORKDIR /s03
COPY package.json package-lock.json ./
RUN cat package-lock.json > node_modules.txt
COPY src/ ./src/
RUN cat src/app.js node_modules.txt > build.out
`, sharedBase(t, tl)),
		"package.json":      `{"name": "s03"}` + "\n",
		"package-lock.json": `{"lockfileVersion": 3, "nonce": "{nonce}", "left-pad": "1.0.0"}` + "\n",
		"src/app.js":        "console.log('s03')\n",
	})
	s.commit("base")
	baseRef := s.buildkit("base", bk{})
	s.write(map[string]string{"package-lock.json": `{"lockfileVersion": 3, "nonce": "{nonce}", "left-pad": "1.3.0"}` + "\n"})
	s.commit("deps: bump left-pad")
	headRef := s.buildkit("head", bk{})

	head, base := s.facts(headRef, amd64), s.facts(baseRef, amd64)
	rep, _ := s.report(0, baseRef, headRef)
	check(t, rep, head, &base, amd64, steps(base3, []want{
		cached(s.line("WORKDIR /s03"), "WORKDIR /s03"),
		rebuilt(s.line("COPY package.json package-lock.json ./"), "COPY package.json package-lock.json ./", analyze.CauseSources, 5, "package-lock.json"),
		rebuilt(s.line("RUN cat package-lock.json > node_modules.txt"), "RUN cat package-lock.json > node_modules.txt", analyze.CauseParent, 5),
		rebuilt(s.line("COPY src/ ./src/"), "COPY src/ ./src/", analyze.CauseParent, 5),
		rebuilt(s.line("RUN cat src/app.js node_modules.txt > build.out"), "RUN cat src/app.js node_modules.txt > build.out", analyze.CauseParent, 5),
	}), []analyze.RootCause{{Step: 5, Kind: analyze.CauseSources}})
}

// 4. Bumping the FROM image (base:1 → base:2) is a base-image root cause; the Dockerfile's layer
// steps are rebuilt after it, its unchanged metadata steps stay cached.
func baseImageBump(t *testing.T, tl *tools) {
	// The base image's own repository, version 1 and 2.
	b := newScenario(t, tl, "s04-base")
	b.busybox("busybox")
	bd := `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY version.txt /etc/base-version
ENV BASE_VERSION=%d
`
	b.write(map[string]string{"Dockerfile": fmt.Sprintf(bd, 1), "version.txt": "1 {nonce}\n"})
	b.commit("base 1")
	b1 := b.buildkit("1", bk{})
	b.write(map[string]string{"Dockerfile": fmt.Sprintf(bd, 2), "version.txt": "2 {nonce}\n"})
	b.commit("base 2")
	b2 := b.buildkit("2", bk{})

	s := newScenario(t, tl, "s04")
	df := `FROM %s
WORKDIR /s04
COPY app.txt ./
RUN cat app.txt > out.txt
ENV MODE=prod
CMD ["cat", "out.txt"]
`
	s.write(map[string]string{".dockerignore": ".git\n", "Dockerfile": fmt.Sprintf(df, b1), "app.txt": "s04 {nonce}\n"})
	s.commit("base")
	baseRef := s.buildkit("base", bk{})
	s.write(map[string]string{"Dockerfile": fmt.Sprintf(df, b2)})
	s.commit("chore: bump the base image")
	headRef := s.buildkit("head", bk{})

	head, base := s.facts(headRef, amd64), s.facts(baseRef, amd64)
	rep, _ := s.report(0, baseRef, headRef)
	check(t, rep, head, &base, amd64, []want{
		baseCached(),
		baseCached(),
		baseRebuilt(analyze.CauseBaseImage, 3),  // COPY version.txt: a new layer in base:2
		baseRebuilt(analyze.CauseBaseImage, -1), // ENV BASE_VERSION=2: its own text changed
		rebuilt(s.line("WORKDIR /s04"), "WORKDIR /s04", analyze.CauseParent, 3),
		rebuilt(s.line("COPY app.txt ./"), "COPY app.txt ./", analyze.CauseParent, 3),
		rebuilt(s.line("RUN cat app.txt > out.txt"), "RUN cat app.txt > out.txt", analyze.CauseParent, 3),
		cached(s.line("ENV MODE=prod"), "ENV MODE=prod"),
		cached(s.line(`CMD ["cat", "out.txt"]`), `CMD ["cat", "out.txt"]`),
	}, nil)
	if rc := rep.Summary.RootCauses; len(rc) == 0 || rc[0] != (analyze.RootCause{Step: 3, Kind: analyze.CauseBaseImage}) {
		t.Errorf("summary.rootCauses = %+v, want step 3 base-image first", rc)
	}
	for _, c := range rep.Summary.RootCauses {
		if c.Kind != analyze.CauseBaseImage {
			t.Errorf("summary.rootCauses = %+v, want only base-image causes", rep.Summary.RootCauses)
		}
	}
}

// 5. An edited RUN is an instruction root cause.
func editedRun(t *testing.T, tl *tools) {
	s := newScenario(t, tl, "s05")
	df := `FROM %s
WORKDIR /s05
COPY app.txt ./
RUN echo %s > step.txt
COPY src/ ./src/
`
	base := sharedBase(t, tl)
	s.write(map[string]string{".dockerignore": ".git\n", "Dockerfile": fmt.Sprintf(df, base, "one"),
		"app.txt": "s05 {nonce}\n", "src/main.go": "package main\n"})
	s.commit("base")
	baseRef := s.buildkit("base", bk{})
	s.write(map[string]string{"Dockerfile": fmt.Sprintf(df, base, "two")})
	s.commit("build: say two")
	headRef := s.buildkit("head", bk{})

	head, b := s.facts(headRef, amd64), s.facts(baseRef, amd64)
	rep, _ := s.report(0, baseRef, headRef)
	check(t, rep, head, &b, amd64, steps(base3, []want{
		cached(s.line("WORKDIR /s05"), "WORKDIR /s05"),
		cached(s.line("COPY app.txt ./"), "COPY app.txt ./"),
		rebuilt(s.line("RUN echo two > step.txt"), "RUN echo two > step.txt", analyze.CauseInstruction, 6),
		rebuilt(s.line("COPY src/ ./src/"), "COPY src/ ./src/", analyze.CauseParent, 6),
	}), []analyze.RootCause{{Step: 6, Kind: analyze.CauseInstruction}})
}

// 6. Only a build-arg value changed (the Dockerfile did not): the ARG and the RUN that sees it are
// build-arg; a COPY between them is cached (BuildKit's COPY key has no args); later steps parent.
func buildArgValue(t *testing.T, tl *tools) {
	s := newScenario(t, tl, "s06")
	s.write(map[string]string{
		".dockerignore": ".git\n",
		"Dockerfile": fmt.Sprintf(`FROM %s
WORKDIR /s06
ARG VERSION=0.0
COPY app.txt ./
RUN echo "$VERSION" > version.txt
COPY src/ ./src/
CMD ["cat", "version.txt"]
`, sharedBase(t, tl)),
		"app.txt":                     "s06 {nonce}\n",
		"src/main.go":                 "package main\n",
		".github/workflows/build.yml": "env:\n  VERSION: 1.0\n",
	})
	s.commit("base")
	baseRef := s.buildkit("base", bk{args: map[string]string{"VERSION": "1.0"}})
	s.write(map[string]string{".github/workflows/build.yml": "env:\n  VERSION: 2.0\n"})
	s.commit("release 2.0")
	headRef := s.buildkit("head", bk{args: map[string]string{"VERSION": "2.0"}})

	head, b := s.facts(headRef, amd64), s.facts(baseRef, amd64)
	rep, _ := s.report(0, baseRef, headRef)
	check(t, rep, head, &b, amd64, steps(base3, []want{
		cached(s.line("WORKDIR /s06"), "WORKDIR /s06"),
		rebuilt(s.line("ARG VERSION=0.0"), "", analyze.CauseBuildArg, -1),
		cached(s.line("COPY app.txt ./"), "COPY app.txt ./"),
		rebuilt(s.line(`RUN echo "$VERSION" > version.txt`), `RUN echo "$VERSION" > version.txt`, analyze.CauseBuildArg, -1),
		rebuilt(s.line("COPY src/ ./src/"), "COPY src/ ./src/", analyze.CauseParent, -1),
		cached(s.line(`CMD ["cat", "version.txt"]`), `CMD ["cat", "version.txt"]`),
	}), nil)
	if len(rep.Steps) == 9 {
		if c := rep.Steps[6].Cause; c != nil && !strings.Contains(c.Detail, "VERSION") {
			t.Errorf("step 7 cause detail %q does not name the build arg VERSION", c.Detail)
		}
		if c := rep.Steps[7].Cause; c != nil && c.RootStep != 5 && c.RootStep != 7 {
			t.Errorf("step 8 rootStep = %d, want the ARG (5) or the RUN (7)", c.RootStep)
		}
	}
	if len(rep.Summary.RootCauses) == 0 {
		t.Errorf("summary.rootCauses is empty")
	}
	for _, c := range rep.Summary.RootCauses {
		if c.Kind != analyze.CauseBuildArg {
			t.Errorf("summary.rootCauses = %+v, want only build-arg causes", rep.Summary.RootCauses)
		}
	}
}

// 7. An ENV change: the ENV step is an instruction cause; BuildKit keeps the COPY after it cached
// and rebuilds the RUN (parent of the ENV) and everything above that RUN.
func envChange(t *testing.T, tl *tools) {
	s := newScenario(t, tl, "s07")
	df := `FROM %s
WORKDIR /s07
ENV MODE=%s
COPY app.txt ./
RUN echo "$MODE" > mode.txt
COPY src/ ./src/
`
	base := sharedBase(t, tl)
	s.write(map[string]string{".dockerignore": ".git\n", "Dockerfile": fmt.Sprintf(df, base, "dev"),
		"app.txt": "s07 {nonce}\n", "src/main.go": "package main\n"})
	s.commit("base")
	baseRef := s.buildkit("base", bk{})
	s.write(map[string]string{"Dockerfile": fmt.Sprintf(df, base, "prod")})
	s.commit("run in prod mode")
	headRef := s.buildkit("head", bk{})

	head, b := s.facts(headRef, amd64), s.facts(baseRef, amd64)
	rep, _ := s.report(0, baseRef, headRef)
	check(t, rep, head, &b, amd64, steps(base3, []want{
		cached(s.line("WORKDIR /s07"), "WORKDIR /s07"),
		rebuilt(s.line("ENV MODE=prod"), "ENV MODE=prod", analyze.CauseInstruction, 5),
		cached(s.line("COPY app.txt ./"), "COPY app.txt ./"),
		rebuilt(s.line(`RUN echo "$MODE" > mode.txt`), `RUN echo "$MODE" > mode.txt`, analyze.CauseParent, 5),
		rebuilt(s.line("COPY src/ ./src/"), "COPY src/ ./src/", analyze.CauseParent, 5),
	}), []analyze.RootCause{{Step: 5, Kind: analyze.CauseInstruction}})
}

// 8. A head built with --no-cache: nothing that feeds the first layer changed, so it is unexplained.
func noCache(t *testing.T, tl *tools) {
	s := newScenario(t, tl, "s08")
	s.busybox("busybox")
	s.write(map[string]string{
		".dockerignore": ".git\n",
		"Dockerfile": `FROM scratch
COPY scenario.txt /etc/scenario
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV MODE=prod
WORKDIR /s08
COPY app.txt ./
CMD ["cat", "app.txt"]
`,
		"scenario.txt": "s08 {nonce}\n",
		"app.txt":      "app\n",
		"NOTES.md":     "notes\n",
	})
	s.commit("base")
	baseRef := s.buildkit("base", bk{})
	s.write(map[string]string{"NOTES.md": "notes, edited\n"})
	s.commit("notes")
	// Layer tars carry directory mtimes in whole seconds: a head built in the same second as the
	// base could be byte-identical even without cache. CI's builds are minutes apart.
	time.Sleep(1100 * time.Millisecond)
	headRef := s.buildkit("head", bk{noCache: true})

	head, b := s.facts(headRef, amd64), s.facts(baseRef, amd64)
	if head.layers[0].Digest == b.layers[0].Digest {
		t.Fatalf("BuildKit --no-cache reproduced the first layer byte for byte; the scenario cannot show a cache miss")
	}
	rep, _ := s.report(0, baseRef, headRef)
	check(t, rep, head, &b, amd64, []want{
		rebuilt(s.line("COPY scenario.txt /etc/scenario"), "COPY scenario.txt /etc/scenario", analyze.CauseUnexplained, 1),
		rebuilt(s.line("COPY busybox /bin/busybox"), "COPY busybox /bin/busybox", analyze.CauseParent, 1),
		rebuilt(s.line(`RUN ["/bin/busybox", "--install", "-s", "/bin"]`), `RUN /bin/busybox --install -s /bin`, analyze.CauseParent, 1),
		cached(s.line("ENV MODE=prod"), "ENV MODE=prod"),
		rebuilt(s.line("WORKDIR /s08"), "WORKDIR /s08", analyze.CauseParent, 1),
		rebuilt(s.line("COPY app.txt ./"), "COPY app.txt ./", analyze.CauseParent, 1),
		cached(s.line(`CMD ["cat", "app.txt"]`), `CMD ["cat", "app.txt"]`),
	}, []analyze.RootCause{{Step: 1, Kind: analyze.CauseUnexplained}})
}

// 9. Multi-stage: a source of the builder stage changed; the final stage's COPY --from=builder is
// rebuilt with kind sources naming the builder's file.
func multiStage(t *testing.T, tl *tools) {
	s := newScenario(t, tl, "s09")
	base := sharedBase(t, tl)
	s.write(map[string]string{
		".dockerignore": ".git\n",
		"Dockerfile": fmt.Sprintf(`FROM %s AS builder
WORKDIR /build-s09
COPY src/ ./src/
RUN cat src/main.c > app.bin

FROM %s
WORKDIR /s09
COPY config.txt ./
COPY --from=builder /build-s09/app.bin ./
CMD ["cat", "app.bin"]
`, base, base),
		"src/main.c": "int main(void) { return 0; } /* {nonce} */\n",
		"config.txt": "s09 {nonce}\n",
	})
	s.commit("base")
	baseRef := s.buildkit("base", bk{})
	s.write(map[string]string{"src/main.c": "int main(void) { return 1; } /* {nonce} */\n"})
	s.commit("fix: exit 1")
	headRef := s.buildkit("head", bk{})

	head, b := s.facts(headRef, amd64), s.facts(baseRef, amd64)
	rep, _ := s.report(0, baseRef, headRef)
	check(t, rep, head, &b, amd64, steps(base3, []want{
		cached(s.line("WORKDIR /s09"), "WORKDIR /s09"),
		cached(s.line("COPY config.txt ./"), "COPY config.txt ./"),
		rebuilt(s.line("COPY --from=builder /build-s09/app.bin ./"), "", analyze.CauseSources, 6, "src/main.c"),
		cached(s.line(`CMD ["cat", "app.bin"]`), `CMD ["cat", "app.bin"]`),
	}), []analyze.RootCause{{Step: 6, Kind: analyze.CauseSources}})
}

// 10. A two-platform image: --platform picks the manifest; an absent platform is an input error
// that names the platforms there are.
func twoPlatforms(t *testing.T, tl *tools) {
	s := newScenario(t, tl, "s10")
	s.write(map[string]string{
		".dockerignore": ".git\n",
		"Dockerfile": `FROM scratch
COPY scenario.txt /etc/scenario
COPY data/ /data/
ENV A=1
COPY README.md /README.md
`,
		"scenario.txt": "s10 {nonce}\n",
		"data/a.txt":   "a\n",
		"README.md":    "# s10\n",
	})
	s.commit("base")
	const both = "linux/amd64,linux/arm64"
	baseRef := s.buildkit("base", bk{platforms: both})
	s.write(map[string]string{"README.md": "# s10\n\nedited\n"})
	s.commit("docs")
	headRef := s.buildkit("head", bk{platforms: both})

	want := []want{
		cached(s.line("COPY scenario.txt /etc/scenario"), "COPY scenario.txt /etc/scenario"),
		cached(s.line("COPY data/ /data/"), "COPY data/ /data/"),
		cached(s.line("ENV A=1"), "ENV A=1"),
		rebuilt(s.line("COPY README.md /README.md"), "COPY README.md /README.md", analyze.CauseSources, 4, "README.md"),
	}
	for _, p := range []string{"linux/arm64", amd64} {
		head, b := s.facts(headRef, p), s.facts(baseRef, p)
		rep, _ := s.report(0, "--platform", p, baseRef, headRef)
		t.Run(p, func(t *testing.T) {
			check(t, rep, head, &b, p, want, []analyze.RootCause{{Step: 4, Kind: analyze.CauseSources}})
		})
	}
	r := s.layerdiff(append(append([]string{"--format", "json", "--platform", "linux/s390x"}, s.gitArgs()...), baseRef, headRef)...)
	msg := strings.TrimSpace(r.stderr)
	if r.code != 2 || strings.Contains(msg, "\n") || !strings.Contains(msg, "linux/amd64") || !strings.Contains(msg, "linux/arm64") {
		t.Errorf("--platform linux/s390x: want exit 2 and one stderr line naming linux/amd64 and linux/arm64\n%s", r)
	}
}

// 11. A token passed as a build arg is in the image history in clear; layerdiff never prints it.
func secretBuildArg(t *testing.T, tl *tools) {
	s := newScenario(t, tl, "s11")
	s.write(map[string]string{
		".dockerignore": ".git\n",
		"Dockerfile": fmt.Sprintf(`FROM %s
WORKDIR /s11
ARG NPM_TOKEN
COPY package.json ./
RUN echo "token of length ${#NPM_TOKEN}" > install.log
`, sharedBase(t, tl)),
		"package.json": `{"name": "s11", "nonce": "{nonce}", "version": "1.0.0"}` + "\n",
	})
	s.commit("base")
	// A rotated token: base and head were built with different values, both secret.
	tokBase, tokHead := "npm_"+randHex(12), "npm_"+randHex(12)
	baseRef := s.buildkit("base", bk{args: map[string]string{"NPM_TOKEN": tokBase}})
	s.write(map[string]string{"package.json": `{"name": "s11", "nonce": "{nonce}", "version": "1.0.1"}` + "\n"})
	s.commit("1.0.1")
	headRef := s.buildkit("head", bk{args: map[string]string{"NPM_TOKEN": tokHead}})

	head := s.facts(headRef, amd64)
	if h := dumpHistory(head); !strings.Contains(h, tokHead) {
		t.Fatalf("test bug: the head history does not carry the token, nothing to redact:\n%s", h)
	}
	leaks := func(what, out string) {
		for _, tok := range []string{tokBase, tokHead} {
			if strings.Contains(out, tok) {
				t.Errorf("%s contains the NPM_TOKEN value %q", what, tok)
			}
		}
	}
	rep, r := s.report(0, baseRef, headRef)
	leaks("--format json stdout", r.stdout)
	leaks("--format json stderr", r.stderr)
	for _, format := range []string{"markdown", "text"} {
		r := s.layerdiff(append(append([]string{"--format", format}, s.gitArgs()...), baseRef, headRef)...)
		if r.code != 0 {
			t.Errorf("--format %s: %s", format, r)
		}
		leaks("--format "+format+" stdout", r.stdout)
		leaks("--format "+format+" stderr", r.stderr)
	}
	out := filepath.Join(t.TempDir(), "comment.md")
	r = s.layerdiff(append(append([]string{"--format", "markdown", "--output", out}, s.gitArgs()...), baseRef, headRef)...)
	if b, err := os.ReadFile(out); r.code != 0 || err != nil {
		t.Errorf("--output %s: %v %s", out, err, r)
	} else {
		leaks("--output file", string(b))
	}

	b := s.facts(baseRef, amd64)
	check(t, rep, head, &b, amd64, steps(base3, []want{
		cached(s.line("WORKDIR /s11"), "WORKDIR /s11"),
		// Mapped to the Dockerfile, the ARG shows its line, which has no value to hide.
		rebuilt(s.line("ARG NPM_TOKEN"), "", analyze.CauseBuildArg, -1),
		rebuilt(s.line("COPY package.json ./"), "COPY package.json ./", analyze.CauseSources, 6, "package.json"),
		rebuilt(s.line(`RUN echo "token of length ${#NPM_TOKEN}" > install.log`), "", anyKind, -1),
	}), nil)
	if len(rep.Steps) == 7 {
		if in := rep.Steps[4].Instruction; in != "ARG NPM_TOKEN" && in != "ARG NPM_TOKEN=***" {
			t.Errorf("step 5 instruction = %q, want the Dockerfile's ARG NPM_TOKEN or ARG NPM_TOKEN=***", in)
		}
	}

	// Without a Dockerfile (and without git) the instructions come from the history itself,
	// where the value is: it must show as ***.
	elsewhere := t.TempDir()
	for _, format := range []string{"json", "markdown", "text"} {
		r := s.layerdiffIn(elsewhere, "--format", format, baseRef, headRef)
		if r.code != 0 {
			t.Errorf("history only, --format %s: %s", format, r)
		}
		leaks("history only, --format "+format+" stdout", r.stdout)
		leaks("history only, --format "+format+" stderr", r.stderr)
		if !strings.Contains(r.stdout, "ARG NPM_TOKEN=***") {
			t.Errorf("history only, --format %s: the ARG step does not show as ARG NPM_TOKEN=***\n%s", format, r)
		}
	}
	if len(rep.Steps) == 7 {
		if st := rep.Steps[6]; !strings.Contains(st.Instruction, "***") && !strings.Contains(st.Instruction, "${#NPM_TOKEN}") {
			t.Errorf("step 7 instruction %q neither redacts the arg value nor shows the Dockerfile text", st.Instruction)
		}
		// The RUN changed itself (arg value) and its parent changed; either kind is defensible.
		if c := rep.Steps[6].Cause; c == nil || (c.Kind != analyze.CauseBuildArg && c.Kind != analyze.CauseParent) {
			t.Errorf("step 7 cause = %s, want build-arg or parent", causeString(c))
		}
	}
	hint := false
	for _, sg := range rep.Suggestions {
		hint = hint || strings.Contains(sg.Message+sg.Example, "type=secret")
	}
	if !hint {
		t.Errorf("suggestions = %+v, want one recommending RUN --mount=type=secret", rep.Suggestions)
	}
}

// 12. buildah's classic history (`COPY dir:<hash> in .`, WORKDIR without a layer): a README edit
// under COPY . . is still a sources cause.
func buildahClassic(t *testing.T, tl *tools) {
	if tl.buildahErr != nil {
		t.Fatalf("LAYERDIFF_E2E=1 but %v", tl.buildahErr)
	}
	s := newScenario(t, tl, "s12")
	s.busybox("busybox")
	s.write(map[string]string{
		".dockerignore": ".git\n",
		"Dockerfile": `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
WORKDIR /s12
COPY . .
RUN cat package.json > deps.lock
`,
		"package.json": `{"name": "s12", "nonce": "{nonce}"}` + "\n",
		"README.md":    "# s12\n",
	})
	s.commit("base")
	store := t.TempDir()
	buildah := func(args ...string) {
		t.Helper()
		global := []string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"), "--storage-driver", "vfs"}
		run(t, s.dir, nil, tl.buildah, append(global, args...)...)
	}
	build := func(tag string) string {
		buildah("bud", "--isolation", "chroot", "--layers", "-t", "s12:"+tag, ".")
		ref := s.ref(tag)
		buildah("push", "--tls-verify=false", "s12:"+tag, "docker://"+ref)
		return ref
	}
	baseRef := build("base")
	s.write(map[string]string{"README.md": "# s12\n\nMore.\n"})
	s.commit("docs")
	headRef := build("head")

	head, b := s.facts(headRef, amd64), s.facts(baseRef, amd64)
	rep, _ := s.report(0, baseRef, headRef)
	check(t, rep, head, &b, amd64, []want{
		cached(s.line("COPY busybox /bin/busybox"), "COPY busybox /bin/busybox"),
		cached(s.line(`RUN ["/bin/busybox", "--install", "-s", "/bin"]`), ""),
		cached(s.line("WORKDIR /s12"), "WORKDIR /s12"),
		rebuilt(s.line("COPY . ."), "COPY . .", analyze.CauseSources, 4, "README.md"),
		rebuilt(s.line("RUN cat package.json > deps.lock"), "RUN cat package.json > deps.lock", analyze.CauseParent, 4),
	}, []analyze.RootCause{{Step: 4, Kind: analyze.CauseSources}})
}

// 13. The same pair read from an OCI archive, an OCI layout and a docker-save archive gives the
// same verdicts as from the registry.
func archives(t *testing.T, tl *tools) {
	s := readmeApp(t, tl, "s13", sharedBase(t, tl))
	dir := t.TempDir() // outside the build context
	outputs := func(tag string) []string {
		return []string{
			"type=oci,dest=" + filepath.Join(dir, tag+".oci.tar"),
			"type=oci,tar=false,dest=" + filepath.Join(dir, tag+"-layout"),
			"type=docker,name=s13:" + tag + ",dest=" + filepath.Join(dir, tag+".docker.tar"),
		}
	}
	baseRef := s.buildkit("base", bk{push: true, outputs: outputs("base")})
	s.write(map[string]string{"README.md": "# s13\n\nMore documentation.\n"})
	s.commit("docs")
	headRef := s.buildkit("head", bk{push: true, outputs: outputs("head")})

	head, b := s.facts(headRef, amd64), s.facts(baseRef, amd64)
	want, _ := s.report(0, baseRef, headRef)
	check(t, want, head, &b, amd64, readmeWant(s), []analyze.RootCause{{Step: 5, Kind: analyze.CauseSources}})

	for _, src := range []struct{ kind, base, head string }{
		{"oci-archive", "oci-archive:" + filepath.Join(dir, "base.oci.tar"), "oci-archive:" + filepath.Join(dir, "head.oci.tar")},
		{"oci-layout", "oci:" + filepath.Join(dir, "base-layout"), "oci:" + filepath.Join(dir, "head-layout")},
		{"docker-archive", "docker-archive:" + filepath.Join(dir, "base.docker.tar"), "docker-archive:" + filepath.Join(dir, "head.docker.tar")},
	} {
		t.Run(src.kind, func(t *testing.T) {
			got, r := s.on(t).report(0, src.base, src.head)
			if d := cmp.Diff(want.Steps, got.Steps); d != "" {
				t.Errorf("steps differ from the registry's (-registry +%s):\n%s", src.kind, d)
			}
			if d := cmp.Diff(want.Summary, got.Summary); d != "" {
				t.Errorf("summary differs from the registry's (-registry +%s):\n%s", src.kind, d)
			}
			if got.Head == nil || got.Base == nil || got.Head.Layers != want.Head.Layers || got.Head.Size != want.Head.Size || got.Base.Size != want.Base.Size {
				t.Errorf("base/head = %+v / %+v, want layers and sizes as from the registry %+v / %+v\n%s", got.Base, got.Head, want.Base, want.Head, r)
			}
		})
	}
}

// 14. No base image yet (the PR that adds the Dockerfile): exit 0, base null, every step no-base.
func noBaseImage(t *testing.T, tl *tools) {
	s := newScenario(t, tl, "s14")
	s.write(map[string]string{"README.md": "# s14\n"})
	s.commit("initial")
	s.write(map[string]string{
		".dockerignore": ".git\n",
		"Dockerfile": fmt.Sprintf(`FROM %s
WORKDIR /s14
COPY app.txt ./
ENV MODE=prod
RUN cat app.txt > out.txt
`, sharedBase(t, tl)),
		"app.txt": "s14 {nonce}\n",
	})
	s.commit("add a Dockerfile")
	headRef := s.buildkit("head", bk{})
	head := s.facts(headRef, amd64)

	var want []want
	for i := 0; i < 3; i++ {
		want = append(want, baseRebuilt(analyze.CauseNoBase, -1))
	}
	want = append(want,
		rebuilt(s.line("WORKDIR /s14"), "WORKDIR /s14", analyze.CauseNoBase, -1),
		rebuilt(s.line("COPY app.txt ./"), "COPY app.txt ./", analyze.CauseNoBase, -1, "app.txt"),
		rebuilt(s.line("ENV MODE=prod"), "ENV MODE=prod", analyze.CauseNoBase, -1),
		rebuilt(s.line("RUN cat app.txt > out.txt"), "RUN cat app.txt > out.txt", analyze.CauseNoBase, -1),
	)
	// COPY's files are whatever the tool reports for a new file; only check the kind.
	want[4].files = nil
	for _, baseArg := range []string{s.tl.registry + "/" + runID + "/nothing:here", ""} {
		t.Run(fmt.Sprintf("base=%q", baseArg), func(t *testing.T) {
			rep, _ := s.on(t).report(0, baseArg, headRef)
			check(t, rep, head, nil, amd64, want, nil)
			if rep.Summary.Reuse != 0 {
				t.Errorf("summary.reuse = %v, want 0", rep.Summary.Reuse)
			}
		})
	}
}

// 15. layerdiff reads manifests and configs only: through a recording proxy in front of the
// registry, no layer blob is requested.
func noBlobDownloads(t *testing.T, tl *tools) {
	s := newScenario(t, tl, "s15")
	s.write(map[string]string{
		".dockerignore": ".git\n",
		"Dockerfile": fmt.Sprintf(`FROM %s
WORKDIR /s15
COPY package.json ./
RUN cat package.json > deps.lock
COPY src/ ./src/
`, sharedBase(t, tl)),
		"package.json": `{"name": "s15", "nonce": "{nonce}"}` + "\n",
		"src/app.js":   "console.log(1)\n",
	})
	s.commit("base")
	baseRef := s.buildkit("base", bk{})
	s.write(map[string]string{"src/app.js": "console.log(2)\n"})
	s.commit("change")
	headRef := s.buildkit("head", bk{})
	head, b := s.facts(headRef, amd64), s.facts(baseRef, amd64)

	target, _ := url.Parse("http://" + tl.registry)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.Method+" "+r.URL.Path)
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	via := func(ref string) string { return strings.Replace(ref, tl.registry, srv.Listener.Addr().String(), 1) }

	rep, _ := s.report(0, via(baseRef), via(headRef))
	check(t, rep, head, &b, amd64, steps(base3, []want{
		cached(s.line("WORKDIR /s15"), "WORKDIR /s15"),
		cached(s.line("COPY package.json ./"), "COPY package.json ./"),
		cached(s.line("RUN cat package.json > deps.lock"), "RUN cat package.json > deps.lock"),
		rebuilt(s.line("COPY src/ ./src/"), "COPY src/ ./src/", analyze.CauseSources, 7, "src/app.js"),
	}), nil)

	layers := map[string]bool{}
	for _, f := range []facts{head, b} {
		for _, l := range f.layers {
			layers[l.Digest.String()] = true
		}
	}
	mu.Lock()
	defer mu.Unlock()
	manifests := 0
	for _, r := range requests {
		method, path, _ := strings.Cut(r, " ")
		if strings.Contains(path, "/manifests/") {
			manifests++
		}
		if i := strings.LastIndex(path, "/blobs/"); i >= 0 && method == http.MethodGet && layers[path[i+len("/blobs/"):]] {
			t.Errorf("layerdiff downloaded a layer blob: %s", r)
		}
	}
	if manifests == 0 {
		t.Errorf("the proxy saw no manifest request; requests: %q", requests)
	}
	t.Logf("registry requests through the proxy: %q", requests)
}
