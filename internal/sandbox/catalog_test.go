package sandbox_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/billing"
)

func TestCatalogValidation(t *testing.T) {
	e := start(t)
	plan := e.plan("Pro")
	cust := e.customer("Acme")
	tests := []struct {
		name, path string
		body       any
		field      string
	}{
		{"customer without name", "/admin/v1/customers", map[string]any{"email": "a@b"}, "display_name"},
		{"customer bad email", "/admin/v1/customers", map[string]any{"display_name": "A", "email": "nope"}, "email"},
		{"customer bad currency", "/admin/v1/customers", map[string]any{"display_name": "A", "currency": "dollars"}, "currency"},
		{"customer name not a string", "/admin/v1/customers", map[string]any{"display_name": 5}, "display_name"},
		{"product without name", "/admin/v1/catalog/products", map[string]any{"description": "d"}, "name"},
		{"plan without name", "/admin/v1/catalog/plans", map[string]any{}, "name"},
		{"plan yearly", "/admin/v1/catalog/plans", map[string]any{"name": "P", "billing_cadence": "Yearly"}, "billing_cadence"},
		{"plan negative trial", "/admin/v1/catalog/plans", map[string]any{"name": "P", "trial_days": -1}, "trial_days"},
		{"plan trial as string", "/admin/v1/catalog/plans", map[string]any{"name": "P", "trial_days": "7"}, "trial_days"},
		{"plan unknown product", "/admin/v1/catalog/plans", map[string]any{"name": "P", "product_id": "nope"}, "product_id"},
		{"sku unknown plan", "/admin/v1/catalog/skus", map[string]any{"plan_id": "nope", "name": "s", "unit_amount_nanos": "1"}, "plan_id"},
		{"sku without plan", "/admin/v1/catalog/skus", map[string]any{"name": "s", "unit_amount_nanos": "1"}, "plan_id"},
		{"sku without name", "/admin/v1/catalog/skus", map[string]any{"plan_id": plan, "unit_amount_nanos": "1"}, "name"},
		{"sku tiered", "/admin/v1/catalog/skus", map[string]any{"plan_id": plan, "name": "s", "pricing_model": "Tiered", "unit_amount_nanos": "1"}, "pricing_model"},
		{"sku without price", "/admin/v1/catalog/skus", map[string]any{"plan_id": plan, "name": "s"}, "unit_amount_nanos"},
		{"sku fractional price", "/admin/v1/catalog/skus", map[string]any{"plan_id": plan, "name": "s", "unit_amount_nanos": "1.5"}, "unit_amount_nanos"},
		{"sku negative price", "/admin/v1/catalog/skus", map[string]any{"plan_id": plan, "name": "s", "unit_amount_nanos": "-1"}, "unit_amount_nanos"},
		{"sku price not a number", "/admin/v1/catalog/skus", map[string]any{"plan_id": plan, "name": "s", "unit_amount_nanos": "ten"}, "unit_amount_nanos"},
		{"sku price over 128 bits", "/admin/v1/catalog/skus", map[string]any{"plan_id": plan, "name": "s", "unit_amount_nanos": "1" + strings.Repeat("0", 40)}, "unit_amount_nanos"},
		{"sku unknown aggregation", "/admin/v1/catalog/skus", map[string]any{"plan_id": plan, "name": "s", "unit_amount_nanos": "1", "meter_event_type": "e", "meter_property": "p", "aggregation": "Avg"}, "aggregation"},
		{"sku aggregation in lower case", "/admin/v1/catalog/skus", map[string]any{"plan_id": plan, "name": "s", "unit_amount_nanos": "1", "meter_event_type": "e", "meter_property": "p", "aggregation": "sum"}, "aggregation"},
		{"sku Sum without property", "/admin/v1/catalog/skus", map[string]any{"plan_id": plan, "name": "s", "unit_amount_nanos": "1", "meter_event_type": "e", "aggregation": "Sum"}, "meter_property"},
		{"sku property without event type", "/admin/v1/catalog/skus", map[string]any{"plan_id": plan, "name": "s", "unit_amount_nanos": "1", "meter_property": "p"}, "meter_event_type"},
		{"sku aggregation without event type", "/admin/v1/catalog/skus", map[string]any{"plan_id": plan, "name": "s", "unit_amount_nanos": "1", "aggregation": "Count"}, "meter_event_type"},
		{"subscription unknown customer", "/v1/subscriptions", map[string]any{"customer_id": "nope", "plan_id": plan}, "customer_id"},
		{"subscription unknown plan", "/v1/subscriptions", map[string]any{"customer_id": cust, "plan_id": "nope"}, "plan_id"},
		{"subscription without plan", "/v1/subscriptions", map[string]any{"customer_id": cust}, "plan_id"},
		{"subscription negative trial", "/v1/subscriptions", map[string]any{"customer_id": cust, "plan_id": plan, "trial_days": -3}, "trial_days"},
		{"subscription bad currency", "/v1/subscriptions", map[string]any{"customer_id": cust, "plan_id": plan, "currency": "US"}, "currency"},
		{"body not an object", "/admin/v1/customers", []any{1}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.admin("POST", tt.path, tt.body)
			if !r.is(422, "validation_failed", tt.field) {
				t.Errorf("POST %s %v = %s, want 422 validation_failed field %q", tt.path, tt.body, r, tt.field)
			}
		})
	}
	for _, path := range []string{"/admin/v1/customers", "/admin/v1/catalog/products", "/admin/v1/catalog/plans", "/admin/v1/catalog/skus", "/v1/subscriptions"} {
		if r := e.admin("POST", path, `{"name":`); r.status != 400 {
			t.Errorf("POST %s malformed = %s, want 400", path, r)
		}
	}
}

