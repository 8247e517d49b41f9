package sandbox_test

import (
	"fmt"
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/billing"
)

type lineItem struct {
	Description     string     `json:"description"`
	SKUID           string     `json:"sku_id"`
	PricingModel    string     `json:"pricing_model"`
	Quantity        string     `json:"quantity"`
	UnitAmountNanos string     `json:"unit_amount_nanos"`
	AmountNanos     string     `json:"amount_nanos"`
	PeriodStart     *time.Time `json:"period_start"`
}

// invoice is an invoice as the API answers it, with its amounts kept as
// the decimal strings on the wire (the tags are checked against
// /openapi.json by every request of these tests).
type invoice struct {
	billing.Invoice
	TotalNanos string     `json:"total_nanos"`
	LineItems  []lineItem `json:"line_items"`
}

func (inv invoice) line(sku string) lineItem {
	for _, li := range inv.LineItems {
		if li.SKUID == sku {
			return li
		}
	}
	return lineItem{Quantity: "missing"}
}

func TestBillDefaultPeriodAndIdempotence(t *testing.T) {
	e := start(t)
	f := e.fixture()
	jan := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	e.send(ev("jan-1", "api.request", f.customer, jan, nil))
	e.send(ev("jan-2", "llm.completion", f.customer, jan, map[string]any{"input_tokens": 1000}))
	e.send(ev("feb-1", "api.request", f.customer, t0, nil)) // current period: not billed

	path := "/admin/v1/subscriptions/" + f.sub + "/bill"
	var inv invoice
	e.must(201, &inv, "POST", path, map[string]any{})
	wantStart, wantEnd := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	if !inv.PeriodStart.Equal(wantStart) || !inv.PeriodEnd.Equal(wantEnd) {
		t.Errorf("default period = [%s, %s), want [%s, %s)", inv.PeriodStart, inv.PeriodEnd, wantStart, wantEnd)
	}
	if inv.Status != "Draft" || inv.InvoiceType != "Subscription" || inv.InvoiceNumber != "" || inv.SubscriptionID != f.sub || inv.CustomerID != f.customer || inv.Currency != "USD" {
		t.Errorf("invoice = %+v, want a Draft Subscription invoice without number for %s/%s in USD", inv, f.customer, f.sub)
	}
	if got := len(inv.LineItems); got != 2 {
		t.Fatalf("line items = %d, want 2 (one per SKU)", got)
	}
	for sku, want := range map[string]lineItem{
		f.calls:  {Description: "API calls", SKUID: f.calls, PricingModel: "PerUnit", Quantity: "1", UnitAmountNanos: "1000", AmountNanos: "1000"},
		f.tokens: {Description: "Input tokens", SKUID: f.tokens, PricingModel: "PerUnit", Quantity: "1000", UnitAmountNanos: "20", AmountNanos: "20000"},
	} {
		if got := inv.line(sku); got.PeriodStart != nil || *got.withoutPeriod() != want {
			t.Errorf("line %s = %+v, want %+v", sku, got, want)
		}
	}
	if inv.TotalNanos != "21000" {
		t.Errorf("total_nanos = %s, want 21000", inv.TotalNanos)
	}

	var again invoice
	for _, body := range []any{nil, map[string]any{}, map[string]any{"period_start": "2026-01-01T00:00:00Z", "period_end": "2026-02-01T00:00:00Z"}} {
		e.must(200, &again, "POST", path, body)
		if again.ID != inv.ID {
			t.Errorf("re-bill with %v = invoice %s, want the same invoice %s", body, again.ID, inv.ID)
		}
	}
	var other invoice
	e.must(201, &other, "POST", path, map[string]any{"period_start": "2026-02-01T00:00:00Z", "period_end": "2026-03-01T00:00:00Z"})
	if other.ID == inv.ID || other.line(f.calls).Quantity != "1" {
		t.Errorf("bill February = %+v, want a new invoice with 1 call", other)
	}
}

