package render

import (
	"fmt"
	"strings"

	"github.com/layerdiff/layerdiff/analyze"
)

// verdict is the headline: what was rebuilt and what it costs.
func verdict(r *analyze.Report) string {
	s := r.Summary
	switch {
	case r.Base == nil:
		return fmt.Sprintf("No base image to compare with: all %d layers are new · %s to push and pull", s.Layers, analyze.FormatBytes(s.TransferBytes))
	case s.RebuiltLayers == 0 && len(s.RootCauses) == 0:
		return fmt.Sprintf("All %d layers cached · nothing to push or pull", s.Layers)
	case s.RebuiltLayers == 0:
		return fmt.Sprintf("No layer rebuilt · %d metadata step(s) changed", len(s.RootCauses))
	}
	return fmt.Sprintf("%d of %d layers rebuilt · %s to push and pull · %s of the image reused",
		s.RebuiltLayers, s.Layers, analyze.FormatBytes(s.TransferBytes), formatReuse(s.Reuse))
}

func formatReuse(p float64) string {
	if p == float64(int64(p)) {
		return fmt.Sprintf("%d%%", int64(p))
	}
	return fmt.Sprintf("%.2f%%", p)
}

// rootStep returns the step a root cause names.
func rootStep(r *analyze.Report, rc analyze.RootCause) *analyze.Step {
	if rc.Step < 1 || rc.Step > len(r.Steps) {
		return nil
	}
	return &r.Steps[rc.Step-1]
}

// reason says why in words, with the pieces a renderer formats: code spans are returned
// wrapped in backticks for the caller to escape.
func reason(st *analyze.Step) string {
	c := st.Cause
	instr := analyze.Quote(st.Instruction)
	switch c.Kind {
	case analyze.CauseSources:
		if len(c.Files) > 0 {
			files := analyze.Quote(c.Files[0])
			if len(c.Files) > 1 {
				files += fmt.Sprintf(" and %d more files", len(c.Files)-1)
			}
			return files + " changed under " + instr
		}
		return c.Detail + " under " + instr
	case analyze.CauseInstruction:
		return instr + " " + strings.TrimPrefix(c.Detail, "the instruction ")
	case analyze.CauseBuildArg:
		return c.Detail + " at " + instr
	case analyze.CauseBaseImage:
		return c.Detail
	case analyze.CauseUnexplained:
		return "the build did not reuse its cache at " + instr + " (nothing that feeds it changed)"
	case analyze.CauseNoBase:
		return "there is no base image"
	}
	return c.Detail
}

// whyCell is the short explanation in a step table row.
func whyCell(st *analyze.Step) string {
	c := st.Cause
	if c == nil {
		return ""
	}
	switch {
	case c.Kind == analyze.CauseParent:
		return fmt.Sprintf("after step %d", c.RootStep)
	case c.RootStep != st.Index && c.Kind == analyze.CauseBaseImage:
		return fmt.Sprintf("base image (step %d)", c.RootStep)
	case c.RootStep != st.Index && c.Kind == analyze.CauseNoBase:
		return "no base"
	}
	detail := c.Detail
	if c.Kind == analyze.CauseSources && len(c.Files) > 0 {
		var quoted []string
		for _, f := range firstN(c.Files, 3) {
			quoted = append(quoted, analyze.Quote(f))
		}
		detail = strings.Join(quoted, ", ")
		if len(c.Files) > 3 {
			detail += fmt.Sprintf(" and %d more", len(c.Files)-3)
		}
	}
	return "**" + c.Kind + "** — " + detail
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func shortDigest(d string) string {
	if len(d) > 7+12 {
		return d[:7+12] + "…"
	}
	return d
}

// rows groups the steps for a table: each rebuilt step alone, each run of cached steps as one.
type row struct {
	first, last int // 1-based step indexes
	steps       []analyze.Step
	cached      bool
}

func rows(r *analyze.Report) []row {
	var out []row
	for _, st := range r.Steps {
		cached := st.Status == analyze.StatusCached
		// The FROM image's steps are one row of their own: the reader did not write them.
		if cached && len(out) > 0 && out[len(out)-1].cached && (st.Origin == analyze.OriginBaseImage) == out[len(out)-1].fromImage() {
			last := &out[len(out)-1]
			last.last = st.Index
			last.steps = append(last.steps, st)
			continue
		}
		out = append(out, row{first: st.Index, last: st.Index, steps: []analyze.Step{st}, cached: cached})
	}
	return out
}

// fromImage reports whether the row holds steps of the FROM image.
func (rw row) fromImage() bool {
	return len(rw.steps) > 0 && rw.steps[0].Origin == analyze.OriginBaseImage
}

func (rw row) size() int64 {
	var n int64
	for _, st := range rw.steps {
		if st.Layer != nil {
			n += st.Layer.Size
		}
	}
	return n
}

func (rw row) hasLayer() bool {
	for _, st := range rw.steps {
		if st.Layer != nil {
			return true
		}
	}
	return false
}

func (rw row) label() string {
	if rw.first == rw.last {
		return fmt.Sprint(rw.first)
	}
	return fmt.Sprintf("%d–%d", rw.first, rw.last)
}

func countStatus(r *analyze.Report) (cached, rebuilt int) {
	for _, st := range r.Steps {
		if st.Status == analyze.StatusCached {
			cached++
		} else {
			rebuilt++
		}
	}
	return cached, rebuilt
}
