package analyze

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Dockerfile is the parsed Dockerfile: what each stage's instructions copy from where.
type Dockerfile struct {
	Stages []Stage
	// MetaArgs are the ARGs before the first FROM, with their defaults.
	MetaArgs map[string]string
}

// Stage is one FROM and its instructions.
type Stage struct {
	Name     string // as written after AS, lower-case; "" when unnamed
	Index    int
	BaseName string // the FROM image or stage, meta args expanded where they have defaults
	Line     int
	Commands []Command
}

// Command is one instruction of a stage.
type Command struct {
	Kind string // upper-case keyword
	Text string // the instruction as written, continuation lines joined
	Line int
	// Sources are COPY/ADD sources and RUN --mount=type=bind sources, relative to the context
	// (or to the stage in From).
	Sources []string
	// From is COPY --from / a bind mount's from: a stage name or index, or an image.
	From string
	// Remote is set for ADD of a URL or git repository.
	Remote bool
	// Inline is set for COPY/ADD of heredoc content, which has no file in the context.
	Inline bool
	// BindMounts are RUN --mount=type=bind mounts: each is a Command-like source set.
	BindMounts []Command
}

// ParseDockerfile parses Dockerfile text with BuildKit's own parser.
func ParseDockerfile(data []byte) (*Dockerfile, error) {
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, err
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("no FROM instruction")
	}
	df := &Dockerfile{MetaArgs: map[string]string{}}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				df.MetaArgs[kv.Key] = *kv.Value
			}
		}
	}
	for i, st := range stages {
		s := Stage{
			Name:     strings.ToLower(st.Name),
			Index:    i,
			BaseName: expandMetaArgs(st.BaseName, df.MetaArgs),
			Line:     firstLine(st.Location),
		}
		for _, c := range st.Commands {
			s.Commands = append(s.Commands, convertCommand(c))
		}
		df.Stages = append(df.Stages, s)
	}
	return df, nil
}

func firstLine(r []parser.Range) int {
	if len(r) == 0 {
		return 0
	}
	return r[0].Start.Line
}

var metaArgRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}?`)

// expandMetaArgs expands $NAME/${NAME}/${NAME:-default} with the meta args' defaults, so that
// "FROM ${BASE}" names its image; values given only at build time are unknown here.
func expandMetaArgs(s string, args map[string]string) string {
	return metaArgRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := metaArgRef.FindStringSubmatch(m)
		if v, ok := args[sub[1]]; ok {
			return v
		}
		if sub[2] != "" {
			return sub[2]
		}
		return m
	})
}

func convertCommand(c instructions.Command) Command {
	loc := c.Location()
	out := Command{Kind: strings.ToUpper(c.Name()), Line: firstLine(loc)}
	if s, ok := c.(fmt.Stringer); ok {
		out.Text = collapseSpace(s.String())
	}
	switch c := c.(type) {
	case *instructions.CopyCommand:
		out.Sources = c.SourcePaths
		out.From = c.From
		out.Inline = len(c.SourceContents) > 0
	case *instructions.AddCommand:
		for _, src := range c.SourcePaths {
			if isRemoteSource(src) {
				out.Remote = true
				continue
			}
			out.Sources = append(out.Sources, src)
		}
		out.Inline = len(c.SourceContents) > 0
	case *instructions.RunCommand:
		// Mount options are only filled in once expanded; keep $VARs as written.
		_ = c.Expand(func(word string) (string, error) { return word, nil })
		for _, m := range instructions.GetMounts(c) {
			if m.Type != instructions.MountTypeBind {
				continue
			}
			src := m.Source
			if src == "" {
				src = "."
			}
			out.BindMounts = append(out.BindMounts, Command{Kind: "COPY", Line: out.Line, Sources: []string{src}, From: m.From})
		}
	}
	return out
}

// isRemoteSource reports whether an ADD source is fetched from the network, not the context.
func isRemoteSource(src string) bool {
	for _, p := range []string{"http://", "https://", "git@", "git://", "ssh://"} {
		if strings.HasPrefix(src, p) {
			return true
		}
	}
	return strings.HasSuffix(src, ".git") && strings.Contains(src, "://")
}

// collapseSpace joins continuation lines and runs of blanks into single spaces; heredoc bodies
// are not part of a command's text (BuildKit keeps only the first line too).
func collapseSpace(s string) string {
	s = strings.ReplaceAll(s, "\\\n", " ")
	if first, _, ok := strings.Cut(s, "\n"); ok && strings.Contains(first, "<<") {
		s = first
	}
	return strings.Join(strings.Fields(s), " ")
}

// finalStage is the stage the image was built from (the last one).
func (df *Dockerfile) finalStage() *Stage {
	return &df.Stages[len(df.Stages)-1]
}

// stage finds a stage by name or index as COPY --from names it; nil for an external image.
func (df *Dockerfile) stage(ref string, before int) *Stage {
	ref = strings.ToLower(ref)
	for i := range df.Stages[:before] {
		if df.Stages[i].Name == ref && ref != "" {
			return &df.Stages[i]
		}
	}
	var n int
	if _, err := fmt.Sscanf(ref, "%d", &n); err == nil && fmt.Sprint(n) == ref && n >= 0 && n < before {
		return &df.Stages[n]
	}
	return nil
}
