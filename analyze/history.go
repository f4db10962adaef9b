package analyze

import (
	"regexp"
	"strconv"
	"strings"
)

// Builder formats of created_by texts.
const (
	formatBuildKit = "buildkit" // "COPY . ./ # buildkit", comment buildkit.dockerfile.v0
	formatClassic  = "classic"  // "/bin/sh -c #(nop) COPY dir:<hash> in /x", also buildah
	formatPlain    = "plain"    // the instruction as written (kaniko and others)
	formatUnknown  = "unknown"  // anything else: shown raw
)

// BuildArg is a NAME=value pair recorded in a history entry.
type BuildArg struct {
	Name, Value string
}

// Instruction is a created_by text understood: the Dockerfile instruction that made the entry.
type Instruction struct {
	// Kind is the upper-case instruction keyword ("RUN", "COPY"…), or "" when not understood.
	Kind string
	// Body is the instruction's arguments without the builder's decorations: no shell prefix,
	// no build-arg prefix, no content hash.
	Body string
	// Args are build args recorded with the entry: RUN's "|N A=b" prefix, or ARG's own pairs.
	Args []BuildArg
	// ContentHash is the classic builder's "dir:<hash>"/"file:<hash>" of a COPY or ADD, which
	// changes exactly when the copied content does.
	ContentHash string
	// Format is the builder format the text was written in.
	Format string
	// Raw is the created_by text as recorded.
	Raw string
	// argText is the text of RUN's "|N …" pairs as recorded, for redaction.
	argText string
}

var keywords = map[string]bool{
	"ADD": true, "ARG": true, "CMD": true, "COPY": true, "ENTRYPOINT": true, "ENV": true,
	"EXPOSE": true, "HEALTHCHECK": true, "LABEL": true, "MAINTAINER": true, "ONBUILD": true,
	"RUN": true, "SHELL": true, "STOPSIGNAL": true, "USER": true, "VOLUME": true, "WORKDIR": true,
}

var (
	// shellPrefix is how builders record a shell-form RUN: "/bin/sh -c cmd".
	shellPrefix = regexp.MustCompile(`^(?:/\S*/)?(?:sh|bash|ash|dash|zsh)\s+(?:(?:-o\s+\S+|-[a-zA-Z]+)\s+)*-c\s+`)
	// classicSource is the classic builder's COPY/ADD source: "dir:<hash> in /dest".
	classicSource = regexp.MustCompile(`^((?:dir|file|multi):[0-9a-f]+)\s+in\s+(.*)$`)
	argPrefix     = regexp.MustCompile(`^\|(\d+)\s+`)
	argName       = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	// pairStart is where a NAME=value pair begins in a run of pairs.
	pairStart = regexp.MustCompile(`(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=`)
	// shellAfterArgs is the shell that starts a RUN's command after its build-arg pairs.
	shellAfterArgs = regexp.MustCompile(`\s(?:/\S*/)?(?:sh|bash|ash|dash|zsh)\s+(?:(?:-o\s+\S+|-[a-zA-Z]+)\s+)*-c\s`)
)

// ParseCreatedBy understands one history entry's created_by text (and comment) as BuildKit,
// the classic builder, buildah and kaniko write it. It never fails: an unknown text gives an
// Instruction with an empty Kind and the raw text as Body.
func ParseCreatedBy(createdBy, comment string) Instruction {
	in := Instruction{Raw: createdBy, Format: formatUnknown}
	s := strings.TrimSpace(createdBy)
	if rest, ok := strings.CutSuffix(s, "# buildkit"); ok {
		s = strings.TrimSpace(rest)
		in.Format = formatBuildKit
	} else if comment == "buildkit.dockerfile.v0" {
		in.Format = formatBuildKit
	}

	// The classic builder (and buildah) prefix a RUN with its build args: "|1 A=b /bin/sh -c …".
	if in.Format != formatBuildKit {
		args, rest, region := cutArgPrefix(s)
		if nop, ok := strings.CutPrefix(rest, "/bin/sh -c #(nop) "); ok {
			in.Format = formatClassic
			in.Args = args
			kind, body := splitKeyword(strings.TrimSpace(nop))
			if kind == "" {
				in.Body = strings.TrimSpace(nop)
				return in
			}
			in.Kind, in.Body = kind, body
			in.finishClassic()
			return in
		}
		if shellPrefix.MatchString(rest) {
			in.Format = formatClassic
			in.Kind = "RUN"
			in.Args, in.argText = args, region
			in.Body = strings.TrimSpace(shellPrefix.ReplaceAllString(rest, ""))
			return in
		}
	}

	kind, body := splitKeyword(s)
	if kind == "" {
		in.Body = s
		return in
	}
	if in.Format == formatUnknown {
		in.Format = formatPlain
	}
	in.Kind, in.Body = kind, body
	switch kind {
	case "RUN":
		args, rest, region := cutArgPrefix(in.Body)
		in.Args, in.argText = args, region
		in.Body = strings.TrimSpace(shellPrefix.ReplaceAllString(rest, ""))
	case "ARG":
		in.Args = parseArgPairs(in.Body)
	}
	return in
}

func (in *Instruction) finishClassic() {
	switch in.Kind {
	case "COPY", "ADD":
		if m := classicSource.FindStringSubmatch(in.Body); m != nil {
			in.ContentHash = m[1]
			in.Body = strings.TrimSpace(m[2])
		}
	case "ARG":
		in.Args = parseArgPairs(in.Body)
	}
}

