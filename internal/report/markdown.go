package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/billharness/billharness/internal/progress"

	"github.com/billharness/billharness/internal/billing"

	"github.com/billharness/billharness/internal/reconcile"
)

// WriteMarkdown writes report.md: the headline, the source's row
// accounting, the classes, the largest deltas, misbilled invoice lines,
// errors, and the heal and billing summaries.
func WriteMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Reconcile %s %s\n\n", r.Command, r.RunID)
	fmt.Fprintf(&b, "**%s** (exit %d): %s\n\n", Status(r.ExitStatus), r.ExitStatus, headline(r))
	if r.Error != "" {
		fmt.Fprintf(&b, "> Error: %s\n\n", mdCell(r.Error))
	}
	b.WriteString("| | |\n|---|---|\n")
	for _, kv := range [][2]string{
		{"Window", r.window()}, {"Shard", r.shard()}, {"Source", r.Source}, {"Target", r.Target},
		{"Tolerance", r.Tolerance}, {"Generated", fmtTime(r.GeneratedAt)},
	} {
		fmt.Fprintf(&b, "| %s | %s |\n", kv[0], mdCell(kv[1]))
	}
	res := r.Result
	if res == nil {
		_, err := io.WriteString(w, b.String())
		return err
	}

	b.WriteString(moneyMarkdown(r))

	rows := res.Rows
	b.WriteString("\n## Source rows\n\n")
	if rows.Complete() {
		fmt.Fprintf(&b, "Every declared row was read: %s of %s.\n\n", progress.Count3(rows.Read), progress.Count3(rows.Declared))
	} else {
		fmt.Fprintf(&b, "**Incomplete read: %s of %s declared rows.**\n\n", progress.Count3(rows.Read), progress.Count3(rows.Declared))
	}
	b.WriteString("| declared | read | events in window | invalid | outside window | duplicates | conflicting duplicates | unattributed | foreign | other shards | unmetered | counted |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %s |\n", strings.Join(mapInts(progress.Group, rows.Declared, rows.Read, rows.Events, rows.Invalid, rows.OutsideWindow,
		rows.Duplicates, rows.Conflicting, rows.Unattributed, rows.Foreign, rows.OtherShards, rows.Unmetered, rows.Counted), " | "))
	if rows.Conflicting > 0 {
		fmt.Fprintf(&b, "\n**%s conflicting duplicates**: events whose id appeared earlier in the source with another payload "+
			"(e.g. %s). The API counts the first copy, and so does this comparison; the source holds two versions of these events.\n",
			progress.Count3(rows.Conflicting), strings.Join(rows.ConflictSamples, ", "))
	}

	b.WriteString("\n## Pairs by class\n\n| class | pairs | |\n|---|---:|---|\n")
	counts := r.counts()
	most := 0
	for _, c := range counts {
		if c.Class != reconcile.Match {
			most = max(most, c.N)
		}
	}
	for _, c := range counts {
		bar := ""
		if c.Class != reconcile.Match && most > 0 {
			bar = strings.Repeat("█", (c.N*30+most-1)/most)
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", c.Class, progress.Count3(int64(c.N)), bar)
	}
	if res.NotYetReflected > 0 {
		fmt.Fprintf(&b, "\n%d of the under and missing pairs were still rising when the %s settle ran out: not yet reflected, rather than lost.\n",
			res.NotYetReflected, res.Settle.Budget)
	}

	if top := r.largest(reconcile.MeasureQuantity, TopN); len(top) > 0 {
		fmt.Fprintf(&b, "\n## Largest deltas%s\n\n| subscription | meter | class | expected | observed | delta | relative |\n|---|---|---|---:|---:|---:|---:|\n", cut(len(top), r.digested().nQuantity))
		for _, p := range top {
			class := string(p.Class)
			if p.NotYetReflected {
				class += " (not yet reflected)"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", p.SubscriptionID, mdCell(p.Meter), class,
				progress.Group(p.Expected.String()), progress.Group(p.Observed.String()), progress.Group(p.Delta.String()), relDelta(p))
		}
	}
	if top := r.largest(reconcile.MeasureAmount, TopN); len(top) > 0 {
		fmt.Fprintf(&b, "\n## Invoice lines that differ%s\n\nAmounts in currency units (1 = 10^12 pico-units).\n\n", cut(len(top), r.digested().nAmount))
		b.WriteString("| subscription | invoice | line | expected | billed | delta |\n|---|---|---|---:|---:|---:|\n")
		for _, p := range top {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", p.SubscriptionID, p.InvoiceID, mdCell(p.Meter),
				money(p.Expected), money(p.Observed), money(p.Delta))
		}
	}
	if errs := r.errorPairs(TopN); len(errs) > 0 {
		fmt.Fprintf(&b, "\n## Errors\n\n%s could not be compared or billed. The first:\n\n| subscription | meter | detail |\n|---|---|---|\n", plural(res.Counts[reconcile.Error], "pair"))
		for _, p := range errs {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", p.SubscriptionID, mdCell(p.Meter), mdCell(p.Detail))
		}
	}
	if h := res.Heal; h != nil {
		fmt.Fprintf(&b, "\n## Heal\n\n%s\n", healText(h))
	}
	if bs := res.Bill; bs != nil {
		fmt.Fprintf(&b, "\n## Billing\n\n%s\n", billText(bs))
	}
	fmt.Fprintf(&b, "\nEvery pair that is not a match is in %s and %s.\n", CSVFile, JSONLFile)
	_, err := io.WriteString(w, b.String())
	return err
}

