package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

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
	// Totals sums the billed invoices' totals per currency.
	Totals map[string]billing.Money `json:"totals_nanos"`
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
	Currency string        `json:"currency,omitempty"`
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
	// worth prices the uncountable values of a meter (by label), in the
	// invoice's currency: what they would have added to the invoice.
	worth map[string]billing.Money
}

// Bill bills the subscriptions of res in scope for cfg.Period (each call
// idempotent per subscription and period), finalizes the drafts when
// asked, and checks every invoice line: a metered line's amount must equal
// the quantity Verify computed from the source times the line's unit price,
// exactly (128-bit pico-units); any other line's, its own quantity times
// its unit price; the total, the sum of the lines. Each difference is a
// Misbilled pair and a failed call an Error pair, added to res.
func Bill(ctx context.Context, res *Result, cfg BillConfig) error {
	if cfg.Client == nil || !billing.IsCycle(cfg.Period) {
		return errors.New("bill: need a client and a period that is one billing cycle (a calendar month in UTC)")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	stats := &BillStats{Period: cfg.Period, Totals: map[string]billing.Money{}}
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
	priceUncountable(res, out)
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
		t, err := stats.Totals[b.inv.Currency].Add(b.inv.Total)
		if err != nil {
			return fmt.Errorf("bill: sum of invoice totals: %w", err)
		}
		stats.Totals[b.inv.Currency] = t
	}
	slices.SortFunc(res.Invoices, func(a, b Invoice) int { return cmp.Compare(a.SubscriptionID, b.SubscriptionID) })
	slices.SortFunc(res.Discrepancies, comparePairs)
	res.Bill = stats
	log.Info("billed", "invoices", stats.Billed, "mismatched", stats.Mismatched, "failed", stats.Failed, "skipped", stats.Skipped)
	return ctx.Err()
}

// priceUncountable sets the money of each uncountable pair of the
// subscriptions billed.
func priceUncountable(res *Result, out []billed) {
	bySub := map[string]*billed{}
	for k := range out {
		if out[k].worth != nil {
			bySub[out[k].inv.SubscriptionID] = &out[k]
		}
	}
	if len(bySub) == 0 {
		return
	}
	for j := range res.Discrepancies {
		p := &res.Discrepancies[j]
		if b := bySub[p.SubscriptionID]; b != nil && p.Class == Uncountable {
			if m, ok := b.worth[p.Meter]; ok {
				p.Money, p.Currency = m, b.inv.Currency
			}
		}
	}
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
	b.inv.Currency = inv.Currency
	b.check(st, inv)
	list, err := cfg.Client.Invoices(ctx, st.id)
	if err != nil {
		return failed("list invoices", err)
	}
	b.history(st, list, inv.ID)
	return b
}

// chargeable is the part of [start, end) a flat fee may charge: from the
// latest of start, the subscription's start and its trial's end [chosen].
func (st *subState) chargeable(start, end time.Time) (from time.Time) {
	from = start
	if t := time.Unix(0, max(st.start, st.trialEnd)); t.After(from) {
		from = t
	}
	if from.After(end) {
		return end
	}
	return from.UTC()
}

