// Package mdcheck parses markdown as GitHub does (CommonMark with GFM tables, autolinks and
// strikethrough, raw HTML passed through) and reports what untrusted text could have injected:
// HTML elements or comments other than layerdiff's own, links, images, mentions, bidi controls
// and broken table rows. It also checks plain text for workflow commands. Tests use it.
package mdcheck

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Result is what the markdown turned into.
type Result struct {
	// Problems are the injections found; empty when the markdown is safe.
	Problems []string
	// Headings, Tables, Links and Details count what was rendered, for callers that know how
	// many of each they wrote.
	Headings, Tables, Links, Details, DetailsClosed int
	// TableRows are the body rows of each table, in order.
	TableRows []int
}

// allowedHTML is the raw HTML layerdiff writes itself.
var (
	allowedInline = map[string]bool{"<code>": true, "</code>": true, "<sub>": true, "</sub>": true}
	allowedBlock  = regexp.MustCompile(`^(?:<details><summary>[^<>]*</summary>|</details>)$`)
	mention       = regexp.MustCompile("(?:^|[^A-Za-z0-9_/`.-])@[A-Za-z0-9]")
)

var md = goldmark.New(goldmark.WithExtensions(extension.GFM))

// Check parses markdown and reports injections. Links are allowed only to URLs starting with
// one of linkPrefixes.
func Check(markdown string, linkPrefixes ...string) Result {
	var r Result
	src := []byte(markdown)
	doc := md.Parser().Parse(text.NewReader(src))
	problem := func(format string, a ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, a...)) }

	// GitHub makes no mention inside code: a code span, or an inline <code> element.
	inCode, inRawCode := 0, false
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if n.Kind() == ast.KindCodeSpan {
			if entering {
				inCode++
			} else {
				inCode--
			}
		}
		if n.Kind() == ast.KindParagraph || n.Kind() == east.KindTableCell {
			inRawCode = false
		}
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			r.Headings++
		case *east.Table:
			r.Tables++
			rows := 0
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				if c.Kind() == east.KindTableRow {
					rows++
				}
			}
			r.TableRows = append(r.TableRows, rows)
		case *ast.HTMLBlock:
			lines := n.Lines()
			for i := 0; i < lines.Len(); i++ {
				seg := lines.At(i)
				line := strings.TrimSpace(string(seg.Value(src)))
				if line == "" {
					continue
				}
				if !allowedBlock.MatchString(line) {
					problem("HTML block %q", clip(line))
				}
				if strings.HasPrefix(line, "<details>") {
					r.Details++
				}
				if line == "</details>" {
					r.DetailsClosed++
				}
			}
			if n.HasClosure() {
				if c := strings.TrimSpace(string(n.ClosureLine.Value(src))); c != "" && !allowedBlock.MatchString(c) {
					problem("HTML block closure %q", clip(c))
				}
			}
		case *ast.RawHTML:
			var b strings.Builder
			for i := 0; i < n.Segments.Len(); i++ {
				s := n.Segments.At(i)
				b.Write(s.Value(src))
			}
			if !allowedInline[b.String()] {
				problem("inline HTML %q", clip(b.String()))
			}
			switch b.String() {
			case "<code>":
				inRawCode = true
			case "</code>":
				inRawCode = false
			}
		case *ast.Link:
			r.Links++
			dest := string(n.Destination)
			ok := false
			for _, p := range linkPrefixes {
				if p != "" && strings.HasPrefix(dest, p) {
					ok = true
				}
			}
			if !ok {
				problem("link to %q", clip(dest))
			}
		case *ast.Image:
			problem("image %q", clip(string(n.Destination)))
		case *ast.AutoLink:
			u := string(n.URL(src))
			if l := strings.ToLower(u); !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") && !strings.HasPrefix(l, "www.") {
				problem("autolink %q", clip(u))
			}
		case *ast.Text:
			checkText(decode(n.Segment.Value(src)), inCode > 0 || inRawCode, problem)
		case *ast.String:
			checkText(string(n.Value), inCode > 0 || inRawCode, problem)
		}
		return ast.WalkContinue, nil
	})
	checkTableRows(markdown, problem)
	return r
}

// decode is a text node as displayed: backslash escapes and character references resolved.
func decode(b []byte) string {
	b = util.UnescapePunctuations(b)
	b = util.ResolveNumericReferences(b)
	b = util.ResolveEntityNames(b)
	return string(b)
}

func checkText(s string, code bool, problem func(string, ...any)) {
	if m := mention.FindString(s); m != "" && !code {
		problem("mention %q in %q", strings.TrimLeft(m, " "), clip(s))
	}
	for _, r := range s {
		if isBidi(r) {
			problem("bidi control U+%04X in %q", r, clip(s))
			break
		}
	}
}

// checkTableRows splits every table row as GFM does — at each pipe not escaped by a backslash,
// code spans included — and reports rows whose cell count differs from their header's.
func checkTableRows(markdown string, problem func(string, ...any)) {
	header := -1
	for _, line := range strings.Split(markdown, "\n") {
		if !strings.HasPrefix(line, "|") {
			header = -1
			continue
		}
		cells := 0
		for i := 0; i < len(line); i++ {
			if line[i] != '|' {
				continue
			}
			slashes := 0
			for j := i - 1; j >= 0 && line[j] == '\\'; j-- {
				slashes++
			}
			if slashes%2 == 0 {
				cells++
			}
		}
		cells-- // the leading and trailing pipes bound n cells with n+1 pipes
		if header < 0 {
			header = cells
			continue
		}
		if cells != header {
			problem("table row with %d cells, header has %d: %q", cells, header, clip(line))
		}
	}
}

// CheckLog reports lines of text that the GitHub runner would read as a workflow command
// ("::cmd::" at the start after blanks, "##[" anywhere) and control characters a terminal or
// log viewer would interpret (escape sequences, carriage returns, bidi controls).
func CheckLog(s string) []string {
	var problems []string
	for i, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "::") {
			problems = append(problems, fmt.Sprintf("line %d starts a workflow command: %q", i+1, clip(line)))
		}
		if strings.Contains(line, "##[") {
			problems = append(problems, fmt.Sprintf("line %d holds a legacy workflow command: %q", i+1, clip(line)))
		}
		for _, r := range line {
			if (unicode.IsControl(r) && r != '\t') || isBidi(r) {
				problems = append(problems, fmt.Sprintf("line %d holds control character U+%04X: %q", i+1, r, clip(line)))
				break
			}
		}
	}
	return problems
}

func isBidi(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
