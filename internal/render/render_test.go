package render

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/layerdiff/layerdiff/analyze"
)

func report(steps int, rebuiltFrom int) *analyze.Report {
	r := &analyze.Report{SchemaVersion: 1, Dockerfile: "Dockerfile",
		Base: &analyze.ImageInfo{Reference: "reg/app:main", Digest: "sha256:" + strings.Repeat("a", 64), Platform: "linux/amd64"},
		Head: &analyze.ImageInfo{Reference: "reg/app:pr", Digest: "sha256:" + strings.Repeat("b", 64), Platform: "linux/amd64"}}
	for i := 1; i <= steps; i++ {
		st := analyze.Step{Index: i, Instruction: fmt.Sprintf("RUN step %d", i), Origin: analyze.OriginDockerfile, Line: i + 1,
			Layer: &analyze.Layer{Size: 1000}, Status: analyze.StatusCached}
		if rebuiltFrom > 0 && i >= rebuiltFrom {
			st.Status = analyze.StatusRebuilt
			st.Cause = &analyze.Cause{Kind: analyze.CauseParent, RootStep: rebuiltFrom, Files: []string{}}
			if i == rebuiltFrom {
				st.Instruction = "COPY . ."
				st.Cause = &analyze.Cause{Kind: analyze.CauseSources, RootStep: i, Files: []string{"README.md"}, Detail: "README.md changed"}
			}
		}
		r.Steps = append(r.Steps, st)
	}
	for _, st := range r.Steps {
		r.Summary.Layers++
		if st.Status == analyze.StatusCached {
			r.Summary.CachedLayers++
			r.Summary.CachedBytes += 1000
		} else {
			r.Summary.RebuiltLayers++
			r.Summary.RebuiltBytes += 1000
			r.Summary.TransferBytes += 1000
		}
	}
	if rebuiltFrom > 0 {
		r.Summary.RootCauses = []analyze.RootCause{{Step: rebuiltFrom, Kind: analyze.CauseSources}}
	}
	r.Summary.Steps = steps
	r.Summary.Reuse = float64(r.Summary.CachedBytes) * 100 / float64(r.Summary.CachedBytes+r.Summary.RebuiltBytes)
	return r
}

func TestMarkdownVerdictFirst(t *testing.T) {
	md := Markdown(report(7, 5), MarkdownOptions{BlobURL: "https://github.com/o/r/blob/abc/", RunURL: "https://github.com/o/r/actions/runs/1"})
	lines := strings.Split(md, "\n")
	if !strings.HasPrefix(lines[2], "**3 of 7 layers rebuilt · 3.0 kB to push and pull · 57.14% of the image reused** — because `README.md` changed under `COPY . .` ([Dockerfile:6](https://github.com/o/r/blob/abc/Dockerfile#L6))") {
		t.Errorf("verdict line = %q", lines[2])
	}
	for _, want := range []string{"| 1–4 |", "| 5 | `COPY . .` | 1.0 kB | rebuilt | **sources** — `README.md` |", "| 6 | `RUN step 6` | 1.0 kB | rebuilt | after step 5 |", "[workflow run](https://github.com/o/r/actions/runs/1)"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestMarkdownAllCachedIsOneLine(t *testing.T) {
	md := Markdown(report(4, 0), MarkdownOptions{})
	if !strings.Contains(md, "**All 4 layers cached · nothing to push or pull**") || strings.Contains(md, "<details>") {
		t.Errorf("all-cached markdown:\n%s", md)
	}
	if n := strings.Count(strings.TrimSpace(md), "\n"); n > 4 {
		t.Errorf("all-cached markdown has %d lines", n)
	}
}

func TestMarkdownFailedGateComesFirst(t *testing.T) {
	r := report(7, 5)
	r.Gates = []analyze.Gate{{Name: analyze.GateMaxRebuiltLayers, Limit: "1", Actual: "3", Passed: false}}
	md := Markdown(r, MarkdownOptions{})
	lines := strings.Split(md, "\n")
	if !strings.Contains(lines[2], "Gate") || !strings.Contains(lines[2], "max-rebuilt-layers") {
		t.Errorf("first line after the title is %q, want the failed gate", lines[2])
	}
}

func TestMarkdownCap(t *testing.T) {
	r := report(3000, 2)
	for _, max := range []int{2000, 65536} {
		md := Markdown(r, MarkdownOptions{MaxBytes: max, RunURL: "https://example.com/run"})
		if len(md) > max {
			t.Errorf("capped at %d, got %d bytes", max, len(md))
		}
		if strings.Count(md, "<details>") != strings.Count(md, "</details>") {
			t.Errorf("cap at %d left a <details> open", max)
		}
		if !strings.Contains(md, "full report is in the [workflow run](https://example.com/run)") {
			t.Errorf("cap at %d: no note linking the run", max)
		}
	}
}

func TestMarkdownEscapesUntrustedText(t *testing.T) {
	r := report(3, 2)
	r.Steps[1].Instruction = "COPY </details><!-- @org/team | x `y` ](javascript:alert(1)) ./"
	r.Steps[1].Cause.Files = []string{"<img src=x>.md", "@admin|pwn"}
	md := Markdown(r, MarkdownOptions{})
	// Inside a backtick code span markdown shows text literally; outside, nothing may be raw.
	outside := regexp.MustCompile("`[^`]*`").ReplaceAllString(md, "")
	for _, bad := range []string{"</details><!--", "<img", "@admin", "@org/team", "](javascript:"} {
		if strings.Contains(outside, bad) {
			t.Errorf("markdown carries %q unescaped:\n%s", bad, md)
		}
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| 2 |") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 6 {
			t.Errorf("the row's cells were split: %q", line)
		}
	}
}

func TestTextHasNoColourUnlessAsked(t *testing.T) {
	var plain, color strings.Builder
	Text(&plain, report(3, 2), false)
	Text(&color, report(3, 2), true)
	if strings.Contains(plain.String(), "\x1b[") || !strings.Contains(color.String(), "\x1b[31m") {
		t.Errorf("colour handling wrong")
	}
	if !strings.Contains(plain.String(), "root cause: step 2 sources: README.md changed under COPY . . (Dockerfile:3)") {
		t.Errorf("text:\n%s", plain.String())
	}
}

func TestNoBaseVerdict(t *testing.T) {
	r := report(2, 1)
	r.Base = nil
	if v := verdict(r); !strings.HasPrefix(v, "No base image to compare with: all 2 layers are new") {
		t.Errorf("verdict = %q", v)
	}
}
