package analyze

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Suggestion kinds.
const (
	SuggestNarrowCopy   = "narrow-copy"
	SuggestDockerignore = "dockerignore"
	SuggestLateArg      = "late-arg"
	SuggestCacheReuse   = "cache-not-reused"
	SuggestSecretArg    = "secret-build-arg"
)

// ecosystem is a dependency installer and the manifests that are all it needs.
type ecosystem struct {
	install   *regexp.Regexp
	manifests []string
}

var ecosystems = []ecosystem{
	{regexp.MustCompile(`\bnpm (ci|install|i)\b`), []string{"package.json", "package-lock.json"}},
	{regexp.MustCompile(`\byarn( install)?\b`), []string{"package.json", "yarn.lock"}},
	{regexp.MustCompile(`\bpnpm (install|i|fetch)\b`), []string{"package.json", "pnpm-lock.yaml"}},
	{regexp.MustCompile(`\bpoetry install\b`), []string{"pyproject.toml", "poetry.lock"}},
	{regexp.MustCompile(`\buv (sync|pip install)\b`), []string{"pyproject.toml", "uv.lock"}},
	{regexp.MustCompile(`\bpip3? install\b`), []string{"requirements.txt"}},
	{regexp.MustCompile(`\bgo (mod download|build|install)\b`), []string{"go.mod", "go.sum"}},
	{regexp.MustCompile(`\bbundle (install|config)\b`), []string{"Gemfile", "Gemfile.lock"}},
	{regexp.MustCompile(`\bcargo (build|fetch|install)\b`), []string{"Cargo.toml", "Cargo.lock"}},
	{regexp.MustCompile(`\bmvnw?\b`), []string{"pom.xml"}},
	{regexp.MustCompile(`\bgradlew?\b`), []string{"build.gradle", "settings.gradle"}},
	{regexp.MustCompile(`\bcomposer install\b`), []string{"composer.json", "composer.lock"}},
}

// systemPackages installs from the distribution: nothing in the context feeds it.
var systemPackages = regexp.MustCompile(`\b(apt-get|apt|apk|yum|dnf|microdnf|zypper) (-\S+ )*(install|add)\b`)

// notNeededDirs hold files that rarely belong in an image: docs, tests, CI and editor config.
var notNeededDirs = []string{"docs", "doc", "test", "tests", "__tests__", "spec", ".github", ".circleci", ".vscode", ".idea", ".git"}

// isNotNeeded reports whether a change to f should not rebuild an image.
func isNotNeeded(f string) bool {
	base := path.Base(f)
	for _, d := range notNeededDirs {
		if strings.HasPrefix(f, d+"/") || strings.Contains(f, "/"+d+"/") {
			return true
		}
	}
	return strings.HasSuffix(strings.ToLower(f), ".md") || strings.HasSuffix(f, "_test.go") ||
		base == ".gitlab-ci.yml" || base == ".gitignore" || base == ".editorconfig" || base == ".dockerignore" ||
		strings.HasPrefix(base, "Dockerfile") || strings.HasPrefix(base, "docker-compose") || strings.HasPrefix(base, "CHANGELOG")
}

// dockerignorePattern is the entry that keeps f out of the context.
func dockerignorePattern(f string) string {
	for _, d := range notNeededDirs {
		if strings.HasPrefix(f, d+"/") {
			return d
		}
	}
	switch {
	case strings.HasSuffix(f, "_test.go"):
		return "**/*_test.go"
	case strings.HasSuffix(strings.ToLower(f), ".md"):
		return "**/*.md"
	}
	return f
}

func (a *analysis) suggest(head []entry) {
	r := a.report
	for _, st := range r.Steps {
		if st.Cause == nil || st.Cause.RootStep != st.Index {
			continue
		}
		e := &head[st.Index-1]
		switch st.Cause.Kind {
		case CauseSources:
			a.suggestNarrowCopy(head, st, e)
			a.suggestDockerignore(st)
		case CauseBuildArg:
			a.suggestLateArg(head, st, e)
		case CauseUnexplained:
			r.Suggestions = append(r.Suggestions, Suggestion{Step: st.Index, Line: st.Line, Kind: SuggestCacheReuse,
				Message: "The build did not reuse its layer cache for this step although nothing that feeds it changed. " +
					"Give the build a cache to start from: with docker/build-push-action set `cache-from: type=registry,ref=<image>:buildcache` " +
					"and `cache-to: type=registry,ref=<image>:buildcache,mode=max` (or `type=gha`), and don't build with --no-cache.",
			})
		}
	}
	a.suggestSecretArgs(head)
}