func TestBillConcurrentMakesOneInvoice(t *testing.T) {
	e := start(t)
	f := e.fixture()
	path := "/admin/v1/subscriptions/" + f.sub + "/bill"
	const n = 8
	replies := make([]reply, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { replies[i] = e.admin("POST", path, map[string]any{}) })
	}
	wg.Wait()
	created, ids := 0, map[string]bool{}
	for _, r := range replies {
		var inv invoice
		if err := jsonUnmarshal(r.body, &inv); err != nil || (r.status != 200 && r.status != 201) {
			t.Fatalf("concurrent bill = %s, want 200 or 201", r)
		}
		if r.status == 201 {
			created++
		}
		ids[inv.ID] = true
	}
	if created != 1 || len(ids) != 1 {
		t.Errorf("%d concurrent bills: %d created, %d distinct invoices; want 1 and 1", n, created, len(ids))
	}
}

func TestBillExactAmounts(t *testing.T) {
	e := start(t)
	cust := e.customer("Big")
	plan := e.plan("Huge")
	maxInt64 := "9223372036854775807"
	metered := e.sku(plan, "tokens", maxInt64, map[string]any{"meter_event_type": "t", "meter_property": "n"})
	flat := e.sku(plan, "platform fee", maxInt64, nil)
	frac := e.sku(plan, "fractional", "3", map[string]any{"meter_event_type": "f", "meter_property": "n"})
	sub := e.subscribe(cust, plan)
	e.send(ev("b1", "t", cust, t0, map[string]any{"n": 2}))
	e.send(ev("b2", "t", cust, t0, map[string]any{"n": "1"}))
	e.send(ev("b3", "f", cust, t0, map[string]any{"n": "12.5"}))

	var inv invoice
	e.must(201, &inv, "POST", "/admin/v1/subscriptions/"+sub+"/bill", map[string]any{"period_start": "2026-02-01T00:00:00Z", "period_end": "2026-03-01T00:00:00Z"})
	m, _ := new(big.Int).SetString(maxInt64, 10)
	want3 := new(big.Int).Mul(m, big.NewInt(3))
	wantTotal := new(big.Int).Add(new(big.Int).Mul(m, big.NewInt(4)), big.NewInt(38))
	for _, tt := range []struct {
		sku, qty, amount string
	}{
		{metered, "3", want3.String()},
		{flat, "1", maxInt64},
		{frac, "12.5", "38"}, // 37.5 rounds half away from zero
	} {
		if li := inv.line(tt.sku); li.Quantity != tt.qty || li.AmountNanos != tt.amount {
			t.Errorf("line %s = qty %s amount %s, want qty %s amount %s", li.Description, li.Quantity, li.AmountNanos, tt.qty, tt.amount)
		}
	}
	if inv.TotalNanos != wantTotal.String() {
		t.Errorf("total_nanos = %s, want %s (> 2^63)", inv.TotalNanos, wantTotal)
	}
}

func TestBillOverflow(t *testing.T) {
	e := start(t)
	cust := e.customer("Overflow")
	plan := e.plan("Overflow")
	twoTo126 := new(big.Int).Lsh(big.NewInt(1), 126).String()
	e.sku(plan, "a", twoTo126, nil)
	e.sku(plan, "b", twoTo126, nil) // 2^126 + 2^126 = 2^127: one past the maximum
	sub := e.subscribe(cust, plan)
	r := e.admin("POST", "/admin/v1/subscriptions/"+sub+"/bill", map[string]any{})
	if !r.is(422, "amount_overflow", "total_nanos") {
		t.Errorf("bill with a 2^127 total = %s, want 422 amount_overflow field total_nanos", r)
	}
}