// headline is the one-line verdict.
func headline(r *Report) string {
	res := r.Result
	if res == nil {
		return "no comparison was made"
	}
	d := r.digested()
	s := fmt.Sprintf("%s of %s differ, in %s of %s",
		progress.Count3(int64(d.usage)), plural(res.Pairs, "pair"),
		progress.Count3(int64(d.subscriptions)), plural(res.Subscriptions, "subscription"))
	if res.Bill != nil {
		s += fmt.Sprintf("; %d of %s have lines that differ", res.Bill.Mismatched, plural(res.Bill.Billed, "invoice"))
	}
	return s + "."
}

// errorPairs returns up to n (<= TopN) pairs of the Error class.
func (r *Report) errorPairs(n int) []reconcile.Pair {
	e := r.digested().errors
	return e[:min(n, len(e))]
}

// mdCell escapes text for a Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}

func itoa(n int64) string { return fmt.Sprint(n) }

// plural writes "1 pair", "2 pairs", "1,000 pairs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return progress.Count3(int64(n)) + " " + noun + "s"
}

func mapInts(f func(string) string, ns ...int64) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = f(itoa(n))
	}
	return out
}

// healText describes a heal.
func healText(h *reconcile.HealStats) string {
	s := fmt.Sprintf("Re-sent %s of %s: %d counted now (they had been lost), %d already counted, %d failed. Under pairs: %d before, %d after.",
		plural(int(h.Resent), "event"), plural(h.Subscriptions, "subscription"), h.Accepted, h.Duplicates, h.Failed, h.Before, h.After)
	if h.FirstError != "" {
		s += " First failure: " + h.FirstError
	}
	return s
}

// billText describes the billing.
func billText(bs *reconcile.BillStats) string {
	return fmt.Sprintf("Period %s .. %s: %s (%d created, %d found), %d finalized, %d skipped, %d failed; %d with lines that differ. Total billed: %s.",
		fmtTime(bs.Period.Start), fmtTime(bs.Period.End), plural(bs.Billed, "invoice"), bs.Created, bs.Found, bs.Finalized, bs.Skipped,
		bs.Failed, bs.Mismatched, Totals(bs.Totals))
}

// Totals renders per-currency amounts: "EUR 10, USD 1,234.5" ("0" for none).
func Totals(t map[string]billing.Money) string {
	curs := make([]string, 0, len(t))
	for c := range t {
		curs = append(curs, c)
	}
	slices.Sort(curs)
	parts := make([]string, len(curs))
	for i, c := range curs {
		parts[i] = priced(c, t[c])
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, ", ")
}

// MoneyLines renders the money at stake, one line per currency, for
// people: "USD: under-billed 12.5, over-billed 0, at risk 3, net -12.5".
func MoneyLines(ms []MoneyImpact) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = fmt.Sprintf("%s: under-billed %s, over-billed %s, at risk %s, net %s (%s)", cur(m.Currency),
			money(m.UnderBilled.Quantity()), money(m.OverBilled.Quantity()), money(m.AtRisk.Quantity()), money(m.Net.Quantity()),
			progress.Count3(int64(m.Pairs))+" priced")
	}
	return out
}

func cur(c string) string {
	if c == "" {
		return "(no currency)"
	}
	return c
}

// moneyMarkdown is the report's first section: the money at stake per
// currency and the discrepancies that cost the most.
func moneyMarkdown(r *Report) string {
	d := r.digested()
	var b strings.Builder
	b.WriteString("\n## Money at stake\n\n")
	ms := d.moneyList()
	if len(ms) == 0 {
		if r.Result.Bill == nil {
			b.WriteString("No discrepancy is priced: run `reconcile bill` (or `run -bill`) to price them with the invoices' prices.\n")
		} else {
			b.WriteString("No discrepancy costs money.\n")
		}
		return b.String()
	}
	b.WriteString("Amounts in currency units, exact. Under-billed: invoices charged less than the source implies; over-billed: more; " +
		"at risk: usage the API cannot count, usage after an invoice closed, time billed twice. Net = over-billed − under-billed.\n\n")
	b.WriteString("| currency | under-billed | over-billed | at risk | net | discrepancies |\n|---|---:|---:|---:|---:|---:|\n")
	for _, m := range ms {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", cur(m.Currency), money(m.UnderBilled.Quantity()), money(m.OverBilled.Quantity()),
			money(m.AtRisk.Quantity()), money(m.Net.Quantity()), progress.Count3(int64(m.Pairs)))
	}
	if d.moneyOverflow {
		b.WriteString("\n**A sum overflowed 128 bits: the sums above are incomplete.**\n")
	}
	fmt.Fprintf(&b, "\n### By money%s\n\n| subscription | class | line or meter | invoice | money | detail |\n|---|---|---|---|---:|---|\n",
		cut(len(d.topMoney), d.nMoney))
	for _, p := range d.topMoney {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", p.SubscriptionID, p.Class, mdCell(p.Meter), p.InvoiceID,
			priced(p.Currency, p.Money), mdCell(p.Detail))
	}
	return b.String()
}
