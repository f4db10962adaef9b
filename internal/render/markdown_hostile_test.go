package render_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/layerdiff/layerdiff/analyze"
	"github.com/layerdiff/layerdiff/internal/faults/mdcheck"
	"github.com/layerdiff/layerdiff/internal/render"
)

// hostile are strings that a pull request controls (file names, Dockerfile lines, image
// histories, branch names) and that must render literally.
var hostile = []string{
	"</details>",
	"<!-- hide the rest",
	"-->",
	"a|b|c",
	"`",
	"```",
	" ```",
	"   ````\n```",
	"``x``",
	"@org/team",
	"\t@org/team",
	"cc @octocat please",
	"](javascript:alert(1))",
	"[click](javascript:alert(1))",
	"![x](https://example.com/pixel.png)",
	"<img src=x onerror=alert(1)>",
	"<script>alert(1)</script>",
	"<details><summary>x</summary>",
	"\u202egnp.exe",
	"abc\u2066def\u2069",
	"::set-output name=verdict::pass",
	"::add-mask::secret",
	"  ::error file=x::boom",
	"##[error]boom",
	"line\n::warning::x",
	"row\n| 9 | injected | x | cached | |",
	"carriage\r::notice::x",
	"\x1b[2J\x1b[31mred",
	"&#64;octocat",
	"\\|",
	"**bold** _em_ ~~strike~~",
	"# heading",
	"<https://example.com>",
	"x\x00y",
	strings.Repeat("|", 50),
}

// hostileReport puts s in every string a report carries from the images, the Dockerfile or the
// repository.
func hostileReport(s string) *analyze.Report {
	layer := func(size int64) *analyze.Layer {
		return &analyze.Layer{Digest: "sha256:" + strings.Repeat("a", 64), DiffID: "sha256:" + strings.Repeat("b", 64), Size: size}
	}
	img := func(ref string) *analyze.ImageInfo {
		return &analyze.ImageInfo{Reference: ref, Digest: "sha256:" + strings.Repeat("c", 64), Platform: s, Layers: 3, Size: 300}
	}
	return &analyze.Report{
		SchemaVersion: analyze.SchemaVersion,
		Base:          img("registry.example/app:" + s),
		Head:          img("registry.example/app:" + s),
		Dockerfile:    "docker/" + s + "/Dockerfile",
		Summary: analyze.Summary{Steps: 4, Layers: 3, CachedLayers: 1, RebuiltLayers: 2, CachedBytes: 100, RebuiltBytes: 200, Reuse: 33.33,
			RootCauses: []analyze.RootCause{{Step: 2, Kind: analyze.CauseSources}, {Step: 4, Kind: analyze.CauseInstruction}}},
		Steps: []analyze.Step{
			{Index: 1, Instruction: "FROM " + s, Origin: analyze.OriginBaseImage, Layer: layer(100), Status: analyze.StatusCached},
			{Index: 2, Instruction: "COPY " + s + " .", Origin: analyze.OriginDockerfile, Stage: s, Line: 3, Layer: layer(150), Status: analyze.StatusRebuilt,
				Cause: &analyze.Cause{Kind: analyze.CauseSources, RootStep: 2, Files: []string{s, "src/" + s, s + ".md", "b", "c"}, Detail: s + " changed"}},
			{Index: 3, Instruction: "ENV X=" + s, Origin: analyze.OriginDockerfile, EmptyLayer: true, Status: analyze.StatusCached},
			{Index: 4, Instruction: "RUN " + s, Origin: analyze.OriginDockerfile, Line: 5, Layer: layer(50), Status: analyze.StatusRebuilt,
				Cause: &analyze.Cause{Kind: analyze.CauseInstruction, RootStep: 4, Files: []string{}, Detail: "changed from `RUN " + s + "`"}},
		},
		Suggestions: []analyze.Suggestion{
			{Step: 2, Line: 3, Kind: analyze.SuggestNarrowCopy, Message: "`COPY " + s + "` copies " + s, Example: "COPY " + s + " .\nRUN " + s},
			{Step: 2, Line: 3, Kind: analyze.SuggestDockerignore, Message: s, Example: s},
		},
		Gates:    []analyze.Gate{{Name: analyze.GateMaxRebuiltLayers, Limit: "1", Actual: "2", Passed: false}},
		Warnings: []string{s, "the Dockerfile `" + s + "` does not parse"},
	}
}

const (
	blobURL = "https://github.com/o/r/blob/0123456789abcdef/"
	runURL  = "https://github.com/o/r/actions/runs/1"
)

func checkMarkdown(t *testing.T, s string, maxBytes int) {
	t.Helper()
	r := hostileReport(s)
	out := render.Markdown(r, render.MarkdownOptions{
		Title: "ghcr.io/acme/" + s, BlobURL: blobURL, RunURL: runURL,
		BaseLabel: "main @ " + s, HeadLabel: "#2 @ " + s, Version: "v1", MaxBytes: maxBytes,
	})
	res := mdcheck.Check(out, blobURL, runURL)
	for _, p := range res.Problems {
		t.Errorf("%q: %s", s, p)
	}
	if res.Headings != 1 {
		t.Errorf("%q: %d headings, want 1", s, res.Headings)
	}
	if res.Details != res.DetailsClosed {
		t.Errorf("%q: %d <details> opened, %d closed", s, res.Details, res.DetailsClosed)
	}
	if maxBytes == 0 {
		// Warnings and steps are folded; the steps table has its header and 3 rows (steps 1, 2,
		// 3–4 is not a run: 3 is cached and alone, 4 rebuilt).
		if res.Details != 2 || res.DetailsClosed != 2 {
			t.Errorf("%q: %d <details> opened, %d closed, want 2", s, res.Details, res.DetailsClosed)
		}
		if res.Tables != 1 || res.TableRows[0] != 4 {
			t.Errorf("%q: tables %d, rows %v; want one table of 4 rows", s, res.Tables, res.TableRows)
		}
	}
	if t.Failed() {
		t.Logf("markdown:\n%s", out)
	}
}

func TestMarkdownHostileContentRendersLiterally(t *testing.T) {
	for _, s := range hostile {
		checkMarkdown(t, s, 0)
		checkMarkdown(t, s, 1500) // cut to fit: every <details> still closed
	}
}

func TestTextHostileContentCannotIssueWorkflowCommands(t *testing.T) {
	for _, s := range hostile {
		var b bytes.Buffer
		render.Text(&b, hostileReport(s), false)
		for _, p := range mdcheck.CheckLog(b.String()) {
			t.Errorf("%q: %s", s, p)
		}
	}
}

// FuzzMarkdownEscaping puts arbitrary text in every field of a report; the markdown must never
// gain an element, link, mention or table cell, and the text output never a workflow command.
func FuzzMarkdownEscaping(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := hostileReport(s)
		out := render.Markdown(r, render.MarkdownOptions{Title: s, BlobURL: blobURL, RunURL: runURL, BaseLabel: s, HeadLabel: s})
		res := mdcheck.Check(out, blobURL, runURL)
		if len(res.Problems) > 0 {
			t.Fatalf("%q: %v\n%s", s, res.Problems, out)
		}
		if res.Headings != 1 || res.Details != 2 || res.DetailsClosed != 2 || res.Tables != 1 || res.TableRows[0] != 4 {
			t.Fatalf("%q: structure changed: %+v\n%s", s, res, out)
		}
		var b bytes.Buffer
		render.Text(&b, r, false)
		if p := mdcheck.CheckLog(b.String()); len(p) > 0 {
			t.Fatalf("%q: %v", s, p)
		}
	})
}
