package action

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/layerdiff/layerdiff/analyze"
)

// Provenance ties a report file to the run that made it, so that a later workflow_run job can
// check it belongs to the pull request it is about to comment on.
type Provenance struct {
	Repository  string `json:"repository"`
	PullRequest int    `json:"pullRequest,omitempty"`
	BaseSHA     string `json:"baseSha,omitempty"`
	HeadSHA     string `json:"headSha"`
	Event       string `json:"event,omitempty"`
	RunID       int64  `json:"runId,omitempty"`
	CommentKey  string `json:"commentKey,omitempty"`
}

// reportFile is the JSON the action writes for the `report` output: the report contract with a
// "github" object added (the contract allows added fields).
type reportFile struct {
	*analyze.Report
	GitHub *Provenance `json:"github,omitempty"`
}

// writeReportFile writes the report with its provenance; redact removes the run's secrets, in
// case a build argument carried one into the image history under a name that does not look
// secret.
func writeReportFile(path string, r *analyze.Report, p *Provenance, redact func(string) string) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(reportFile{Report: r, GitHub: p}); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(redact(buf.String())), 0o644)
}

// Bounds for a report read back from a file someone else produced.
const (
	maxReportFileBytes = 16 << 20
	maxReportSteps     = 10000
)

var (
	shaPattern  = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)
	pathPattern = regexp.MustCompile(`^[A-Za-z0-9._][A-Za-z0-9._/+@-]*$`)
)

// readReportFile reads a report produced by another job (the artifact of a pull request from a
// fork, in the two-workflow setup) and treats all of it as untrusted: sizes are bounded, numbers
// checked, and strings are left for the renderer to escape.
func readReportFile(path string) (*analyze.Report, *Provenance, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxReportFileBytes+1))
	if err != nil {
		return nil, nil, err
	}
	if len(data) > maxReportFileBytes {
		return nil, nil, fmt.Errorf("larger than %d MiB", maxReportFileBytes>>20)
	}
	var rf struct {
		analyze.Report
		GitHub *Provenance `json:"github"`
	}
	if err := json.Unmarshal(data, &rf); err != nil {
		return nil, nil, fmt.Errorf("not a layerdiff JSON report: %v", err)
	}
	r := &rf.Report
	if r.SchemaVersion != analyze.SchemaVersion {
		return nil, nil, fmt.Errorf("schemaVersion %d, want %d", r.SchemaVersion, analyze.SchemaVersion)
	}
	if rf.GitHub == nil {
		return nil, nil, fmt.Errorf("no \"github\" provenance: only reports written by the action can be posted")
	}
	if len(r.Steps) > maxReportSteps {
		return nil, nil, fmt.Errorf("%d steps, more than %d", len(r.Steps), maxReportSteps)
	}
	s := r.Summary
	if s.Steps < 0 || s.Layers < 0 || s.CachedLayers < 0 || s.RebuiltLayers < 0 || s.CachedBytes < 0 ||
		s.RebuiltBytes < 0 || s.Reuse < 0 || s.Reuse > 100 || s.RebuiltLayers > s.Layers && s.Layers > 0 {
		return nil, nil, fmt.Errorf("summary numbers out of range")
	}
	for _, st := range r.Steps {
		if st.Line < 0 || st.Index < 0 || (st.Layer != nil && st.Layer.Size < 0) {
			return nil, nil, fmt.Errorf("step numbers out of range")
		}
	}
	p := rf.GitHub
	if !shaPattern.MatchString(p.HeadSHA) || (p.BaseSHA != "" && !shaPattern.MatchString(p.BaseSHA)) {
		return nil, nil, fmt.Errorf("provenance: commit SHAs malformed")
	}
	if p.PullRequest < 0 {
		return nil, nil, fmt.Errorf("provenance: pull request number out of range")
	}
	// The Dockerfile path becomes part of links and annotations: only a plain relative path
	// survives.
	if r.Dockerfile != "" && (!pathPattern.MatchString(r.Dockerfile) || strings.Contains("/"+r.Dockerfile+"/", "/../")) {
		r.Dockerfile = ""
	}
	return r, p, nil
}