// suggestNarrowCopy fires when a broad COPY above a dependency install made the install rerun
// for files the install does not read.
func (a *analysis) suggestNarrowCopy(head []entry, st Step, e *entry) {
	if !isCopy(e) || !broadCopy(e) {
		return
	}
	for _, later := range a.report.Steps[st.Index:] {
		if later.Cause == nil || later.Cause.RootStep != st.Index || later.Cause.Kind != CauseParent {
			continue
		}
		le := &head[later.Index-1]
		if le.in.Kind != "RUN" || (e.stage != nil && le.stage != e.stage) {
			continue
		}
		cmdText := le.in.Body
		if systemPackages.MatchString(cmdText) {
			a.report.Suggestions = append(a.report.Suggestions, Suggestion{Step: st.Index, Line: st.Line, Kind: SuggestNarrowCopy,
				Message: fmt.Sprintf("Step %d installs system packages after %s, so every change to the copied files reinstalls them: move the package install above the COPY.", later.Index, Quote(st.Instruction)),
			})
			return
		}
		for _, eco := range ecosystems {
			if !eco.install.MatchString(cmdText) {
				continue
			}
			if allManifests(st.Cause.Files, eco.manifests) {
				return // the dependencies themselves changed: the reinstall was needed
			}
			if manifestsCopiedBefore(head, e, eco.manifests) {
				return // already ordered well: the install step reruns only to build what changed
			}
			dest := copyDest(e)
			what := "every change to the copied files"
			if len(st.Cause.Files) > 0 {
				what = "a change to " + Quote(st.Cause.Files[0])
			}
			a.report.Suggestions = append(a.report.Suggestions, Suggestion{Step: st.Index, Line: st.Line, Kind: SuggestNarrowCopy,
				Message: fmt.Sprintf("%s copies everything before %s (step %d), so %s reinstalls the dependencies: copy only %s first, install, then copy the rest.",
					Quote(st.Instruction), Quote(later.Instruction), later.Index, what, strings.Join(eco.manifests, " and ")),
				Example: fmt.Sprintf("COPY %s %s\n%s\n%s", strings.Join(eco.manifests, " "), dest, later.Instruction, st.Instruction),
			})
			return
		}
	}
}

// manifestsCopiedBefore reports whether the broad copy's stage already copied one of the
// ecosystem's manifests on its own before it, as the fix would have it.
func manifestsCopiedBefore(head []entry, broad *entry, manifests []string) bool {
	if broad.stage == nil || broad.cmd == nil {
		return false
	}
	for i := range broad.stage.Commands {
		c := &broad.stage.Commands[i]
		if c == broad.cmd {
			return false
		}
		if c.Kind != "COPY" && c.Kind != "ADD" {
			continue
		}
		for _, src := range c.Sources {
			for _, m := range manifests {
				if ok, _ := path.Match(path.Base(cleanRel(src)), m); ok {
					return true
				}
			}
		}
	}
	return false
}

func broadCopy(e *entry) bool {
	srcs := historySources(e.in)
	if e.cmd != nil {
		srcs = e.cmd.Sources
	}
	for _, s := range srcs {
		s = cleanRel(s)
		if s == "." || strings.HasSuffix(s, "/") || !strings.Contains(path.Base(s), ".") {
			return true
		}
	}
	return false
}

func copyDest(e *entry) string {
	fields := strings.Fields(e.in.Body)
	if e.cmd != nil {
		fields = strings.Fields(e.cmd.Text)
	}
	if len(fields) == 0 {
		return "./"
	}
	return fields[len(fields)-1]
}

func allManifests(files, manifests []string) bool {
	if len(files) == 0 {
		return false
	}
	for _, f := range files {
		if !contains(manifests, path.Base(f)) {
			return false
		}
	}
	return true
}

