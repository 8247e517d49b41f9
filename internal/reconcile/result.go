package reconcile

import (
	"cmp"
	"slices"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/source"
)

// Class is the verdict on one (subscription, meter) pair, or on one
// invoice line.
type Class string

// The classes, in the order reports list them.
const (
	// Match: the API agrees with the source, within tolerance.
	Match Class = "match"
	// Under: the API has less than the source: usage was lost.
	Under Class = "under"
	// Over: the API has more than the source: usage was counted twice.
	Over Class = "over"
	// Missing: the source has usage for a subscription or a meter the API
	// does not have at all.
	Missing Class = "missing"
	// Unexpected: the API has usage the source has no events for.
	Unexpected Class = "unexpected"
	// Error: the API call failed after the client's retries; nothing is
	// known about the pair.
	Error Class = "error"
	// Misbilled: an invoice line's amount differs from the verified
	// quantity times the SKU's unit price (or a total from the sum of its
	// lines).
	Misbilled Class = "invoice"
	// LateUsage: a finalized invoice's line was priced on another
	// quantity than the usage verified now: usage that arrived after the
	// invoice closed, not billed (or billed and since gone).
	LateUsage Class = "late_usage"
	// DoubleBilled: an invoice whose period overlaps an earlier invoice
	// of the same subscription: the same time charged twice.
	DoubleBilled Class = "double_billed"
	// OutsideTerm: a flat fee charged for time before the subscription
	// started or inside its trial.
	OutsideTerm Class = "outside_term"
	// Uncountable: metered events whose value the API counts as zero (not
	// a number, out of range) or that reduce the total (negative), though
	// API and source agree: revenue lost to data quality.
	Uncountable Class = "uncountable"
)

// Classes lists every class in report order.
var Classes = []Class{Match, Under, Over, Missing, Unexpected, Error, Misbilled, LateUsage, DoubleBilled, OutsideTerm, Uncountable}

// Measures of a Pair.
const (
	// MeasureQuantity is a meter's usage quantity.
	MeasureQuantity = "quantity"
	// MeasureAmount is an invoice amount in pico-units (amount_nanos).
	MeasureAmount = "amount_nanos"
)

// Pair is one compared (subscription, meter) pair, or one checked invoice
// line, with what each side says.
type Pair struct {
	SubscriptionID string `json:"subscription_id"`
	CustomerID     string `json:"customer_id,omitempty"`
	// Meter is the meter's label (see Meter.Label); for an invoice line,
	// the line's description.
	Meter       string `json:"meter"`
	SKUID       string `json:"sku_id,omitempty"`
	EventType   string `json:"event_type,omitempty"`
	Property    string `json:"property,omitempty"`
	Aggregation string `json:"aggregation,omitempty"`
	// Measure is MeasureQuantity or MeasureAmount.
	Measure string `json:"measure"`
	// Expected is the source's total (or the amount it implies); Observed
	// is what the API reports; Delta is Observed - Expected, negative when
	// the API has less (zero for an Error: the API did not say).
	Expected billing.Quantity `json:"expected"`
	Observed billing.Quantity `json:"observed"`
	Delta    billing.Quantity `json:"delta"`
	Class    Class            `json:"class"`
	// NotYetReflected marks an under or missing pair whose API value was
	// still rising when -settle ran out: ingestion lag rather than loss.
	NotYetReflected bool `json:"not_yet_reflected,omitempty"`
	// Events is how many distinct source events the meter counted.
	Events int64 `json:"events"`
	// SampleEventIDs are the first few source events of the pair.
	SampleEventIDs []string `json:"sample_event_ids,omitempty"`
	// InvoiceID is the invoice of an invoice line.
	InvoiceID string `json:"invoice_id,omitempty"`
	// Currency is the currency of an amount (an invoice's).
	Currency string `json:"currency,omitempty"`
	// Money is what the pair is worth, in pico-units of Currency: for an
	// amount, Delta; for an uncountable pair, what its readable values
	// would have added to the invoice (set by bill). Zero: not priced.
	Money billing.Money `json:"money_nanos,omitzero"`
	// Detail says more: why a pair is missing, the API error, the line.
	Detail string `json:"detail,omitempty"`
}

// Money impacts of a pair (Pair.Impact).
const (
	// UnderBilled: the customer was billed less than the source implies.
	UnderBilled = "under_billed"
	// OverBilled: the customer was billed more than owed.
	OverBilled = "over_billed"
	// AtRisk: money a finance team must look at: usage the API cannot
	// count, usage after an invoice closed, a second invoice for the
	// same time.
	AtRisk = "at_risk"
)

// Impact says what the pair's Money is: UnderBilled, OverBilled or
// AtRisk; "" for a pair without money.
func (p Pair) Impact() string {
	if p.Money.IsZero() {
		return ""
	}
	switch p.Class {
	case Uncountable, LateUsage, DoubleBilled:
		return AtRisk
	}
	if p.Money.Cmp(billing.Money{}) < 0 {
		return UnderBilled
	}
	return OverBilled
}

