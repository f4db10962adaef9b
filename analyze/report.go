package analyze

// SchemaVersion is bumped only when a field of Report is renamed or removed.
const SchemaVersion = 1

// Cause kinds, shared by every output.
const (
	CauseBaseImage   = "base-image"
	CauseInstruction = "instruction"
	CauseBuildArg    = "build-arg"
	CauseSources     = "sources"
	CauseParent      = "parent"
	CauseUnexplained = "unexplained"
	CauseNoBase      = "no-base"
)

// Step statuses and origins.
const (
	StatusCached  = "cached"
	StatusRebuilt = "rebuilt"

	OriginBaseImage  = "base-image"
	OriginDockerfile = "dockerfile"
)

// Report is the JSON contract of `layerdiff --format json`.
type Report struct {
	SchemaVersion int          `json:"schemaVersion"`
	Base          *ImageInfo   `json:"base"`
	Head          *ImageInfo   `json:"head"`
	Summary       Summary      `json:"summary"`
	Steps         []Step       `json:"steps"`
	Suggestions   []Suggestion `json:"suggestions"`
	Gates         []Gate       `json:"gates"`
	// Warnings are degradations the user should know about (no Dockerfile mapping, history that
	// does not match the layers, no changed-file information).
	Warnings []string `json:"warnings"`
	// Dockerfile is the path of the Dockerfile the steps were mapped to, as the user gave it.
	Dockerfile string `json:"dockerfile,omitempty"`
	// From is the image the built stage starts FROM, as the Dockerfile names it (build args
	// with defaults expanded), when the steps were mapped.
	From string `json:"from,omitempty"`
}

// ImageInfo identifies one side of the comparison.
type ImageInfo struct {
	Reference string `json:"reference"`
	Digest    string `json:"digest"`
	Platform  string `json:"platform"`
	Layers    int    `json:"layers"`
	Size      int64  `json:"size"`
}

// Summary holds the headline numbers.
type Summary struct {
	Steps         int   `json:"steps"`
	Layers        int   `json:"layers"`
	CachedLayers  int   `json:"cachedLayers"`
	RebuiltLayers int   `json:"rebuiltLayers"`
	CachedBytes   int64 `json:"cachedBytes"`
	RebuiltBytes  int64 `json:"rebuiltBytes"`
	// TransferBytes are the rebuilt bytes whose blobs the base image does not already have: what
	// a push and a pull really cost. A rebuilt step can reproduce its old blob byte for byte
	// (COPY --link, a RUN that writes nothing), which costs no transfer.
	TransferBytes int64       `json:"transferBytes"`
	Reuse         float64     `json:"reuse"`
	RootCauses    []RootCause `json:"rootCauses"`
}

// RootCause names a step whose own change started a chain of rebuilds.
type RootCause struct {
	Step int    `json:"step"`
	Kind string `json:"kind"`
}

// Step is one history entry of the head image.
type Step struct {
	Index       int    `json:"index"`
	Instruction string `json:"instruction"`
	Origin      string `json:"origin"`
	Stage       string `json:"stage"`
	Line        int    `json:"line"`
	EmptyLayer  bool   `json:"emptyLayer"`
	Layer       *Layer `json:"layer"`
	Status      string `json:"status"`
	Cause       *Cause `json:"cause"`
}

// Layer is the layer a step made, with its compressed size from the manifest.
type Layer struct {
	Digest string `json:"digest"`
	DiffID string `json:"diffID"`
	Size   int64  `json:"size"`
}

// Cause says why a step was rebuilt.
type Cause struct {
	Kind     string   `json:"kind"`
	RootStep int      `json:"rootStep"`
	Files    []string `json:"files"`
	Detail   string   `json:"detail"`
}

// Suggestion is a fix tied to a root-cause step and its Dockerfile line.
type Suggestion struct {
	Step    int    `json:"step"`
	Line    int    `json:"line"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
	// Example is a Dockerfile snippet that shows the fix, when there is one.
	Example string `json:"example,omitempty"`
}

// Gate is the outcome of one merge-gate threshold.
type Gate struct {
	Name   string `json:"name"`
	Limit  string `json:"limit"`
	Actual string `json:"actual"`
	Passed bool   `json:"passed"`
}
