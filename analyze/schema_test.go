package analyze

import (
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestSchemaMatchesReport keeps report.schema.json, the documented contract, in step with the
// Go types: every JSON field of each struct is a property of its schema object, and every
// non-omitempty field is required.
func TestSchemaMatchesReport(t *testing.T) {
	data, err := os.ReadFile("report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatalf("report.schema.json: %v", err)
	}
	defs := schema["$defs"].(map[string]any)
	props := func(obj map[string]any) map[string]any { return obj["properties"].(map[string]any) }
	item := func(obj map[string]any) map[string]any { return obj["items"].(map[string]any) }
	nonNull := func(obj map[string]any) map[string]any {
		for _, alt := range obj["oneOf"].([]any) {
			if m := alt.(map[string]any); m["type"] != "null" {
				if ref, ok := m["$ref"].(string); ok {
					return defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
				}
				return m
			}
		}
		return nil
	}
	top := props(schema)
	steps := item(top["steps"].(map[string]any))
	checks := []struct {
		typ any
		obj map[string]any
	}{
		{Report{}, schema},
		{ImageInfo{}, defs["image"].(map[string]any)},
		{Summary{}, top["summary"].(map[string]any)},
		{RootCause{}, item(props(top["summary"].(map[string]any))["rootCauses"].(map[string]any))},
		{Step{}, steps},
		{Layer{}, nonNull(props(steps)["layer"].(map[string]any))},
		{Cause{}, nonNull(props(steps)["cause"].(map[string]any))},
		{Suggestion{}, item(top["suggestions"].(map[string]any))},
		{Gate{}, item(top["gates"].(map[string]any))},
	}
	for _, c := range checks {
		rt := reflect.TypeOf(c.typ)
		var fields, required []string
		for i := 0; i < rt.NumField(); i++ {
			tag := rt.Field(i).Tag.Get("json")
			name, opts, _ := strings.Cut(tag, ",")
			fields = append(fields, name)
			if opts != "omitempty" {
				required = append(required, name)
			}
		}
		var schemaFields, schemaRequired []string
		for name := range props(c.obj) {
			schemaFields = append(schemaFields, name)
		}
		for _, r := range c.obj["required"].([]any) {
			schemaRequired = append(schemaRequired, r.(string))
		}
		for _, s := range [][]string{fields, required, schemaFields, schemaRequired} {
			sort.Strings(s)
		}
		if !reflect.DeepEqual(fields, schemaFields) || !reflect.DeepEqual(required, schemaRequired) {
			t.Errorf("%s: Go fields %v (required %v), schema %v (required %v)", rt.Name(), fields, required, schemaFields, schemaRequired)
		}
	}
	kinds := defs["causeKind"].(map[string]any)["enum"].([]any)
	want := []any{CauseBaseImage, CauseInstruction, CauseBuildArg, CauseSources, CauseParent, CauseUnexplained, CauseNoBase}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("cause kinds in the schema %v, in Go %v", kinds, want)
	}
}
