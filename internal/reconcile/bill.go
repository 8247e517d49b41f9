package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/billharness/billharness/internal/billing"
)

// BillConfig configures Bill.
type BillConfig struct {
	// Client reaches the API with an admin-scope token. Required.
	Client *billing.Client
	// Period is billed; Bill's checks compare it with the verified
	// window's totals, so it should be that window. Required.
	Period billing.Period
	// OnlyMatched bills only the subscriptions whose every pair matched;
	// otherwise every subscription the API lists in scope is billed.
	OnlyMatched bool
	// Finalize finalizes each Draft invoice (Draft → Open, numbered).
	Finalize bool
	// Concurrency bounds API calls in flight. Default DefaultConcurrency.
	Concurrency int
	// Logger receives progress. Default: discard.
	Logger *slog.Logger
}

// BillStats sums up the billing of a run.
type BillStats struct {
	Period billing.Period `json:"period"`
	// Billed counts invoices obtained: Created by this run (201), or
	// Found from an earlier run for the same period (200).
	Billed  int `json:"billed"`
	Created int `json:"created"`
	Found   int `json:"found"`
	// Finalized counts invoices finalized by this run.
	Finalized int `json:"finalized"`
	// Skipped counts subscriptions not billed because a pair differed
	// (OnlyMatched).
	Skipped int `json:"skipped"`
	// Failed counts subscriptions whose bill or finalize call failed.
	Failed int `json:"failed"`
	// Mismatched counts invoices with a line or total that differs.
	Mismatched int `json:"mismatched"`
	// Total is the sum of the billed invoices' totals.
	Total billing.Money `json:"total_nanos"`
}

// Invoice is one billed invoice and what its check found.
type Invoice struct {
	SubscriptionID string `json:"subscription_id"`
	InvoiceID      string `json:"invoice_id,omitempty"`
	Number         string `json:"invoice_number,omitempty"`
	Status         string `json:"status,omitempty"`
	// Created is false when the API returned the invoice an earlier run
	// made for the same period (200). Within the API's 24 h idempotency
	// window a repeated call gets the first answer, a 201, replayed: the
	// invoice is the same, but it reads as created.
	Created bool `json:"created"`
	// Total is the invoice's total; Expected is the sum of each line's
	// verified quantity times its unit price.
	Total    billing.Money `json:"total_nanos"`
	Expected billing.Money `json:"expected_nanos"`
	// Lines counts the invoice's lines; Mismatches those that differ,
	// plus one if the total is not the sum of the lines.
	Lines      int    `json:"lines"`
	Mismatches int    `json:"mismatches"`
	Error      string `json:"error,omitempty"`
}

// billed is one subscription's outcome, before it is folded into a Result.
type billed struct {
	inv       Invoice
	pairs     []Pair
	finalized bool
}

// Bill bills the subscriptions of res in scope for cfg.Period (each call
// idempotent per subscription and period), finalizes the drafts when
// asked, and checks every invoice line: a metered line's amount must equal
// the quantity Verify computed from the source times the line's unit price,
// exactly (128-bit pico-units); any other line's, its own quantity times
// its unit price; the total, the sum of the lines. Each difference is a
// Misbilled pair and a failed call an Error pair, added to res.
func Bill(ctx context.Context, res *Result, cfg BillConfig) error {
	if cfg.Client == nil || !cfg.Period.Start.Before(cfg.Period.End) {
		return errors.New("bill: need a client and a period whose start is before its end")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	stats := &BillStats{Period: cfg.Period}
	var todo []*subState
	for _, st := range res.subs {
		switch {
		case !st.known:
		case cfg.OnlyMatched && !st.matched():
			stats.Skipped++
		default:
			todo = append(todo, st)
		}
	}
	out := make([]billed, len(todo))
	var g errgroup.Group
	g.SetLimit(cfg.Concurrency)
	for i, st := range todo {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			out[i] = billOne(ctx, cfg, st)
			return nil
		})
	}
	_ = g.Wait() // billOne records its errors
	for i := range out {
		b := &out[i]
		if b.inv.SubscriptionID == "" {
			continue // not started: interrupted
		}
		res.Invoices = append(res.Invoices, b.inv)
		for _, p := range b.pairs {
			res.Counts[p.Class]++
			res.Discrepancies = append(res.Discrepancies, p)
		}
		if b.finalized {
			stats.Finalized++
		}
		switch {
		case b.inv.InvoiceID == "":
			stats.Failed++
			continue
		case b.inv.Error != "":
			stats.Failed++
		}
		stats.Billed++
		if b.inv.Created {
			stats.Created++
		} else {
			stats.Found++
		}
		if b.inv.Mismatches > 0 {
			stats.Mismatched++
		}
		t, err := stats.Total.Add(b.inv.Total)
		if err != nil {
			return fmt.Errorf("bill: sum of invoice totals: %w", err)
		}
		stats.Total = t
	}
	slices.SortFunc(res.Invoices, func(a, b Invoice) int { return cmp.Compare(a.SubscriptionID, b.SubscriptionID) })
	slices.SortFunc(res.Discrepancies, comparePairs)
	res.Bill = stats
	log.Info("billed", "invoices", stats.Billed, "mismatched", stats.Mismatched, "failed", stats.Failed, "skipped", stats.Skipped)
	return ctx.Err()
}

