package mdsafe

import (
	"strings"
	"testing"
	"unicode"

	"github.com/layerdiff/layerdiff/internal/faults/mdcheck"
)

var fuzzSeeds = []string{"</details>", "<!--", "a|b", "`x`", "@org/team", "](javascript:x)", "\u202e", "::set-output name=a::b", "##[error]", "&#64;x", "\\|", "x\n::warning::y", "\x1b[31m"}

// FuzzEscape: escaped text, alone in a paragraph, a table cell or a code span, renders as text
// only — no element, link, mention or extra cell.
func FuzzEscape(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, md := range []string{
			"x " + Escape(s) + " y\n",
			"| a | b |\n|---|---|\n| " + Escape(s) + " | " + Code(s) + " |\n",
			"**" + Escape(s) + "** " + Code(s) + "\n",
		} {
			r := mdcheck.Check(md)
			if len(r.Problems) > 0 || r.Headings > 0 || r.Links > 0 {
				t.Fatalf("%q -> %q: %v %+v", s, md, r.Problems, r)
			}
			if strings.HasPrefix(md, "|") && (r.Tables != 1 || r.TableRows[0] != 1) {
				t.Fatalf("%q broke the table: %q", s, md)
			}
		}
	})
}

// FuzzLogSafe: a LogSafe line is one line that starts no workflow command and holds no control
// character.
func FuzzLogSafe(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := LogSafe(s)
		if strings.ContainsAny(out, "\n\r") {
			t.Fatalf("%q -> %q has a line break", s, out)
		}
		if p := mdcheck.CheckLog(out); len(p) > 0 {
			t.Fatalf("%q -> %q: %v", s, out, p)
		}
		if strings.HasPrefix(strings.TrimLeftFunc(out, unicode.IsSpace), "::") {
			t.Fatalf("%q -> %q", s, out)
		}
	})
}
