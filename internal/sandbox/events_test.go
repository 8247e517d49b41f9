package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/sandbox"
)

func TestEventAcceptedThenDuplicate(t *testing.T) {
	e := start(t)
	f := e.fixture()
	body := ev("evt-1", "api.request", f.customer, t0, nil)

	tests := []struct {
		name string
		body any
		hdr  []string
		want int
		resp string
	}{
		{"first", body, nil, 202, `{"accepted":true,"event_id":"evt-1"}`},
		{"again, no key", body, nil, 200, `{"accepted":false,"event_id":"evt-1","duplicate":true}`},
		{"again, a key", body, []string{"Idempotency-Key", "k-1"}, 200, `{"accepted":false,"event_id":"evt-1","duplicate":true}`},
		{"again, another key", body, []string{"Idempotency-Key", "k-2"}, 200, `{"accepted":false,"event_id":"evt-1","duplicate":true}`},
		{"same id, other body", ev("evt-1", "llm.completion", f.customer, t0, map[string]any{"input_tokens": 5}), nil, 200, `{"accepted":false,"event_id":"evt-1","duplicate":true}`},
	}
	for _, tt := range tests {
		r := e.send(tt.body, tt.hdr...)
		if r.status != tt.want || string(r.body) != tt.resp {
			t.Errorf("%s: POST /v1/events = %s, want %d %s", tt.name, r, tt.want, tt.resp)
		}
	}
	if got := e.usage(f.sub, time.Time{}, time.Time{})[f.calls]; got != "1" {
		t.Errorf("usage calls = %s, want 1", got)
	}
	if st := e.sb.Server.Stats(); st.EventsStored != 1 || st.Duplicates != 4 {
		t.Errorf("Stats() = %+v, want 1 stored, 4 duplicates", st)
	}
}

func TestEventIDsRememberedForever(t *testing.T) {
	e := start(t)
	f := e.fixture()
	body := ev("evt-old", "api.request", f.customer, t0, nil)
	if r := e.send(body, "Idempotency-Key", "evt-old"); r.status != 202 {
		t.Fatalf("first send = %s, want 202", r)
	}
	e.clock.Add(400 * 24 * time.Hour) // far beyond the 24 h idempotency window
	r := e.send(body, "Idempotency-Key", "evt-old")
	if r.status != 200 || r.header.Get("X-Idempotency-Replayed") != "" {
		t.Errorf("re-send after 400 days = %s (replayed %q), want 200 duplicate, not a replay", r, r.header.Get("X-Idempotency-Replayed"))
	}
}

