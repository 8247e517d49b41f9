package sandbox_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/billharness/billharness/internal/sandbox"
)

func TestUsageAggregations(t *testing.T) {
	e := start(t)
	cust := e.customer("Acme")
	plan := e.plan("Pro")
	sku := func(name string, f map[string]any) string { return e.sku(plan, name, "1", f) }
	calls := sku("calls", map[string]any{"meter_event_type": "api.request"})
	callsWithProp := sku("calls (prop)", map[string]any{"meter_event_type": "api.request", "meter_property": "user", "aggregation": "Count"})
	users := sku("users", map[string]any{"meter_event_type": "api.request", "meter_property": "user", "aggregation": "UniqueCount"})
	tokens := sku("tokens", map[string]any{"meter_event_type": "llm.completion", "meter_property": "input_tokens"})
	peak := sku("peak", map[string]any{"meter_event_type": "llm.completion", "meter_property": "concurrency", "aggregation": "Max"})
	idle := sku("idle", map[string]any{"meter_event_type": "never.sent"})
	sku("flat fee", nil) // not a meter: absent from usage
	sub := e.subscribe(cust, plan)

	feb, mar := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	send := func(typ string, ts time.Time, props string) {
		t.Helper()
		n++
		body := fmt.Sprintf(`{"id":"u-%d","event_type":%q,"customer_id":%q,"timestamp":%q,"properties":%s}`,
			n, typ, cust, ts.Format(time.RFC3339Nano), props)
		if r := e.send(body); r.status != 202 {
			t.Fatalf("POST %s = %s, want 202", body, r)
		}
	}
	in := feb.Add(24 * time.Hour)
	// The window is half-open: from is in, to is out.
	send("api.request", feb, `{"user":"u1"}`)
	send("api.request", mar.Add(-time.Nanosecond), `{"user":"u1"}`)
	send("api.request", mar, `{"user":"late"}`)
	send("api.request", feb.Add(-time.Nanosecond), `{"user":"early"}`)
	// UniqueCount: by raw JSON text, strings by value; null and composites do not count.
	for _, v := range []string{`"\u0075\u0031"`, `1`, `"1"`, `1.0`, `true`, `null`, `{"a":1}`, `[1]`} {
		send("api.request", in, `{"user":`+v+`}`)
	}
	send("api.request", in, `{}`)
	// Sum: numbers and numeric strings, exact; others contribute nothing.
	for _, v := range []string{`100`, `"250"`, `"12.5"`, `1e3`, `"abc"`, `true`, `null`, `"1/3"`, `9223372036854775807`, `{"n":1}`} {
		send("llm.completion", in, `{"input_tokens":`+v+`}`)
	}
	send("llm.completion", in, `{"other":5}`)
	// Max: the largest number or numeric string.
	for _, v := range []string{`5`, `"7"`, `3.5`, `-1`, `"x"`} {
		send("llm.completion", in, `{"concurrency":`+v+`}`)
	}

	want := map[string]string{
		calls:         "11", // 2 in-window + 8 UniqueCount probes + 1 without property
		callsWithProp: "11", // Count ignores the property
		users:         "5",  // "u1", 1, "1", 1.0, true
		tokens:        "9223372036854777169.5",
		peak:          "7",
		idle:          "0",
	}
	if diff := cmp.Diff(want, e.usage(sub, feb, mar)); diff != "" {
		t.Errorf("usage [feb, mar) mismatch (-want +got):\n%s", diff)
	}
	// The default window is the current billing period: February (t0).
	if diff := cmp.Diff(want, e.usage(sub, time.Time{}, time.Time{})); diff != "" {
		t.Errorf("usage default window mismatch (-want +got):\n%s", diff)
	}
	wantLast := map[string]string{calls: "2", callsWithProp: "2", users: "2", tokens: "0", peak: "0", idle: "0"}
	if diff := cmp.Diff(wantLast, e.usage(sub, mar.Add(-time.Nanosecond), mar.Add(time.Hour))); diff != "" {
		t.Errorf("usage [mar-1ns, mar+1h) mismatch (-want +got):\n%s", diff)
	}
}

