package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerdiff/layerdiff/analyze"
)

// 16. Every instruction kind BuildKit records, in one Dockerfile: each history entry maps to its
// own line (heredoc, RUN --mount, COPY --from/--link/--chmod lose or keep flags in the history).
// A README edit rebuilds the two copies that include it.
func everyInstruction(t *testing.T, tl *tools) {
	s := newScenario(t, tl, "s16")
	base := sharedBase(t, tl)
	s.write(map[string]string{
		".dockerignore": ".git\n",
		"Dockerfile": fmt.Sprintf(`FROM %s AS builder
WORKDIR /build-s16
COPY src/ ./src/
RUN cat src/a.txt > out.bin

FROM %s
ARG VERSION=1.0
ARG NODEFAULT
ENV APP_HOME=/s16 MODE=prod
LABEL org.example.a="b" maintainer=me
WORKDIR /s16
USER 0:0
EXPOSE 8080/tcp
VOLUME /data
HEALTHCHECK --interval=30s CMD ["/bin/true"]
SHELL ["/bin/sh", "-c"]
RUN echo "v=$VERSION" > /s16/info
RUN --mount=type=bind,source=data.txt,target=/mnt/data.txt cat /mnt/data.txt > /s16/data
RUN <<EOT
echo heredoc1 > /s16/h1
echo heredoc2 > /s16/h2
EOT
COPY --from=builder /build-s16/out.bin ./
COPY --link src/ ./linked/
COPY --chmod=755 README.md ./readme
ADD data.txt /s16/added.txt
COPY src/a.txt README.md ./multi/
ENTRYPOINT ["/bin/sh"]
CMD ["-c", "cat /s16/info"]
`, base, base),
		"src/a.txt": "s16 {nonce}\n",
		"data.txt":  "data\n",
		"README.md": "# s16\n",
	})
	s.commit("base")
	baseRef := s.buildkit("base", bk{})
	s.write(map[string]string{"README.md": "# s16\n\nedited\n"})
	s.commit("docs")
	headRef := s.buildkit("head", bk{})

	head, b := s.facts(headRef, amd64), s.facts(baseRef, amd64)
	rep, _ := s.report(0, baseRef, headRef)
	c := func(line string) want { return cached(s.line(line), "") }
	readme := s.line("COPY --chmod=755 README.md ./readme")
	check(t, rep, head, &b, amd64, steps(base3, []want{
		c("ARG VERSION=1.0"),
		c("ARG NODEFAULT"),
		c("ENV APP_HOME=/s16 MODE=prod"),
		c(`LABEL org.example.a="b" maintainer=me`),
		c("WORKDIR /s16"),
		c("USER 0:0"),
		c("EXPOSE 8080/tcp"),
		c("VOLUME /data"),
		c(`HEALTHCHECK --interval=30s CMD ["/bin/true"]`),
		c(`SHELL ["/bin/sh", "-c"]`),
		c(`RUN echo "v=$VERSION" > /s16/info`),
		c("RUN --mount=type=bind,source=data.txt,target=/mnt/data.txt cat /mnt/data.txt > /s16/data"),
		c("RUN <<EOT"),
		c("COPY --from=builder /build-s16/out.bin ./"),
		c("COPY --link src/ ./linked/"),
		rebuilt(readme, "", analyze.CauseSources, 19, "README.md"),
		rebuilt(s.line("ADD data.txt /s16/added.txt"), "ADD data.txt /s16/added.txt", analyze.CauseParent, 19),
		// Its own sources changed too: sources, whatever it names as the root.
		rebuilt(s.line("COPY src/a.txt README.md ./multi/"), "COPY src/a.txt README.md ./multi/", analyze.CauseSources, -1, "README.md"),
		c(`ENTRYPOINT ["/bin/sh"]`),
		c(`CMD ["-c", "cat /s16/info"]`),
	}), nil)
	if rc := rep.Summary.RootCauses; len(rc) == 0 || rc[0] != (analyze.RootCause{Step: 19, Kind: analyze.CauseSources}) {
		t.Errorf("summary.rootCauses = %+v, want step 19 sources first", rc)
	}
}

// 17. A monorepo: the Dockerfile and build context are services/api; a change in another
// service does not count, and the changed file is found from the repository root or from the
// service's directory.
func monorepoContext(t *testing.T, tl *tools) {
	s := newScenario(t, tl, "s17")
	s.dockerfile = "services/api/Dockerfile"
	s.write(map[string]string{
		"services/api/.dockerignore": "README.md\n",
		"services/api/Dockerfile": fmt.Sprintf(`FROM %s
WORKDIR /s17
COPY . .
RUN cat src/app.js > out.txt
`, sharedBase(t, tl)),
		"services/api/src/app.js": "console.log('{nonce}')\n",
		"services/api/README.md":  "# api\n",
		"services/web/index.html": "<p>web</p>\n",
		"README.md":               "# monorepo\n",
	})
	s.commit("base")
	baseRef := s.buildkit("base", bk{sub: "services/api"})
	s.write(map[string]string{
		"services/api/src/app.js": "console.log('{nonce}', 2)\n",
		"services/api/README.md":  "# api\n\nignored by .dockerignore\n",
		"services/web/index.html": "<p>web 2</p>\n",
		"README.md":               "# monorepo\n\nedited\n",
	})
	s.commit("change api and web")
	headRef := s.buildkit("head", bk{sub: "services/api"})
	head, b := s.facts(headRef, amd64), s.facts(baseRef, amd64)

	from := func(t *testing.T, dir string, args ...string) {
		sc := s.on(t)
		r := sc.layerdiffIn(dir, append(append([]string{"--format", "json", "--base-commit", s.commits[0], "--head-commit", s.commits[1]}, args...), baseRef, headRef)...)
		rep := decode(t, r, 0)
		// The file may be named from the repository root (as the PR diff shows it) or from the
		// build context (as the COPY sees it); either, but only the one file of the context.
		file := "services/api/src/app.js"
		if len(rep.Steps) > 4 && rep.Steps[4].Cause != nil && fmt.Sprint(rep.Steps[4].Cause.Files) == "[src/app.js]" {
			file = "src/app.js"
		}
		check(t, rep, head, &b, amd64, steps(base3, []want{
			cached(s.line("WORKDIR /s17"), "WORKDIR /s17"),
			rebuilt(s.line("COPY . ."), "COPY . .", analyze.CauseSources, 5, file),
			rebuilt(s.line("RUN cat src/app.js > out.txt"), "RUN cat src/app.js > out.txt", analyze.CauseParent, 5),
		}), []analyze.RootCause{{Step: 5, Kind: analyze.CauseSources}})
	}
	t.Run("from-repo-root", func(t *testing.T) {
		from(t, s.dir, "--repo", ".", "--dockerfile", "services/api/Dockerfile", "--context", "services/api")
	})
	t.Run("from-service-dir", func(t *testing.T) {
		from(t, filepath.Join(s.dir, "services/api"), "--repo", "../..", "--dockerfile", "Dockerfile")
	})
}

