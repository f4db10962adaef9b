package render

import "github.com/layerdiff/layerdiff/analyze"

// MarkdownOptions add links and provenance to the markdown report; every field is optional.
type MarkdownOptions struct {
	// Title names what was compared, e.g. the image repository without tag ("ghcr.io/acme/app").
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
// comment marker, which the publisher adds).
func Markdown(r *analyze.Report, opts MarkdownOptions) string {
	return "TODO"
}
