package analyze

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// entry is one history entry with what the analysis derives from it.
type entry struct {
	hist  HistoryEntry
	in    Instruction
	layer *ImageLayer // nil when the entry made no layer
	// chain is the ChainID of the layers up to and including this entry's: two entries with the
	// same chain sit on byte-identical filesystems.
	chain string
	cmd   *Command // the Dockerfile instruction that made it, when mapped
	stage *Stage
}

// entriesOf lines an image's history up with its layers. History that does not match the layers
// is common in images assembled by hand or squashed; it degrades with a warning, never a panic.
func entriesOf(img *Image, side string) ([]entry, []string) {
	var warnings []string
	nonEmpty := 0
	for _, h := range img.History {
		if !h.EmptyLayer {
			nonEmpty++
		}
	}
	var entries []entry
	switch {
	case len(img.History) == 0 && len(img.Layers) > 0:
		warnings = append(warnings, fmt.Sprintf("the %s image has no history: its %d layers are shown without instructions", side, len(img.Layers)))
	case nonEmpty < len(img.Layers):
		// Layers without history are usually a base imported or squashed without it: they sit
		// at the bottom.
		warnings = append(warnings, fmt.Sprintf("the %s image's history records %d layers but it has %d; the %d extra layers at the bottom are shown without instructions", side, nonEmpty, len(img.Layers), len(img.Layers)-nonEmpty))
	case nonEmpty > len(img.Layers):
		warnings = append(warnings, fmt.Sprintf("the %s image's history records %d layers but it has %d; the last %d history entries are shown without layers", side, nonEmpty, len(img.Layers), nonEmpty-len(img.Layers)))
	}
	missing := len(img.Layers) - nonEmpty
	if len(img.History) == 0 {
		missing = len(img.Layers)
	}
	for i := 0; i < missing; i++ {
		entries = append(entries, entry{in: Instruction{Body: "(layer without history)", Format: formatUnknown}})
	}
	for _, h := range img.History {
		entries = append(entries, entry{hist: h, in: ParseCreatedBy(h.CreatedBy, h.Comment)})
	}
	layer := 0
	chain := ""
	for i := range entries {
		e := &entries[i]
		if i >= missing && e.hist.EmptyLayer {
			e.chain = chain
			continue
		}
		if layer < len(img.Layers) {
			e.layer = &img.Layers[layer]
			chain = chainID(chain, e.layer)
			layer++
		}
		e.chain = chain
	}
	return entries, warnings
}

// chainID follows the OCI definition: ChainID(L0) = DiffID(L0), ChainID(Ln) =
// sha256(ChainID(Ln-1) + " " + DiffID(Ln)). A layer without diff_id falls back to its digest.
func chainID(below string, l *ImageLayer) string {
	id := l.DiffID
	if id == "" {
		id = l.Digest
	}
	if below == "" {
		return id
	}
	sum := sha256.Sum256([]byte(below + " " + id))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// boundary finds where the Dockerfile's steps begin in the history: the entries before it come
// from the FROM image. Every instruction but FROM records one history entry (BuildKit, the
// classic builder and buildah alike), so the built stage's commands are the history's tail. The
// last stage is tried first; an earlier one matches a build with --target. A stage built FROM
// another stage continues below into that stage's commands. With mapTo set, the matched entries
// get their commands and stages.
func boundary(entries []entry, df *Dockerfile, mapTo bool) (int, bool) {
	if df == nil {
		return 0, false
	}
	for s := len(df.Stages) - 1; s >= 0; s-- {
		st := &df.Stages[s]
		start := len(entries) - len(st.Commands)
		if start < 0 || !tailMatches(entries[start:], st.Commands) {
			continue
		}
		for {
			if mapTo {
				for i := range st.Commands {
					entries[start+i].cmd = &st.Commands[i]
					entries[start+i].stage = st
				}
			}
			parent := df.stage(st.BaseName, st.Index)
			if parent == nil || start-len(parent.Commands) < 0 || !tailMatches(entries[start-len(parent.Commands):start], parent.Commands) {
				return start, true
			}
			st, start = parent, start-len(parent.Commands)
		}
	}
	return 0, false
}

func tailMatches(entries []entry, cmds []Command) bool {
	for i := range cmds {
		if entries[i].in.Kind != cmds[i].Kind {
			return false
		}
	}
	return true
}
