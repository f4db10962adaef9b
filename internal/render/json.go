package render

import (
	"encoding/json"
	"io"

	"github.com/layerdiff/layerdiff/analyze"
)

// JSON writes the report contract, indented, with a final newline.
func JSON(w io.Writer, r *analyze.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