// check compares the invoice's lines and total with the verified totals.
func (b *billed) check(st *subState, inv *billing.Invoice) {
	mismatch := func(p Pair, c Class) {
		p.SubscriptionID, p.CustomerID, p.InvoiceID, p.Currency = st.id, st.customerID, inv.ID, inv.Currency
		p.Class, p.Delta = c, p.Observed.Sub(p.Expected)
		if p.Measure == MeasureAmount {
			p.Money = quantityMoney(p.Delta)
		}
		b.pairs = append(b.pairs, p)
		b.inv.Mismatches++
	}
	final := inv.Status != billing.InvoiceDraft
	var expected, lines billing.Money
	var overflow bool
	add := func(sum *billing.Money, m billing.Money) {
		if s, err := sum.Add(m); err == nil {
			*sum = s
		} else {
			overflow = true
		}
	}
	period := inv.PeriodEnd.Sub(inv.PeriodStart)
	billedMeter := make([]bool, len(st.group.meters))
	for li := range inv.LineItems {
		line := &inv.LineItems[li]
		p := Pair{Meter: line.Description, SKUID: line.SKUID, Measure: MeasureAmount, Observed: line.AmountNanos.Quantity()}
		add(&lines, line.AmountNanos)
		i := -1
		if line.SKUID != "" {
			i = st.skuOf(line.SKUID)
		}
		if i < 0 && !st.isFee(line) {
			// A line of a meter the run does not compare (-meters names
			// fewer than the plan has), or a fee that states no period:
			// it can only be checked against its own quantity.
			want, err := line.Price().Amount(line.Quantity)
			if err == nil {
				add(&expected, want)
			}
			if err != nil || want.Cmp(line.AmountNanos) != 0 {
				p.Expected = want.Quantity()
				p.Detail = fmt.Sprintf("line quantity %s, %s", line.Quantity, priceWords(line))
				mismatch(p, Misbilled)
			}
			continue
		}
		if i < 0 {
			// A flat fee (the API's meters of the plan are all compared,
			// or the line states the part of the period it charges):
			// prorated to the part the subscription is past its start and
			// trial.
			from := st.chargeable(inv.PeriodStart, inv.PeriodEnd)
			want := billing.Prorate(line.UnitAmountNanos, inv.PeriodEnd.Sub(from), period)
			add(&expected, want)
			if want.Cmp(line.AmountNanos) == 0 {
				continue
			}
			p.Expected = want.Quantity()
			c := Misbilled
			p.Detail = fmt.Sprintf("flat fee %s for %s..%s", line.UnitAmountNanos, from.Format(time.RFC3339), inv.PeriodEnd.Format(time.RFC3339))
			if line.AmountNanos.Cmp(want) > 0 && from.After(inv.PeriodStart) {
				c = OutsideTerm
				p.Detail = fmt.Sprintf("flat fee charged before %s, when the subscription %s", from.Format(time.RFC3339), st.termWord(from))
			}
			mismatch(p, c)
			continue
		}
		m := st.group.meters[i]
		p.Meter, p.EventType, p.Property, p.Aggregation = m.Label(), m.EventType, m.Property, m.Aggregation
		p.Events, billedMeter[i] = st.acc[i].events, true
		q := st.expected[i]
		b.priceWorth(st, i, line)
		want, err := line.Price().Amount(q)
		if err != nil {
			p.Detail = fmt.Sprintf("verified quantity %s priced %s: %v", q, line.PricingModel, err)
			mismatch(p, Misbilled)
			continue
		}
		add(&expected, want)
		if want.Cmp(line.AmountNanos) == 0 {
			continue
		}
		p.Expected = want.Quantity()
		p.Detail = fmt.Sprintf("line quantity %s, verified %s, %s", line.Quantity, q, priceWords(line))
		if final && st.obs != nil && st.obs[i].present && line.Quantity.Cmp(st.obs[i].qty) != 0 {
			// The API's own usage moved after the invoice closed.
			p.Detail = fmt.Sprintf("invoice %s finalized with quantity %s; the API's usage is now %s and the verified usage %s: usage after close not billed",
				inv.InvoiceNumber, line.Quantity, st.obs[i].qty, q)
			mismatch(p, LateUsage)
			continue
		}
		mismatch(p, Misbilled)
	}
	for i, m := range st.group.meters {
		if !billedMeter[i] && !st.expected[i].IsZero() && st.known {
			mismatch(Pair{Meter: m.Label(), EventType: m.EventType, Property: m.Property, Aggregation: m.Aggregation,
				Measure: MeasureQuantity, Expected: st.expected[i], Events: st.acc[i].events,
				Detail: "no invoice line for a meter with verified usage"}, Misbilled)
		}
	}
	switch {
	case overflow:
		mismatch(Pair{Meter: "total", Measure: MeasureAmount, Observed: inv.TotalNanos.Quantity(),
			Detail: "the sum of the lines overflows 128 bits"}, Misbilled)
	case inv.TotalNanos.Cmp(lines) != 0:
		mismatch(Pair{Meter: "total", Measure: MeasureAmount, Expected: lines.Quantity(), Observed: inv.TotalNanos.Quantity(),
			Detail: "the total is not the sum of the lines"}, Misbilled)
	}
	b.inv.Expected = expected
}

// priceWorth prices what meter i's uncountable values would have added to
// line: the price of the verified quantity plus their worth, less the
// price of the verified quantity.
func (b *billed) priceWorth(st *subState, i int, line *billing.LineItem) {
	qual := st.acc[i].qual
	if qual == nil {
		return
	}
	q := st.expected[i]
	with, err1 := line.Price().Amount(q.Add(qual.worth()))
	without, err2 := line.Price().Amount(q)
	if err1 != nil || err2 != nil {
		return
	}
	if d, err := with.Sub(without); err == nil {
		if b.worth == nil {
			b.worth = map[string]billing.Money{}
		}
		b.worth[st.group.meters[i].Label()] = d
	}
}

