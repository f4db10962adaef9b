package analyze

// Limits are the merge-gate thresholds; a zero or negative field is not checked.
type Limits struct {
	MaxRebuiltBytes  int64
	MaxRebuiltLayers int
	MinReuse         float64
	// set records which limits were given, so that 0 can be a real limit.
	HasMaxRebuiltBytes, HasMaxRebuiltLayers, HasMinReuse bool
}

// EvaluateGates fills r.Gates and reports whether every gate passed.
func EvaluateGates(r *Report, l Limits) bool {
	panic("TODO")
}

// ParseSize parses "250MB", "1.5GiB", "1024" (bytes) into bytes.
func ParseSize(s string) (int64, error) {
	panic("TODO")
}