func TestBillValidation(t *testing.T) {
	e := start(t)
	f := e.fixture()
	path := "/admin/v1/subscriptions/" + f.sub + "/bill"
	tests := []struct {
		body        any
		status      int
		code, field string
	}{
		{map[string]any{"period_start": "2026-01-01T00:00:00Z"}, 422, "validation_failed", "period_end"},
		{map[string]any{"period_end": "2026-01-01T00:00:00Z"}, 422, "validation_failed", "period_start"},
		{map[string]any{"period_start": "January", "period_end": "2026-02-01T00:00:00Z"}, 422, "validation_failed", "period_start"},
		{map[string]any{"period_start": "2026-02-01T00:00:00Z", "period_end": "2026-01-01T00:00:00Z"}, 422, "validation_failed", "period_end"},
		{map[string]any{"period_start": 5, "period_end": "2026-01-01T00:00:00Z"}, 422, "validation_failed", "period_start"},
		{"{", 400, "invalid_json", ""},
		{"[]", 422, "validation_failed", ""},
	}
	for _, tt := range tests {
		r := e.admin("POST", path, tt.body)
		if !r.is(tt.status, tt.code, tt.field) {
			t.Errorf("bill %v = %s, want %d %s field %q", tt.body, r, tt.status, tt.code, tt.field)
		}
	}
	if r := e.admin("POST", "/admin/v1/subscriptions/nope/bill", map[string]any{}); r.status != 404 {
		t.Errorf("bill unknown subscription = %s, want 404", r)
	}
}

func TestFinalizeNumbersSequentially(t *testing.T) {
	e := start(t)
	f := e.fixture()
	const n = 12
	ids := make([]string, n)
	for i := range n {
		start := time.Date(2025, time.Month(i+1), 1, 0, 0, 0, 0, time.UTC)
		var inv invoice
		e.must(201, &inv, "POST", "/admin/v1/subscriptions/"+f.sub+"/bill", map[string]any{
			"period_start": start.Format(time.RFC3339), "period_end": start.AddDate(0, 1, 0).Format(time.RFC3339),
		})
		ids[i] = inv.ID
	}
	numbers := make([]string, n)
	var wg sync.WaitGroup
	for i, id := range ids {
		path := "/admin/v1/invoices/" + id + "/finalize"
		token := e.sb.AdminToken
		if i%2 == 1 {
			path, token = "/v1/invoices/"+id+"/finalize", e.sb.CustomerToken
		}
		wg.Go(func() {
			r := e.do("POST", path, token, nil)
			var inv invoice
			if err := jsonUnmarshal(r.body, &inv); err != nil || r.status != 200 || inv.Status != "Open" || inv.FinalizedAt == nil || inv.DueDate == nil {
				t.Errorf("POST %s = %s, want 200 Open with finalized_at and due_date", path, r)
			}
			numbers[i] = inv.InvoiceNumber
		})
	}
	wg.Wait()
	slices.Sort(numbers)
	for i, got := range numbers {
		if want := fmt.Sprintf("INV-%06d", i+1); got != want {
			t.Errorf("sorted invoice numbers[%d] = %q, want %q (all: %v)", i, got, want, numbers)
		}
	}

	r := e.admin("POST", "/admin/v1/invoices/"+ids[0]+"/finalize", nil)
	if code, _, _ := r.err(); r.status != 409 || code != "invoice_not_draft" {
		t.Errorf("re-finalize = %s, want 409 invoice_not_draft", r)
	}
	var got invoice
	e.must(200, &got, "GET", "/v1/invoices/"+ids[0], nil)
	if got.Status != "Open" || got.InvoiceNumber == "" {
		t.Errorf("GET finalized invoice = %+v, want Open with a number", got)
	}
	for _, p := range []struct{ method, path string }{
		{"GET", "/v1/invoices/nope"}, {"POST", "/v1/invoices/nope/finalize"}, {"POST", "/admin/v1/invoices/nope/finalize"},
	} {
		if r := e.admin(p.method, p.path, nil); r.status != 404 {
			t.Errorf("%s %s = %s, want 404", p.method, p.path, r)
		}
	}
	if r := e.do("POST", "/admin/v1/invoices/"+ids[1]+"/finalize", e.sb.CustomerToken, nil); r.status != 403 {
		t.Errorf("customer key on the admin finalize route = %s, want 403", r)
	}
}

func (l lineItem) withoutPeriod() *lineItem {
	l.PeriodStart = nil
	return &l
}
