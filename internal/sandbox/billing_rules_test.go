package sandbox_test

import (
	"testing"
	"time"

	"github.com/billharness/billharness/internal/sandbox"
)

// billAt bills sub for [start, end) and returns the reply.
func (e *env) billAt(sub, start, end string) reply {
	return e.admin("POST", "/admin/v1/subscriptions/"+sub+"/bill", map[string]any{"period_start": start, "period_end": end})
}

// A billing period is one calendar month: anything else would charge the
// flat fee again for time already invoiced.
func TestBillRefusesPeriodsThatAreNotOneCycle(t *testing.T) {
	e := start(t)
	f := e.fixture()
	e.sku(f.plan, "platform fee", "1000000", nil)
	var jan invoice
	e.must(201, &jan, "POST", "/admin/v1/subscriptions/"+f.sub+"/bill", map[string]any{"period_start": "2026-01-01T00:00:00Z", "period_end": "2026-02-01T00:00:00Z"})
	for _, p := range [][2]string{
		{"2026-01-11T00:00:00Z", "2026-01-21T00:00:00Z"},           // days 11–20
		{"2026-01-01T01:00:00Z", "2026-02-01T01:00:00Z"},           // shifted by an hour
		{"2026-01-01T00:00:00Z", "2036-01-01T00:00:00Z"},           // ten years
		{"2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z"},           // one day
		{"2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z"},           // two months
		{"2026-01-01T00:00:00+01:00", "2026-02-01T00:00:00+01:00"}, // a month, but not in UTC
	} {
		r := e.billAt(f.sub, p[0], p[1])
		if !r.is(422, "validation_failed", "period_start") {
			t.Errorf("bill %s..%s = %s, want 422 on period_start", p[0], p[1], r)
		}
	}
	// The same month in another spelling is the same invoice, not a second charge.
	var again invoice
	e.must(200, &again, "POST", "/admin/v1/subscriptions/"+f.sub+"/bill", map[string]any{"period_start": "2025-12-31T19:00:00-05:00", "period_end": "2026-01-31T19:00:00-05:00"})
	if again.ID != jan.ID {
		t.Errorf("January in UTC-5 = invoice %s, want January's %s", again.ID, jan.ID)
	}
	var list struct {
		Data []invoice `json:"data"`
	}
	e.must(200, &list, "GET", "/v1/subscriptions/"+f.sub+"/invoices", nil)
	if len(list.Data) != 1 || list.Data[0].ID != jan.ID {
		t.Errorf("invoices of the subscription = %+v, want only January's", list.Data)
	}
}

