package sandbox_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/billharness/billharness/internal/sandbox"
)

// The sandbox answers with the client's wire types (internal/billing), so a
// wrong JSON tag there would be mirrored by the sandbox and pass every
// round trip. Every answer the sandbox's tests get is therefore checked
// against /openapi.json, written by hand apart from those types, with
// objects closed: a field the document does not name is an error.

var contract struct {
	once   sync.Once
	router routers.Router
	err    error
}

// contractRouter is the router of the sandbox's OpenAPI document, with
// every object schema that does not say otherwise closed to unknown
// properties.
func contractRouter() (routers.Router, error) {
	contract.once.Do(func() {
		b, err := sandbox.OpenAPI("test")
		if err != nil {
			contract.err = err
			return
		}
		doc, err := openapi3.NewLoader().LoadFromData(b)
		if err != nil {
			contract.err = err
			return
		}
		doc.Servers = nil // match paths alone: each test's sandbox has a port of its own
		seen := map[*openapi3.Schema]bool{}
		for _, s := range doc.Components.Schemas {
			closeObjects(s, seen)
		}
		for _, p := range doc.Paths.Map() {
			for _, op := range p.Operations() {
				for _, r := range op.Responses.Map() {
					if r.Value == nil {
						continue
					}
					for _, mt := range r.Value.Content {
						closeObjects(mt.Schema, seen)
					}
				}
			}
		}
		contract.router, contract.err = legacy.NewRouter(doc)
	})
	return contract.router, contract.err
}

// closeObjects sets additionalProperties: false on every object schema
// under ref that has properties and leaves additionalProperties unsaid.
func closeObjects(ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	if s.Type.Is("object") && len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
		no := false
		s.AdditionalProperties.Has = &no
	}
	for _, p := range s.Properties {
		closeObjects(p, seen)
	}
	closeObjects(s.Items, seen)
	closeObjects(s.AdditionalProperties.Schema, seen)
	for _, l := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, r := range l {
			closeObjects(r, seen)
		}
	}
}

// checkContract reports an answer that /openapi.json does not describe:
// an undocumented route or status, or a body that does not match its
// schema.
func checkContract(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	router, err := contractRouter()
	if err != nil {
		t.Fatalf("load /openapi.json: %v", err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return // a route the contract lacks is answered 404 or 405, which tests assert themselves
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s answered %d, which /openapi.json does not describe: %v\nbody: %s", req.Method, req.URL.Path, status, err, body)
	}
}

// failTB records failures instead of failing the test.
type failTB struct {
	testing.TB
	msgs []string
}

func (f *failTB) Errorf(format string, args ...any) {
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}
func (f *failTB) Helper() {}

// The check is itself checked: a renamed field (a wrong JSON tag) and an
// undocumented status fail it, the sandbox's real answer passes.
func TestContractCheckCatchesWrongTags(t *testing.T) {
	e := start(t)
	f := e.fixture()
	req, _ := http.NewRequest("GET", e.sb.URL+"/v1/subscriptions/"+f.sub, nil)
	good := e.do("GET", "/v1/subscriptions/"+f.sub, e.sb.AdminToken, nil)
	for _, tt := range []struct {
		name   string
		status int
		body   []byte
		fails  bool
	}{
		{"the real answer", good.status, good.body, false},
		{"a renamed field", good.status, bytes.Replace(good.body, []byte(`"current_period_start"`), []byte(`"current_period_begin"`), 1), true},
		{"an undocumented status", http.StatusTeapot, good.body, true},
	} {
		rec := &failTB{TB: t}
		checkContract(rec, req, tt.status, good.header, tt.body)
		if (len(rec.msgs) > 0) != tt.fails {
			t.Errorf("%s: check said %q, want a failure: %v", tt.name, rec.msgs, tt.fails)
		}
	}
}