// RelDelta returns Delta / |Expected| and true, or false when Expected is
// zero or the pair is an Error. It is a float for display; the verdict
// uses exact arithmetic.
func (p Pair) RelDelta() (float64, bool) {
	if p.Expected.IsZero() || p.Class == Error {
		return 0, false
	}
	return p.Delta.Float64() / p.Expected.Abs().Float64(), true
}

// comparePairs orders pairs by subscription, measure, then meter.
// ComparePairs orders pairs as reports list them: by subscription,
// measure, meter, SKU and invoice.
func ComparePairs(a, b Pair) int { return comparePairs(a, b) }

func comparePairs(a, b Pair) int {
	return cmp.Or(
		cmp.Compare(a.SubscriptionID, b.SubscriptionID),
		cmp.Compare(a.Measure, b.Measure),
		cmp.Compare(a.Meter, b.Meter),
		cmp.Compare(a.SKUID, b.SKUID),
		cmp.Compare(a.InvoiceID, b.InvoiceID),
	)
}

// Result is what a comparison found. Discrepancies holds every pair that
// is not a Match; matches are only counted, so memory stays proportional to
// what is wrong.
type Result struct {
	Window source.Window `json:"window"`
	Shard  source.Shard  `json:"shard"`
	Rows   Rows          `json:"rows"`
	// Meters are the meters compared (for a plan catalog, every plan's).
	Meters []Meter `json:"meters"`
	// Subscriptions counts subscriptions in scope: with source events, or
	// listed by the API, in this shard.
	Subscriptions int `json:"subscriptions"`
	// Pairs counts pairs compared; Counts splits them (and invoice lines
	// that differ) by class.
	Pairs  int           `json:"pairs"`
	Counts map[Class]int `json:"counts"`
	// NotYetReflected counts the discrepancies still settling.
	NotYetReflected int `json:"not_yet_reflected"`
	// Discrepancies are the pairs that are not a Match, sorted by
	// subscription, measure and meter.
	Discrepancies []Pair `json:"discrepancies"`
	// Settle describes the re-polling of mismatched pairs.
	Settle SettleStats `json:"settle"`
	// Heal is set when -heal ran.
	Heal *HealStats `json:"heal,omitempty"`
	// Bill is set when subscriptions were billed.
	Bill *BillStats `json:"bill,omitempty"`
	// Invoices are the invoices billed, sorted by subscription.
	Invoices []Invoice `json:"invoices,omitempty"`
	// Durations of the steps.
	ScanTime time.Duration `json:"scan_ns"`
	// SourceBytes is what the scan read from the source: Parquet bytes
	// or bytes received from PostgreSQL.
	SourceBytes int64 `json:"source_bytes"`
	// Pushdown says the totals were computed in PostgreSQL.
	Pushdown  bool          `json:"pushdown,omitempty"`
	FetchTime time.Duration `json:"fetch_ns"`

	subs []*subState // in scope, sorted by id; Bill reads them
}

// Mismatches counts discrepancies of the classes that make a run exit 3.
func (r *Result) Mismatches() int {
	n := 0
	for c, k := range r.Counts {
		if c != Match && c != Error {
			n += k
		}
	}
	return n
}

// Errors counts pairs whose API calls failed.
func (r *Result) Errors() int { return r.Counts[Error] }

// SettleStats describes the settling of mismatched pairs.
type SettleStats struct {
	// Budget is how long mismatched pairs could be re-polled.
	Budget time.Duration `json:"budget_ns"`
	// Polls counts re-polls after the first fetch.
	Polls int `json:"polls"`
	// Settled counts subscriptions that came to match while re-polled.
	Settled int `json:"settled"`
	// Elapsed is the time spent re-polling.
	Elapsed time.Duration `json:"elapsed_ns"`
}

// build rebuilds the counts and discrepancies from the subscriptions.
func (r *Result) build(subs []*subState) {
	r.subs = subs
	r.Subscriptions = len(subs)
	r.Pairs, r.NotYetReflected = 0, 0
	r.Counts = map[Class]int{}
	n := 0
	for _, st := range subs {
		n += st.discrepancies()
	}
	// Sized once: with every pair wrong, this is the run's largest slice.
	r.Discrepancies = make([]Pair, 0, n)
	for _, st := range subs {
		st.pairs(func(p Pair) {
			r.Pairs++
			r.Counts[p.Class]++
			if p.Class == Match {
				return
			}
			if p.NotYetReflected {
				r.NotYetReflected++
			}
			r.Discrepancies = append(r.Discrepancies, p)
		})
	}
	slices.SortFunc(r.Discrepancies, comparePairs)
}