// billOne bills, finalizes and checks one subscription.
func billOne(ctx context.Context, cfg BillConfig, st *subState) billed {
	b := billed{inv: Invoice{SubscriptionID: st.id}}
	failed := func(what string, err error) billed {
		b.inv.Error = what + ": " + err.Error()
		b.pairs = append(b.pairs, Pair{
			SubscriptionID: st.id, CustomerID: st.customerID, Meter: "invoice", Measure: MeasureAmount,
			InvoiceID: b.inv.InvoiceID, Class: Error, Detail: b.inv.Error,
		})
		return b
	}
	period := cfg.Period
	inv, created, err := cfg.Client.Bill(ctx, st.id, &period)
	if err != nil {
		return failed("bill", err)
	}
	b.inv.InvoiceID, b.inv.Created = inv.ID, created
	if cfg.Finalize && inv.Status == billing.InvoiceDraft {
		fin, err := cfg.Client.FinalizeInvoice(ctx, inv.ID)
		if err != nil {
			b = failed("finalize", err)
		} else {
			inv, b.finalized = fin, true
		}
	}
	b.inv.Number, b.inv.Status, b.inv.Total, b.inv.Lines = inv.InvoiceNumber, inv.Status, inv.TotalNanos, len(inv.LineItems)
	b.check(st, inv)
	return b
}

// check compares the invoice's lines and total with the verified totals.
func (b *billed) check(st *subState, inv *billing.Invoice) {
	mismatch := func(p Pair) {
		p.SubscriptionID, p.CustomerID, p.InvoiceID = st.id, st.customerID, inv.ID
		p.Class, p.Delta = Misbilled, p.Observed.Sub(p.Expected)
		b.pairs = append(b.pairs, p)
		b.inv.Mismatches++
	}
	var expected, lines billing.Money
	var overflow bool
	add := func(sum *billing.Money, m billing.Money) {
		if s, err := sum.Add(m); err == nil {
			*sum = s
		} else {
			overflow = true
		}
	}
	billedMeter := make([]bool, len(st.group.meters))
	for _, line := range inv.LineItems {
		p := Pair{Meter: line.Description, SKUID: line.SKUID, Measure: MeasureAmount, Observed: line.AmountNanos.Quantity()}
		q := line.Quantity
		if i := st.skuOf(line.SKUID); i >= 0 && line.SKUID != "" {
			m := st.group.meters[i]
			p.Meter, p.EventType, p.Property, p.Aggregation = m.Label(), m.EventType, m.Property, m.Aggregation
			p.Events, q, billedMeter[i] = st.acc[i].events, st.expected[i], true
		}
		add(&lines, line.AmountNanos)
		want, err := line.UnitAmountNanos.MulQuantity(q)
		if err != nil {
			p.Detail = fmt.Sprintf("verified quantity %s × unit price %s: %v", q, line.UnitAmountNanos, err)
			mismatch(p)
			continue
		}
		add(&expected, want)
		if want.Cmp(line.AmountNanos) != 0 {
			p.Expected = want.Quantity()
			p.Detail = fmt.Sprintf("line quantity %s, verified %s, unit price %s", line.Quantity, q, line.UnitAmountNanos)
			mismatch(p)
		}
	}
	for i, m := range st.group.meters {
		if !billedMeter[i] && !st.expected[i].IsZero() && st.known {
			mismatch(Pair{Meter: m.Label(), EventType: m.EventType, Property: m.Property, Aggregation: m.Aggregation,
				Measure: MeasureQuantity, Expected: st.expected[i], Events: st.acc[i].events,
				Detail: "no invoice line for a meter with verified usage"})
		}
	}
	switch {
	case overflow:
		mismatch(Pair{Meter: "total", Measure: MeasureAmount, Observed: inv.TotalNanos.Quantity(),
			Detail: "the sum of the lines overflows 128 bits"})
	case inv.TotalNanos.Cmp(lines) != 0:
		mismatch(Pair{Meter: "total", Measure: MeasureAmount, Expected: lines.Quantity(), Observed: inv.TotalNanos.Quantity(),
			Detail: "the total is not the sum of the lines"})
	}
	b.inv.Expected = expected
}