// No fee before the subscription starts; the first month is prorated by
// the second; no flat fee inside a trial; usage is billed in full.
func TestBillProratesFromStartAndTrial(t *testing.T) {
	e := start(t)
	cust := e.customer("Late starter")
	plan := e.plan("Monthly")
	fee := e.sku(plan, "platform fee", "31000000000000", nil) // $31: $1 a day in January
	calls := e.sku(plan, "calls", "1000", map[string]any{"meter_event_type": "api.request"})
	subscribe := func(startDate string, trial int) string {
		var s idOnly
		e.must(201, &s, "POST", "/v1/subscriptions", map[string]any{"customer_id": cust, "plan_id": plan, "start_date": startDate, "trial_days": trial})
		return s.ID
	}
	fifth := subscribe("2026-01-05T00:00:00Z", 0)
	trial := subscribe("2026-01-05T00:00:00Z", 10) // trial to January 15
	long := subscribe("2025-12-01T00:00:00Z", 90)  // trial past January
	for i, sub := range []string{fifth, trial, long} {
		e.send(map[string]any{"id": "use-" + string(rune('a'+i)), "event_type": "api.request", "customer_id": cust, "subscription_id": sub, "timestamp": "2026-01-06T00:00:00Z"})
	}

	// Before the start: nothing to bill, whether asked for or by default.
	for _, p := range [][2]string{{"2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z"}, {"2001-03-01T00:00:00Z", "2001-04-01T00:00:00Z"}} {
		if r := e.billAt(fifth, p[0], p[1]); r.status != 422 {
			t.Errorf("bill %s..%s of a subscription started 2026-01-05 = %s, want 422", p[0], p[1], r)
		}
	}
	e2 := start(t, sandbox.Config{Now: func() time.Time { return time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC) }})
	c2, p2 := e2.customer("New"), e2.plan("P")
	e2.sku(p2, "fee", "1", nil)
	var s2 idOnly
	e2.must(201, &s2, "POST", "/v1/subscriptions", map[string]any{"customer_id": c2, "plan_id": p2})
	if r := e2.admin("POST", "/admin/v1/subscriptions/"+s2.ID+"/bill", map[string]any{}); r.status != 422 {
		t.Errorf("default bill of a subscription created this month = %s, want 422 (December ended before it)", r)
	}

	for _, c := range []struct {
		name, sub, amount, from string
	}{
		{"started on the 5th", fifth, "27000000000000", "2026-01-05T00:00:00Z"}, // 27 of 31 days
		{"10-day trial from the 5th", trial, "17000000000000", "2026-01-15T00:00:00Z"},
		{"trial past the month", long, "0", ""},
	} {
		var inv invoice
		e.must(201, &inv, "POST", "/admin/v1/subscriptions/"+c.sub+"/bill", map[string]any{"period_start": "2026-01-01T00:00:00Z", "period_end": "2026-02-01T00:00:00Z"})
		line := inv.line(fee)
		if line.AmountNanos != c.amount {
			t.Errorf("%s: fee line = %+v, want amount %s", c.name, line, c.amount)
		}
		if c.from != "" && (line.PeriodStart == nil || line.PeriodStart.Format(time.RFC3339) != c.from) {
			t.Errorf("%s: fee line charges from %v, want %s", c.name, line.PeriodStart, c.from)
		}
		if got := inv.line(calls); got.Quantity != "1" || got.AmountNanos != "1000" {
			t.Errorf("%s: usage line = %+v, want 1 call billed (usage in a trial is billed)", c.name, got)
		}
	}
}

func TestBillPricingModels(t *testing.T) {
	e := start(t)
	cust := e.customer("Tiered")
	plan := e.plan("Tiers")
	tiers := []map[string]any{
		{"up_to": "1000", "unit_amount_nanos": "2"},
		{"up_to": 5000, "unit_amount_nanos": "1", "flat_amount_nanos": "100"},
		{"up_to": nil, "unit_amount_nanos": "0", "flat_amount_nanos": "7"},
	}
	grad := e.sku(plan, "graduated", "0", map[string]any{"pricing_model": "Graduated", "tiers": tiers, "meter_event_type": "g", "meter_property": "n"})
	vol := e.sku(plan, "volume", "0", map[string]any{"pricing_model": "Volume", "tiers": tiers, "meter_event_type": "v", "meter_property": "n"})
	pkg := e.sku(plan, "package", "500", map[string]any{"pricing_model": "Package", "package_size": 100, "meter_event_type": "p", "meter_property": "n"})
	sub := e.subscribe(cust, plan)
	for i, v := range []struct {
		typ string
		n   any
	}{{"g", 1000}, {"g", 1}, {"v", "1001"}, {"p", 200}, {"p", "0.001"}} {
		e.send(ev("tier-"+string(rune('a'+i)), v.typ, cust, t0, map[string]any{"n": v.n}))
	}
	var inv invoice
	e.must(201, &inv, "POST", "/admin/v1/subscriptions/"+sub+"/bill", map[string]any{"period_start": "2026-02-01T00:00:00Z", "period_end": "2026-03-01T00:00:00Z"})
	for sku, want := range map[string][3]string{
		grad: {"Graduated", "1001", "2101"}, // 1000×2 + 1×1 + 100 flat
		vol:  {"Volume", "1001", "1101"},    // 1001×1 + 100 flat
		pkg:  {"Package", "200.001", "1500"},
	} {
		l := inv.line(sku)
		if l.PricingModel != want[0] || l.Quantity != want[1] || l.AmountNanos != want[2] {
			t.Errorf("line %s = %+v, want %s quantity %s amount %s", l.Description, l, want[0], want[1], want[2])
		}
	}
	if inv.TotalNanos != "4702" {
		t.Errorf("total = %s, want 4702", inv.TotalNanos)
	}

	for _, bad := range []struct {
		fields map[string]any
		field  string
	}{
		{map[string]any{"pricing_model": "Graduated", "meter_event_type": "x"}, "tiers"},
		{map[string]any{"pricing_model": "Volume", "tiers": []map[string]any{{"up_to": "5", "unit_amount_nanos": "1"}}, "meter_event_type": "x"}, "tiers[0].up_to"},
		{map[string]any{"pricing_model": "Package", "meter_event_type": "x"}, "package_size"},
		{map[string]any{"pricing_model": "Graduated", "tiers": tiers}, "pricing_model"}, // a flat fee is PerUnit
		{map[string]any{"pricing_model": "Tiered", "meter_event_type": "x"}, "pricing_model"},
	} {
		body := map[string]any{"plan_id": plan, "name": "bad", "unit_amount_nanos": "0"}
		for k, v := range bad.fields {
			body[k] = v
		}
		r := e.admin("POST", "/admin/v1/catalog/skus", body)
		if _, field, _ := r.err(); r.status != 422 || field != bad.field {
			t.Errorf("SKU %v = %s, want 422 on %s", bad.fields, r, bad.field)
		}
	}
}

