package analyze

import (
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/patternmatcher"
)

// Changes is what changed between the base and head commits, as far as the build can see it.
type Changes struct {
	// Files are the changed paths relative to the repository root, slash-separated.
	Files []string
	// Context is the build context relative to the repository root ("" or "." is the root).
	Context string
	// Ignore are the context's .dockerignore patterns.
	Ignore []string
}

// contextFiles are the changed files as the builder sees them.
type contextFiles struct {
	known bool
	files []string // relative to the context, sorted, not ignored
	// repoPath names each of files as the pull request shows it, relative to the repository.
	repoPath map[string]string
	// contextPath is the reverse of repoPath.
	contextPath map[string]string
	ignored     []string // in the context but excluded by .dockerignore
	outside     int      // changed files outside the context
}

func mapChanges(c *Changes) (contextFiles, error) {
	if c == nil {
		return contextFiles{}, nil
	}
	out := contextFiles{known: true, repoPath: map[string]string{}, contextPath: map[string]string{}}
	var ignore *patternmatcher.PatternMatcher
	if len(c.Ignore) > 0 {
		pm, err := patternmatcher.New(c.Ignore)
		if err != nil {
			return contextFiles{}, err
		}
		ignore = pm
	}
	ctx := cleanRel(c.Context)
	for _, f := range c.Files {
		f = cleanRel(f)
		if f == "." {
			continue
		}
		rel := f
		if ctx != "." {
			var ok bool
			if rel, ok = strings.CutPrefix(f, ctx+"/"); !ok {
				out.outside++
				continue
			}
		}
		if ignore != nil {
			if excluded, err := ignore.MatchesOrParentMatches(rel); err == nil && excluded {
				out.ignored = append(out.ignored, rel)
				continue
			}
		}
		out.files = append(out.files, rel)
		out.repoPath[rel] = f
		out.contextPath[f] = rel
	}
	sort.Strings(out.files)
	out.files = compactStrings(out.files)
	return out, nil
}

// cleanRel cleans a slash path relative to a root: no leading "/" or "./".
func cleanRel(p string) string {
	c := path.Clean("/" + strings.TrimSpace(strings.ReplaceAll(p, "\\", "/")))
	if c == "/" {
		return "."
	}
	return c[1:]
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// sourceMatcher decides whether a context file feeds a COPY/ADD source. Sources follow the
// builder's rules: a directory brings everything under it, globs use filepath.Match syntax,
// "**" crosses directories, a leading "/" is the context root.
type sourceMatcher struct {
	all bool
	pm  *patternmatcher.PatternMatcher
}

func newSourceMatcher(sources []string) sourceMatcher {
	var patterns []string
	for _, s := range sources {
		s = cleanRel(s)
		if s == "." || s == "*" || s == "**" {
			return sourceMatcher{all: true}
		}
		patterns = append(patterns, s)
	}
	if len(patterns) == 0 {
		return sourceMatcher{}
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return sourceMatcher{}
	}
	return sourceMatcher{pm: pm}
}

func (m sourceMatcher) matches(file string) bool {
	if m.all {
		return true
	}
	if m.pm == nil {
		return false
	}
	ok, err := m.pm.MatchesOrParentMatches(file)
	return err == nil && ok
}

// feeding returns the changed files that feed a step, named relative to the repository as the
// pull request shows them, and the stages it reached them through. Without a Dockerfile command it falls back to the sources BuildKit records in the
// history text.
func (a *analysis) feeding(e *entry) (files []string, via []string) {
	if !a.changes.known {
		return nil, nil
	}
	var sets []sourceSet
	if e.cmd != nil {
		sets = a.sourceSets(e.cmd, e.stage, map[int]bool{})
	} else if srcs := historySources(e.in); len(srcs) > 0 {
		sets = []sourceSet{{sources: srcs}}
	}
	seen := map[string]bool{}
	for _, set := range sets {
		m := newSourceMatcher(set.sources)
		hit := false
		for _, f := range a.changes.files {
			if m.matches(f) && !seen[f] {
				seen[f] = true
				files = append(files, a.changes.repoPath[f])
				hit = true
			}
		}
		if hit && set.stage != "" && !contains(via, set.stage) {
			via = append(via, set.stage)
		}
	}
	sort.Strings(files)
	return files, via
}

// sourceSet is a group of context sources, reached through a stage when stage is set.
type sourceSet struct {
	sources []string
	stage   string
}

// sourceSets lists the context sources a command reads: its own COPY/ADD sources and bind
// mounts, and for --from=<stage> everything that stage read from the context.
func (a *analysis) sourceSets(cmd *Command, st *Stage, visited map[int]bool) []sourceSet {
	var sets []sourceSet
	add := func(c *Command) {
		if c.From == "" {
			if len(c.Sources) > 0 {
				sets = append(sets, sourceSet{sources: c.Sources})
			}
			return
		}
		if a.df == nil || st == nil {
			return
		}
		if from := a.df.stage(c.From, st.Index); from != nil {
			for _, s := range a.stageSets(from, visited) {
				if s.stage == "" {
					s.stage = stageLabel(from)
				}
				sets = append(sets, s)
			}
		}
	}
	switch cmd.Kind {
	case "COPY", "ADD":
		add(cmd)
	case "RUN":
		for i := range cmd.BindMounts {
			add(&cmd.BindMounts[i])
		}
	}
	return sets
}

// stageSets is everything a stage read from the context, through its base stage too.
func (a *analysis) stageSets(st *Stage, visited map[int]bool) []sourceSet {
	if visited[st.Index] {
		return nil
	}
	visited[st.Index] = true
	var sets []sourceSet
	if base := a.df.stage(st.BaseName, st.Index); base != nil {
		sets = append(sets, a.stageSets(base, visited)...)
	}
	for i := range st.Commands {
		sets = append(sets, a.sourceSets(&st.Commands[i], st, visited)...)
	}
	return sets
}

func stageLabel(st *Stage) string {
	if st.Name != "" {
		return st.Name
	}
	return "stage " + strconv.Itoa(st.Index)
}

// historySources reads COPY/ADD sources from a BuildKit or plain history text ("COPY a b ./").
// The classic builder records a content hash instead, which can't be matched to files.
func historySources(in Instruction) []string {
	if (in.Kind != "COPY" && in.Kind != "ADD") || in.ContentHash != "" {
		return nil
	}
	var words []string
	for _, w := range strings.Fields(in.Body) {
		if !strings.HasPrefix(w, "--") {
			words = append(words, w)
		}
	}
	if len(words) < 2 {
		return nil
	}
	var srcs []string
	for _, w := range words[:len(words)-1] {
		if !isRemoteSource(w) {
			srcs = append(srcs, w)
		}
	}
	return srcs
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