func TestUsageResponseShape(t *testing.T) {
	e := start(t)
	f := e.fixture()
	e.send(ev("s1", "llm.completion", f.customer, t0, map[string]any{"input_tokens": 1234567}))
	var got map[string]any
	e.must(200, &got, "GET", "/v1/subscriptions/"+f.sub+"/usage", nil)
	wantJSON := fmt.Sprintf(`{"subscription_id":%q,"customer_id":%q,
		"period_start":"2026-02-01T00:00:00Z","period_end":"2026-03-01T00:00:00Z",
		"meters":[
		 {"sku_id":%q,"name":"API calls","event_type":"api.request","aggregation":"Count","quantity":"0"},
		 {"sku_id":%q,"name":"Input tokens","event_type":"llm.completion","property":"input_tokens","aggregation":"Sum","quantity":"1234567"}]}`,
		f.sub, f.customer, f.calls, f.tokens)
	var want map[string]any
	if err := json.Unmarshal([]byte(wantJSON), &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GET usage mismatch (-want +got):\n%s", diff)
	}
}

func TestUsageBadQuery(t *testing.T) {
	e := start(t)
	f := e.fixture()
	base := "/v1/subscriptions/" + f.sub + "/usage"
	tests := []struct {
		query       string
		status      int
		code, field string
	}{
		{"?from=yesterday", 422, "validation_failed", "from"},
		{"?to=2026-02-30T00:00:00Z", 422, "validation_failed", "to"},
		{"?from=2026-02-01T00:00:00Z&to=2026-02-01T00:00:00Z", 422, "validation_failed", "to"},
		{"?from=2026-03-01T00:00:00Z&to=2026-02-01T00:00:00Z", 422, "validation_failed", "to"},
		{"?from=2026-03-05T00:00:00Z", 422, "validation_failed", "to"}, // after the default to
		{"?from=2026-01-01T00:00:00%2B01:00", 200, "", ""},
	}
	for _, tt := range tests {
		r := e.admin("GET", base+tt.query, nil)
		if !r.is(tt.status, tt.code, tt.field) {
			t.Errorf("GET usage%s = %s, want %d %q field %q", tt.query, r, tt.status, tt.code, tt.field)
		}
	}
	if r := e.admin("GET", "/v1/subscriptions/nope/usage", nil); r.status != 404 {
		t.Errorf("GET usage of unknown subscription = %s, want 404", r)
	}
}

func TestUsageLag(t *testing.T) {
	e := start(t, sandbox.Config{UsageLag: time.Minute})
	f := e.fixture()
	if r := e.send(ev("lag-1", "api.request", f.customer, t0, nil)); r.status != 202 {
		t.Fatalf("POST = %s, want 202", r)
	}
	steps := []struct {
		advance time.Duration
		want    string
	}{{0, "0"}, {59 * time.Second, "0"}, {time.Second, "1"}}
	for _, st := range steps {
		e.clock.Add(st.advance)
		if got := e.usage(f.sub, time.Time{}, time.Time{})[f.calls]; got != st.want {
			t.Errorf("usage calls %v after acceptance = %s, want %s", e.clock.Now().Sub(t0), got, st.want)
		}
	}
}

func TestUsageLagAppliesToBilling(t *testing.T) {
	e := start(t, sandbox.Config{UsageLag: time.Hour})
	f := e.fixture()
	e.send(ev("lag-bill", "api.request", f.customer, t0, nil))
	quantity := func(status int, start, end string) string {
		var inv struct {
			LineItems []struct {
				SKUID    string `json:"sku_id"`
				Quantity string `json:"quantity"`
			} `json:"line_items"`
		}
		e.must(status, &inv, "POST", "/admin/v1/subscriptions/"+f.sub+"/bill", map[string]any{"period_start": start, "period_end": end})
		for _, li := range inv.LineItems {
			if li.SKUID == f.calls {
				return li.Quantity
			}
		}
		return "missing"
	}
	if got := quantity(201, "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"); got != "0" {
		t.Errorf("billed calls before the lag = %s, want 0", got)
	}
	e.clock.Add(time.Hour)
	// The Draft is priced again: the event is now visible.
	if got := quantity(200, "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"); got != "1" {
		t.Errorf("billed calls after the lag = %s, want 1", got)
	}
}
