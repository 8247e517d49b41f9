package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/billharness/billharness/internal/reconcile"
)

// WriteText writes the headline numbers and the report's path.
func WriteText(w io.Writer, rep *Report, html string) error {
	s := rep.Summary()
	var b strings.Builder
	fmt.Fprintf(&b, "reconcile %s %s: %s (exit %d)\n", s.Command, s.RunID, s.Status, s.ExitStatus)
	if s.Error != "" {
		fmt.Fprintf(&b, "error: %s\n", s.Error)
	}
	if rep.Result != nil {
		complete := "complete"
		if !s.RowsComplete {
			complete = "INCOMPLETE"
		}
		fmt.Fprintf(&b, "window %s..%s, shard %s, tolerance %s\n", s.Window.From.Format(time.RFC3339), s.Window.To.Format(time.RFC3339), s.Shard, s.Tolerance)
		fmt.Fprintf(&b, "rows: %d read of %d declared (%s); %d counted, %d duplicates, %d outside the window, %d invalid\n",
			s.Rows.Read, s.Rows.Declared, complete, s.Rows.Counted, s.Rows.Duplicates, s.Rows.OutsideWindow, s.Rows.Invalid)
		if s.SourceBytes > 0 {
			fmt.Fprintf(&b, "source: %d bytes read (fetched, for objects) in %.1f s\n", s.SourceBytes, s.ScanSeconds)
		}
		if s.Rows.Conflicting > 0 {
			fmt.Fprintf(&b, "conflicting duplicates: %d events repeat an earlier id with another payload (e.g. %s); the first copy is the one counted\n",
				s.Rows.Conflicting, strings.Join(s.Rows.ConflictSamples, ", "))
		}
		fmt.Fprintf(&b, "pairs: %d compared in %d subscriptions; %d subscriptions with discrepancies\n ",
			s.Pairs, s.Subscriptions, s.SubscriptionsWithDiscrepancies)
		for _, c := range reconcile.Classes {
			fmt.Fprintf(&b, " %s %d", c, s.Classes[string(c)])
		}
		b.WriteString("\n")
		if s.NotYetReflected > 0 {
			fmt.Fprintf(&b, "not yet reflected: %d (still rising when the %s settle ran out)\n", s.NotYetReflected, s.Settle.Budget)
		}
		if h := s.Heal; h != nil {
			fmt.Fprintf(&b, "heal: %d events re-sent for %d subscriptions, %d counted now; under pairs %d -> %d\n",
				h.Resent, h.Subscriptions, h.Accepted, h.Before, h.After)
		}
		if inv := s.Invoices; inv != nil {
			fmt.Fprintf(&b, "invoices: %d billed (%d finalized, %d skipped, %d failed), %d with lines that differ, total %s\n",
				inv.Billed, inv.Finalized, inv.Skipped, inv.Failed, inv.Mismatched, Totals(inv.Totals))
		}
		for i, line := range MoneyLines(s.Money) {
			if i == 0 {
				b.WriteString("money at stake:\n")
			}
			fmt.Fprintf(&b, "  %s\n", line)
		}
		for i, d := range s.LargestDeltas {
			if i == 0 {
				b.WriteString("largest deltas:\n")
			}
			if i == 5 {
				break
			}
			fmt.Fprintf(&b, "  %s %-22s %-10s expected %s observed %s delta %s\n", d.SubscriptionID, d.Meter, d.Class, d.Expected, d.Observed, d.Delta)
		}
	}
	fmt.Fprintf(&b, "report: %s\n", html)
	_, err := io.WriteString(w, b.String())
	return err
}