func TestEventIDEscaping(t *testing.T) {
	e := start(t)
	f := e.fixture()
	for _, id := range []string{`quote"back\slash`, "ünïcødé-✓", "tab\tnew\nline", "<script>&"} {
		r := e.send(ev(id, "api.request", f.customer, t0, nil))
		var res struct {
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal(r.body, &res); err != nil || r.status != 202 || res.EventID != id {
			t.Errorf("POST event id %q = %s, want 202 echoing the id (decode err %v)", id, r, err)
		}
	}
	// An escaped id and its literal form are the same id.
	raw := `{"id":"\u0061bc","event_type":"api.request","customer_id":"` + f.customer + `","timestamp":"2026-02-01T00:00:00Z"}`
	e.send(ev("abc", "api.request", f.customer, t0, nil))
	if r := e.send(raw); r.status != 200 {
		t.Errorf(`POST id "\u0061bc" after "abc" = %s, want 200 duplicate`, r)
	}
}

func TestEventValidation(t *testing.T) {
	e := start(t)
	f := e.fixture()
	other := e.customer("Other")
	otherSub := e.subscribe(other, f.plan)
	ts := "2026-02-01T00:00:00Z"
	obj := func(kv string) string {
		return `{"id":"v1","event_type":"api.request","customer_id":"` + f.customer + `","timestamp":"` + ts + `"` + kv + `}`
	}
	without := func(field string) string {
		m := map[string]any{"id": "v1", "event_type": "api.request", "customer_id": f.customer, "timestamp": ts}
		delete(m, field)
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct {
		name, body, field string
	}{
		{"id missing", without("id"), "id"},
		{"id empty", strings.Replace(obj(""), `"id":"v1"`, `"id":""`, 1), "id"},
		{"id number", strings.Replace(obj(""), `"id":"v1"`, `"id":7`, 1), "id"},
		{"id null", strings.Replace(obj(""), `"id":"v1"`, `"id":null`, 1), "id"},
		{"event_type missing", without("event_type"), "event_type"},
		{"event_type object", strings.Replace(obj(""), `"event_type":"api.request"`, `"event_type":{}`, 1), "event_type"},
		{"customer_id missing", without("customer_id"), "customer_id"},
		{"customer_id unknown", strings.Replace(obj(""), f.customer, "cus_nope", 1), "customer_id"},
		{"subscription_id unknown", obj(`,"subscription_id":"sub_nope"`), "subscription_id"},
		{"subscription_id of another customer", obj(`,"subscription_id":"` + otherSub + `"`), "subscription_id"},
		{"subscription_id empty", obj(`,"subscription_id":""`), "subscription_id"},
		{"subscription_id number", obj(`,"subscription_id":12`), "subscription_id"},
		{"timestamp missing", without("timestamp"), "timestamp"},
		{"timestamp not RFC 3339", strings.Replace(obj(""), ts, "yesterday", 1), "timestamp"},
		{"timestamp without zone", strings.Replace(obj(""), ts, "2026-02-01T00:00:00", 1), "timestamp"},
		{"timestamp impossible date", strings.Replace(obj(""), ts, "2026-02-30T00:00:00Z", 1), "timestamp"},
		{"timestamp out of range", strings.Replace(obj(""), ts, "9999-01-01T00:00:00Z", 1), "timestamp"},
		{"timestamp number", strings.Replace(obj(""), `"`+ts+`"`, "1767225600", 1), "timestamp"},
		{"properties array", obj(`,"properties":[1,2]`), "properties"},
		{"properties string", obj(`,"properties":"{}"`), "properties"},
		{"body array", `[{"id":"v1"}]`, ""},
		{"body string", `"event"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.send(tt.body)
			if !r.is(422, "validation_failed", tt.field) {
				t.Errorf("POST %s = %s, want 422 validation_failed field %q", tt.body, r, tt.field)
			}
		})
	}
	// Accepted variants: optional fields null, offsets, fractions, unknown fields.
	for i, body := range []string{
		obj(`,"subscription_id":null,"properties":null`),
		obj(`,"properties":{},"extra":[1,{"a":null}]`),
		strings.Replace(obj(""), ts, "2026-02-01T01:00:00.123456789+01:00", 1),
		strings.Replace(obj(""), ts, "2026-02-01T00:00:00.5Z", 1),
	} {
		body = strings.Replace(body, `"id":"v1"`, `"id":"ok-`+string(rune('a'+i))+`"`, 1)
		if r := e.send(body); r.status != 202 {
			t.Errorf("POST %s = %s, want 202", body, r)
		}
	}
}

func TestEventMalformedJSON(t *testing.T) {
	e := start(t)
	for _, body := range []string{
		"", " ", "{", `{"id":`, "not json", `{"id":"a",}`, `{"id":"a"} x`, `{'id':'a'}`,
		`{"a":1e}`, `{"a":tru}`, `{"a":"\x"}`, `{"a":01}`, `{"a":-}`, `{"a" 1}`, `{"id":"a"}}`,
		"{\"a\":\"\x01\"}", `{"a":[1,]}`, strings.Repeat("[", 10000),
		// Malformed after a field with the wrong type is still a 400.
		`{"id":5, "x":}`,
	} {
		r := e.send(body)
		if code, _, _ := r.err(); r.status != 400 || code != "invalid_json" {
			t.Errorf("POST %q = %s, want 400 invalid_json", body, r)
		}
	}
}

func TestEventBodyLimit(t *testing.T) {
	e := start(t)
	f := e.fixture()
	valid, _ := json.Marshal(ev("big-ok", "api.request", f.customer, t0, nil))
	exact := append(valid, bytes.Repeat([]byte(" "), 1<<20-len(valid))...)
	tests := []struct {
		name    string
		body    []byte
		chunked bool
		want    int
	}{
		{"exactly 1 MiB", exact, false, 202},
		{"1 MiB + 1", append(exact, ' '), false, 413},
		{"2 MiB chunked", bytes.Repeat([]byte(" "), 2<<20), true, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rd io.Reader = bytes.NewReader(tt.body)
			if tt.chunked {
				rd = io.MultiReader(rd) // hides the length: sent chunked
			}
			req, _ := http.NewRequest("POST", e.sb.URL+"/v1/events", rd)
			req.Header.Set("Authorization", "Bearer "+e.sb.AdminToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := e.client.Do(req)
			if err != nil {
				t.Fatalf("POST %d bytes: %v", len(tt.body), err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			r := reply{status: resp.StatusCode, body: b}
			if code, _, _ := r.err(); r.status != tt.want || (tt.want == 413 && code != "body_too_large") {
				t.Errorf("POST %d bytes = %s, want %d", len(tt.body), r, tt.want)
			}
		})
	}
}

func TestEventAttribution(t *testing.T) {
	e := start(t)
	cust := e.customer("Two subs")
	plan := e.plan("Plan")
	calls := e.sku(plan, "calls", "1", map[string]any{"meter_event_type": "api.request"})
	first := e.subscribe(cust, plan)
	second := e.subscribe(cust, plan)
	lonely := e.customer("No subs")

	send := func(id, sub, customer string) {
		t.Helper()
		b := ev(id, "api.request", customer, t0, nil)
		if sub != "" {
			b["subscription_id"] = sub
		}
		if r := e.send(b); r.status != 202 {
			t.Fatalf("POST %s = %s, want 202", id, r)
		}
	}
	send("a1", "", cust)     // no subscription_id: the first subscription
	send("a2", second, cust) // named
	send("a3", first, cust)  // named
	send("a4", "", lonely)   // stored, counts toward nothing
	later := e.subscribe(lonely, plan)

	for _, tt := range []struct {
		sub, want string
	}{{first, "2"}, {second, "1"}, {later, "0"}} {
		if got := e.usage(tt.sub, time.Time{}, time.Time{})[calls]; got != tt.want {
			t.Errorf("usage(%s) calls = %s, want %s", tt.sub, got, tt.want)
		}
	}
	if got := e.sb.Server.Stats().EventsStored; got != 4 {
		t.Errorf("Stats().EventsStored = %d, want 4", got)
	}
}

func TestIdempotencyReplay(t *testing.T) {
	e := start(t)
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
	e := start(t)
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
	e := start(t)
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
	e := start(t)
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