func TestSKUDefaults(t *testing.T) {
	e := start(t)
	plan := e.plan("Pro")
	tests := []struct {
		fields map[string]any
		want   string
	}{
		{map[string]any{"meter_event_type": "e"}, "Count"},
		{map[string]any{"meter_event_type": "e", "meter_property": "p"}, "Sum"},
		{map[string]any{"meter_event_type": "e", "meter_property": "p", "aggregation": "Max"}, "Max"},
		{map[string]any{"meter_event_type": "e", "meter_property": "p", "aggregation": "UniqueCount"}, "UniqueCount"},
		{nil, ""},
	}
	for _, tt := range tests {
		body := map[string]any{"plan_id": plan, "name": "s", "unit_amount_nanos": 1000} // a JSON number is tolerated
		for k, v := range tt.fields {
			body[k] = v
		}
		var sku struct {
			Aggregation     string `json:"aggregation"`
			PricingModel    string `json:"pricing_model"`
			UnitAmountNanos string `json:"unit_amount_nanos"`
		}
		e.must(201, &sku, "POST", "/admin/v1/catalog/skus", body)
		if sku.Aggregation != tt.want || sku.PricingModel != "PerUnit" || sku.UnitAmountNanos != "1000" {
			t.Errorf("SKU %v = %+v, want aggregation %q, PerUnit, \"1000\"", tt.fields, sku, tt.want)
		}
	}
}

// subscriptionView is a subscription as the API answers it (its tags are
// checked against /openapi.json by every request of these tests).
type subscriptionView = billing.Subscription

