package reconcile

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
)

var octoberPeriod = billing.Period{Start: october.From, End: october.To}

// Invoices are checked line by line against the verified totals: a lost
// event makes the API bill less, a doubled one more, exactly.
func TestBillChecksInvoices(t *testing.T) {
	t.Parallel()
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
	wantStats := BillStats{Period: octoberPeriod, Billed: 3, Created: 3, Finalized: 3, Mismatched: 2, Totals: res.Bill.Totals}
	if diff := cmp.Diff(wantStats, *res.Bill, cmp.Comparer(func(a, b billing.Money) bool { return a.Cmp(b) == 0 })); diff != "" {
		t.Errorf("Bill stats (-want +got):\n%s", diff)
	}
	// a: 2 requests and 4 bytes; b: 2 and 4 billed; c: 2 and 4 billed.
	if want := billing.MustMoney("600000600"); res.Bill.Totals["USD"].Cmp(want) != 0 || len(res.Bill.Totals) != 1 {
		t.Errorf("Bill totals = %v, want USD %s", res.Bill.Totals, want)
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
	t.Parallel()
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
	if want := "1220001018000000000010"; res.Bill.Totals["USD"].String() != want {
		t.Errorf("Bill totals = %v, want USD %s", res.Bill.Totals, want)
	}
}

// A failed bill call is an error pair; the others are billed.
func TestBillError(t *testing.T) {
	t.Parallel()
	src := append(rowsOf("a", 1, 2), rowsOf("b", 1, 2)...)
	sb, c := startSandbox(t, sandbox.Config{Data: catalog("a", "b")})
	send(t, c, src)
	res, err := Verify(context.Background(), Config{Client: c, Source: writeParquet(t, src), Window: october})
	if err != nil {
		t.Fatal(err)
	}
	bc, err := billing.New(billing.Config{BaseURL: sandboxtest.FailingProxy(t, sb.URL, "/admin/v1/subscriptions/sub_b/bill"),
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

// billPeriod bills sub for [start, end) straight through the API, as a
// careless run or another tool would.
func billPeriod(t *testing.T, c *billing.Client, sub string, start, end time.Time) *billing.Invoice {
	t.Helper()
	inv, _, err := c.Bill(context.Background(), sub, &billing.Period{Start: start, End: end})
	if err != nil {
		t.Fatalf("bill %s %s..%s: %v", sub, start, end, err)
	}
	return inv
}

// A platform that bills any period charges the same time twice, months
// before the subscription existed and inside trials: bill lists each
// subscription's invoices and prices what is at stake.
func TestBillFlagsDoubleBillingAndFeesOutsideTheTerm(t *testing.T) {
	t.Parallel()
	d := catalog("a", "b", "c")
	d.SKUs = append(d.SKUs, billing.SKU{ID: "sku_fee", PlanID: planID, Name: "Platform fee", PricingModel: "PerUnit",
		UnitAmountNanos: billing.MustMoney("31000000000000"), Currency: "USD"})
	trial := 30
	d.Subscriptions[1].CreatedAt = time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC) // b starts on the 5th
	d.Subscriptions[2].CreatedAt = time.Date(2026, 9, 20, 0, 0, 0, 0, time.UTC) // c: trial to October 20
	d.Subscriptions[2].TrialDays = &trial
	_, c := startSandbox(t, sandbox.Config{Data: d, LaxBilling: true})
	src := append(append(rowsOf("a", 1, 1), rowsOf("b", 1, 1)...), rowsOf("c", 1, 1)...)
	send(t, c, src)
	// a: October billed, then days 11–20 again.
	billPeriod(t, c, "sub_a", october.From, october.To)
	dup := billPeriod(t, c, "sub_a", october.From.AddDate(0, 0, 10), october.From.AddDate(0, 0, 20))
	// b: September, before it started.
	early := billPeriod(t, c, "sub_b", october.From.AddDate(0, -1, 0), october.From)

	res, err := Verify(context.Background(), Config{Client: c, Source: writeParquet(t, src), Window: october})
	if err != nil {
		t.Fatal(err)
	}
	if err := Bill(context.Background(), res, BillConfig{Client: c, Period: octoberPeriod}); err != nil {
		t.Fatal(err)
	}
	type want struct {
		class        Class
		invoice      string
		money        string
		detailPrefix string
	}
	got := map[string][]Pair{}
	for _, p := range res.Discrepancies {
		got[p.SubscriptionID] = append(got[p.SubscriptionID], p)
	}
	check := func(sub string, ws ...want) {
		t.Helper()
		if len(got[sub]) != len(ws) {
			t.Errorf("%s: %d discrepancies %+v, want %d", sub, len(got[sub]), got[sub], len(ws))
			return
		}
		for i, w := range ws {
			p := got[sub][i]
			if p.Class != w.class || (w.invoice != "" && p.InvoiceID != w.invoice) || p.Money.String() != w.money || p.Currency != "USD" {
				t.Errorf("%s #%d = %s invoice %s money %s %s (%s), want %s invoice %s money %s USD", sub, i, p.Class, p.InvoiceID, p.Money, p.Currency, p.Detail, w.class, w.invoice, w.money)
			}
		}
	}
	// The duplicate invoice carries the full fee plus a's usage again.
	check("sub_a", want{class: DoubleBilled, invoice: dup.ID, money: dup.TotalNanos.String()})
	// b's October fee is charged from the 1st: 4 of 31 days too many; its
	// September invoice charges a month before it started.
	check("sub_b",
		want{class: OutsideTerm, money: "4000000000000"},
		want{class: OutsideTerm, invoice: early.ID, money: "31000000000000"})
	// c's trial ends October 20: 19 days charged inside it.
	check("sub_c", want{class: OutsideTerm, money: "19000000000000"})
	if res.Counts[DoubleBilled] != 1 || res.Counts[OutsideTerm] != 3 {
		t.Errorf("counts = %v, want 1 double_billed and 3 outside_term", res.Counts)
	}
}

// The correct sandbox makes none of those: the same checks pass.
func TestBillProratedFeesPass(t *testing.T) {
	t.Parallel()
	d := catalog("a", "b")
	d.SKUs = append(d.SKUs, billing.SKU{ID: "sku_fee", PlanID: planID, Name: "Platform fee", PricingModel: "PerUnit",
		UnitAmountNanos: billing.MustMoney("31000000000000"), Currency: "USD"})
	trial := 30
	d.Subscriptions[0].CreatedAt = time.Date(2026, 10, 5, 10, 0, 0, 500_000_000, time.UTC) // mid-second: the rule truncates the charged part
	d.Subscriptions[1].CreatedAt = time.Date(2026, 9, 20, 0, 0, 0, 0, time.UTC)
	d.Subscriptions[1].TrialDays = &trial
	_, c := startSandbox(t, sandbox.Config{Data: d})
	src := append(rowsOf("a", 2, 1), rowsOf("b", 1, 2)...)
	send(t, c, src)
	res, err := Verify(context.Background(), Config{Client: c, Source: writeParquet(t, src), Window: october})
	if err != nil {
		t.Fatal(err)
	}
	if err := Bill(context.Background(), res, BillConfig{Client: c, Period: octoberPeriod, Finalize: true}); err != nil {
		t.Fatal(err)
	}
	if len(res.Discrepancies) != 0 || res.Bill.Mismatched != 0 {
		t.Errorf("discrepancies %+v, want none", res.Discrepancies)
	}
}

// Usage that arrives after the invoice is finalized moves the API's usage
// but not the invoice: late usage not billed, with its price.
func TestBillFlagsUsageAfterClose(t *testing.T) {
	t.Parallel()
	_, c := startSandbox(t, sandbox.Config{Data: catalog("a")})
	src := rowsOf("a", 3, 2)
	send(t, c, src[:2])
	spec := writeParquet(t, src)
	inv := billPeriod(t, c, "sub_a", october.From, october.To)
	if _, err := c.FinalizeInvoice(context.Background(), inv.ID); err != nil {
		t.Fatal(err)
	}
	send(t, c, src[2:]) // late
	res, err := Verify(context.Background(), Config{Client: c, Source: spec, Window: october})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Discrepancies) != 0 {
		t.Fatalf("verify: %+v, want usage to match", res.Discrepancies)
	}
	if err := Bill(context.Background(), res, BillConfig{Client: c, Period: octoberPeriod}); err != nil {
		t.Fatal(err)
	}
	ps := pairsBy(res)
	p, ok := ps["sub_a/Requests"]
	if !ok || p.Class != LateUsage || p.Money.String() != "-100000000" || p.InvoiceID != inv.ID {
		t.Errorf("Requests pair = %+v, want late_usage of -100000000 on %s", p, inv.ID)
	}
	if b := ps["sub_a/Bytes"]; b.Class != LateUsage || b.Money.String() != "-100" || res.Counts[LateUsage] != 2 {
		t.Errorf("Bytes pair = %+v, counts %v; want late_usage of -100, two in all", b, res.Counts)
	}
}

// Tiered lines are recomputed from the verified quantity with the line's
// model: the platform pricing a tier boundary wrongly is an invoice pair.
func TestBillRecomputesTieredLines(t *testing.T) {
	t.Parallel()
	up := func(s string) *billing.Quantity { q, _ := billing.ParseQuantity(s); return &q }
	d := catalog("a")
	for i := range d.SKUs {
		if d.SKUs[i].ID == skuByt { // bytes: graduated, 0–3 at 10, above at 1 + 5 flat
			d.SKUs[i].PricingModel, d.SKUs[i].UnitAmountNanos = billing.PricingGraduated, billing.Money{}
			d.SKUs[i].Tiers = []billing.Tier{{UpTo: up("3"), UnitAmount: billing.MustMoney("10")}, {UnitAmount: billing.MustMoney("1"), FlatAmount: billing.MustMoney("5")}}
		}
		if d.SKUs[i].ID == skuReq { // requests: packages of 2
			d.SKUs[i].PricingModel, d.SKUs[i].PackageSize = billing.PricingPackage, 2
		}
	}
	_, c := startSandbox(t, sandbox.Config{Data: d})
	src := rowsOf("a", 3, 2) // 3 requests of 2 bytes each
	send(t, c, src[:2])      // one lost: 2 requests, 4 bytes billed
	res, err := Verify(context.Background(), Config{Client: c, Source: writeParquet(t, src), Window: october})
	if err != nil {
		t.Fatal(err)
	}
	if err := Bill(context.Background(), res, BillConfig{Client: c, Period: octoberPeriod}); err != nil {
		t.Fatal(err)
	}
	ps := map[string]Pair{}
	for _, p := range res.Discrepancies {
		if p.Class == Misbilled {
			ps[p.SubscriptionID+"/"+p.Meter] = p
		}
	}
	for meter, w := range map[string][2]string{
		"Bytes":    {"38", "36"},               // 6 bytes: 30 + 3 + 5; billed 4: 30 + 1 + 5
		"Requests": {"200000000", "100000000"}, // 3 requests: 2 packages; billed 2: 1
	} {
		p := ps["sub_a/"+meter]
		if p.Class != Misbilled || p.Expected.String() != w[0] || p.Observed.String() != w[1] {
			t.Errorf("%s = %+v, want invoice pair expected %s observed %s", meter, p, w[0], w[1])
		}
	}
}

// A metered line whose meter the run does not compare (-meters names
// fewer than the plan has) is not a flat fee: it is checked against its
// own quantity, as before, not prorated.
func TestBillLineOfAMeterNotCompared(t *testing.T) {
	t.Parallel()
	_, c := startSandbox(t, sandbox.Config{Data: catalog("a")})
	src := []row{
		event("s1", "storage", "cus_a", "sub_a", at(3, 0), `{"bytes":700}`),
		event("r1", "api.request", "cus_a", "sub_a", at(3, 1), `{"bytes":2}`),
	}
	send(t, c, src)
	meters := []Meter{{Name: "Requests", EventType: "api.request", Aggregation: billing.AggCount}}
	res, err := Verify(context.Background(), Config{Client: c, Source: writeParquet(t, src), Window: october, Meters: meters})
	if err != nil {
		t.Fatal(err)
	}
	if err := Bill(context.Background(), res, BillConfig{Client: c, Period: octoberPeriod}); err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Discrepancies {
		if p.Measure == MeasureAmount {
			t.Errorf("invoice pair %+v: the Peak line (700 × 20) is right", p)
		}
	}
}
