package analyze

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Input is everything the analysis looks at.
type Input struct {
	// Base is the image built at the base commit; nil when there is none.
	Base *Image
	// Head is the image built at the head commit.
	Head *Image
	// Dockerfile is the head commit's Dockerfile, nil when unknown; DockerfilePath names it.
	Dockerfile     *Dockerfile
	DockerfilePath string
	// BaseDockerfile is the base commit's Dockerfile when known; otherwise Dockerfile is tried
	// against the base image too.
	BaseDockerfile *Dockerfile
	// Changes is nil when there is no changed-file information.
	Changes *Changes
}

// analysis is the state of one Analyze call.
type analysis struct {
	in      Input
	df      *Dockerfile
	changes contextFiles
	red     redactor
	format  string // builder format of the head's Dockerfile steps
	report  *Report
}

// Analyze compares the head image with the base image and explains every step of the head.
func Analyze(in Input) (*Report, error) {
	if in.Head == nil {
		return nil, fmt.Errorf("no head image")
	}
	a := &analysis{in: in, df: in.Dockerfile}
	changes, err := mapChanges(in.Changes)
	if err != nil {
		return nil, fmt.Errorf("reading .dockerignore patterns: %w", err)
	}
	a.changes = changes
	r := &Report{
		SchemaVersion: SchemaVersion,
		Head:          info(in.Head),
		Steps:         []Step{},
		Suggestions:   []Suggestion{},
		Gates:         []Gate{},
		Warnings:      []string{},
		Dockerfile:    in.DockerfilePath,
	}
	a.report = r
	if in.Base != nil {
		r.Base = info(in.Base)
	}

	if uncompressed(in.Head) {
		r.Warnings = append(r.Warnings, "the head image's layer sizes are uncompressed (read from the Docker daemon or an uncompressed archive): a registry push and pull would move fewer bytes")
	}
	head, warnings := entriesOf(in.Head, "head")
	r.Warnings = append(r.Warnings, warnings...)
	a.collectSecrets(head)
	hb, mapped := boundary(head, in.Dockerfile, true)
	switch {
	case in.Dockerfile != nil && !mapped:
		r.Warnings = append(r.Warnings, "the Dockerfile does not match the head image's history (was it built from another Dockerfile?): steps are not mapped to Dockerfile lines")
	case in.Dockerfile == nil:
		r.Warnings = append(r.Warnings, "no Dockerfile: steps are not mapped to Dockerfile lines and steps from the base image are not told apart")
	}
	a.format = formatOf(head[hb:])
	if mapped && hb > 0 && hb < len(head) && head[hb].stage != nil {
		r.From = a.red.redact(head[hb].stage.BaseName)
	}
	if !changes.known && in.Base != nil {
		r.Warnings = append(r.Warnings, "no changed-file information: COPY/ADD causes can't name files (pass --repo with --base-commit and --head-commit, or --changed-files)")
	}

	var base []entry
	if in.Base != nil {
		base, warnings = entriesOf(in.Base, "base")
		r.Warnings = append(r.Warnings, warnings...)
		a.collectSecrets(base)
	}
	a.explain(head, base, hb)
	a.suggest(head)
	a.summarize()
	return r, nil
}

func info(img *Image) *ImageInfo {
	var size int64
	for _, l := range img.Layers {
		size += l.Size
	}
	return &ImageInfo{Reference: img.Reference, Digest: img.Digest, Platform: img.Platform, Layers: len(img.Layers), Size: size}
}

// uncompressed reports whether the image's layers are plain tars, whose sizes overstate what a
// registry moves.
func uncompressed(img *Image) bool {
	for _, l := range img.Layers {
		if strings.HasSuffix(l.MediaType, ".tar") {
			return true
		}
	}
	return false
}

// formatOf is the builder format most of the entries were written in.
func formatOf(entries []entry) string {
	counts := map[string]int{}
	best := formatUnknown
	for _, e := range entries {
		counts[e.in.Format]++
		if counts[e.in.Format] > counts[best] {
			best = e.in.Format
		}
	}
	return best
}

