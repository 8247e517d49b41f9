package sandbox_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/billharness/billharness/internal/sandbox"
)

// What generated clients and HTTP tooling expect of the protocol.
func TestProtocolHeadAuthAndMediaTypes(t *testing.T) {
	e := start(t, sandbox.Config{})
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
