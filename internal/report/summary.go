package report

import (
	"encoding/json"
	"io"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/reconcile"
)

// Summary is the content of summary.json: the headline numbers of a run.
type Summary struct {
	RunID       string    `json:"run_id"`
	Command     string    `json:"command"`
	GeneratedAt time.Time `json:"generated_at"`
	// Status is ok, discrepancies or failed; ExitStatus the matching
	// process exit status (0, 3, 1).
	Status     string `json:"status"`
	ExitStatus int    `json:"exit_status"`
	Error      string `json:"error,omitempty"`

	Window    SummaryWindow `json:"window"`
	Shard     string        `json:"shard"`
	Source    string        `json:"source"`
	Target    string        `json:"target"`
	Tolerance string        `json:"tolerance"`

	// Rows accounts for the source's rows; RowsComplete is whether every
	// declared row was read.
	Rows         reconcile.Rows `json:"rows"`
	RowsComplete bool           `json:"rows_complete"`

	Subscriptions int `json:"subscriptions"`
	// SubscriptionsWithDiscrepancies counts subscriptions with at least
	// one pair that is not a match.
	SubscriptionsWithDiscrepancies int            `json:"subscriptions_with_discrepancies"`
	Pairs                          int            `json:"pairs"`
	Classes                        map[string]int `json:"classes"`
	NotYetReflected                int            `json:"not_yet_reflected"`
	// Money is the money the discrepancies are worth, per currency; its
	// sums are exact pico-units.
	Money []MoneyImpact `json:"money"`
	// LargestDeltas are the usage pairs with the largest absolute delta.
	LargestDeltas []SummaryDelta `json:"largest_deltas"`

	Settle   SummarySettle        `json:"settle"`
	Heal     *reconcile.HealStats `json:"heal,omitempty"`
	Invoices *SummaryInvoices     `json:"invoices,omitempty"`
	Replay   Replays              `json:"replay,omitempty"`

	ScanSeconds  float64 `json:"scan_seconds"`
	SourceBytes  int64   `json:"source_bytes"`
	Pushdown     bool    `json:"pushdown,omitempty"`
	FetchSeconds float64 `json:"fetch_seconds"`
}

// SummaryWindow is the compared window, [From, To).
type SummaryWindow struct {
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
}

// SummaryDelta is one of the largest deltas.
type SummaryDelta struct {
	SubscriptionID string           `json:"subscription_id"`
	Meter          string           `json:"meter"`
	Class          reconcile.Class  `json:"class"`
	Expected       billing.Quantity `json:"expected"`
	Observed       billing.Quantity `json:"observed"`
	Delta          billing.Quantity `json:"delta"`
	RelDelta       *float64         `json:"rel_delta"`
}

// SummarySettle describes the settling of mismatched pairs.
type SummarySettle struct {
	Budget  string `json:"budget"`
	Polls   int    `json:"polls"`
	Settled int    `json:"settled_subscriptions"`
	Elapsed string `json:"elapsed"`
}

// SummaryInvoices sums up billing.
// It is reconcile's statistics with the period written as the other
// windows of the summary are (its Period shadows BillStats').
type SummaryInvoices struct {
	Period SummaryWindow `json:"period"`
	reconcile.BillStats
}

// Summary returns the summary of r.
func (r *Report) Summary() Summary {
	s := Summary{
		RunID: r.RunID, Command: r.Command, GeneratedAt: r.GeneratedAt.UTC(),
		Status: Status(r.ExitStatus), ExitStatus: r.ExitStatus, Error: r.Error,
		Shard: r.shard(), Source: r.Source, Target: r.Target, Tolerance: r.Tolerance,
		Classes: map[string]int{}, Money: []MoneyImpact{}, LargestDeltas: []SummaryDelta{}, Replay: r.Replay,
	}
	for _, c := range r.counts() {
		s.Classes[string(c.Class)] = c.N
	}
	s.Window = SummaryWindow{From: r.Window.From.UTC(), To: r.Window.To.UTC()}
	res := r.Result
	if res == nil {
		return s
	}
	s.Window = SummaryWindow{From: res.Window.From.UTC(), To: res.Window.To.UTC()}
	s.Rows, s.RowsComplete = res.Rows, res.Rows.Complete()
	s.Subscriptions, s.Pairs, s.NotYetReflected = res.Subscriptions, res.Pairs, res.NotYetReflected
	s.SubscriptionsWithDiscrepancies = r.digested().subscriptions
	s.Money = r.digested().moneyList()
	for _, p := range r.largest(reconcile.MeasureQuantity, 10) {
		d := SummaryDelta{SubscriptionID: p.SubscriptionID, Meter: p.Meter, Class: p.Class, Expected: p.Expected, Observed: p.Observed, Delta: p.Delta}
		if f, ok := p.RelDelta(); ok {
			d.RelDelta = &f
		}
		s.LargestDeltas = append(s.LargestDeltas, d)
	}
	s.Settle = SummarySettle{Budget: res.Settle.Budget.String(), Polls: res.Settle.Polls, Settled: res.Settle.Settled, Elapsed: res.Settle.Elapsed.String()}
	s.Heal = res.Heal
	if b := res.Bill; b != nil {
		s.Invoices = &SummaryInvoices{Period: SummaryWindow{From: b.Period.Start.UTC(), To: b.Period.End.UTC()}, BillStats: *b}
	}
	s.ScanSeconds, s.FetchSeconds = res.ScanTime.Seconds(), res.FetchTime.Seconds()
	s.SourceBytes, s.Pushdown = res.SourceBytes, res.Pushdown
	return s
}

// WriteSummary writes summary.json.
func WriteSummary(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r.Summary())
}
