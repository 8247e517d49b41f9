package sandbox_test

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/sandbox"
)

func TestIdempotencyReplay(t *testing.T) {
	e := start(t, sandbox.Config{})
	acme := map[string]any{"display_name": "Acme"}

	first := e.admin("POST", "/admin/v1/customers", acme, "Idempotency-Key", "k1")
	again := e.admin("POST", "/admin/v1/customers", acme, "Idempotency-Key", "k1")
	if first.status != 201 || first.header.Get("X-Idempotency-Replayed") != "" {
		t.Fatalf("first POST = %s (replayed %q), want 201 not replayed", first, first.header.Get("X-Idempotency-Replayed"))
	}
	if again.status != 201 || string(again.body) != string(first.body) || again.header.Get("X-Idempotency-Replayed") != "true" {
		t.Errorf("replayed POST = %s (replayed %q), want %s with X-Idempotency-Replayed: true", again, again.header.Get("X-Idempotency-Replayed"), first)
	}
	if again.header.Get("X-Request-Id") == first.header.Get("X-Request-Id") {
		t.Errorf("replay reused X-Request-Id %q; want a fresh one per request", again.header.Get("X-Request-Id"))
	}

	tests := []struct {
		name, path string
		body       any
		key        string
		want       int
		code       string
		replayed   bool
	}{
		{"same key, other body", "/admin/v1/customers", map[string]any{"display_name": "Other"}, "k1", 409, "idempotency_key_reused", false},
		{"same key, other path", "/admin/v1/catalog/products", map[string]any{"name": "P"}, "k1", 201, "", false},
		{"4xx is recorded", "/admin/v1/customers", map[string]any{"email": "x@y"}, "k2", 422, "validation_failed", false},
		{"4xx is replayed", "/admin/v1/customers", map[string]any{"email": "x@y"}, "k2", 422, "validation_failed", true},
		{"400 is replayed too", "/admin/v1/customers", "{", "k3", 400, "invalid_json", false},
		{"400 replay", "/admin/v1/customers", "{", "k3", 400, "invalid_json", true},
	}
	for _, tt := range tests {
		r := e.admin("POST", tt.path, tt.body, "Idempotency-Key", tt.key)
		code, _, _ := r.err()
		replayed := r.header.Get("X-Idempotency-Replayed") == "true"
		if r.status != tt.want || code != tt.code || replayed != tt.replayed {
			t.Errorf("%s: POST %s key %s = %s (replayed %v), want %d %q (replayed %v)", tt.name, tt.path, tt.key, r, replayed, tt.want, tt.code, tt.replayed)
		}
	}
}

func TestIdempotencyAuthFailuresNotRecorded(t *testing.T) {
	e := start(t, sandbox.Config{})
	body := map[string]any{"display_name": "Acme"}
	if r := e.do("POST", "/admin/v1/customers", "", body, "Idempotency-Key", "k"); r.status != 401 {
		t.Fatalf("POST without key = %s, want 401", r)
	}
	if r := e.do("POST", "/admin/v1/customers", e.sb.CustomerToken, body, "Idempotency-Key", "k"); r.status != 403 {
		t.Fatalf("POST with customer key = %s, want 403", r)
	}
	r := e.admin("POST", "/admin/v1/customers", body, "Idempotency-Key", "k")
	if r.status != 201 || r.header.Get("X-Idempotency-Replayed") != "" {
		t.Errorf("POST with admin key after 401/403 = %s (replayed %q), want a fresh 201", r, r.header.Get("X-Idempotency-Replayed"))
	}
}

func TestIdempotencyExpiresAfter24h(t *testing.T) {
	e := start(t, sandbox.Config{})
	if r := e.admin("POST", "/admin/v1/customers", map[string]any{"display_name": "A"}, "Idempotency-Key", "day"); r.status != 201 {
		t.Fatalf("first POST = %s, want 201", r)
	}
	e.clock.Add(24*time.Hour - time.Second)
	if r := e.admin("POST", "/admin/v1/customers", map[string]any{"display_name": "B"}, "Idempotency-Key", "day"); r.status != 409 {
		t.Errorf("other body at 23:59:59 = %s, want 409 (key still held)", r)
	}
	e.clock.Add(time.Second)
	r := e.admin("POST", "/admin/v1/customers", map[string]any{"display_name": "B"}, "Idempotency-Key", "day")
	if r.status != 201 || r.header.Get("X-Idempotency-Replayed") != "" {
		t.Errorf("other body at 24:00:00 = %s, want a fresh 201 (key expired)", r)
	}
}

