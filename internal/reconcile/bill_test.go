package reconcile

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/sandbox"
)

var octoberPeriod = billing.Period{Start: october.From, End: october.To}

// Invoices are checked line by line against the verified totals: a lost
// event makes the API bill less, a doubled one more, exactly.
func TestBillChecksInvoices(t *testing.T) {
	src := append(append(rowsOf("a", 2, 2), rowsOf("b", 3, 2)...), rowsOf("c", 1, 2)...)
	_, c := startSandbox(t, sandbox.Config{Data: catalog("a", "b", "c")})
	send(t, c, src[:4]) // b loses its last event
	send(t, c, []row{event("c-extra", "api.request", "cus_c", "sub_c", at(3, 0), `{"bytes":2}`)})
	send(t, c, src[5:])
	spec := writeParquet(t, src)
	verify := func() *Result {
		t.Helper()
		res, err := Verify(context.Background(), Config{Client: c, Source: spec, Window: october})
		if err != nil {
			t.Fatalf("Verify = %v", err)
		}
		return res
	}

	res := verify()
	if err := Bill(context.Background(), res, BillConfig{Client: c, Period: octoberPeriod, Finalize: true}); err != nil {
		t.Fatalf("Bill = %v", err)
	}
	wantStats := BillStats{Period: octoberPeriod, Billed: 3, Created: 3, Finalized: 3, Mismatched: 2, Total: res.Bill.Total}
	if diff := cmp.Diff(wantStats, *res.Bill, cmp.Comparer(func(a, b billing.Money) bool { return a.Cmp(b) == 0 })); diff != "" {
		t.Errorf("Bill stats (-want +got):\n%s", diff)
	}
	// a: 2 requests and 4 bytes; b: 2 and 4 billed; c: 2 and 4 billed.
	if want := billing.MustMoney("600000600"); res.Bill.Total.Cmp(want) != 0 {
		t.Errorf("Bill total = %s, want %s", res.Bill.Total, want)
	}
	for _, inv := range res.Invoices {
		if inv.Status != billing.InvoiceOpen || inv.Number == "" || inv.Error != "" {
			t.Errorf("invoice of %s = %+v, want Open with a number", inv.SubscriptionID, inv)
		}
	}
	got := map[string]Pair{}
	for _, p := range res.Discrepancies {
		if p.Class == Misbilled {
			got[p.SubscriptionID+"/"+p.Meter] = p
		}
	}
	for _, w := range []struct{ key, expected, observed, delta string }{
		{"sub_b/Requests", "300000000", "200000000", "-100000000"},
		{"sub_b/Bytes", "300", "200", "-100"},
		{"sub_c/Requests", "100000000", "200000000", "100000000"},
		{"sub_c/Bytes", "100", "200", "100"},
	} {
		p, ok := got[w.key]
		if !ok || p.Measure != MeasureAmount || p.Expected.String() != w.expected || p.Observed.String() != w.observed || p.Delta.String() != w.delta {
			t.Errorf("invoice line %s = %+v, want expected %s observed %s delta %s", w.key, p, w.expected, w.observed, w.delta)
		}
	}
	if len(got) != 4 || res.Counts[Misbilled] != 4 {
		t.Errorf("Bill found %d misbilled lines (%d counted), want 4", len(got), res.Counts[Misbilled])
	}

	// Billing the period again gets the same invoices. (Within the 24 h
	// of the idempotency cache the API replays its first answer, a 201,
	// so the client reports them as created.)
	again := verify()
	if err := Bill(context.Background(), again, BillConfig{Client: c, Period: octoberPeriod, Finalize: true}); err != nil {
		t.Fatalf("Bill again = %v", err)
	}
	for i, inv := range again.Invoices {
		if inv.InvoiceID != res.Invoices[i].InvoiceID || inv.Error != "" {
			t.Errorf("Bill again: invoice of %s = %+v, want %s without error", inv.SubscriptionID, inv, res.Invoices[i].InvoiceID)
		}
	}

	// Only the matched subscription, when asked.
	only := verify()
	if err := Bill(context.Background(), only, BillConfig{Client: c, Period: octoberPeriod, OnlyMatched: true}); err != nil {
		t.Fatalf("Bill only matched = %v", err)
	}
	if only.Bill.Billed != 1 || only.Bill.Skipped != 2 || only.Invoices[0].SubscriptionID != "sub_a" {
		t.Errorf("Bill only matched = %+v %+v, want sub_a billed and 2 skipped", only.Bill, only.Invoices)
	}
}