// isFee reports whether a line that is not one of st's compared meters is
// a flat fee, to be prorated: when the run compares every meter of the
// plan (the API's own), or when the line states the part of the period it
// charges. Otherwise (-meters naming fewer meters than the plan has) it may
// be the line of a meter not compared, checked against its own quantity.
func (st *subState) isFee(line *billing.LineItem) bool {
	return st.group.fromAPI || line.PeriodStart != nil
}

// termWord says why a flat fee may not charge before t.
func (st *subState) termWord(t time.Time) string {
	if st.trialEnd > st.start && t.UnixNano() == st.trialEnd {
		return "was in its trial"
	}
	return "had not started"
}

// priceWords describes a line's price for a detail.
func priceWords(line *billing.LineItem) string {
	switch line.PricingModel {
	case "", billing.PricingPerUnit:
		return "unit price " + line.UnitAmountNanos.String()
	case billing.PricingPackage:
		return fmt.Sprintf("Package of %d at %s", line.PackageSize, line.UnitAmountNanos)
	}
	return fmt.Sprintf("%s pricing, %d tiers", line.PricingModel, len(line.Tiers))
}

// quantityMoney converts an amount held as a Quantity of pico-units back
// to Money (amounts are always whole).
func quantityMoney(q billing.Quantity) billing.Money {
	m, _ := billing.ParseMoney(q.String())
	return m
}

// history checks every invoice the API holds for the subscription, the
// one just billed (current) included: an invoice whose period overlaps an
// earlier one charges the same time twice (DoubleBilled, its total at
// stake); any other invoice's flat fees must not charge time before the
// subscription started or inside its trial (OutsideTerm, the excess at
// stake). Void invoices charge nothing and are skipped.
func (b *billed) history(st *subState, list []billing.Invoice, current string) {
	slices.SortStableFunc(list, func(x, y billing.Invoice) int { return x.PeriodStart.Compare(y.PeriodStart) })
	var kept []*billing.Invoice
	for k := range list {
		inv := &list[k]
		if inv.Status == billing.InvoiceVoid {
			continue
		}
		p := Pair{SubscriptionID: st.id, CustomerID: st.customerID, Meter: "invoice", Measure: MeasureAmount,
			InvoiceID: inv.ID, Currency: inv.Currency}
		var prior *billing.Invoice
		for _, e := range kept {
			if inv.PeriodStart.Before(e.PeriodEnd) && e.PeriodStart.Before(inv.PeriodEnd) {
				prior = e
				break
			}
		}
		if prior != nil {
			p.Class, p.Observed = DoubleBilled, inv.TotalNanos.Quantity()
			p.Delta, p.Money = p.Observed, inv.TotalNanos
			p.Detail = fmt.Sprintf("period %s..%s overlaps invoice %s (%s..%s): the same time billed twice",
				day(inv.PeriodStart), day(inv.PeriodEnd), prior.ID, day(prior.PeriodStart), day(prior.PeriodEnd))
			b.pairs = append(b.pairs, p)
			b.inv.Mismatches++
			continue
		}
		kept = append(kept, inv)
		if inv.ID == current {
			continue // check() has priced it line by line
		}
		from := st.chargeable(inv.PeriodStart, inv.PeriodEnd)
		if !from.After(inv.PeriodStart) {
			continue
		}
		var excess billing.Money
		for li := range inv.LineItems {
			line := &inv.LineItems[li]
			if (line.SKUID != "" && st.skuOf(line.SKUID) >= 0) || !st.isFee(line) {
				continue
			}
			want := billing.Prorate(line.UnitAmountNanos, inv.PeriodEnd.Sub(from), inv.PeriodEnd.Sub(inv.PeriodStart))
			if d, err := line.AmountNanos.Sub(want); err == nil && d.Cmp(billing.Money{}) > 0 {
				excess, _ = excess.Add(d)
			}
		}
		if excess.IsZero() {
			continue
		}
		p.Class, p.Delta, p.Money = OutsideTerm, excess.Quantity(), excess
		p.Observed = inv.TotalNanos.Quantity()
		p.Expected = p.Observed.Sub(p.Delta)
		p.Detail = fmt.Sprintf("invoice for %s..%s charges flat fees before %s, when the subscription %s",
			day(inv.PeriodStart), day(inv.PeriodEnd), from.Format(time.RFC3339), st.termWord(from))
		b.pairs = append(b.pairs, p)
		b.inv.Mismatches++
	}
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02T15:04Z") }
