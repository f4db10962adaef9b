package analyze

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Limits are the merge-gate thresholds; only those marked as set are checked, so 0 can be a limit.
type Limits struct {
	MaxRebuiltBytes  int64
	MaxRebuiltLayers int
	MinReuse         float64

	HasMaxRebuiltBytes, HasMaxRebuiltLayers, HasMinReuse bool
}

// Gate names, as the JSON report and the action's errors show them.
const (
	GateMaxRebuiltBytes  = "max-rebuilt-bytes"
	GateMaxRebuiltLayers = "max-rebuilt-layers"
	GateMinReuse         = "min-reuse"
)

// EvaluateGates fills r.Gates and reports whether every gate passed.
func EvaluateGates(r *Report, l Limits) bool {
	r.Gates = []Gate{}
	s := r.Summary
	if l.HasMaxRebuiltBytes {
		r.Gates = append(r.Gates, Gate{Name: GateMaxRebuiltBytes, Limit: strconv.FormatInt(l.MaxRebuiltBytes, 10),
			Actual: strconv.FormatInt(s.RebuiltBytes, 10), Passed: s.RebuiltBytes <= l.MaxRebuiltBytes})
	}
	if l.HasMaxRebuiltLayers {
		r.Gates = append(r.Gates, Gate{Name: GateMaxRebuiltLayers, Limit: strconv.Itoa(l.MaxRebuiltLayers),
			Actual: strconv.Itoa(s.RebuiltLayers), Passed: s.RebuiltLayers <= l.MaxRebuiltLayers})
	}
	if l.HasMinReuse {
		r.Gates = append(r.Gates, Gate{Name: GateMinReuse, Limit: formatPercent(l.MinReuse),
			Actual: formatPercent(s.Reuse), Passed: s.Reuse >= l.MinReuse})
	}
	for _, g := range r.Gates {
		if !g.Passed {
			return false
		}
	}
	return true
}

func formatPercent(p float64) string {
	return strconv.FormatFloat(p, 'f', -1, 64)
}

var sizePattern = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)$`)

var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
	"ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20, "gi": 1 << 30, "gib": 1 << 30, "ti": 1 << 40, "tib": 1 << 40,
}

// ParseSize parses "250MB", "1.5GiB" or plain bytes ("1024"). Decimal units are powers of 1000,
// binary units (KiB, MiB…) powers of 1024, as docker and du print them.
func ParseSize(s string) (int64, error) {
	m := sizePattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size (examples: 250MB, 1.5GiB, 1048576)", s)
	}
	unit, ok := sizeUnits[strings.ToLower(m[2])]
	if !ok {
		return 0, fmt.Errorf("%q has an unknown unit %q (use B, KB, MB, GB, KiB, MiB, GiB)", s, m[2])
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size: %w", s, err)
	}
	bytes := n * unit
	if bytes > math.MaxInt64/2 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(math.Round(bytes)), nil
}

// ParseLayerCount parses a --max-rebuilt-layers value: a whole number, 0 or more.
func ParseLayerCount(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a whole number of layers, 0 or more", s)
	}
	return n, nil
}

// ParsePercent parses a --min-reuse value: 0 to 100, with or without a trailing "%".
func ParsePercent(s string) (float64, error) {
	p, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || p < 0 || p > 100 {
		return 0, fmt.Errorf("%q is not a percentage from 0 to 100", s)
	}
	return p, nil
}

// FormatBytes prints a size the way ParseSize reads it, in decimal units ("412.3 MB").
func FormatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + string("kMGTP"[exp]) + "B"
}
