package render

import (
	"fmt"
	"strings"

	"github.com/layerdiff/layerdiff/analyze"
	"github.com/layerdiff/layerdiff/internal/mdsafe"
)

// MarkdownOptions add links and provenance to the markdown report; every field is optional.
type MarkdownOptions struct {
	// Title names what was compared, e.g. the image repository without tag ("ghcr.io/acme/app");
	// the head reference by default.
	Title string
	// BlobURL is the URL prefix of files at the head commit, e.g.
	// "https://github.com/o/r/blob/<sha>/"; Dockerfile lines link to BlobURL+path+"#L<n>".
	BlobURL string
	// BaseLabel and HeadLabel describe the two commits, e.g. "main @ f95f852" and "#2 @ ec26c3e".
	BaseLabel, HeadLabel string
	// RunURL links the workflow run.
	RunURL string
	// Version is layerdiff's version.
	Version string
	// MaxBytes caps the output; 0 means no cap. A capped body is cut at a line, keeps every open
	// <details> closed, and ends with a note that links RunURL.
	MaxBytes int
}

// Markdown renders the report as the PR comment and job summary show it (without the sticky
// comment marker, which the publisher adds). Every string from the images, the Dockerfile or
// the repository is escaped: none can add markup, a mention or a table cell.
func Markdown(r *analyze.Report, opts MarkdownOptions) string {
	var b strings.Builder
	title := opts.Title
	if title == "" && r.Head != nil {
		title = r.Head.Reference
	}
	platform := ""
	if r.Head != nil && r.Head.Platform != "" {
		platform = " · " + mdsafe.Escape(r.Head.Platform)
	}
	fmt.Fprintf(&b, "### layerdiff · %s%s\n\n", mdsafe.Code(title), platform)

	for _, g := range r.Gates {
		if !g.Passed {
			fmt.Fprintf(&b, "**:x: Gate %s failed:** %s, limit %s\n\n", mdsafe.Code(g.Name), gateValue(g.Name, g.Actual), gateValue(g.Name, g.Limit))
		}
	}

	b.WriteString("**" + verdict(r) + "**")
	if len(r.Summary.RootCauses) > 0 && r.Base != nil {
		rc := r.Summary.RootCauses[0]
		if st := rootStep(r, rc); st != nil && st.Cause != nil {
			b.WriteString(" — because " + codeSpans(reason(st)))
			b.WriteString(lineLink(r, st, opts))
			if n := len(r.Summary.RootCauses) - 1; n > 0 {
				fmt.Fprintf(&b, ", and %d more root cause(s) below", n)
			}
		}
	}
	b.WriteString("\n\n")

	if r.Base != nil && len(r.Summary.RootCauses) == 0 && !gatesFailed(r) {
		// Everything cached: the verdict is the whole story.
		b.WriteString(footer(r, opts))
		return capped(b.String(), opts)
	}

	for _, s := range r.Suggestions {
		fmt.Fprintf(&b, "**Fix** (step %d%s): %s\n", s.Step, lineSuffix(s.Line), codeSpans(s.Message))
		if s.Example != "" {
			lang := "dockerfile"
			if s.Kind == analyze.SuggestDockerignore {
				lang = "gitignore"
			}
			b.WriteString(fence(s.Example, lang))
		}
		b.WriteString("\n")
	}

	if len(r.Warnings) > 0 {
		b.WriteString("<details><summary>Warnings</summary>\n\n")
		for _, w := range r.Warnings {
			b.WriteString("- " + codeSpans(w) + "\n")
		}
		b.WriteString("\n</details>\n\n")
	}

	cached, rebuilt := countStatus(r)
	fmt.Fprintf(&b, "<details><summary>Steps: %d cached, %d rebuilt</summary>\n\n", cached, rebuilt)
	b.WriteString("| # | step | layer | | why |\n|---|---|---:|---|---|\n")
	for _, rw := range rows(r) {
		b.WriteString(markdownRow(rw, r.From))
	}
	b.WriteString("\n</details>\n\n")

	b.WriteString(footer(r, opts))
	return capped(b.String(), opts)
}

func capped(out string, opts MarkdownOptions) string {
	if opts.MaxBytes > 0 && len(out) > opts.MaxBytes {
		return truncate(out, opts)
	}
	return out
}

func gatesFailed(r *analyze.Report) bool {
	for _, g := range r.Gates {
		if !g.Passed {
			return true
		}
	}
	return false
}

func markdownRow(rw row, from string) string {
	size := "—"
	if rw.hasLayer() {
		size = analyze.FormatBytes(rw.size())
	}
	if rw.cached && rw.fromImage() {
		what := fmt.Sprintf("base image (%d steps)", len(rw.steps))
		if from != "" {
			what = "base image " + mdsafe.Code(from)
		}
		return fmt.Sprintf("| %s | %s | %s | cached | |\n", rw.label(), what, size)
	}
	if rw.cached {
		var names []string
		for i, st := range rw.steps {
			if i == 3 {
				names = append(names, fmt.Sprintf("… %d more", len(rw.steps)-3))
				break
			}
			names = append(names, mdsafe.Code(truncateText(st.Instruction, 60)))
		}
		return fmt.Sprintf("| %s | %s | %s | cached | |\n", rw.label(), strings.Join(names, ", "), size)
	}
	st := rw.steps[0]
	return fmt.Sprintf("| %s | %s | %s | rebuilt | %s |\n", rw.label(), mdsafe.Code(truncateText(st.Instruction, 120)), size, codeSpans(whyCell(&st)))
}