func (a *analysis) contextRelative(repoPath string) string {
	if rel, ok := a.changes.contextPath[repoPath]; ok {
		return rel
	}
	return repoPath
}

func (a *analysis) suggestDockerignore(st Step) {
	var unneeded, patterns []string
	for _, f := range st.Cause.Files {
		if isNotNeeded(f) {
			unneeded = append(unneeded, f)
			// .dockerignore patterns are relative to the context.
			if p := dockerignorePattern(a.contextRelative(f)); !contains(patterns, p) {
				patterns = append(patterns, p)
			}
		}
	}
	if len(unneeded) == 0 {
		return
	}
	for _, prev := range a.report.Suggestions {
		if prev.Kind == SuggestDockerignore && prev.Example == strings.Join(patterns, "\n") {
			return // one .dockerignore fix covers every step these files feed
		}
	}
	msg := fmt.Sprintf("%s changed but is rarely needed in the image; keep it out of the build context with .dockerignore", Quote(unneeded[0]))
	if len(unneeded) > 1 {
		msg = fmt.Sprintf("%d changed files are rarely needed in the image (%s…); keep them out of the build context with .dockerignore", len(unneeded), Quote(unneeded[0]))
	}
	if len(unneeded) == len(st.Cause.Files) {
		msg += ", and this step stays cached"
	}
	a.report.Suggestions = append(a.report.Suggestions, Suggestion{Step: st.Index, Line: st.Line, Kind: SuggestDockerignore,
		Message: msg + ".", Example: strings.Join(patterns, "\n")})
}

// suggestLateArg fires when an ARG whose value changed is declared above RUN steps that don't
// use it: BuildKit gives every later RUN all args in scope, so they all rebuild.
func (a *analysis) suggestLateArg(head []entry, st Step, e *entry) {
	if e.cmd == nil || e.in.Kind != "ARG" {
		return
	}
	for _, arg := range e.in.Args {
		ref := regexp.MustCompile(`\$\{?` + regexp.QuoteMeta(arg.Name) + `\b`)
		var wasted []int
		firstUse := 0
		for i := st.Index; i < len(head); i++ {
			le := &head[i]
			if le.cmd == nil || le.stage != e.stage {
				continue
			}
			if ref.MatchString(le.cmd.Text) {
				firstUse = le.cmd.Line
				break
			}
			if le.in.Kind == "RUN" && a.report.Steps[i].Status == StatusRebuilt {
				wasted = append(wasted, i+1)
			}
		}
		if len(wasted) == 0 {
			continue
		}
		msg := fmt.Sprintf("`ARG %s` is declared long before it is used: %d RUN step(s) that don't use it were rebuilt only because its value changed. Move it down to just before its first use at line %d.",
			arg.Name, len(wasted), firstUse)
		if firstUse == 0 {
			msg = fmt.Sprintf("`ARG %s` is not used by any later instruction of its stage, yet %d RUN step(s) were rebuilt because its value changed. Remove it, or declare it right before the step that needs it.",
				arg.Name, len(wasted))
		}
		a.report.Suggestions = append(a.report.Suggestions, Suggestion{Step: st.Index, Line: st.Line, Kind: SuggestLateArg, Message: msg})
	}
}

// suggestSecretArgs warns once per secret-looking build arg: its value is in the history of
// every pushed image.
func (a *analysis) suggestSecretArgs(head []entry) {
	seen := map[string]bool{}
	for i, e := range head {
		for _, arg := range e.in.Args {
			if !IsSecretName(arg.Name) || seen[arg.Name] || arg.Value == "" {
				continue
			}
			seen[arg.Name] = true
			line := 0
			if e.cmd != nil {
				line = e.cmd.Line
			}
			id := strings.ToLower(arg.Name)
			a.report.Suggestions = append(a.report.Suggestions, Suggestion{Step: i + 1, Line: line, Kind: SuggestSecretArg,
				Message: fmt.Sprintf("Build arg %s looks secret and its value is recorded in the image history of every image you push. Pass it as a build secret instead.", arg.Name),
				Example: fmt.Sprintf("RUN --mount=type=secret,id=%s,env=%s <command>", id, arg.Name),
			})
		}
	}
}
