package doctor

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// checkSpec compares the target's OpenAPI document with the contract.
func checkSpec(ctx context.Context, r *Report, raw []byte) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		r.add("/openapi.json is an OpenAPI 3 document", Doc, Differs, "%v", err)
		return
	}
	if err := doc.Validate(ctx); err != nil {
		r.add("/openapi.json is a valid OpenAPI 3 document", Doc, Differs, "%v", err)
	} else {
		r.add("/openapi.json is a valid OpenAPI 3 document", Doc, OK, "OpenAPI %s", doc.OpenAPI)
	}
	for _, e := range contract() {
		checkExpectation(r, doc, e)
	}
}

func checkExpectation(r *Report, doc *openapi3.T, e expectation) {
	op := fmt.Sprintf("%s %s", e.method, e.path)
	var operation *openapi3.Operation
	if doc.Paths != nil {
		if item := doc.Paths.Find(e.path); item != nil {
			operation = item.GetOperation(e.method)
		}
	}
	if operation == nil {
		r.add(op+" exists", e.tag, Differs, "not in /openapi.json (used by %s)", e.usedBy)
		return
	}
	if len(e.params) == 0 && len(e.request) == 0 && len(e.response) == 0 {
		r.add(op+" exists", e.tag, OK, "")
		return
	}
	if len(e.params) > 0 {
		var have []string
		for _, p := range operation.Parameters {
			if p.Value != nil {
				have = append(have, p.Value.Name)
			}
		}
		fields(r, op+" query parameters", e, e.params, func(name string) bool { return slices.Contains(have, name) })
	}
	if len(e.request) > 0 {
		var schema *openapi3.SchemaRef
		if operation.RequestBody != nil && operation.RequestBody.Value != nil {
			if mt := operation.RequestBody.Value.Content.Get("application/json"); mt != nil {
				schema = mt.Schema
			}
		}
		fields(r, op+" request fields", e, e.request, func(name string) bool { return hasField(schema, name) })
	}
	if len(e.response) > 0 {
		schema := successSchema(operation)
		fields(r, op+" response fields", e, e.response, func(name string) bool { return hasField(schema, name) })
	}
}

// fields adds one check listing every missing name.
func fields(r *Report, name string, e expectation, want []string, has func(string) bool) {
	var missing []string
	for _, f := range want {
		if !has(f) {
			missing = append(missing, f)
		}
	}
	label := fmt.Sprintf("%s: %s", name, strings.Join(want, ", "))
	if len(missing) > 0 {
		r.add(label, e.tag, Differs, "missing %s (used by %s)", strings.Join(missing, ", "), e.usedBy)
		return
	}
	r.add(label, e.tag, OK, "")
}

// successSchema is the JSON schema of the operation's first 2xx response.
func successSchema(op *openapi3.Operation) *openapi3.SchemaRef {
	if op.Responses == nil {
		return nil
	}
	for _, code := range []string{"200", "201", "202", "2XX"} {
		resp := op.Responses.Value(code)
		if resp == nil || resp.Value == nil {
			continue
		}
		if mt := resp.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
			return mt.Schema
		}
	}
	return nil
}

// hasField reports whether schema has the dotted field path, descending
// into array items for "name[]" segments and through allOf. A path ending
// "=A|B" also needs the field's enum, when it has one, to list A and B.
func hasField(s *openapi3.SchemaRef, path string) bool {
	if s == nil || s.Value == nil {
		return false
	}
	if p, values, ok := strings.Cut(path, "="); ok {
		if !hasField(s, p) {
			return false
		}
		f := fieldSchema(s, p)
		if f == nil || len(f.Enum) == 0 {
			return true // not enumerated: any value may do
		}
		for _, v := range strings.Split(values, "|") {
			if !slices.Contains(f.Enum, any(v)) {
				return false
			}
		}
		return true
	}
	head, rest, _ := strings.Cut(path, ".")
	name, isArray := strings.CutSuffix(head, "[]")
	prop := property(s.Value, name)
	if prop == nil {
		return false
	}
	if isArray {
		if prop.Value == nil || prop.Value.Items == nil {
			return false
		}
		prop = prop.Value.Items
	}
	if rest == "" {
		return true
	}
	return hasField(prop, rest)
}

func property(s *openapi3.Schema, name string) *openapi3.SchemaRef {
	if p, ok := s.Properties[name]; ok {
		return p
	}
	for _, sub := range s.AllOf {
		if sub.Value != nil {
			if p := property(sub.Value, name); p != nil {
				return p
			}
		}
	}
	return nil
}

// fieldSchema returns the schema of the dotted field path (see hasField),
// nil when absent.
func fieldSchema(s *openapi3.SchemaRef, path string) *openapi3.Schema {
	for {
		if s == nil || s.Value == nil {
			return nil
		}
		head, rest, more := strings.Cut(path, ".")
		name, isArray := strings.CutSuffix(head, "[]")
		s = property(s.Value, name)
		if isArray && s != nil && s.Value != nil {
			s = s.Value.Items
		}
		if !more {
			if s == nil {
				return nil
			}
			return s.Value
		}
		path = rest
	}
}
