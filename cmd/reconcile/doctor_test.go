package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
)

func TestDoctorAgainstSandbox(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Config{})
	code, out, errOut := runReconcile(t, map[string]string{"BILLING_TOKEN": sb.AdminToken}, "doctor", "-api-url", sb.URL)
	if code != 0 {
		t.Fatalf("doctor against the sandbox: exit %d, want 0\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "checks passed: the target matches the contract") || strings.Contains(out, "differs") {
		t.Errorf("doctor output does not report a clean target:\n%s", out)
	}
	if strings.Contains(out+errOut, sb.AdminToken) {
		t.Errorf("doctor printed the token")
	}
}

func TestDoctorCustomerToken(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Config{})
	code, out, _ := runReconcile(t, map[string]string{"BILLING_TOKEN": sb.CustomerToken}, "doctor", "-api-url", sb.URL)
	if code != 1 {
		t.Errorf("doctor with a customer-scope token: exit %d, want 1", code)
	}
	if !strings.Contains(out, "failed  [chosen]  token has admin scope") || !strings.Contains(out, "ok      [doc]     token works on /v1") {
		t.Errorf("doctor output does not tell the scopes apart:\n%s", out)
	}
}

// A target whose OpenAPI document lacks an operation and a field the
// harness relies on: doctor names both and exits 3.
func TestDoctorDifferingTarget(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Config{})
	u, _ := url.Parse(sb.URL)
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = func(r *http.Response) error {
		if r.Request.URL.Path != "/openapi.json" {
			return nil
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			return err
		}
		paths := doc["paths"].(map[string]any)
		delete(paths, "/v1/subscriptions")
		schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
		for name, s := range schemas {
			if props, ok := s.(map[string]any)["properties"].(map[string]any); ok {
				delete(props, "duplicate")
				switch name {
				case "SKUCreate": // a platform that prices PerUnit only
					props["pricing_model"].(map[string]any)["enum"] = []any{"PerUnit"}
				case "LineItem":
					delete(props, "tiers")
				}
			}
		}
		b, _ = json.Marshal(doc)
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		r.ContentLength = int64(len(b))
		r.Header.Del("Content-Length")
		return nil
	}
	target := httptest.NewServer(proxy)
	defer target.Close()
	code, out, _ := runReconcile(t, map[string]string{"BILLING_TOKEN": sb.AdminToken}, "doctor", "-api-url", target.URL)
	if code != 3 {
		t.Errorf("doctor against a differing target: exit %d, want 3\n%s", code, out)
	}
	for _, want := range []string{
		"differs  [chosen]  GET /v1/subscriptions exists — not in /openapi.json (used by verify)",
		"differs  [doc]     POST /v1/subscriptions exists — not in /openapi.json",
		"differs  [chosen]  POST /v1/events response fields: duplicate — missing duplicate",
		"missing pricing_model=Graduated|Volume|Package (used by sandbox seed, loadgen -setup (tiered pricing))",
		"missing line_items[].tiers[].up_to, line_items[].tiers[].unit_amount_nanos, line_items[].tiers[].flat_amount_nanos",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
}
