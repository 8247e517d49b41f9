package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/billing"
)

// FuzzEventHandler feeds arbitrary bodies to POST /v1/events. The server
// must never panic, must answer one of the documented statuses with a JSON
// body, must agree with encoding/json on what is malformed, and must echo
// the event id it decoded.
func FuzzEventHandler(f *testing.F) {
	for _, seed := range []string{
		`{"id":"e1","event_type":"api.request","customer_id":"cus_1","timestamp":"2026-02-28T14:22:01Z"}`,
		`{"id":"e2","event_type":"llm.completion","customer_id":"cus_1","subscription_id":"sub_1","timestamp":"2026-02-28T14:22:01.5+01:00","properties":{"input_tokens":"12.5","x":[1,{"y":null}]}}`,
		`{"id":"\u00e9\"","event_type":"t","customer_id":"cus_1","timestamp":"2026-02-28T14:22:01Z","properties":null}`,
		`{"id":5}`, `[]`, `{`, ``, `{"id":"a","id":"b"}`,
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2026, 2, 15, 0, 0, 0, 0, time.UTC)
	cfg := Config{AdminToken: "bsk_test_fuzz", Now: func() time.Time { return now }, DropRate: 0.1, DoubleRate: 0.1, Data: &SeedData{
		Customers:     []billing.Customer{{ID: "cus_1", DisplayName: "Fuzz"}},
		Plans:         []billing.Plan{{ID: "plan_1", Name: "P"}},
		SKUs:          []billing.SKU{{PlanID: "plan_1", Name: "s", MeterEventType: "llm.completion", MeterProperty: "input_tokens"}},
		Subscriptions: []billing.Subscription{{ID: "sub_1", CustomerID: "cus_1", PlanID: "plan_1"}},
	}}
	f.Fuzz(func(t *testing.T, body []byte) {
		// A fresh server per input keeps every run reproducible from its
		// input alone.
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("POST", "/v1/events", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer bsk_test_fuzz")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		out := rec.Body.Bytes()
		if !json.Valid(out) {
			t.Fatalf("POST %q answered a non-JSON body %q", body, out)
		}
		switch status := rec.Code; status {
		case 200, 202, 422:
			if !json.Valid(body) {
				t.Fatalf("POST %q = %d, want 400: encoding/json rejects it", body, status)
			}
		case 400:
			if json.Valid(body) {
				t.Fatalf("POST %q = 400 %s, but encoding/json accepts it", body, out)
			}
		case 413:
		default:
			t.Fatalf("POST %q = %d %s, want 200, 202, 400, 413 or 422", body, status, out)
		}
		if rec.Code == 200 || rec.Code == 202 {
			var in struct {
				ID string `json:"id"`
			}
			var res billing.EventResult
			_ = json.Unmarshal(body, &in)
			if err := json.Unmarshal(out, &res); err != nil || res.EventID != in.ID {
				t.Fatalf("POST %q answered event_id %q, want %q", body, res.EventID, in.ID)
			}
		}
		// Usage over the stored events must not panic either.
		ureq := httptest.NewRequest("GET", "/v1/subscriptions/sub_1/usage", nil)
		ureq.Header.Set("Authorization", "Bearer bsk_test_fuzz")
		urec := httptest.NewRecorder()
		s.ServeHTTP(urec, ureq)
		if urec.Code != 200 {
			t.Fatalf("GET usage after POST %q = %d %s", body, urec.Code, urec.Body)
		}
	})
}