// collectSecrets remembers the values of secret-looking args so that they are redacted wherever
// they appear, even outside a NAME=value pair.
func (a *analysis) collectSecrets(entries []entry) {
	for _, e := range entries {
		for _, arg := range e.in.Args {
			if IsSecretName(arg.Name) {
				a.red.add(arg.Value)
			}
		}
		// A value with blanks is ambiguous in the unquoted history: redact every reading of it,
		// and, when a value even holds " X=", the values of the other args it may run into.
		region := e.in.argRegion()
		candidates := secretValueCandidates(region)
		for _, v := range candidates {
			a.red.add(v)
		}
		if len(candidates) > 0 && len(pairStart.FindAllStringIndex(region, -1)) > len(e.in.Args) {
			// Which "X=" is a pair and which is inside a value can't be told: the names and
			// values of every pair may be pieces of a secret.
			for _, arg := range e.in.Args {
				a.red.add(arg.Value)
			}
			for _, m := range pairStart.FindAllStringSubmatch(region, -1) {
				if !IsSecretName(m[1]) {
					a.red.add(m[1])
				}
			}
		}
		if e.in.Kind == "ENV" {
			for _, p := range parseArgPairs(e.in.Body) {
				if IsSecretName(p.Name) {
					a.red.add(p.Value)
				}
			}
		}
	}
}

// change is how a head entry differs from the base entry the same instruction made.
type change struct {
	kind     string // "", CauseInstruction, CauseBuildArg, CauseSources (a classic content hash)
	detail   string
	argNames []string // for CauseBuildArg: the args whose values changed
}

func (a *analysis) ownChange(h *entry, b *entry) change {
	if b == nil {
		return change{kind: CauseInstruction, detail: "new instruction"}
	}
	if strings.TrimSpace(h.hist.CreatedBy) == strings.TrimSpace(b.hist.CreatedBy) {
		return change{}
	}
	if h.in.Key() != b.in.Key() {
		return change{kind: CauseInstruction, detail: "changed from " + Quote(a.red.redact(b.in.Text()))}
	}
	if h.in.ContentHash != b.in.ContentHash {
		return change{kind: CauseSources, detail: "the copied content changed"}
	}
	hv, bv := h.in.argValues(), b.in.argValues()
	var names, parts []string
	for _, arg := range h.in.Args {
		old, had := bv[arg.Name]
		if had && old == arg.Value {
			continue
		}
		names = append(names, arg.Name)
		switch {
		case IsSecretName(arg.Name):
			parts = append(parts, arg.Name+" (value hidden)")
		case !had:
			parts = append(parts, arg.Name+" set to "+Quote(arg.Value))
		default:
			parts = append(parts, arg.Name+" "+Quote(old)+" → "+Quote(arg.Value))
		}
	}
	for _, arg := range b.in.Args {
		if _, ok := hv[arg.Name]; !ok {
			names = append(names, arg.Name)
			parts = append(parts, arg.Name+" no longer set")
		}
	}
	if len(names) == 0 {
		return change{}
	}
	label := "build arg "
	if len(names) > 1 {
		label = "build args "
	}
	return change{kind: CauseBuildArg, detail: a.red.redact(label + strings.Join(parts, ", ")), argNames: names}
}

