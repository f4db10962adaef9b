package analyze

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

type hist struct{ by, content string } // content "" makes an empty_layer entry

func L(by, content string) hist { return hist{by, content} }
func E(by string) hist          { return hist{by, ""} }

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// img builds an image whose layers' diff_ids are the hashes of their content.
func img(ref string, entries ...hist) *Image {
	im := &Image{Reference: ref, Digest: sha(ref), Platform: "linux/amd64"}
	for _, e := range entries {
		im.History = append(im.History, HistoryEntry{CreatedBy: e.by, EmptyLayer: e.content == "", Comment: "buildkit.dockerfile.v0"})
		if e.content != "" {
			im.Layers = append(im.Layers, ImageLayer{Digest: sha("gz" + e.content), DiffID: sha(e.content), Size: int64(len(e.content))})
		}
	}
	return im
}

func mustDockerfile(t *testing.T, text string) *Dockerfile {
	t.Helper()
	df, err := ParseDockerfile([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return df
}

// want is the expected status and cause of one step: "cached", or "kind@root" for a rebuilt one.
func checkSteps(t *testing.T, r *Report, want ...string) {
	t.Helper()
	if len(r.Steps) != len(want) {
		t.Fatalf("got %d steps, want %d:\n%s", len(r.Steps), len(want), dump(r))
	}
	for i, st := range r.Steps {
		got := st.Status
		if st.Cause != nil {
			got = fmt.Sprintf("%s@%d", st.Cause.Kind, st.Cause.RootStep)
		}
		if got != want[i] {
			t.Errorf("step %d (%s): got %s, want %s", i+1, st.Instruction, got, want[i])
		}
	}
	if t.Failed() {
		t.Log(dump(r))
	}
}

func dump(r *Report) string {
	b, _ := json.MarshalIndent(r.Steps, "", " ")
	return string(b)
}

const nodeDockerfile = `FROM node:22-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build
`

var nodeBase = []hist{L("ADD rootfs.tar / # buildkit", "rootfs-1"), E(`CMD ["node"]`)}

func nodeImage(ref string, src, lock string, base ...hist) *Image {
	if base == nil {
		base = nodeBase
	}
	return img(ref, append(append([]hist{}, base...),
		L("WORKDIR /app", "workdir"),
		L("COPY package.json package-lock.json ./ # buildkit", "manifests-"+lock),
		L("RUN /bin/sh -c npm ci # buildkit", "deps-"+lock),
		L("COPY . . # buildkit", "src-"+src+lock),
		L("RUN /bin/sh -c npm run build # buildkit", "build-"+src+lock),
	)...)
}

func TestAnalyzeScenarios(t *testing.T) {
	df := mustDockerfile(t, nodeDockerfile)
	t.Run("source edit in a well-ordered Dockerfile", func(t *testing.T) {
		r, err := Analyze(Input{Base: nodeImage("b", "1", "1"), Head: nodeImage("h", "2", "1"), Dockerfile: df,
			Changes: &Changes{Files: []string{"src/index.js"}}})
		if err != nil {
			t.Fatal(err)
		}
		checkSteps(t, r, "cached", "cached", "cached", "cached", "cached", "sources@6", "parent@6")
		if got := r.Steps[5].Cause.Files; len(got) != 1 || got[0] != "src/index.js" {
			t.Errorf("files = %v", got)
		}
		if r.Steps[0].Origin != OriginBaseImage || r.Steps[2].Origin != OriginDockerfile || r.Steps[5].Line != 5 {
			t.Errorf("origins/lines wrong:\n%s", dump(r))
		}
		s := r.Summary
		if s.Layers != 6 || s.RebuiltLayers != 2 || s.CachedLayers != 4 || len(s.RootCauses) != 1 || s.RootCauses[0] != (RootCause{6, CauseSources}) {
			t.Errorf("summary = %+v", s)
		}
		if len(r.Suggestions) != 0 {
			t.Errorf("a well-ordered Dockerfile got suggestions: %+v", r.Suggestions)
		}
	})
	t.Run("lockfile edit", func(t *testing.T) {
		r, _ := Analyze(Input{Base: nodeImage("b", "1", "1"), Head: nodeImage("h", "1", "2"), Dockerfile: df,
			Changes: &Changes{Files: []string{"package-lock.json"}}})
		checkSteps(t, r, "cached", "cached", "cached", "sources@4", "parent@4", "sources@6", "parent@4")
	})
	t.Run("base image bump", func(t *testing.T) {
		newBase := []hist{L("ADD rootfs.tar / # buildkit", "rootfs-2"), E(`CMD ["node"]`)}
		r, _ := Analyze(Input{Base: nodeImage("b", "1", "1"), Head: nodeImage("h", "1", "1", newBase...), Dockerfile: df,
			Changes: &Changes{Files: []string{}}})
		checkSteps(t, r, "base-image@1", "cached", "parent@1", "parent@1", "parent@1", "parent@1", "parent@1")
	})
	t.Run("no base image", func(t *testing.T) {
		r, _ := Analyze(Input{Head: nodeImage("h", "1", "1"), Dockerfile: df})
		checkSteps(t, r, "no-base@1", "no-base@1", "no-base@1", "no-base@1", "no-base@1", "no-base@1", "no-base@1")
		if r.Base != nil || r.Summary.RebuiltLayers != 6 || len(r.Summary.RootCauses) != 1 {
			t.Errorf("base %v summary %+v", r.Base, r.Summary)
		}
	})
	t.Run("no-cache rebuild", func(t *testing.T) {
		head := nodeImage("h", "1", "1")
		for i := 1; i < len(head.Layers); i++ { // every layer of the Dockerfile differs, the base's don't
			head.Layers[i].DiffID = sha(head.Layers[i].DiffID)
		}
		r, _ := Analyze(Input{Base: nodeImage("b", "1", "1"), Head: head, Dockerfile: df, Changes: &Changes{Files: []string{}}})
		checkSteps(t, r, "cached", "cached", "unexplained@3", "parent@3", "parent@3", "parent@3", "parent@3")
		if len(r.Suggestions) != 1 || r.Suggestions[0].Kind != SuggestCacheReuse {
			t.Errorf("suggestions = %+v", r.Suggestions)
		}
	})
	t.Run("copied files unknown", func(t *testing.T) {
		r, _ := Analyze(Input{Base: nodeImage("b", "1", "1"), Head: nodeImage("h", "2", "1"), Dockerfile: df})
		checkSteps(t, r, "cached", "cached", "cached", "cached", "cached", "sources@6", "parent@6")
		if !strings.Contains(r.Steps[5].Cause.Detail, "no changed-file information") || len(r.Warnings) == 0 {
			t.Errorf("detail %q warnings %v", r.Steps[5].Cause.Detail, r.Warnings)
		}
	})
}

func TestAnalyzeReadmeUnderBroadCopy(t *testing.T) {
	df := mustDockerfile(t, "FROM scratch\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\n")
	build := func(ref, readme string) *Image {
		return img(ref, L("WORKDIR /app", "w"), L("COPY . . # buildkit", "all-"+readme), L("RUN /bin/sh -c npm ci # buildkit", "deps-"+readme), L("RUN /bin/sh -c npm run build # buildkit", "b-"+readme))
	}
	r, _ := Analyze(Input{Base: build("b", "1"), Head: build("h", "2"), Dockerfile: df, DockerfilePath: "Dockerfile",
		Changes: &Changes{Files: []string{"README.md"}}})
	checkSteps(t, r, "cached", "sources@2", "parent@2", "parent@2")
	kinds := map[string]Suggestion{}
	for _, s := range r.Suggestions {
		kinds[s.Kind] = s
	}
	if s, ok := kinds[SuggestNarrowCopy]; !ok || s.Line != 3 || !strings.Contains(s.Example, "COPY package.json package-lock.json") {
		t.Errorf("no narrow-copy suggestion at line 3: %+v", r.Suggestions)
	}
	if s, ok := kinds[SuggestDockerignore]; !ok || !strings.Contains(s.Example, "*.md") {
		t.Errorf("no .dockerignore suggestion: %+v", r.Suggestions)
	}

	// Ignored by .dockerignore or outside the context: the files feed nothing.
	r, _ = Analyze(Input{Base: build("b", "1"), Head: build("h", "2"), Dockerfile: df,
		Changes: &Changes{Files: []string{"README.md"}, Ignore: []string{"*.md"}}})
	checkSteps(t, r, "cached", "unexplained@2", "parent@2", "parent@2")
	r, _ = Analyze(Input{Base: build("b", "1"), Head: build("h", "2"), Dockerfile: df,
		Changes: &Changes{Files: []string{"app/README.md"}, Context: "app"}})
	checkSteps(t, r, "cached", "sources@2", "parent@2", "parent@2")
	if f := r.Steps[1].Cause.Files; len(f) != 1 || f[0] != "app/README.md" {
		t.Errorf("files are not named as the pull request shows them: %v", f)
	}
}

func TestAnalyzeEnvAndArgs(t *testing.T) {
	df := mustDockerfile(t, "FROM scratch\nARG VERSION=1\nARG NPM_TOKEN\nENV MODE=a\nCOPY a /a\nRUN make\nCOPY b /b\n")
	build := func(ref, version, token, mode, runOut string) *Image {
		prefix := fmt.Sprintf("|2 VERSION=%s NPM_TOKEN=%s", version, token)
		return img(ref,
			E("ARG VERSION="+version), E("ARG NPM_TOKEN="+token), E("ENV MODE="+mode),
			L("COPY a /a # buildkit", "a"),
			L("RUN "+prefix+" /bin/sh -c make # buildkit", "make-"+runOut),
			L("COPY b /b # buildkit", "b-"+runOut))
	}
	t.Run("env change", func(t *testing.T) {
		r, _ := Analyze(Input{Base: build("b", "1", "tok-1111", "a", "1"), Head: build("h", "1", "tok-1111", "b", "2"), Dockerfile: df, Changes: &Changes{}})
		checkSteps(t, r, "cached", "cached", "instruction@3", "cached", "parent@3", "parent@3")
	})
	t.Run("build-arg change", func(t *testing.T) {
		r, _ := Analyze(Input{Base: build("b", "1", "tok-1111", "a", "1"), Head: build("h", "2", "tok-1111", "a", "2"), Dockerfile: df, Changes: &Changes{}})
		checkSteps(t, r, "build-arg@1", "cached", "cached", "cached", "build-arg@1", "parent@1")
		if d := r.Steps[0].Cause.Detail; !strings.Contains(d, "VERSION `1` → `2`") {
			t.Errorf("detail = %q", d)
		}
		var late []Suggestion
		for _, s := range r.Suggestions {
			if s.Kind == SuggestLateArg {
				late = append(late, s)
			}
		}
		if len(late) != 1 || late[0].Line != 2 || !strings.Contains(late[0].Message, "not used") {
			t.Errorf("want one late-arg suggestion for the unused ARG VERSION at line 2, got %+v", r.Suggestions)
		}
	})
	t.Run("secret arg change is redacted", func(t *testing.T) {
		r, _ := Analyze(Input{Base: build("b", "1", "hunter2-old", "a", "1"), Head: build("h", "1", "hunter2-new", "a", "2"), Dockerfile: nil, Changes: &Changes{}})
		out, _ := json.Marshal(r)
		for _, secret := range []string{"hunter2-old", "hunter2-new"} {
			if strings.Contains(string(out), secret) {
				t.Fatalf("report leaks %q: %s", secret, out)
			}
		}
		checkSteps(t, r, "cached", "build-arg@2", "cached", "cached", "build-arg@2", "parent@2")
		var secretHint bool
		for _, s := range r.Suggestions {
			secretHint = secretHint || (s.Kind == SuggestSecretArg && strings.Contains(s.Example, "--mount=type=secret"))
		}
		if !secretHint {
			t.Errorf("no secret-build-arg suggestion: %+v", r.Suggestions)
		}
	})
}

func TestAnalyzeLateArg(t *testing.T) {
	build := func(ref, v, run string) *Image {
		p := "|1 V=" + v + " /bin/sh -c "
		return img(ref, E("ARG V="+v), L("RUN "+p+"apk add gcc # buildkit", "gcc"+v), L("RUN "+p+"make # buildkit", "make"+v), L("RUN "+p+run+" # buildkit", "use"+v))
	}
	far := mustDockerfile(t, "FROM scratch\nARG V=1\nRUN apk add gcc\nRUN make\nRUN echo $V\n")
	r, _ := Analyze(Input{Base: build("b", "1", "echo $V"), Head: build("h", "2", "echo $V"), Dockerfile: far, Changes: &Changes{}})
	checkSteps(t, r, "build-arg@1", "build-arg@1", "build-arg@1", "build-arg@1")
	if len(r.Suggestions) != 1 || r.Suggestions[0].Kind != SuggestLateArg || !strings.Contains(r.Suggestions[0].Message, "line 5") {
		t.Errorf("suggestions = %+v", r.Suggestions)
	}
	near := img("h", L("RUN /bin/sh -c apk add gcc # buildkit", "gcc"), E("ARG V=2"), L("RUN |1 V=2 /bin/sh -c echo $V # buildkit", "use2"))
	nearBase := img("b", L("RUN /bin/sh -c apk add gcc # buildkit", "gcc"), E("ARG V=1"), L("RUN |1 V=1 /bin/sh -c echo $V # buildkit", "use1"))
	r, _ = Analyze(Input{Base: nearBase, Head: near, Dockerfile: mustDockerfile(t, "FROM scratch\nRUN apk add gcc\nARG V=1\nRUN echo $V\n"), Changes: &Changes{}})
	checkSteps(t, r, "cached", "build-arg@2", "build-arg@2")
	if len(r.Suggestions) != 0 {
		t.Errorf("an ARG right before its use got suggestions: %+v", r.Suggestions)
	}
}

func TestAnalyzeMultiStageAndEdits(t *testing.T) {
	df := mustDockerfile(t, "FROM scratch AS builder\nCOPY src/ /src/\nRUN --mount=type=bind,source=tools,target=/t build\n\nFROM scratch\nCOPY --from=builder /out.bin ./\nRUN echo done\n")
	build := func(ref, out, run string) *Image {
		return img(ref, L("COPY /out.bin ./ # buildkit", "bin-"+out), L("RUN /bin/sh -c "+run+" # buildkit", "done-"+out+run))
	}
	r, _ := Analyze(Input{Base: build("b", "1", "echo done"), Head: build("h", "2", "echo done"), Dockerfile: df,
		Changes: &Changes{Files: []string{"src/main.go", "tools/gen.sh", "docs/x.md"}}})
	checkSteps(t, r, "sources@1", "parent@1")
	if c := r.Steps[0].Cause; strings.Join(c.Files, ",") != "src/main.go,tools/gen.sh" || !strings.Contains(c.Detail, "via stage builder") {
		t.Errorf("cause = %+v", c)
	}
	if r.Steps[0].Instruction != "COPY --from=builder /out.bin ./" {
		t.Errorf("instruction = %q, want the Dockerfile's text", r.Steps[0].Instruction)
	}

	df2 := mustDockerfile(t, "FROM scratch AS builder\nCOPY src/ /src/\n\nFROM scratch\nCOPY --from=builder /out.bin ./\nRUN echo edited\n")
	r, _ = Analyze(Input{Base: build("b", "1", "echo done"), Head: build("h", "1", "echo edited"), Dockerfile: df2, Changes: &Changes{}})
	checkSteps(t, r, "cached", "instruction@2")
	if d := r.Steps[1].Cause.Detail; !strings.Contains(d, "RUN echo done") {
		t.Errorf("detail = %q", d)
	}
}

func TestAnalyzeClassicContentHash(t *testing.T) {
	df := mustDockerfile(t, "FROM scratch\nENV A=1\nCOPY . ./all/\nRUN make\n")
	build := func(ref, hash string) *Image {
		im := img(ref, E("/bin/sh -c #(nop)  ENV A=1"), L("/bin/sh -c #(nop) COPY dir:"+hash+" in ./all/ ", "all"+hash), L("/bin/sh -c make", "make"+hash))
		for i := range im.History {
			im.History[i].Comment = ""
		}
		return im
	}
	r, _ := Analyze(Input{Base: build("b", "aaaa"), Head: build("h", "bbbb"), Dockerfile: df})
	checkSteps(t, r, "cached", "sources@2", "parent@2")
	if r.Steps[1].Instruction != "COPY . ./all/" {
		t.Errorf("instruction = %q", r.Steps[1].Instruction)
	}
}

func TestAnalyzeDegradesOnBadHistory(t *testing.T) {
	base := img("b", L("COPY a / # buildkit", "a"), L("RUN /bin/sh -c x # buildkit", "x"))
	tooFew := img("h", L("COPY a / # buildkit", "a"))
	tooFew.Layers = append(tooFew.Layers, ImageLayer{Digest: sha("q"), DiffID: sha("q"), Size: 1}, ImageLayer{Digest: sha("z"), DiffID: sha("z"), Size: 1})
	tooMany := img("h", L("COPY a / # buildkit", "a"), L("RUN /bin/sh -c x # buildkit", "x"), L("RUN /bin/sh -c y # buildkit", "y"))
	tooMany.Layers = tooMany.Layers[:1]
	noHistory := img("h", L("COPY a / # buildkit", "a"))
	noHistory.History = nil
	for name, head := range map[string]*Image{"fewer history entries": tooFew, "more history entries": tooMany, "no history": noHistory} {
		t.Run(name, func(t *testing.T) {
			r, err := Analyze(Input{Base: base, Head: head, Dockerfile: mustDockerfile(t, "FROM scratch\nCOPY a /\n")})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Warnings) == 0 {
				t.Errorf("no warning for a history that does not match the layers")
			}
			layers := 0
			for _, st := range r.Steps {
				if st.Layer != nil {
					layers++
				}
			}
			if layers != len(head.Layers) {
				t.Errorf("%d steps carry layers, the image has %d", layers, len(head.Layers))
			}
		})
	}
}

func TestAnalyzeRemovedInstruction(t *testing.T) {
	base := img("b", L("COPY a / # buildkit", "a"), L("RUN /bin/sh -c gen # buildkit", "gen"), L("RUN /bin/sh -c x # buildkit", "x1"))
	head := img("h", L("COPY a / # buildkit", "a"), L("RUN /bin/sh -c x # buildkit", "x2"))
	r, _ := Analyze(Input{Base: base, Head: head, Dockerfile: mustDockerfile(t, "FROM scratch\nCOPY a /\nRUN x\n"), Changes: &Changes{}})
	checkSteps(t, r, "cached", "instruction@2")
	if d := r.Steps[1].Cause.Detail; !strings.Contains(d, "RUN gen") || !strings.Contains(d, "removed") {
		t.Errorf("detail = %q", d)
	}
}

func TestAnalyzeStageBuiltFromStage(t *testing.T) {
	df := mustDockerfile(t, "FROM alpine AS deps\nCOPY go.mod ./\nRUN go mod download\n\nFROM deps\nCOPY . .\nRUN go build\n")
	build := func(ref, mod, src string) *Image {
		return img(ref, L("ADD alpine.tar / # buildkit", "alpine"),
			L("COPY go.mod ./ # buildkit", "mod"+mod), L("RUN /bin/sh -c go mod download # buildkit", "dl"+mod),
			L("COPY . . # buildkit", "src"+mod+src), L("RUN /bin/sh -c go build # buildkit", "bin"+mod+src))
	}
	r, _ := Analyze(Input{Base: build("b", "1", "1"), Head: build("h", "2", "1"), Dockerfile: df, Changes: &Changes{Files: []string{"go.mod"}}})
	checkSteps(t, r, "cached", "sources@2", "parent@2", "sources@4", "parent@2")
	if r.Steps[0].Origin != OriginBaseImage || r.Steps[1].Origin != OriginDockerfile || r.Steps[1].Stage != "deps" || r.Steps[1].Line != 2 || r.Steps[3].Line != 6 {
		t.Errorf("stage mapping wrong:\n%s", dump(r))
	}
}

func TestAnalyzeBaseImageEnvChange(t *testing.T) {
	df := mustDockerfile(t, "FROM base\nCOPY a /a\nRUN make\n")
	build := func(ref, env, out string) *Image {
		return img(ref, L("COPY busybox /bin/ # buildkit", "bb"), E("ENV BASEVAR="+env), L("COPY a /a # buildkit", "a"), L("RUN /bin/sh -c make # buildkit", "make"+out))
	}
	r, _ := Analyze(Input{Base: build("b", "1", "1"), Head: build("h", "2", "2"), Dockerfile: df, Changes: &Changes{}})
	checkSteps(t, r, "cached", "base-image@2", "cached", "parent@2")
}

func TestAnalyzeTransferBytes(t *testing.T) {
	base := img("b", L("COPY a / # buildkit", "a-1"), L("COPY b /b # buildkit", "b"))
	head := img("h", L("COPY a / # buildkit", "a-22"), L("COPY b /b # buildkit", "b"))
	r, _ := Analyze(Input{Base: base, Head: head, Changes: &Changes{Files: []string{"a"}}})
	checkSteps(t, r, "sources@1", "parent@1")
	if s := r.Summary; s.RebuiltBytes != 5 || s.TransferBytes != 4 {
		t.Errorf("rebuilt %d bytes, transfer %d; want 5 and 4 (layer b's blob is already in the base)", s.RebuiltBytes, s.TransferBytes)
	}
}

func TestNoNarrowCopyWhenManifestsComeFirst(t *testing.T) {
	df := mustDockerfile(t, "FROM golang AS build\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN go build -o /out/app .\n")
	build := func(ref, src string) *Image {
		return img(ref, L("COPY go.mod go.sum ./ # buildkit", "mod"), L("RUN /bin/sh -c go mod download # buildkit", "dl"),
			L("COPY . . # buildkit", "src"+src), L("RUN /bin/sh -c go build -o /out/app . # buildkit", "bin"+src))
	}
	r, _ := Analyze(Input{Base: build("b", "1"), Head: build("h", "2"), Dockerfile: df, Changes: &Changes{Files: []string{"main.go"}}})
	checkSteps(t, r, "cached", "cached", "sources@3", "parent@3")
	if len(r.Suggestions) != 0 {
		t.Errorf("a Dockerfile that copies go.mod first got suggestions: %+v", r.Suggestions)
	}
}

func TestReuseNeverRoundsToAllOrNothing(t *testing.T) {
	big := strings.Repeat("x", 100000)
	base := img("b", L("", big), L("RUN /bin/sh -c a # buildkit", "a1"))
	head := img("h", L("", big), L("RUN /bin/sh -c a # buildkit", "a2"))
	r, _ := Analyze(Input{Base: base, Head: head, Changes: &Changes{}})
	if r.Summary.Reuse != 99.99 || r.Steps[0].Instruction != "(no instruction recorded)" {
		t.Errorf("reuse %v, instruction %q", r.Summary.Reuse, r.Steps[0].Instruction)
	}
}

func TestAnalyzeBuilderStageEdited(t *testing.T) {
	head := "FROM golang AS build\nCOPY . .\nRUN go build -o /out/app -tags prod\n\nFROM scratch\nCOPY --from=build /out/app /app\n"
	base := "FROM golang AS build\nCOPY . .\nRUN go build -o /out/app\n\nFROM scratch\nCOPY --from=build /out/app /app\n"
	imgOf := func(ref, out string) *Image { return img(ref, L("COPY /out/app /app # buildkit", "app"+out)) }
	r, _ := Analyze(Input{Base: imgOf("b", "1"), Head: imgOf("h", "2"), Dockerfile: mustDockerfile(t, head), BaseDockerfile: mustDockerfile(t, base), Changes: &Changes{Files: []string{}}})
	checkSteps(t, r, "sources@1")
	if d := r.Steps[0].Cause.Detail; !strings.Contains(d, "`RUN go build -o /out/app -tags prod`") || !strings.Contains(d, "line 3") {
		t.Errorf("detail = %q", d)
	}
	r, _ = Analyze(Input{Base: imgOf("b", "1"), Head: imgOf("h", "2"), Dockerfile: mustDockerfile(t, head), Changes: &Changes{Files: []string{}}})
	checkSteps(t, r, "sources@1")
	if d := r.Steps[0].Cause.Detail; !strings.Contains(d, "stage `build` produces changed") {
		t.Errorf("detail without the base Dockerfile = %q", d)
	}
}
