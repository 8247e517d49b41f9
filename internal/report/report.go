// Package report writes what a reconcile run found, for the finance team
// and for machines: summary.json (headline numbers), discrepancies.csv and
// discrepancies.jsonl (one row per pair that is not a match), report.md,
// and report.html, a single self-contained page (inline CSS, SVG and
// script, no network needed to view it). Read reads a report back, so the
// reports of a sharded run can be merged.
//
// Output is deterministic: rows are sorted, and the run id and time come
// from the Report, so the same run always writes the same bytes.
package report

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/billharness/billharness/internal/outcome"
	"github.com/billharness/billharness/internal/progress"

	"github.com/billharness/billharness/internal/atomicfile"
	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/reconcile"
	"github.com/billharness/billharness/internal/source"
)

// File names written by Write, in the order written.
const (
	SummaryFile  = "summary.json"
	CSVFile      = "discrepancies.csv"
	JSONLFile    = "discrepancies.jsonl"
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
)

// TopN is how many rows the "largest deltas" lists hold.
const TopN = 20

// Report is one run and what it found. It must not change once a Write
// function has read it: what the formats share is computed once.
type Report struct {
	// RunID names the run (a Kubernetes job name, say).
	RunID string
	// Command is the subcommand that ran: verify, bill or run.
	Command string
	// GeneratedAt is when the run ended.
	GeneratedAt time.Time
	// Source is the source read, with any password removed; Target is the
	// API base URL.
	Source, Target string
	// Tolerance is the tolerance in the flag's syntax.
	Tolerance string
	// Result is the comparison; nil when the run failed before one.
	Result *reconcile.Result
	// Window is the window the run was asked to compare: shown even when
	// it failed before a Result, so that a failed run's report still says
	// which month it was about.
	Window source.Window
	// Replay is the replay step's statistics, when it ran (each shard's, in
	// a merged report).
	Replay Replays
	// ExitStatus is the process exit status the run ends with.
	ExitStatus int
	// Error is the run's failure, if any.
	Error string
	// Pairs, when set, yields the discrepancies in report order instead
	// of Result.Discrepancies, once for each file written: a merge
	// streams the shards' rows through it rather than hold them.
	Pairs func(yield func(*reconcile.Pair) error) error

	digest *digest
}

// digest is what several formats show, computed in one pass over the
// discrepancies (there can be one per pair of the run).
type digest struct {
	topQuantity, topAmount []reconcile.Pair // by decreasing absolute delta
	nQuantity, nAmount     int              // candidates for them
	topMoney               []reconcile.Pair // by decreasing absolute money
	nMoney                 int              // pairs with money
	money                  map[string]*MoneyImpact
	moneyOverflow          bool
	errors                 []reconcile.Pair // the first Error pairs
	subscriptions          int              // with at least one discrepancy
	usage                  int              // usage pairs that differ
}

func (r *Report) digested() *digest {
	if r.digest == nil {
		r.digest, _ = r.digest1() // a slice of pairs yields no error; Write digests Pairs first
	}
	return r.digest
}

// digest1 computes the digest in one pass over the discrepancies, which
// are sorted by subscription first.
func (r *Report) digest1() (*digest, error) {
	d := &digest{}
	last := ""
	err := r.each(func(p *reconcile.Pair) error {
		if d.subscriptions == 0 || p.SubscriptionID != last {
			d.subscriptions++
			last = p.SubscriptionID
		}
		switch {
		case p.Class == reconcile.Error:
			if len(d.errors) < TopN {
				d.errors = append(d.errors, *p)
			}
		case p.Delta.IsZero(), p.Class == reconcile.Uncountable: // its delta is a worth, not a difference
		case p.Measure == reconcile.MeasureAmount:
			d.nAmount++
			d.topAmount = keepTop(d.topAmount, p, TopN)
		default:
			d.nQuantity++
			d.topQuantity = keepTop(d.topQuantity, p, TopN)
		}
		d.addMoney(p)
		if p.Class != reconcile.Misbilled && p.Class != reconcile.Uncountable && p.Measure == reconcile.MeasureQuantity {
			d.usage++
		}
		return nil
	})
	return d, err
}

// each calls fn with every discrepancy, in report order.
func (r *Report) each(fn func(*reconcile.Pair) error) error {
	if r.Pairs != nil {
		return r.Pairs(fn)
	}
	for i := range r.discrepancies() {
		if err := fn(&r.Result.Discrepancies[i]); err != nil {
			return err
		}
	}
	return nil
}

// keepTop inserts p into top, kept sorted by decreasing absolute delta
// (exact), ties by subscription and meter, and at most n long.
func keepTop(top []reconcile.Pair, p *reconcile.Pair, n int) []reconcile.Pair {
	return keepTopBy(top, p, n, func(p *reconcile.Pair) billing.Quantity { return p.Delta })
}

// keepTopBy is keepTop ranking by the absolute value of by.
func keepTopBy(top []reconcile.Pair, p *reconcile.Pair, n int, by func(*reconcile.Pair) billing.Quantity) []reconcile.Pair {
	less := func(a, b *reconcile.Pair) bool { // a ranks before b
		return cmp.Or(by(b).Abs().Cmp(by(a).Abs()), cmp.Compare(a.SubscriptionID, b.SubscriptionID), cmp.Compare(a.Meter, b.Meter),
			cmp.Compare(a.InvoiceID, b.InvoiceID)) < 0
	}
	if len(top) == n && !less(p, &top[n-1]) {
		return top
	}
	i, _ := slices.BinarySearchFunc(top, p, func(e reconcile.Pair, t *reconcile.Pair) int {
		if less(&e, t) {
			return -1
		}
		return 1
	})
	top = slices.Insert(top, i, *p)
	return top[:min(len(top), n)]
}

