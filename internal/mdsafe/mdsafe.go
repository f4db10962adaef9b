package mdsafe

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// zwsp breaks what GitHub would otherwise turn into a mention or a workflow command, without
// changing what a reader sees.
const zwsp = "\u200b"

// isBidi reports the explicit directional formatting characters that can make text read
// differently from how it is stored (CVE-2021-42574, "Trojan Source").
func isBidi(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e, // LRE, RLE, PDF, LRO, RLO
		r >= 0x2066 && r <= 0x2069,            // LRI, RLI, FSI, PDI
		r == 0x200e, r == 0x200f, r == 0x061c: // LRM, RLM, ALM
		return true
	}
	return false
}

// clean replaces what may never appear in a one-line markdown fragment: line breaks and other
// control characters become a space, bidi controls and invalid UTF-8 become U+FFFD so that their
// presence stays visible.
func clean(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case isBidi(r):
			b.WriteRune(utf8.RuneError)
		case r == '\t' || r == '\n' || r == '\r' || unicode.IsControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Escape returns s as inline markdown text that renders literally: no emphasis, links, images,
// HTML (comments included), table cell breaks, mentions or team pings, and no reordering by bidi
// controls. It is safe in a paragraph and in a table cell.
func Escape(s string) string {
	s = clean(s)
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '&':
			// Before everything else: "&#64;user" must not come back as a mention.
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '|':
			b.WriteString("\\|")
		case '\\', '`', '*', '_', '[', ']', '(', ')', '~', '#':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '@':
			b.WriteByte('@')
			b.WriteString(zwsp)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Code returns s as an inline code span. Backtick fences are used when that renders s exactly;
// a string with "|" (which splits a table cell even inside backticks) is written as an HTML
// <code> element with character references instead. Either form is safe in a table cell.
func Code(s string) string {
	s = clean(s)
	if strings.TrimSpace(s) == "" || strings.ContainsRune(s, '|') {
		return "<code>" + entities(s) + "</code>"
	}
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	// A span that starts or ends with a backtick, or with a space, needs a padding space on both
	// sides; CommonMark strips exactly one from each side.
	if s[0] == '`' || s[len(s)-1] == '`' || s[0] == ' ' || s[len(s)-1] == ' ' {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// entities writes every character with a markdown or HTML meaning as a character reference,
// which CommonMark always treats as literal text.
func entities(s string) string {
	var b strings.Builder
	b.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '@':
			b.WriteString("&#64;" + zwsp)
		case '|', '\\', '`', '*', '_', '[', ']', '(', ')', '~', '#', ':':
			b.WriteString("&#")
			b.WriteString(strconv.Itoa(int(c)))
			b.WriteByte(';')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// LogSafe returns s as one log line that the runner cannot read as a workflow command: line
// breaks are shown as \n and \r and other control characters (terminal escapes) as \xHH, a
// leading "::" (after spaces, which the runner skips) is split by an invisible space, and the
// legacy "##[" command prefix, recognised anywhere in a line, is split the same way. Bidi
// controls are made visible.
func LogSafe(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case isBidi(r) || (r == utf8.RuneError && size == 1):
			b.WriteRune(utf8.RuneError)
		case r != '\t' && unicode.IsControl(r):
			// Escape sequences would recolour, clear or retitle the terminal or log viewer.
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	out := strings.ReplaceAll(b.String(), "##[", "#"+zwsp+"#[")
	trimmed := strings.TrimLeftFunc(out, unicode.IsSpace)
	if strings.HasPrefix(trimmed, "::") {
		out = out[:len(out)-len(trimmed)] + ":" + zwsp + trimmed[1:]
	}
	return out
}
