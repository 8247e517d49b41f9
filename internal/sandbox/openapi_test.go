package sandbox_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/billharness/billharness/internal/sandbox"
)

func loadOpenAPI(t *testing.T, e *env) *openapi3.T {
	t.Helper()
	r := e.do("GET", "/openapi.json", "", nil)
	if r.status != 200 {
		t.Fatalf("GET /openapi.json = %s, want 200", r)
	}
	doc, err := openapi3.NewLoader().LoadFromData(r.body)
	if err != nil {
		t.Fatalf("load /openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("/openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

func TestOpenAPIValid(t *testing.T) {
	e := start(t, sandbox.Config{Version: "v9.9.9"})
	doc := loadOpenAPI(t, e)
	if doc.OpenAPI != "3.0.3" || doc.Info.Version != "v9.9.9" {
		t.Errorf("openapi %q version %q, want 3.0.3 and v9.9.9", doc.OpenAPI, doc.Info.Version)
	}
	for _, name := range []string{"bearerAuth", "apiKeyAuth"} {
		if doc.Components.SecuritySchemes[name] == nil {
			t.Errorf("securitySchemes lacks %s", name)
		}
	}
	if s := doc.Components.SecuritySchemes["apiKeyAuth"].Value; s.In != "header" || s.Name != "X-API-Key" {
		t.Errorf("apiKeyAuth = %s %s, want header X-API-Key", s.In, s.Name)
	}
	for _, name := range []string{"ErrorBody", "Tier", "InvoiceList", "Event", "EventResult", "Usage", "MeterUsage", "Customer", "Product", "Plan", "SKU", "Subscription", "SubscriptionList", "BillRequest", "Invoice", "LineItem", "Health", "FaultLog"} {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("components/schemas lacks %s", name)
		}
	}
	faults := doc.Paths.Find("/sandbox/v1/faults")
	if faults == nil || faults.Get == nil || !slices.Contains(faults.Get.Tags, "sandbox") {
		t.Errorf("GET /sandbox/v1/faults is not documented under the sandbox tag")
	}
}

// TestOpenAPIPathsAreServedRoutes checks both directions: the document
// lists exactly the router's table, and every documented operation reaches
// a handler (no 404 "no route", no 405).
func TestOpenAPIPathsAreServedRoutes(t *testing.T) {
	e := start(t)
	doc := loadOpenAPI(t, e)
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	served := sandbox.Routes()
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("documented operations = %v\nserved routes = %v", documented, served)
	}
	for _, op := range documented {
		method, path, _ := strings.Cut(op, " ")
		path = strings.ReplaceAll(path, "{id}", "some-id")
		r := e.admin(method, path, "{}")
		if r.status == 405 || (r.status == 404 && strings.Contains(string(r.body), "no route")) {
			t.Errorf("%s %s = %s: documented but not routed", method, path, r)
		}
	}
}