// A Draft follows late usage; finalizing freezes it.
func TestDraftFollowsUsageUntilFinalized(t *testing.T) {
	e := start(t)
	f := e.fixture()
	jan := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	e.send(ev("d1", "api.request", f.customer, jan, nil))
	var inv invoice
	e.must(201, &inv, "POST", "/admin/v1/subscriptions/"+f.sub+"/bill", map[string]any{})
	e.send(ev("d2", "api.request", f.customer, jan, nil))
	e.must(200, &inv, "POST", "/admin/v1/subscriptions/"+f.sub+"/bill", map[string]any{})
	if q := inv.line(f.calls).Quantity; q != "2" {
		t.Fatalf("Draft after a late event = %s calls, want 2", q)
	}
	e.must(200, &inv, "POST", "/admin/v1/invoices/"+inv.ID+"/finalize", nil)
	e.send(ev("d3", "api.request", f.customer, jan, nil))
	e.must(200, &inv, "POST", "/admin/v1/subscriptions/"+f.sub+"/bill", map[string]any{})
	if q := inv.line(f.calls).Quantity; q != "2" || inv.Status != "Open" {
		t.Errorf("finalized invoice after a late event = %s calls, %s; want 2, Open (usage says 3)", q, inv.Status)
	}
	if got := e.usage(f.sub, jan.AddDate(0, 0, -9), jan.AddDate(0, 0, 22))[f.calls]; got != "3" {
		t.Errorf("usage = %s, want 3", got)
	}
}

// LaxBilling is the careless platform reconcile's tests need.
func TestLaxBillingBillsAnything(t *testing.T) {
	e := start(t, sandbox.Config{LaxBilling: true})
	f := e.fixture()
	e.sku(f.plan, "fee", "1000", nil)
	for _, p := range [][2]string{{"2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"}, {"2026-01-11T00:00:00Z", "2026-01-21T00:00:00Z"}, {"2001-01-01T00:00:00Z", "2001-02-01T00:00:00Z"}} {
		var inv invoice
		e.must(201, &inv, "POST", "/admin/v1/subscriptions/"+f.sub+"/bill", map[string]any{"period_start": p[0], "period_end": p[1]})
		if inv.TotalNanos != "1000" {
			t.Errorf("lax bill %s..%s = total %s, want the full fee 1000", p[0], p[1], inv.TotalNanos)
		}
	}
}