// Quote marks s as code in a detail, CommonMark-style: the fence is longer than any backtick run
// in s, so renderers can tell the code apart from the text around it.
func Quote(s string) string {
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// affectsLater reports whether a change to a step that makes no layer invalidates the cache of
// a later step: BuildKit keys RUN on the environment, user, shell and working directory, but
// COPY and WORKDIR only on their own inputs; the classic builder keys every step on the whole
// parent config.
func (a *analysis) affectsLater(kind string, later *entry) bool {
	if a.format == formatClassic {
		return true
	}
	if later.in.Kind != "RUN" {
		return false
	}
	switch kind {
	case "ENV", "USER", "SHELL", "WORKDIR":
		return true
	}
	return false
}

// explain decides status and cause for every head entry. hb is where the Dockerfile's steps
// begin (0 when unknown).
func (a *analysis) explain(head, base []entry, hb int) {
	r := a.report
	baseChains := map[string]bool{}
	for _, b := range base {
		if b.layer != nil {
			baseChains[b.chain] = true
		}
	}
	pairs := a.alignSegments(head, base, hb)

	chainRoot := 0 // root of the earliest rebuilt layer: every layer above it is rebuilt
	baseRoot := 0  // first rebuilt step of the FROM image
	type envChange struct {
		step int
		kind string
	}
	var envChanges []envChange
	argRoot := map[string]int{}
	removed := removedBefore(pairs, base, hb)
	var pendingRemoval *entry

	for i := range head {
		e := &head[i]
		step := Step{
			Index:       i + 1,
			Instruction: a.red.redact(a.instructionText(e)),
			Origin:      OriginDockerfile,
			EmptyLayer:  e.layer == nil,
			Status:      StatusCached,
		}
		if i < hb {
			step.Origin = OriginBaseImage
		}
		if e.cmd != nil {
			step.Line = e.cmd.Line
			step.Stage = e.stage.Name
		}
		if e.layer != nil {
			step.Layer = &Layer{Digest: e.layer.Digest, DiffID: e.layer.DiffID, Size: e.layer.Size}
		}
		if base == nil {
			step.Status = StatusRebuilt
			step.Cause = &Cause{Kind: CauseNoBase, RootStep: 1, Files: []string{}, Detail: "no base image to compare with"}
			r.Steps = append(r.Steps, step)
			continue
		}
		var b *entry
		if pairs[i] >= 0 {
			b = &base[pairs[i]]
		}
		own := a.ownChange(e, b)
		if removed[i] != nil {
			pendingRemoval = removed[i]
		}
		var cause *Cause
		setRoot := func(kind, detail string, files []string) {
			cause = &Cause{Kind: kind, RootStep: step.Index, Files: files, Detail: detail}
		}

		if step.Origin == OriginBaseImage {
			changed := own.kind != "" || (e.layer != nil && !baseChains[e.chain])
			if changed {
				if baseRoot == 0 {
					baseRoot = step.Index
					setRoot(CauseBaseImage, a.baseImageDetail(), nil)
				} else {
					cause = &Cause{Kind: CauseBaseImage, RootStep: baseRoot, Detail: "part of the new base image"}
				}
				if e.layer != nil && chainRoot == 0 {
					chainRoot = baseRoot
				}
				if e.layer == nil && own.kind != "" {
					// A new ENV or USER in the FROM image reaches the Dockerfile's RUN steps too.
					envChanges = append(envChanges, envChange{step: baseRoot, kind: e.in.Kind})
				}
			}
		} else if e.layer == nil {
			switch own.kind {
			case CauseBuildArg:
				setRoot(CauseBuildArg, own.detail, nil)
				for _, n := range own.argNames {
					if _, ok := argRoot[n]; !ok {
						argRoot[n] = step.Index
					}
				}
			case "":
			default:
				setRoot(own.kind, own.detail, nil)
				envChanges = append(envChanges, envChange{step: step.Index, kind: e.in.Kind})
			}
		} else {
			if own.kind == "" && pendingRemoval != nil && !baseChains[e.chain] && chainRoot == 0 {
				own = change{kind: CauseInstruction, detail: "the instruction before it, " + Quote(a.red.redact(pendingRemoval.in.Text())) + ", was removed"}
			}
			pendingRemoval = nil
			cause = a.layerCause(e, own, baseChains[e.chain], step.Index, chainRoot, argRoot, func(later *entry) int {
				for _, c := range envChanges {
					if a.affectsLater(c.kind, later) {
						return c.step
					}
				}
				return 0
			})
			// Only a layer whose filesystem differs forces the layers above it to rebuild.
			if cause != nil && chainRoot == 0 && !baseChains[e.chain] {
				chainRoot = cause.RootStep
			}
		}
		if cause != nil {
			if cause.Files == nil {
				cause.Files = []string{}
			}
			step.Status = StatusRebuilt
			step.Cause = cause
		}
		r.Steps = append(r.Steps, step)
	}
}

// layerCause explains a Dockerfile step that made a layer; nil means cached.
func (a *analysis) layerCause(e *entry, own change, sameChain bool, index, chainRoot int, argRoot map[string]int, envRoot func(*entry) int) *Cause {
	root := func(kind, detail string, files []string) *Cause {
		return &Cause{Kind: kind, RootStep: index, Files: files, Detail: detail}
	}
	files, via := a.feeding(e)
	env := envRoot(e)
	if sameChain && own.kind == "" && env == 0 {
		return nil
	}
	switch own.kind {
	case CauseInstruction:
		return root(CauseInstruction, own.detail, nil)
	case CauseBuildArg:
		first := index
		for _, n := range own.argNames {
			if at, ok := argRoot[n]; ok && at < first {
				first = at
			} else if !ok {
				argRoot[n] = index
			}
		}
		return &Cause{Kind: CauseBuildArg, RootStep: first, Detail: own.detail}
	case CauseSources:
		if len(files) > 0 {
			return root(CauseSources, a.filesDetail(files, via), files)
		}
		return root(CauseSources, own.detail, nil)
	}
	if len(files) > 0 && !sameChain {
		return root(CauseSources, a.filesDetail(files, via), files)
	}
	if chainRoot != 0 {
		return &Cause{Kind: CauseParent, RootStep: chainRoot, Detail: fmt.Sprintf("step %d was rebuilt", chainRoot)}
	}
	if env != 0 {
		return &Cause{Kind: CauseParent, RootStep: env, Detail: fmt.Sprintf("step %d changed the environment this step runs in", env)}
	}
	if e.cmd != nil && e.cmd.Remote {
		return root(CauseSources, "ADD of remote content: it may have changed", nil)
	}
	if from := a.stagesFed(e); len(from) > 0 {
		// What a stage produces changed although no context file that feeds it did: one of its
		// instructions or its FROM image changed.
		for _, st := range from {
			if d := a.stageEdit(st); d != "" {
				return root(CauseSources, d, nil)
			}
		}
		return root(CauseSources, "what stage "+Quote(a.red.redact(stageLabel(from[0])))+" produces changed (its FROM image, a build arg or an instruction there; no changed file feeds it)", nil)
	}
	if isCopy(e) {
		switch {
		case e.cmd != nil && e.cmd.From != "" && a.df.stage(e.cmd.From, e.stage.Index) == nil:
			return root(CauseSources, "the image "+Quote(a.red.redact(e.cmd.From))+" it copies from changed", nil)
		case !a.changes.known:
			return root(CauseSources, "the copied files changed (no changed-file information to name them)", nil)
		}
		return root(CauseUnexplained, "none of the files it copies changed, yet its layer differs: the build did not reuse the cache", nil)
	}
	return root(CauseUnexplained, "nothing that feeds this step changed: the build did not reuse the cache", nil)
}

// stagesFed lists the stages a step copies from or mounts (COPY --from, RUN --mount from=), with
// the stages those are built on, nearest first.
func (a *analysis) stagesFed(e *entry) []*Stage {
	if e.cmd == nil || a.df == nil {
		return nil
	}
	var out []*Stage
	seen := map[int]bool{}
	var add func(st *Stage)
	add = func(st *Stage) {
		if st == nil || seen[st.Index] {
			return
		}
		seen[st.Index] = true
		out = append(out, st)
		add(a.df.stage(st.BaseName, st.Index))
		for _, c := range st.Commands {
			if c.From != "" {
				add(a.df.stage(c.From, st.Index))
			}
		}
	}
	refs := []string{e.cmd.From}
	for _, m := range e.cmd.BindMounts {
		refs = append(refs, m.From)
	}
	for _, ref := range refs {
		if ref != "" {
			add(a.df.stage(ref, e.stage.Index))
		}
	}
	return out
}

// stageEdit says how a stage's text differs from the same stage in the base commit's
// Dockerfile, or "" when it doesn't or the base's Dockerfile is unknown.
func (a *analysis) stageEdit(st *Stage) string {
	if a.in.BaseDockerfile == nil {
		return ""
	}
	var old *Stage
	for i := range a.in.BaseDockerfile.Stages {
		b := &a.in.BaseDockerfile.Stages[i]
		if (st.Name != "" && b.Name == st.Name) || (st.Name == "" && b.Index == st.Index) {
			old = b
			break
		}
	}
	label := Quote(a.red.redact(stageLabel(st)))
	switch {
	case old == nil:
		return ""
	case old.BaseName != st.BaseName:
		return a.red.redact(fmt.Sprintf("stage %s it copies from now starts FROM %s instead of %s (line %d)", label, Quote(st.BaseName), Quote(old.BaseName), st.Line))
	}
	for i, c := range st.Commands {
		if i >= len(old.Commands) {
			return a.red.redact(fmt.Sprintf("stage %s it copies from has a new instruction %s (line %d)", label, Quote(c.Text), c.Line))
		}
		if c.Text != old.Commands[i].Text {
			return a.red.redact(fmt.Sprintf("stage %s it copies from changed %s to %s (line %d)", label, Quote(old.Commands[i].Text), Quote(c.Text), c.Line))
		}
	}
	if len(old.Commands) > len(st.Commands) {
		return a.red.redact(fmt.Sprintf("stage %s it copies from dropped %s", label, Quote(old.Commands[len(st.Commands)].Text)))
	}
	return ""
}

func isCopy(e *entry) bool {
	if e.cmd != nil {
		return e.cmd.Kind == "COPY" || e.cmd.Kind == "ADD"
	}
	return e.in.Kind == "COPY" || e.in.Kind == "ADD"
}

func (a *analysis) filesDetail(files, via []string) string {
	var b strings.Builder
	const shown = 5
	for i, f := range files {
		if i == shown {
			fmt.Fprintf(&b, " and %d more", len(files)-shown)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f)
	}
	b.WriteString(" changed")
	if len(via) > 0 {
		b.WriteString(" (via stage " + strings.Join(via, ", ") + ")")
	}
	return a.red.redact(b.String())
}

func (a *analysis) baseImageDetail() string {
	from := ""
	if a.df != nil {
		from = a.df.finalStage().BaseName
	}
	baseFrom := ""
	if a.in.BaseDockerfile != nil {
		baseFrom = a.in.BaseDockerfile.finalStage().BaseName
	}
	switch {
	case from != "" && baseFrom != "" && from != baseFrom:
		return a.red.redact("FROM changed from " + Quote(baseFrom) + " to " + Quote(from))
	case from != "":
		return a.red.redact("the base image " + Quote(from) + " has new layers")
	}
	return "the base image changed"
}

// instructionText is the step as the user wrote it: the Dockerfile's text when mapped (it keeps
// COPY --from and --link, which BuildKit's history drops), else the normalised history text.
func (a *analysis) instructionText(e *entry) string {
	if e.cmd != nil && e.cmd.Text != "" {
		return e.cmd.Text
	}
	text := e.in.Text()
	if strings.TrimSpace(text) == "" {
		return "(no instruction recorded)"
	}
	if first, _, ok := strings.Cut(text, "\n"); ok {
		text = first + " …"
	}
	return text
}

// alignSegments aligns the FROM image's entries and the Dockerfile's entries separately, so a
// Dockerfile step is never taken for a base-image one; the base's own boundary comes from its
// Dockerfile when known, else from the head's.
func (a *analysis) alignSegments(head, base []entry, hb int) []int {
	if base == nil {
		return nil
	}
	df := a.in.BaseDockerfile
	if df == nil {
		df = a.in.Dockerfile
	}
	bb, ok := boundary(base, df, false)
	if hb == 0 || !ok {
		return align(head, base)
	}
	pairs := align(head[:hb], base[:bb])
	for _, p := range align(head[hb:], base[bb:]) {
		if p >= 0 {
			p += bb
		}
		pairs = append(pairs, p)
	}
	return pairs
}

// removedBefore maps a head index to the base entry removed just before it, when the head's
// Dockerfile dropped an instruction the base had (its absence changes what follows).
func removedBefore(pairs []int, base []entry, hb int) map[int]*entry {
	out := map[int]*entry{}
	if pairs == nil {
		return out
	}
	paired := make([]bool, len(base))
	for _, p := range pairs {
		if p >= 0 {
			paired[p] = true
		}
	}
	last := -1
	var pending *entry
	for i, p := range pairs {
		if p < 0 {
			continue
		}
		for k := last + 1; k < p; k++ {
			if !paired[k] {
				pending = &base[k]
			}
		}
		last = p
		if pending != nil && i >= hb {
			out[i] = pending
			pending = nil
		}
	}
	return out
}

func (a *analysis) summarize() {
	r := a.report
	s := &r.Summary
	s.Steps = len(r.Steps)
	s.RootCauses = []RootCause{}
	baseBlobs := map[string]bool{}
	if a.in.Base != nil {
		for _, l := range a.in.Base.Layers {
			baseBlobs[l.Digest] = true
		}
	}
	for _, st := range r.Steps {
		if st.Layer != nil {
			s.Layers++
			if st.Status == StatusCached {
				s.CachedLayers++
				s.CachedBytes += st.Layer.Size
			} else {
				s.RebuiltLayers++
				s.RebuiltBytes += st.Layer.Size
				if !baseBlobs[st.Layer.Digest] {
					s.TransferBytes += st.Layer.Size
				}
			}
		}
		if st.Cause != nil && st.Cause.RootStep == st.Index {
			s.RootCauses = append(s.RootCauses, RootCause{Step: st.Index, Kind: st.Cause.Kind})
		}
	}
	if a.in.Base == nil && len(r.Steps) > 0 {
		s.RootCauses = []RootCause{{Step: 1, Kind: CauseNoBase}}
	}
	total := s.CachedBytes + s.RebuiltBytes
	s.Reuse = 100
	if total > 0 {
		s.Reuse = math.Round(float64(s.CachedBytes)/float64(total)*10000) / 100
		// Rounding must not claim "100%" while something was rebuilt, nor "0%" while something
		// was cached.
		if s.RebuiltBytes > 0 {
			s.Reuse = math.Min(s.Reuse, 99.99)
		}
		if s.CachedBytes > 0 {
			s.Reuse = math.Max(s.Reuse, 0.01)
		}
	}
	sort.SliceStable(s.RootCauses, func(i, j int) bool { return s.RootCauses[i].Step < s.RootCauses[j].Step })
}
