package mdsafe

import (
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"README.md", "README.md"},
		{"a|b", `a\|b`},
		{"`rm -rf`", "\\`rm -rf\\`"},
		{"<!-- layerdiff key=default -->", "&lt;!-- layerdiff key=default --&gt;"},
		{"<img src=x onerror=alert(1)>", `&lt;img src=x onerror=alert\(1\)&gt;`},
		{"@octocat and @acme/team", "@\u200boctocat and @\u200bacme/team"},
		{"&#64;octocat", "&amp;\\#64;octocat"},
		{"[x](javascript:alert(1))", `\[x\]\(javascript:alert\(1\)\)`},
		{"**bold** _it_ ~~s~~", `\*\*bold\*\* \_it\_ \~\~s\~\~`},
		{"line1\nline2\r\n", "line1 line2  "},
		{"abc\u202edcba", "abc\ufffddcba"},
		{"\u2066x\u2069", "\ufffdx\ufffd"},
		{"bad\xffutf8", "bad\ufffdutf8"},
		{`back\slash`, `back\\slash`},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestEscapeNeverLeaksSyntax checks, for hostile inputs, the properties a reviewer relies on
// rather than exact strings.
func TestEscapeNeverLeaksSyntax(t *testing.T) {
	hostile := []string{
		"-->\n<script>alert(1)</script><!--",
		"file|with|pipes `and` ticks",
		"@org/team please approve",
		"x](javascript:alert(document.cookie))",
		"\u202e\u2067gnp.exe",
	}
	for _, in := range hostile {
		out := Escape(in)
		for _, bad := range []string{"<", "-->", "\n", "\r", "](", "\u202e", "\u2067"} {
			if strings.Contains(out, bad) {
				t.Errorf("Escape(%q) = %q contains %q", in, out, bad)
			}
		}
		if strings.Contains(strings.ReplaceAll(out, `\|`, ""), "|") {
			t.Errorf("Escape(%q) = %q has an unescaped |", in, out)
		}
		if i := strings.Index(out, "@"); i >= 0 && !strings.HasPrefix(out[i+1:], "\u200b") {
			t.Errorf("Escape(%q) = %q leaves a mention", in, out)
		}
	}
}

func TestCode(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"COPY . .", "`COPY . .`"},
		{"RUN echo `date`", "`` RUN echo `date` ``"},
		{"`x`", "`` `x` ``"},
		{"a``b", "```a``b```"},
		{"RUN curl x | sh", "<code>RUN curl x &#124; sh</code>"},
		{"<!-- x --> | @me", "<code>&lt;!-- x --&gt; &#124; &#64;\u200bme</code>"},
		{"RUN a\nb", "`RUN a b`"},
		{"", "<code></code>"},
		{"  ", "<code>  </code>"},
		{"evil\u202etxt", "`evil\ufffdtxt`"},
	}
	for _, tt := range tests {
		if got := Code(tt.in); got != tt.want {
			t.Errorf("Code(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLogSafe(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"plain text", "plain text"},
		{"::add-mask::x", ":\u200b:add-mask::x"},
		{"  ::error::boom", "  :\u200b:error::boom"},
		{"a\n::set-output name=x::y", `a\n::set-output name=x::y`},
		{"x ##[set-env name=A]1", "x #\u200b#[set-env name=A]1"},
		{"a\r\nb", `a\r\nb`},
		{"rtl\u202e", "rtl\ufffd"},
	}
	for _, tt := range tests {
		got := LogSafe(tt.in)
		if got != tt.want {
			t.Errorf("LogSafe(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.ContainsAny(got, "\r\n") || strings.HasPrefix(strings.TrimSpace(got), "::") {
			t.Errorf("LogSafe(%q) = %q can start a workflow command", tt.in, got)
		}
	}
}
