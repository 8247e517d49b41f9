package billing

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// wire is what a server saw of one request.
type wire struct {
	method, target, host, body string
	header                     map[string]string
}

// Both senders put the same request on the wire: method, the base URL's
// path prefix before the call's path, query, body and headers, whichever
// transport the client picked.
func TestSendersAgreeOnTheWire(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []wire
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h := map[string]string{}
		for _, k := range []string{"User-Agent", "Accept", "Authorization", "Content-Type", "Idempotency-Key"} {
			h[k] = r.Header.Get(k)
		}
		mu.Lock()
		seen = append(seen, wire{method: r.Method, target: r.URL.RequestURI(), host: r.Host, body: string(b), header: h})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, `{"accepted":true,"event_id":"ev-1","duplicate":false}`)
			return
		}
		_, _ = io.WriteString(w, `{"subscription_id":"sub-1","period_start":"2026-10-01T00:00:00Z","period_end":"2026-11-01T00:00:00Z","meters":[]}`)
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL)

	calls := func(t *testing.T, net bool) []wire {
		t.Helper()
		mu.Lock()
		seen = nil
		mu.Unlock()
		c, err := New(Config{BaseURL: srv.URL + "/api/", Token: "bsk_test_wire", UserAgent: "billharness-test/1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, isNet := c.snd.(*netSender); isNet {
			t.Fatalf("a direct base URL picked net/http")
		}
		if net {
			c.snd = newNetSender(c.cfg, c.base, newTransport(c.cfg))
		}
		ctx := context.Background()
		ts := time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)
		if _, err := c.SendEvent(ctx, Event{ID: "ev-1", EventType: "api.request", CustomerID: "cus-1", Timestamp: ts, Properties: []byte(`{"n":1}`)}); err != nil {
			t.Fatalf("SendEvent: %v", err)
		}
		if _, err := c.Usage(ctx, "sub-1", ts, ts.Add(time.Hour)); err != nil {
			t.Fatalf("Usage: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		return append([]wire(nil), seen...)
	}
	fast, slow := calls(t, false), calls(t, true)
	if len(fast) != 2 || len(slow) != 2 {
		t.Fatalf("requests seen: fasthttp %d, net/http %d, want 2 each", len(fast), len(slow))
	}
	post, get := fast[0], fast[1]
	if post.method != "POST" || post.target != "/api/v1/events" || post.host != base.Host ||
		post.header["Authorization"] != "Bearer bsk_test_wire" || post.header["User-Agent"] != "billharness-test/1" ||
		post.header["Accept"] != "application/json" || post.header["Content-Type"] != "application/json" ||
		post.header["Idempotency-Key"] != "ev-1" || !strings.Contains(post.body, `"properties":{"n":1}`) {
		t.Errorf("fasthttp POST = %+v", post)
	}
	if get.method != "GET" || !strings.HasPrefix(get.target, "/api/v1/subscriptions/sub-1/usage?") || get.body != "" ||
		get.header["Authorization"] != "Bearer bsk_test_wire" || get.header["Idempotency-Key"] != "" {
		t.Errorf("fasthttp GET = %+v", get)
	}
	for i := range fast {
		f, s := fast[i], slow[i]
		if f.method != s.method || f.target != s.target || f.host != s.host || f.body != s.body {
			t.Errorf("request %d: fasthttp %+v, net/http %+v", i, f, s)
		}
		for k, v := range f.header {
			if s.header[k] != v {
				t.Errorf("request %d header %s: fasthttp %q, net/http %q", i, k, v, s.header[k])
			}
		}
	}
}
