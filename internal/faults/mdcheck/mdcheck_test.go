package mdcheck

import (
	"strings"
	"testing"
)

func TestCheckFindsInjections(t *testing.T) {
	for md, want := range map[string]string{
		"hello @org/team x":                                         "mention",
		"<!-- hidden -->":                                           "HTML block",
		"a <img src=x onerror=alert(1)> b":                          "inline HTML",
		"| a | b |\n|---|---|\n| x | y \\| z | w |\n":               "table row with 3 cells",
		"[a](javascript:alert(1))":                                  "link to",
		"![a](https://example.com/x.png)":                           "image",
		"x \u202e y":                                                "bidi control",
		"<details><summary>x</summary>\n\n</details>\n</details>\n": "",
	} {
		got := strings.Join(Check(md).Problems, "; ")
		if want == "" && got != "" || !strings.Contains(got, want) {
			t.Errorf("Check(%q) = %q, want a problem containing %q", md, got, want)
		}
	}
	safe := "### t\n\n**x** `a|b` @\u200bteam &lt;b&gt; [l](https://ok.example/x)\n\n| a | b |\n|---|---|\n| `x \\| y` | <code>&#124;</code> |\n"
	if r := Check(safe, "https://ok.example/"); len(r.Problems) > 0 || r.Headings != 1 || r.Links != 1 || r.Tables != 1 || r.TableRows[0] != 1 {
		t.Errorf("Check(safe) = %+v", r)
	}
}

func TestCheckLog(t *testing.T) {
	got := CheckLog("fine\n  ::set-output name=x::y\nsee ##[error]x\nred \x1b[31m\n\u200b::ok")
	if len(got) != 3 {
		t.Errorf("CheckLog found %d problems, want 3: %q", len(got), got)
	}
}