// Amounts beyond 2^63 (and 2^64) pico-units are checked exactly, and so is
// the rounding of a fractional quantity.
func TestBillLargeAmounts(t *testing.T) {
	d := catalog("a", "b")
	d.SKUs = []billing.SKU{
		{ID: "sku_compute", PlanID: planID, Name: "Compute", PricingModel: "PerUnit", UnitAmountNanos: billing.MustMoney("1000000000000000"),
			MeterEventType: "compute", MeterProperty: "units", Currency: "USD"},
		{ID: "sku_gpu", PlanID: planID, Name: "GPU", PricingModel: "PerUnit", UnitAmountNanos: billing.MustMoney("300000000000000000"),
			MeterEventType: "gpu", MeterProperty: "hours", Currency: "USD"},
		{ID: "sku_disk", PlanID: planID, Name: "Disk", PricingModel: "PerUnit", UnitAmountNanos: billing.MustMoney("3"),
			MeterEventType: "disk", MeterProperty: "gb", Aggregation: billing.AggMax, Currency: "USD"},
		{ID: "sku_base", PlanID: planID, Name: "Base fee", PricingModel: "PerUnit", UnitAmountNanos: billing.MustMoney("9000000000000"), Currency: "USD"},
	}
	var src []row
	for _, s := range []string{"a", "b"} {
		src = append(src,
			event(s+"1", "compute", "cus_"+s, "sub_"+s, at(2, 1), `{"units":5000}`),
			event(s+"2", "compute", "cus_"+s, "sub_"+s, at(2, 2), `{"units":"5000"}`),
			event(s+"3", "gpu", "cus_"+s, "sub_"+s, at(2, 3), `{"hours":2000}`),
			event(s+"4", "disk", "cus_"+s, "sub_"+s, at(2, 4), `{"gb":1.5}`),
		)
	}
	_, c := startSandbox(t, sandbox.Config{Data: d})
	send(t, c, src)
	send(t, c, []row{event("b-extra", "compute", "cus_b", "sub_b", at(3, 0), `{"units":1}`)})
	res, err := Verify(context.Background(), Config{Client: c, Source: writeParquet(t, src), Window: october})
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	if err := Bill(context.Background(), res, BillConfig{Client: c, Period: octoberPeriod}); err != nil {
		t.Fatalf("Bill = %v", err)
	}
	// 10^4 × 10^15 + 2000 × 3·10^17 + round(1.5 × 3) + 9·10^12
	const wantA = "610000009000000000005"
	twoTo63 := new(big.Int).Lsh(big.NewInt(1), 63)
	a, b := res.Invoices[0], res.Invoices[1]
	if a.Total.String() != wantA || a.Expected.String() != wantA || a.Mismatches != 0 || a.Total.BigInt().Cmp(twoTo63) <= 0 {
		t.Errorf("invoice of sub_a = %+v, want total and expected %s, no mismatch", a, wantA)
	}
	var lines []Pair
	for _, p := range res.Discrepancies {
		if p.Class == Misbilled {
			lines = append(lines, p)
		}
	}
	if len(lines) != 1 || lines[0].SubscriptionID != "sub_b" || lines[0].Meter != "Compute" ||
		lines[0].Expected.String() != "10000000000000000000" || lines[0].Observed.String() != "10001000000000000000" ||
		lines[0].Delta.String() != "1000000000000000" {
		t.Errorf("misbilled lines = %+v, want sub_b Compute 10^19 billed 10^19+10^15", lines)
	}
	if b.Mismatches != 1 || b.Total.String() != "610001009000000000005" {
		t.Errorf("invoice of sub_b = %+v, want 1 mismatch and total 610001009000000000005", b)
	}
	if want := "1220001018000000000010"; res.Bill.Total.String() != want {
		t.Errorf("Bill total = %s, want %s", res.Bill.Total, want)
	}
}

// A failed bill call is an error pair; the others are billed.
func TestBillError(t *testing.T) {
	src := append(rowsOf("a", 1, 2), rowsOf("b", 1, 2)...)
	sb, c := startSandbox(t, sandbox.Config{Data: catalog("a", "b")})
	send(t, c, src)
	res, err := Verify(context.Background(), Config{Client: c, Source: writeParquet(t, src), Window: october})
	if err != nil {
		t.Fatal(err)
	}
	bc, err := billing.New(billing.Config{BaseURL: failingProxy(t, sb.URL, "/admin/v1/subscriptions/sub_b/bill"),
		Token: sb.AdminToken, MaxRetries: -1, RetryWaitMin: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := Bill(context.Background(), res, BillConfig{Client: bc, Period: octoberPeriod}); err != nil {
		t.Fatalf("Bill = %v", err)
	}
	if res.Bill.Billed != 1 || res.Bill.Failed != 1 || res.Errors() != 1 || res.Invoices[1].Error == "" {
		t.Errorf("Bill with sub_b failing = %+v, errors %d, invoices %+v; want 1 billed, 1 failed", res.Bill, res.Errors(), res.Invoices)
	}
}