// Status names an exit status: ok, discrepancies, failed, usage.
func Status(exit int) string {
	switch exit {
	case 0:
		return "ok"
	case 2:
		return "usage"
	case 3:
		return "discrepancies"
	}
	return "failed"
}

// writers are the report files and what writes each, in the order Write
// writes them.
var writers = []struct {
	name  string
	write func(io.Writer, *Report) error
}{
	{SummaryFile, WriteSummary},
	{CSVFile, WriteCSV},
	{JSONLFile, WriteJSONL},
	{MarkdownFile, WriteMarkdown},
	{HTMLFile, WriteHTML},
}

// Write writes every report file into dir, creating it, and returns their
// paths. Each file is streamed to a temporary name and renamed, so a
// reader never sees half a report.
func Write(dir string, r *Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if r.Pairs != nil && r.digest == nil {
		d, err := r.digest1()
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		r.digest = d
	}
	var paths []string
	for _, w := range writers {
		p := filepath.Join(dir, w.name)
		if err := atomicfile.Write(p, 0o644, func(out io.Writer) error { return w.write(out, r) }); err != nil {
			return paths, fmt.Errorf("report %s: %w", w.name, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// discrepancies returns the pairs that are not a match (none without a
// result).
func (r *Report) discrepancies() []reconcile.Pair {
	if r.Result == nil {
		return nil
	}
	return r.Result.Discrepancies
}

// cut says how much of a list of total rows a table of shown rows holds:
// "" when it holds them all, else " (the largest 20 of 150)".
func cut(shown, total int) string {
	if shown >= total {
		return ""
	}
	return " (the largest " + progress.Count3(int64(shown)) + " of " + progress.Count3(int64(total)) + ")"
}

// largest returns up to n discrepancies of the measure (n <= TopN), by
// decreasing absolute delta (exact), ties by subscription and meter.
func (r *Report) largest(measure string, n int) []reconcile.Pair {
	top := r.digested().topQuantity
	if measure == reconcile.MeasureAmount {
		top = r.digested().topAmount
	}
	return top[:min(n, len(top))]
}

// counts returns the count of every class, zeros included, in report order.
func (r *Report) counts() []classCount {
	out := make([]classCount, 0, len(reconcile.Classes))
	for _, c := range reconcile.Classes {
		n := 0
		if r.Result != nil {
			n = r.Result.Counts[c]
		}
		out = append(out, classCount{Class: c, N: n})
	}
	return out
}

type classCount struct {
	Class reconcile.Class
	N     int
}

// window renders the compared window.
func (r *Report) window() string {
	w := r.Window
	if r.Result != nil {
		w = r.Result.Window
	}
	if w.IsZero() {
		return ""
	}
	return fmtTime(w.From) + " .. " + fmtTime(w.To)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// shard renders the shard as i/N ("0/1" for the whole).
func (r *Report) shard() string {
	if r.Result == nil || r.Result.Shard.Count == 0 {
		return "0/1"
	}
	return fmt.Sprintf("%d/%d", r.Result.Shard.Index, r.Result.Shard.Count)
}

// money renders pico-units as currency units, exactly: "1,234.5".
func money(q billing.Quantity) string {
	s := q.String()
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".") // pico-units are whole
	if frac != "" {
		return sign + progress.Group(s) + " pico-units"
	}
	for len(intPart) <= 12 {
		intPart = "0" + intPart
	}
	whole, dec := intPart[:len(intPart)-12], strings.TrimRight(intPart[len(intPart)-12:], "0")
	if dec != "" {
		return sign + progress.Group(whole) + "." + dec
	}
	return sign + progress.Group(whole)
}

// amount renders a pair's value for people: quantities grouped, amounts
// in currency units.
func amount(p reconcile.Pair, q billing.Quantity) string {
	if p.Measure == reconcile.MeasureAmount {
		return money(q)
	}
	return progress.Group(q.String())
}

// relDelta renders a pair's relative delta as a percentage, "" when the
// expected value is zero.
func relDelta(p reconcile.Pair) string {
	f, ok := p.RelDelta()
	if !ok {
		return ""
	}
	return fmt.Sprintf("%+.4g%%", f*100)
}

// Outcome is the outcome of the finished run the report describes, which
// exits with exit.
func (r *Report) Outcome(exit int) outcome.Outcome {
	o := outcome.Outcome{Command: r.Command, Shard: "0/1", ExitStatus: exit, Completed: completed(exit)}
	if res := r.Result; res != nil {
		o.Shard = res.Shard.String()
		o.Compared, o.Pairs, o.Classes = true, res.Pairs, res.Counts
		for _, m := range r.Summary().Money {
			o.Money = append(o.Money, outcome.Money{Currency: m.Currency, UnderBilled: m.UnderBilled, OverBilled: m.OverBilled, AtRisk: m.AtRisk})
		}
	}
	if st := r.Replay.Own(); st != nil {
		o.Replayed = &outcome.Replayed{Accepted: st.Accepted, Duplicate: st.Duplicate, DeadLettered: st.DeadLettered}
	}
	return o
}
