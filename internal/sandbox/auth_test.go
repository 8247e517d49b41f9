package sandbox_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/billharness/billharness/internal/sandbox"
)

func TestAuth(t *testing.T) {
	e := start(t)
	admin, cust := e.sb.AdminToken, e.sb.CustomerToken
	tests := []struct {
		name         string
		method, path string
		hdr          []string
		want         int
		wantCode     string
	}{
		{"no key", "GET", "/v1/subscriptions", nil, 401, "unauthorized"},
		{"wrong key", "GET", "/v1/subscriptions", []string{"Authorization", "Bearer bsk_test_nope"}, 401, "unauthorized"},
		{"admin key as prefix", "GET", "/v1/subscriptions", []string{"Authorization", "Bearer " + admin[:len(admin)-1]}, 401, "unauthorized"},
		{"not bearer", "GET", "/v1/subscriptions", []string{"Authorization", "Basic " + admin}, 401, "unauthorized"},
		{"empty bearer", "GET", "/v1/subscriptions", []string{"Authorization", "Bearer "}, 401, "unauthorized"},
		{"admin bearer", "GET", "/v1/subscriptions", []string{"Authorization", "Bearer " + admin}, 200, ""},
		{"lowercase scheme", "GET", "/v1/subscriptions", []string{"Authorization", "bearer " + admin}, 200, ""},
		{"admin X-API-Key", "GET", "/v1/subscriptions", []string{"X-API-Key", admin}, 200, ""},
		{"customer on /v1", "GET", "/v1/subscriptions", []string{"Authorization", "Bearer " + cust}, 200, ""},
		{"customer X-API-Key on /v1", "GET", "/v1/subscriptions", []string{"X-API-Key", cust}, 200, ""},
		{"customer on /admin", "POST", "/admin/v1/customers", []string{"Authorization", "Bearer " + cust}, 403, "forbidden"},
		{"customer X-API-Key on /admin", "POST", "/admin/v1/customers", []string{"X-API-Key", cust}, 403, "forbidden"},
		{"customer on /sandbox", "GET", "/sandbox/v1/faults", []string{"X-API-Key", cust}, 403, "forbidden"},
		{"no key on /admin", "POST", "/admin/v1/customers", nil, 401, "unauthorized"},
		{"health needs no key", "GET", "/health", nil, 200, ""},
		{"openapi needs no key", "GET", "/openapi.json", nil, 200, ""},
		{"unknown route", "GET", "/v2/nothing", nil, 404, "not_found"},
		{"wrong method", "DELETE", "/v1/events", []string{"Authorization", "Bearer " + admin}, 405, "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, "", nil, tt.hdr...)
			if r.status != tt.want {
				t.Fatalf("%s %s = %s, want %d", tt.method, tt.path, r, tt.want)
			}
			rid := r.header.Get("X-Request-Id")
			if rid == "" {
				t.Errorf("%s %s: no X-Request-Id header", tt.method, tt.path)
			}
			if tt.wantCode == "" {
				return
			}
			code, _, bodyRID := r.err()
			if code != tt.wantCode {
				t.Errorf("%s %s error code = %q, want %q", tt.method, tt.path, code, tt.wantCode)
			}
			if bodyRID != rid {
				t.Errorf("%s %s error request_id = %q, want the X-Request-Id %q", tt.method, tt.path, bodyRID, rid)
			}
		})
	}
}

func TestMethodNotAllowedListsMethods(t *testing.T) {
	e := start(t)
	r := e.admin("PUT", "/v1/subscriptions", nil)
	if r.status != http.StatusMethodNotAllowed {
		t.Fatalf("PUT /v1/subscriptions = %s, want 405", r)
	}
	if got, want := r.header.Get("Allow"), "POST, GET, HEAD"; got != want {
		t.Errorf("Allow = %q, want %q", got, want)
	}
}

func TestRequestIDsAreUnique(t *testing.T) {
	e := start(t)
	seen := map[string]bool{}
	for range 20 {
		id := e.do("GET", "/health", "", nil).header.Get("X-Request-Id")
		if seen[id] {
			t.Fatalf("X-Request-Id %q repeated", id)
		}
		seen[id] = true
	}
}

func TestHealth(t *testing.T) {
	e := start(t, sandbox.Config{Version: "v1.2.3"})
	r := e.do("GET", "/health", "", nil)
	if got, want := string(r.body), `{"status":"ok","version":"v1.2.3"}`; r.status != 200 || got != want {
		t.Errorf("GET /health = %s, want 200 %s", r, want)
	}
	if got := r.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("GET /health Content-Type = %q, want application/json", got)
	}
}

// What generated clients and HTTP tooling expect of the protocol.
func TestProtocolHeadAuthAndMediaTypes(t *testing.T) {
	e := start(t)
	f := e.fixture()

	get := e.admin("GET", "/v1/subscriptions/"+f.sub, nil)
	head := e.admin("HEAD", "/v1/subscriptions/"+f.sub, nil)
	if head.status != 200 || len(head.body) != 0 || head.header.Get("Content-Type") != "application/json" ||
		head.header.Get("Content-Length") != get.header.Get("Content-Length") {
		t.Errorf("HEAD = %s %v, want 200, no body, GET's Content-Type and Content-Length (%s)", head, head.header, get.header.Get("Content-Length"))
	}
	if r := e.admin("HEAD", "/v1/events", nil); r.status != 405 {
		t.Errorf("HEAD on a POST route = %s, want 405", r)
	}

	r := e.do("GET", "/v1/subscriptions", "", nil)
	if r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer ") {
		t.Errorf("401 = %s, WWW-Authenticate %q; want a Bearer challenge", r, r.header.Get("WWW-Authenticate"))
	}

	body := `{"display_name":"Form"}`
	for _, c := range []struct {
		ct   string
		want int
	}{
		{"application/x-www-form-urlencoded", 415},
		{"text/plain", 415},
		{"", 415},
		{"application/json; charset=utf-8", 201},
		{"application/merge-patch+json", 201},
	} {
		req, _ := http.NewRequest("POST", e.sb.URL+"/admin/v1/customers", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.sb.AdminToken)
		if c.ct != "" {
			req.Header.Set("Content-Type", c.ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("POST with Content-Type %q = %d, want %d", c.ct, resp.StatusCode, c.want)
		}
	}
	// An empty body needs no Content-Type.
	if r := e.admin("POST", "/admin/v1/subscriptions/"+f.sub+"/bill", nil); r.status != 201 {
		t.Errorf("bill without a body = %s, want 201", r)
	}

	for accept, want := range map[string]int{"text/html": 406, "application/json;q=0": 406, "text/html, */*;q=0.1": 200, "application/*": 200} {
		r := e.admin("GET", "/v1/subscriptions", nil, "Accept", accept)
		if r.status != want {
			t.Errorf("Accept %q = %s, want %d", accept, r, want)
		}
	}
}
