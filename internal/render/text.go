package render

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/layerdiff/layerdiff/analyze"
	"github.com/layerdiff/layerdiff/internal/mdsafe"
)

const (
	colorRed   = "\x1b[31m"
	colorGreen = "\x1b[32m"
	colorBold  = "\x1b[1m"
	colorReset = "\x1b[0m"
)

// Text writes the report for a terminal: the verdict, the root causes with their fixes, and an
// aligned table of every step. Colour is only used when color is set.
func Text(w io.Writer, r *analyze.Report, color bool) {
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return code + s + colorReset
	}
	clean := func(s string) string { return mdsafe.LogSafe(s) }

	fmt.Fprintln(w, paint(colorBold, verdict(r)))
	for _, g := range r.Gates {
		if !g.Passed {
			fmt.Fprintln(w, paint(colorRed, fmt.Sprintf("gate %s failed: %s (limit %s)", g.Name, g.Actual, g.Limit)))
		}
	}
	if r.Base != nil {
		for _, rc := range r.Summary.RootCauses {
			st := rootStep(r, rc)
			if st == nil || st.Cause == nil {
				continue
			}
			where := ""
			if st.Line > 0 && r.Dockerfile != "" {
				where = fmt.Sprintf(" (%s:%d)", r.Dockerfile, st.Line)
			}
			fmt.Fprintf(w, "root cause: step %d %s: %s%s\n", st.Index, st.Cause.Kind, clean(strings.ReplaceAll(reason(st), "`", "")), clean(where))
		}
	}
	for _, s := range r.Suggestions {
		fmt.Fprintf(w, "fix (step %d%s): %s\n", s.Step, lineSuffix(s.Line), clean(strings.ReplaceAll(s.Message, "`", "")))
		if s.Example != "" {
			for _, line := range strings.Split(s.Example, "\n") {
				fmt.Fprintf(w, "    %s\n", clean(line))
			}
		}
	}
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tSTATUS\tSIZE\tLINE\tSTEP\tWHY")
	for _, st := range r.Steps {
		size := "-"
		if st.Layer != nil {
			size = analyze.FormatBytes(st.Layer.Size)
		}
		line := ""
		if st.Line > 0 {
			line = fmt.Sprint(st.Line)
		}
		status := st.Status
		if status == analyze.StatusRebuilt {
			status = paint(colorRed, status)
		} else {
			status = paint(colorGreen, status)
		}
		why := strings.ReplaceAll(strings.ReplaceAll(whyCell(&st), "**", ""), "`", "")
		instr := st.Instruction
		if st.Origin == analyze.OriginBaseImage {
			instr = "(base) " + instr
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", st.Index, status, size, line, clean(truncateText(instr, 70)), clean(why))
	}
	tw.Flush()
	fmt.Fprintln(w)
	side := func(img *analyze.ImageInfo) string {
		if img == nil {
			return "none"
		}
		return fmt.Sprintf("%s (%s, %s)", clean(img.Reference), shortDigest(img.Digest), clean(img.Platform))
	}
	fmt.Fprintf(w, "base %s\nhead %s\n", side(r.Base), side(r.Head))
}
