package analyze

import (
	"regexp"
	"sort"
	"strings"
)

// Redacted replaces the value of a build arg whose name looks secret.
const Redacted = "***"

var secretName = regexp.MustCompile(`(?i)token|secret|password|passwd|key|credential|auth|private`)

// IsSecretName reports whether a build-arg or env name looks like it holds a secret.
func IsSecretName(name string) bool { return secretName.MatchString(name) }

// redactor removes secret values from every string the report carries. It knows the values of
// secret-looking args seen in either image, so a value that leaks into free text (a RUN command
// that echoes it, a label) is caught too, not only the NAME=value pair.
type redactor struct {
	values []string // longest first, so a value that contains another is replaced whole
}

func (r *redactor) add(value string) {
	// Very short values would redact ordinary words ("1", "on"); such values are no secret worth
	// hiding anyway, and NAME=value pairs are still replaced by redactPairs.
	if len(value) < 4 {
		return
	}
	for _, v := range r.values {
		if v == value {
			return
		}
	}
	r.values = append(r.values, value)
	sort.Slice(r.values, func(i, j int) bool { return len(r.values[i]) > len(r.values[j]) })
}

func (r *redactor) redact(s string) string {
	// Whole values first: replacing NAME=value pairs first would cut a value with blanks at its
	// first blank and leave the rest for all to see.
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, Redacted)
	}
	return redactPairs(s)
}

// pair matches NAME=value where value is quoted or runs to the next blank.
var pair = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"|'[^']*'|[^\s]*)`)

// redactPairs replaces the value of every NAME=value whose NAME looks secret.
func redactPairs(s string) string {
	return pair.ReplaceAllStringFunc(s, func(m string) string {
		name, _, _ := strings.Cut(m, "=")
		if IsSecretName(name) {
			return name + "=" + Redacted
		}
		return m
	})
}

// Redact hides secret-looking NAME=value pairs in s; renderers use it on text they build from
// sources the report did not already clean (e.g. error messages).
func Redact(s string) string { return redactPairs(s) }
