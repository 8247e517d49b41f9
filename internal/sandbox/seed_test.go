package sandbox_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/sandbox"
)

func TestLoadSeedFile(t *testing.T) {
	data, err := sandbox.LoadSeedFile("testdata/seed.json")
	if err != nil {
		t.Fatalf("LoadSeedFile(testdata/seed.json) = %v", err)
	}
	e := start(t, sandbox.Config{Data: data})
	const cust, sub, tokens = "01944b1f-0000-7000-8000-000000000001", "01944b1f-0000-7000-8000-000000000003", "01944b1f-0000-7000-8000-0000000000c1"
	var s subscriptionView
	e.must(200, &s, "GET", "/v1/subscriptions/"+sub, nil)
	if s.Status != "Active" {
		t.Errorf("seeded subscription status = %s, want Active", s.Status)
	}
	e.send(ev("seeded-1", "llm.completion", cust, t0, map[string]any{"input_tokens": 512}))
	u := e.usage(sub, time.Time{}, time.Time{})
	if len(u) != 2 || u[tokens] != "512" {
		t.Errorf("usage of the seeded subscription = %v, want 2 meters with %s = 512", u, tokens)
	}
}

func TestLoadSeedFileErrors(t *testing.T) {
	tests := []struct {
		name, content string
		want          []string
	}{
		{"syntax", "{\n  \"customers\": [\n    {\"display_name\": }\n  ]\n}", []string{"bad.json", "line 3"}},
		{"unknown key", `{"skuz": []}`, []string{"bad.json", `unknown field "skuz"`}},
		{"trailing data", `{} {}`, []string{"bad.json", "after the top-level object"}},
		{"bad entries, all reported", `{
			"customers": [{"id": "c1", "display_name": "A"}, {"id": "c1", "display_name": "B"}],
			"plans": [{"id": "p1", "name": "P"}],
			"skus": [{"plan_id": "p1", "name": "ok", "unit_amount_nanos": "1"},
			         {"plan_id": "p9", "name": "Tokens", "unit_amount_nanos": "1"},
			         {"plan_id": "p1", "name": "Avg", "unit_amount_nanos": "1", "meter_event_type": "e", "meter_property": "p", "aggregation": "Avg"}],
			"subscriptions": [{"id": "s1", "customer_id": "c2", "plan_id": "p1"}]}`,
			[]string{"bad.json", `customers[1] "B": id: id c1 is already used`, `skus[1] "Tokens": plan_id: no plan p9`, `skus[2] "Avg": aggregation`, `subscriptions[0] "s1": customer_id: no customer c2`}},
		{"bad money", `{"skus": [{"plan_id": "p", "name": "x", "unit_amount_nanos": "1.5"}]}`, []string{"bad.json", "1.5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := sandbox.LoadSeedFile(path)
			if err == nil {
				t.Fatalf("LoadSeedFile(%s) = nil error, want one mentioning %q", tt.name, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("LoadSeedFile error = %q, want it to mention %q", err, w)
				}
			}
		})
	}
	if _, err := sandbox.LoadSeedFile(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("LoadSeedFile(missing) = %v, want an error naming the file", err)
	}
}

func TestNewRejectsBadSeedData(t *testing.T) {
	if _, err := sandbox.New(sandbox.Config{AdminToken: "a", Data: &sandbox.SeedData{}}); err != nil {
		t.Fatalf("New with empty seed data = %v, want nil", err)
	}
	_, err := sandbox.New(sandbox.Config{AdminToken: "a", Data: &sandbox.SeedData{
		Subscriptions: []billing.Subscription{{CustomerID: "nobody", PlanID: "nothing"}},
	}})
	if err == nil || !strings.Contains(err.Error(), "subscriptions[0]") {
		t.Errorf("New with a dangling subscription = %v, want an error naming subscriptions[0]", err)
	}
}