// 18. The final stage builds FROM an earlier stage: the earlier stage's steps are Dockerfile
// steps too, mapped to their lines.
func fromEarlierStage(t *testing.T, tl *tools) {
	s := newScenario(t, tl, "s18")
	s.write(map[string]string{
		".dockerignore": ".git\n",
		"Dockerfile": fmt.Sprintf(`FROM %s AS deps
WORKDIR /s18
COPY package.json ./
RUN cat package.json > deps.lock

FROM deps AS app
COPY src/ ./src/
RUN cat src/app.js deps.lock > out.txt
`, sharedBase(t, tl)),
		"package.json": `{"name": "s18", "nonce": "{nonce}", "v": 1}` + "\n",
		"src/app.js":   "console.log(1)\n",
	})
	s.commit("base")
	baseRef := s.buildkit("base", bk{})
	s.write(map[string]string{"package.json": `{"name": "s18", "nonce": "{nonce}", "v": 2}` + "\n"})
	s.commit("deps")
	headRef := s.buildkit("head", bk{})

	head, b := s.facts(headRef, amd64), s.facts(baseRef, amd64)
	rep, _ := s.report(0, baseRef, headRef)
	check(t, rep, head, &b, amd64, steps(base3, []want{
		cached(s.line("WORKDIR /s18"), "WORKDIR /s18"),
		rebuilt(s.line("COPY package.json ./"), "COPY package.json ./", analyze.CauseSources, 5, "package.json"),
		rebuilt(s.line("RUN cat package.json > deps.lock"), "RUN cat package.json > deps.lock", analyze.CauseParent, 5),
		rebuilt(s.line("COPY src/ ./src/"), "COPY src/ ./src/", analyze.CauseParent, 5),
		rebuilt(s.line("RUN cat src/app.js deps.lock > out.txt"), "RUN cat src/app.js deps.lock > out.txt", analyze.CauseParent, 5),
	}), []analyze.RootCause{{Step: 5, Kind: analyze.CauseSources}})
	for i, st := range rep.Steps {
		if wantStage := map[bool]string{true: "deps", false: "app"}[i < 6]; i >= 3 && st.Stage != wantStage {
			t.Errorf("step %d stage = %q, want %q", st.Index, st.Stage, wantStage)
		}
	}
}

// 19. The FROM tag was re-pushed with new content and the Dockerfile did not change: still a
// base-image cause.
func baseTagMoved(t *testing.T, tl *tools) {
	bs := newScenario(t, tl, "s19-base")
	bs.busybox("busybox")
	bs.write(map[string]string{"Dockerfile": `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY version.txt /etc/base-version
`, "version.txt": "1 {nonce}\n"})
	bs.commit("1")
	baseTag := bs.buildkit("latest", bk{})

	s := newScenario(t, tl, "s19")
	s.write(map[string]string{
		".dockerignore": ".git\n",
		"Dockerfile": fmt.Sprintf(`FROM %s
WORKDIR /s19
COPY app.txt ./
`, baseTag),
		"app.txt":  "s19 {nonce}\n",
		"NOTES.md": "notes\n",
	})
	s.commit("base")
	baseRef := s.buildkit("base", bk{})

	bs.write(map[string]string{"version.txt": "2 {nonce}\n"})
	bs.commit("2")
	bs.buildkit("latest", bk{})
	s.write(map[string]string{"NOTES.md": "notes 2\n"})
	s.commit("head")
	headRef := s.buildkit("head", bk{})

	head, b := s.facts(headRef, amd64), s.facts(baseRef, amd64)
	rep, _ := s.report(0, baseRef, headRef)
	check(t, rep, head, &b, amd64, []want{
		baseCached(),
		baseCached(),
		baseRebuilt(analyze.CauseBaseImage, 3),
		rebuilt(s.line("WORKDIR /s19"), "WORKDIR /s19", analyze.CauseParent, 3),
		rebuilt(s.line("COPY app.txt ./"), "COPY app.txt ./", analyze.CauseParent, 3),
	}, []analyze.RootCause{{Step: 3, Kind: analyze.CauseBaseImage}})
	if len(rep.Steps) > 2 && rep.Steps[2].Cause != nil && !strings.Contains(rep.Steps[2].Cause.Detail, "s19-base") {
		t.Errorf("step 3 detail %q does not name the base image", rep.Steps[2].Cause.Detail)
	}
}