// codeSpans renders text whose code spans (CommonMark: a run of n backticks up to the next run
// of exactly n) are code: each part is escaped on its own, so untrusted text inside a span can't
// end it early. Our own **bold** markers around a cause kind stay bold.
func codeSpans(s string) string {
	var b strings.Builder
	text := func(t string) {
		for {
			i := strings.Index(t, "**")
			j := -1
			if i >= 0 {
				j = strings.Index(t[i+2:], "**")
			}
			if j < 0 {
				b.WriteString(mdsafe.Escape(t))
				return
			}
			b.WriteString(mdsafe.Escape(t[:i]) + "**" + mdsafe.Escape(t[i+2:i+2+j]) + "**")
			t = t[i+2+j+2:]
		}
	}
	for s != "" {
		open := strings.IndexByte(s, '`')
		if open < 0 {
			text(s)
			break
		}
		n := backtickRun(s[open:])
		end := closingRun(s[open+n:], n)
		if end < 0 {
			text(s)
			break
		}
		text(s[:open])
		inner := s[open+n : open+n+end]
		if len(inner) > 2 && inner[0] == ' ' && inner[len(inner)-1] == ' ' && strings.Trim(inner, " ") != "" {
			inner = inner[1 : len(inner)-1]
		}
		b.WriteString(mdsafe.Code(truncateText(inner, 200)))
		s = s[open+n+end+n:]
	}
	return b.String()
}

func backtickRun(s string) int {
	n := 0
	for n < len(s) && s[n] == '`' {
		n++
	}
	return n
}

// closingRun finds the next run of exactly n backticks in s.
func closingRun(s string, n int) int {
	for i := 0; i < len(s); {
		if s[i] != '`' {
			i++
			continue
		}
		run := backtickRun(s[i:])
		if run == n {
			return i
		}
		i += run
	}
	return -1
}

func lineLink(r *analyze.Report, st *analyze.Step, opts MarkdownOptions) string {
	if st.Line == 0 || r.Dockerfile == "" {
		return ""
	}
	label := fmt.Sprintf("%s:%d", r.Dockerfile, st.Line)
	if opts.BlobURL == "" {
		return " (" + mdsafe.Escape(label) + ")"
	}
	url := opts.BlobURL + strings.TrimPrefix(r.Dockerfile, "./") + fmt.Sprintf("#L%d", st.Line)
	return fmt.Sprintf(" ([%s](%s))", mdsafe.Escape(label), safeURL(url))
}

// safeURL keeps a link target from closing the link or carrying markup: a blank or control
// character (a tab too) would end the destination and turn the link into text.
func safeURL(u string) string {
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c == '\n' || c == '\r':
		case c <= ' ' || c == 0x7f || strings.IndexByte("()<>`|\\\"'", c) >= 0:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func lineSuffix(line int) string {
	if line == 0 {
		return ""
	}
	return fmt.Sprintf(", line %d", line)
}

func fence(body, lang string) string {
	longest := 2
	for _, line := range strings.Split(body, "\n") {
		// CommonMark closes a fence with a run of backticks after up to three spaces of indent.
		line = strings.TrimLeft(line, " \t")
		n := len(line) - len(strings.TrimLeft(line, "`"))
		if n > longest {
			longest = n
		}
	}
	f := strings.Repeat("`", longest+1)
	return f + lang + "\n" + body + "\n" + f + "\n"
}

func gateValue(name, v string) string {
	if name == analyze.GateMaxRebuiltBytes {
		var n int64
		if _, err := fmt.Sscan(v, &n); err == nil {
			return analyze.FormatBytes(n)
		}
	}
	if name == analyze.GateMinReuse {
		return mdsafe.Escape(v) + "% reused"
	}
	return mdsafe.Escape(v)
}

func footer(r *analyze.Report, opts MarkdownOptions) string {
	var parts []string
	side := func(name string, img *analyze.ImageInfo, label string) string {
		s := name + " "
		if img == nil {
			s += "none"
		} else {
			s += mdsafe.Code(shortDigest(img.Digest))
		}
		if label != "" {
			s += " (" + mdsafe.Escape(label) + ")"
		}
		return s
	}
	parts = append(parts, side("base", r.Base, opts.BaseLabel)+" → "+side("head", r.Head, opts.HeadLabel))
	if opts.RunURL != "" {
		parts = append(parts, "[workflow run]("+safeURL(opts.RunURL)+")")
	}
	version := "layerdiff"
	if opts.Version != "" {
		version += " " + mdsafe.Escape(opts.Version)
	}
	parts = append(parts, version)
	return "<sub>" + strings.Join(parts, " · ") + "</sub>\n"
}

// truncate cuts a body over opts.MaxBytes at a line, closes an open <details>, and says where
// the rest is.
func truncate(body string, opts MarkdownOptions) string {
	note := "\n\n_The report was cut to fit._"
	if opts.RunURL != "" {
		note = "\n\n_The report was cut to fit; the full report is in the [workflow run](" + safeURL(opts.RunURL) + ")._"
	}
	closing := "\n</details>"
	budget := opts.MaxBytes - len(note) - len(closing) - 1
	if budget < 0 {
		budget = 0
	}
	cut := body[:min(budget, len(body))]
	if i := strings.LastIndexByte(cut, '\n'); i >= 0 {
		cut = cut[:i]
	}
	if strings.Count(cut, "<details>") > strings.Count(cut, "</details>") {
		cut += closing
	}
	return cut + note + "\n"
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := s[:n]
	for len(cut) > 0 && cut[len(cut)-1]&0xC0 == 0x80 {
		cut = cut[:len(cut)-1]
	}
	if len(cut) > 0 && cut[len(cut)-1] >= 0xC0 {
		cut = cut[:len(cut)-1]
	}
	return cut + "…"
}