func TestIdempotencyInProgress(t *testing.T) {
	// Latency runs while the key is held, so of two concurrent requests
	// with the same key one is in flight when the other arrives. If the
	// machine is so slow that the second starts after the first finished,
	// it is a replay: try again with a fresh key.
	e := start(t, sandbox.Config{Latency: sandbox.Latency{Min: 300 * time.Millisecond, Max: 300 * time.Millisecond}})
	for attempt := range 5 {
		key := "inflight-" + strconv.Itoa(attempt)
		var wg sync.WaitGroup
		replies := make([]reply, 2)
		for i := range replies {
			wg.Go(func() {
				replies[i] = e.admin("POST", "/admin/v1/customers", map[string]any{"display_name": "A"}, "Idempotency-Key", key)
			})
		}
		wg.Wait()
		counts := map[string]int{}
		for _, r := range replies {
			code, _, _ := r.err()
			counts[strconv.Itoa(r.status)+code]++
		}
		if counts["201"] == 1 && counts["409idempotency_request_in_progress"] == 1 {
			return
		}
		if counts["201"] != 2 {
			t.Fatalf("two concurrent POSTs with one key = %v, want one 201 and one 409 idempotency_request_in_progress", replies)
		}
	}
	t.Fatal("the two requests never overlapped in 5 attempts")
}

// The same JSON re-serialized under one key is the same request: members
// in another order, other whitespace and escapes of the same characters
// replay the first answer; another value is a 409. A replayed error names
// one request in its body and its X-Request-Id header.
func TestIdempotencyComparesMeaning(t *testing.T) {
	e := start(t, sandbox.Config{})
	first := e.admin("POST", "/admin/v1/customers", `{"display_name":"Acme","email":"a@acme.test"}`, "Idempotency-Key", "c1")
	if first.status != 201 {
		t.Fatalf("first POST = %s, want 201", first)
	}
	for _, body := range []string{
		"{ \"email\" : \"a@acme.test\",\n  \"display_name\": \"Acme\" }",
		`{"display_name":"\u0041cme","email":"a@acme.test"}`,
	} {
		r := e.admin("POST", "/admin/v1/customers", body, "Idempotency-Key", "c1")
		if r.status != 201 || r.header.Get("X-Idempotency-Replayed") != "true" || string(r.body) != string(first.body) {
			t.Errorf("POST %s under the same key = %s (replayed %q), want the first answer replayed", body, r, r.header.Get("X-Idempotency-Replayed"))
		}
	}
	for _, body := range []string{
		`{"display_name":"Acme","email":"b@acme.test"}`,
		`{"display_name":"Acme","email":"a@acme.test","currency":"USD"}`,
		`[{"display_name":"Acme","email":"a@acme.test"}]`,
	} {
		if r := e.admin("POST", "/admin/v1/customers", body, "Idempotency-Key", "c1"); r.status != 409 {
			t.Errorf("POST %s under the same key = %s, want 409", body, r)
		}
	}

	bad := e.admin("POST", "/admin/v1/customers", `{"email":"x@y"}`, "Idempotency-Key", "c2")
	again := e.admin("POST", "/admin/v1/customers", `{ "email": "x@y" }`, "Idempotency-Key", "c2")
	_, _, id := bad.err()
	_, _, againID := again.err()
	if bad.status != 422 || again.status != 422 || again.header.Get("X-Idempotency-Replayed") != "true" {
		t.Fatalf("invalid POST then its replay = %s, %s; want 422 twice, the second replayed", bad, again)
	}
	if againID != id || again.header.Get("X-Request-Id") != againID {
		t.Errorf("replayed error: body request_id %q (first %q), X-Request-Id %q; want all three equal", againID, id, again.header.Get("X-Request-Id"))
	}
}