func TestSubscriptionStatus(t *testing.T) {
	e := start(t)
	cust := e.customer("Acme")
	plain := e.plan("Plain")
	var trialPlan idOnly
	e.must(201, &trialPlan, "POST", "/admin/v1/catalog/plans", map[string]any{"name": "Trial", "trial_days": 14, "currency": "EUR"})

	tests := []struct {
		name     string
		body     map[string]any
		status   string
		trial    int
		currency string
	}{
		{"no trial", map[string]any{"customer_id": cust, "plan_id": plain}, "Active", 0, "USD"},
		{"trial_days given", map[string]any{"customer_id": cust, "plan_id": plain, "trial_days": 7}, "Trialing", 7, "USD"},
		{"plan's trial", map[string]any{"customer_id": cust, "plan_id": trialPlan.ID}, "Trialing", 14, "EUR"},
		{"trial 0 overrides the plan", map[string]any{"customer_id": cust, "plan_id": trialPlan.ID, "trial_days": 0, "currency": "eur"}, "Active", 0, "EUR"},
	}
	ids := map[string]string{}
	for _, tt := range tests {
		var s subscriptionView
		e.must(201, &s, "POST", "/v1/subscriptions", tt.body)
		wantStart, wantEnd := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		if s.Status != tt.status || derefInt(s.TrialDays) != tt.trial || s.Currency != tt.currency || !s.CurrentPeriodStart.Equal(wantStart) || !s.CurrentPeriodEnd.Equal(wantEnd) {
			t.Errorf("%s: subscription = %+v, want %s, trial %d, %s, period February", tt.name, s, tt.status, tt.trial, tt.currency)
		}
		ids[tt.name] = s.ID
	}
	e.clock.Add(7 * 24 * time.Hour)
	var s subscriptionView
	e.must(200, &s, "GET", "/v1/subscriptions/"+ids["trial_days given"], nil)
	if s.Status != "Active" {
		t.Errorf("GET subscription after its 7-day trial: status = %s, want Active", s.Status)
	}
	e.must(200, &s, "GET", "/v1/subscriptions/"+ids["plan's trial"], nil)
	if s.Status != "Trialing" {
		t.Errorf("GET subscription 7 days into a 14-day trial: status = %s, want Trialing", s.Status)
	}
	if r := e.admin("GET", "/v1/subscriptions/nope", nil); r.status != 404 {
		t.Errorf("GET unknown subscription = %s, want 404", r)
	}
}

// A plan prices in one currency: a SKU or subscription in another is
// refused, naming both, never summed into one total; an empty one takes
// the plan's.
func TestCurrencyMismatchRefused(t *testing.T) {
	e := start(t)
	cust := e.customer("Acme")
	var usd idOnly
	e.must(201, &usd, "POST", "/admin/v1/catalog/plans", map[string]any{"name": "USD plan", "currency": "USD"})
	for _, tt := range []struct {
		path string
		body map[string]any
	}{
		{"/admin/v1/catalog/skus", map[string]any{"plan_id": usd.ID, "name": "Tokens", "unit_amount_nanos": "5", "currency": "GBP"}},
		{"/v1/subscriptions", map[string]any{"customer_id": cust, "plan_id": usd.ID, "currency": "JPY"}},
	} {
		r := e.admin("POST", tt.path, tt.body)
		if !r.is(422, "validation_failed", "currency") || !strings.Contains(string(r.body), "USD") {
			t.Errorf("POST %s %v = %s, want 422 on currency naming the plan's USD", tt.path, tt.body, r)
		}
	}
	var sku struct {
		Currency string `json:"currency"`
	}
	e.must(201, &sku, "POST", "/admin/v1/catalog/skus", map[string]any{"plan_id": usd.ID, "name": "Requests", "unit_amount_nanos": "5"})
	if sku.Currency != "USD" {
		t.Errorf("SKU without a currency on a USD plan: currency %q, want USD", sku.Currency)
	}
}

func TestListSubscriptions(t *testing.T) {
	e := start(t)
	cust := e.customer("Acme")
	plan := e.plan("Plan")
	var want []string
	for range 25 {
		want = append(want, e.subscribe(cust, plan))
	}
	slices.Sort(want)
	var got []string
	after := ""
	for page := 0; ; page++ {
		var p struct {
			Data    []subscriptionView `json:"data"`
			HasMore bool               `json:"has_more"`
		}
		e.must(200, &p, "GET", "/v1/subscriptions?limit=10&starting_after="+after, nil)
		for _, s := range p.Data {
			got = append(got, s.ID)
		}
		if wantMore := page < 2; p.HasMore != wantMore {
			t.Errorf("page %d has_more = %v, want %v", page, p.HasMore, wantMore)
		}
		if !p.HasMore {
			break
		}
		after = p.Data[len(p.Data)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged ids = %v, want all 25 in id order %v", got, want)
	}
	for _, q := range []string{"limit=0", "limit=1001", "limit=ten"} {
		r := e.admin("GET", "/v1/subscriptions?"+q, nil)
		if _, field, _ := r.err(); r.status != 422 || field != "limit" {
			t.Errorf("GET /v1/subscriptions?%s = %s, want 422 field limit", q, r)
		}
	}
}

// derefInt is *p, 0 for nil: an absent trial_days is no trial.
func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