// splitKeyword splits "COPY a b" into "COPY" and "a b" when the first word is an instruction.
func splitKeyword(s string) (string, string) {
	word, rest, _ := strings.Cut(s, " ")
	if !keywords[strings.ToUpper(word)] {
		return "", ""
	}
	return strings.ToUpper(word), strings.TrimSpace(rest)
}

// cutArgPrefix parses "|2 A=1 B=2 rest" into the pairs and "rest", and returns the text that
// holds the pairs (up to the shell, or all of it when there is none) for redaction. A value
// with blanks cannot be told apart from the command that follows; builders don't quote.
func cutArgPrefix(s string) (args []BuildArg, rest, region string) {
	m := argPrefix.FindStringSubmatch(s)
	if m == nil {
		return nil, s, ""
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 0 {
		return nil, s, ""
	}
	rest = s[len(m[0]):]
	region = rest
	// The pairs are unquoted, so a value may hold blanks: when a shell follows them, everything
	// before it is the n pairs, split where each NAME= begins.
	if loc := shellAfterArgs.FindStringIndex(rest); loc != nil {
		region = rest[:loc[0]]
		if args := splitPairs(region, n); args != nil {
			return args, strings.TrimLeft(rest[loc[0]:], " "), region
		}
	}
	for len(args) < n && argName.MatchString(rest) {
		word, after, _ := strings.Cut(rest, " ")
		name, value, _ := strings.Cut(word, "=")
		args = append(args, BuildArg{Name: name, Value: value})
		rest = strings.TrimLeft(after, " ")
	}
	return args, rest, region
}

// splitPairs splits "A=1 B=x y" into n pairs at each NAME= that follows a blank; nil when the
// text does not start with a pair or holds fewer than n.
func splitPairs(region string, n int) []BuildArg {
	locs := pairStart.FindAllStringSubmatchIndex(region, -1)
	if n == 0 || len(locs) < n || locs[0][2] != 0 {
		return nil
	}
	args := make([]BuildArg, 0, n)
	for i := 0; i < n; i++ {
		end := len(region)
		if i+1 < n {
			end = locs[i+1][0]
		}
		name, value, _ := strings.Cut(strings.TrimSpace(region[locs[i][2]:end]), "=")
		args = append(args, BuildArg{Name: name, Value: value})
	}
	return args
}

// argRegion is the text that holds an entry's build-arg pairs: ARG's body, or a RUN's "|N …"
// prefix up to its shell.
func (in Instruction) argRegion() string {
	if in.Kind == "ARG" {
		return in.Body
	}
	return in.argText
}

// secretValueCandidates returns every reading of the values of secret-looking args in a run of
// unquoted pairs: a value may hold blanks and even " X=", so the text up to each later NAME= is
// a value to redact.
func secretValueCandidates(pairs string) []string {
	locs := pairStart.FindAllStringSubmatchIndex(pairs, -1)
	var out []string
	for i, l := range locs {
		if !IsSecretName(pairs[l[2]:l[3]]) {
			continue
		}
		for j := i + 1; j <= len(locs); j++ {
			end := len(pairs)
			if j < len(locs) {
				end = locs[j][0]
			}
			if v := strings.TrimSpace(pairs[l[3]+1 : end]); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// parseArgPairs reads ARG's "A=1 B" into pairs; a name without a value has an empty Value. The
// value of a secret-looking name runs to the next NAME=, since an unquoted value with blanks
// must not show its words as arg names.
func parseArgPairs(body string) []BuildArg {
	var args []BuildArg
	rest := strings.TrimSpace(body)
	for rest != "" {
		word, after, _ := strings.Cut(rest, " ")
		name, value, hasValue := strings.Cut(word, "=")
		if hasValue && IsSecretName(name) {
			end := len(rest)
			if loc := pairStart.FindStringIndex(rest[len(word):]); loc != nil {
				end = len(word) + loc[0]
			}
			value, after = strings.TrimSpace(rest[len(name)+1:end]), rest[end:]
		}
		args = append(args, BuildArg{Name: name, Value: strings.Trim(value, `"'`)})
		rest = strings.TrimSpace(after)
	}
	return args
}

// Key is what stays the same when only build-arg values or copied content change: it lines up
// a base step with the head step that the same Dockerfile instruction made.
func (in Instruction) Key() string {
	switch {
	case in.Kind == "":
		return in.Body
	case in.Kind == "ARG":
		names := make([]string, len(in.Args))
		for i, a := range in.Args {
			names[i] = a.Name
		}
		return "ARG " + strings.Join(names, " ")
	}
	return in.Kind + " " + in.Body
}

// Text is the instruction as a user would have written it, secrets not yet redacted.
func (in Instruction) Text() string {
	switch {
	case in.Kind == "":
		return in.Body
	case in.Kind == "ARG":
		return "ARG " + in.Body
	case in.ContentHash != "":
		kind, hash, _ := strings.Cut(in.ContentHash, ":")
		if len(hash) > 12 {
			hash = hash[:12]
		}
		return in.Kind + " " + kind + ":" + hash + " " + in.Body
	}
	return in.Kind + " " + in.Body
}

// argValues returns the args as a name→value map.
func (in Instruction) argValues() map[string]string {
	m := make(map[string]string, len(in.Args))
	for _, a := range in.Args {
		m[a.Name] = a.Value
	}
	return m
}
