package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/parquet-go/parquet-go"
)

// The month-end scenario: a small catalog and month of events beside the
// sample, with what makes invoices go wrong. A plan with a flat fee, a
// Graduated and a Package meter; a subscription that starts mid-month in
// a trial; one whose values are not all numbers the API counts; one with
// an event that arrives after its invoice closed (a separate file, late/);
// one a careless run bills twice (scripts/demo.sh does that). Ids are
// fixed, so the demo's report names the same subscriptions every time.
const (
	meProduct = "0199a000-0000-7000-8000-0000000000a1"
	mePlan    = "0199a000-0000-7000-8000-0000000000a2"
)

// meSubs are the scenario's subscriptions: id suffix, start, trial days.
var meSubs = []struct {
	name  string
	start time.Time
	trial int
}{
	{"steady", time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), 0},
	{"trial", time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC), 14}, // trial to October 24
	{"messy", time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), 0},    // uncountable values
	{"late", time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), 0},     // an event after close
	{"twice", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), 0},    // billed twice
}

func meID(kind byte, i int) string {
	return fmt.Sprintf("0199a000-0000-7000-8000-0000000%c%04d", kind, i)
}

func upTo(s string) *billing.Quantity {
	q, err := billing.ParseQuantity(s)
	if err != nil {
		panic(err) // constants only
	}
	return &q
}

// monthEnd writes the scenario to c.Out: seed.json, parquet/ (the month)
// and late/ (what arrives after the invoices closed).
func monthEnd(c config) error {
	r := rand.New(rand.NewPCG(c.Seed, 0x6d6f_6e74_6865_6e64))
	seed := seedFile{
		Products: []billing.Product{{ID: meProduct, Name: "Harness Scale", Description: "Inference and GPU time"}},
		Plans: []billing.Plan{{ID: mePlan, ProductID: meProduct, Name: "Scale", Description: "Platform fee plus tiered usage",
			BillingCadence: "Monthly", Currency: "USD"}},
		SKUs: []billing.SKU{
			{ID: meID('b', 1), PlanID: mePlan, Name: "Platform Fee", PricingModel: billing.PricingPerUnit,
				UnitAmountNanos: billing.MustMoney("99000000000000"), Currency: "USD"}, // $99 a month
			{ID: meID('b', 2), PlanID: mePlan, Name: "Inference Tokens", PricingModel: billing.PricingGraduated,
				MeterEventType: "llm.inference", MeterProperty: "tokens", Aggregation: billing.AggSum, Currency: "USD",
				Tiers: []billing.Tier{ // $10, then $5 (+$1 on entry), then $2 per million
					{UpTo: upTo("100000"), UnitAmount: billing.MustMoney("10000000")},
					{UpTo: upTo("1000000"), UnitAmount: billing.MustMoney("5000000"), FlatAmount: billing.MustMoney("1000000000000")},
					{UnitAmount: billing.MustMoney("2000000")},
				}},
			{ID: meID('b', 3), PlanID: mePlan, Name: "GPU Hours", PricingModel: billing.PricingPackage,
				MeterEventType: "gpu.job", MeterProperty: "seconds", Aggregation: billing.AggSum, Currency: "USD",
				UnitAmountNanos: billing.MustMoney("2500000000000"), PackageSize: 3600}, // $2.50 per started hour
		},
	}
	for i, s := range meSubs {
		cust := billing.Customer{ID: meID('c', i+1), DisplayName: "Scale " + s.name, Email: "billing+" + s.name + "@example.com",
			Currency: "USD", AccountType: "Business", CreatedAt: s.start}
		trial := s.trial
		seed.Customers = append(seed.Customers, cust)
		seed.Subscriptions = append(seed.Subscriptions, billing.Subscription{ID: meID('d', i+1), CustomerID: cust.ID,
			PlanID: mePlan, Currency: "USD", TrialDays: &trial, CreatedAt: s.start})
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(c.Out, "seed.json"), seed); err != nil {
		return err
	}

	var month, late []parquetRow
	n := 0
	add := func(dst *[]parquetRow, sub int, ts time.Time, typ, props string) {
		n++
		id := meID('e', n)
		s := meID('d', sub+1)
		*dst = append(*dst, parquetRow{ID: id, EventType: typ, CustomerID: meID('c', sub+1), SubscriptionID: &s, Timestamp: ts, Properties: props})
	}
	start := c.Month
	for i := range meSubs {
		from := start
		if meSubs[i].start.After(from) {
			from = meSubs[i].start
		}
		hours := int(start.AddDate(0, 1, 0).Sub(from).Hours())
		for k := range 40 {
			ts := from.Add(time.Duration(r.IntN(hours))*time.Hour + time.Duration(k)*time.Second)
			add(&month, i, ts, "llm.inference", fmt.Sprintf(`{"tokens":%d,"model":"scale-1"}`, 1000+r.IntN(9000)))
			if k%8 == 0 {
				add(&month, i, ts.Add(time.Minute), "gpu.job", fmt.Sprintf(`{"seconds":%d}`, 60+r.IntN(1800)))
			}
		}
	}
	// messy: values a tokenizer service wrote as text; the API counts them as 0.
	messy := 2
	for k, v := range []string{`"1,200"`, `"n/a"`, `null`, `"12 500"`, `-300`} {
		add(&month, messy, start.AddDate(0, 0, 12).Add(time.Duration(k)*time.Minute), "llm.inference", fmt.Sprintf(`{"tokens":%s}`, v))
	}
	// late: written after the month closed, stamped October 30.
	for k := range 3 {
		add(&late, 3, start.AddDate(0, 0, 29).Add(time.Duration(k)*time.Minute), "llm.inference", `{"tokens":25000}`)
	}
	for _, f := range []struct {
		rows []parquetRow
		rel  string
	}{{month, "parquet/dt=2026-10-01/scale-0000.parquet"}, {late, "late/dt=2026-10-30/scale-late-0000.parquet"}} {
		path := filepath.Join(c.Out, f.rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := writeRows(path, f.rows); err != nil {
			return err
		}
	}
	return nil
}

func writeRows(path string, rows []parquetRow) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := parquet.NewGenericWriter[parquetRow](f, parquet.Compression(&parquet.Zstd), parquet.CreatedBy("billharness-gen", "1", ""))
	if _, err := w.Write(rows); err != nil {
		f.Close()
		return err
	}
	if err := w.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
