package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	goldenfile "github.com/billharness/billharness/internal/golden"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/browsertest"
	"github.com/billharness/billharness/internal/reconcile"
	"github.com/billharness/billharness/internal/source"
)

func qty(s string) billing.Quantity {
	q, err := billing.ParseQuantity(s)
	if err != nil {
		panic(err)
	}
	return q
}

// pair builds a discrepancy with its delta.
func pair(sub, meter string, class reconcile.Class, exp, obs string) reconcile.Pair {
	p := reconcile.Pair{SubscriptionID: sub, CustomerID: "cus_" + sub[4:], Meter: meter, Measure: reconcile.MeasureQuantity,
		Class: class, Expected: qty(exp), Observed: qty(obs)}
	p.Delta = p.Observed.Sub(p.Expected)
	return p
}

// sample is a run that found one of everything, with an invoice line above
// 2^63 pico-units.
func sample() *Report {
	window := source.Window{From: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	under := pair("sub_b", "Input Tokens", reconcile.Under, "1234567", "1200000")
	under.SKUID, under.EventType, under.Property, under.Aggregation = "sku_in", "llm.completion", "input_tokens", "Sum"
	under.Events, under.SampleEventIDs = 812, []string{"evt-1", "evt-2", "evt-3"}
	lagging := pair("sub_b", "API Requests", reconcile.Under, "900", "850")
	lagging.NotYetReflected, lagging.Events = true, 900
	over := pair("sub_c", "Output Tokens", reconcile.Over, "5000", "5250.5")
	missing := pair("sub_d", "Peak Storage | Bytes", reconcile.Missing, "42", "0")
	missing.Detail = "subscription not listed by the API"
	unexpected := pair("sub_e", "Models Used", reconcile.Unexpected, "0", "2")
	failed := pair("sub_f", "API Requests", reconcile.Error, "7", "0")
	failed.Delta, failed.Detail = billing.Quantity{}, `billing: GET /v1/subscriptions/sub_f/usage: 500 internal_error: "boom"`
	line := reconcile.Pair{SubscriptionID: "sub_c", CustomerID: "cus_c", Meter: "Output Tokens", SKUID: "sku_out", Measure: reconcile.MeasureAmount,
		Class: reconcile.Misbilled, Expected: qty("75000000000000000000"), Observed: qty("78750000000000000000"), InvoiceID: "inv_c",
		Detail: "line quantity 5250.5, verified 5000, unit price 15000000000000000"}
	line.Delta = line.Observed.Sub(line.Expected)
	line.Currency, line.Money = "USD", billing.MustMoney(line.Delta.String())
	double := reconcile.Pair{SubscriptionID: "sub_g", CustomerID: "cus_g", Meter: "invoice", Measure: reconcile.MeasureAmount,
		Class: reconcile.DoubleBilled, Observed: qty("49000000000000"), Delta: qty("49000000000000"), InvoiceID: "inv_g2",
		Currency: "EUR", Money: billing.MustMoney("49000000000000"),
		Detail: "period 2026-10-11T00:00Z..2026-10-21T00:00Z overlaps invoice inv_g1 (2026-10-01T00:00Z..2026-11-01T00:00Z): the same time billed twice"}
	odd := pair("sub_h", "Input Tokens", reconcile.Uncountable, "1000", "1000")
	odd.Delta, odd.Events, odd.SampleEventIDs = qty("1500"), 4, []string{"evt-7", "evt-8", "evt-9"}
	odd.Currency, odd.Money = "USD", billing.MustMoney("4500000000")
	odd.Detail = "4 values are not numbers the API counts (counted as 0); 1 of them read as 1500 by a human rule (digit groups, spaces)"
	res := &reconcile.Result{
		Window: window,
		Shard:  source.Shard{Index: 1, Count: 4},
		Rows: reconcile.Rows{Declared: 50000, Read: 50000, Events: 49540, OutsideWindow: 460, Duplicates: 223, Unattributed: 3,
			Foreign: 1, OtherShards: 37000, Unmetered: 13, Counted: 12300, DedupBytes: 571432},
		Subscriptions: 64, Pairs: 384,
		Counts: map[reconcile.Class]int{reconcile.Match: 377, reconcile.Under: 2, reconcile.Over: 1, reconcile.Missing: 1,
			reconcile.Unexpected: 1, reconcile.Error: 1, reconcile.Misbilled: 1, reconcile.DoubleBilled: 1, reconcile.Uncountable: 1},
		NotYetReflected: 1,
		Discrepancies:   []reconcile.Pair{under, lagging, line, over, missing, unexpected, failed, double, odd},
		Settle:          reconcile.SettleStats{Budget: 2 * time.Minute, Polls: 8, Settled: 3, Elapsed: 2 * time.Minute},
		Heal:            &reconcile.HealStats{Subscriptions: 1, Resent: 900, Accepted: 12, Duplicates: 888, Before: 2, After: 2},
		Bill: &reconcile.BillStats{Period: billing.Period{Start: window.From, End: window.To}, Billed: 63, Created: 63, Finalized: 63,
			Mismatched: 2, Totals: map[string]billing.Money{"USD": billing.MustMoney("98765432109876543210123"), "EUR": billing.MustMoney("98000000000000")}},
		ScanTime: 1500 * time.Millisecond, FetchTime: 250 * time.Millisecond,
	}
	return &Report{
		RunID: "rc-20261101-0001", Command: "run", GeneratedAt: time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC),
		Source: "parquet:testdata/sample/parquet", Target: "http://127.0.0.1:8080", Tolerance: "abs=0,rel=0.1%",
		Result: res, ExitStatus: 1, Error: "1 pairs could not be compared",
	}
}

// failedEarly is a run that stopped before any comparison.
func failedEarly() *Report {
	return &Report{RunID: "rc-2", Command: "verify", GeneratedAt: time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC),
		Source: "postgres://billing@db/usage", Target: "https://api.bill.sh", Tolerance: "exact",
		ExitStatus: 1, Error: "source read incomplete: the source declares 10 rows, 9 were read"}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, name, got)
}

func TestGolden(t *testing.T) {
	for _, r := range []struct {
		name string
		rep  *Report
	}{{"sample", sample()}, {"failed", failedEarly()}} {
		for _, w := range writers {
			t.Run(r.name+"/"+w.name, func(t *testing.T) {
				var b bytes.Buffer
				if err := w.write(&b, r.rep); err != nil {
					t.Fatalf("%s = %v", w.name, err)
				}
				golden(t, r.name+"."+w.name, b.Bytes())
			})
		}
	}
}

// The page must open without a network: no external scripts, styles,
// images or fonts.
func TestHTMLSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, sample()); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	external := regexp.MustCompile(`(?i)(src|href|xlink:href)\s*=\s*["']?\s*(https?:)?//|url\(|@import|<link\b|<iframe\b`)
	if m := external.FindString(html); m != "" {
		t.Errorf("report.html references an external asset: %q", m)
	}
	for _, want := range []string{"<style>", "<svg", "<script>", "not yet reflected", "75,000,000", "sub_f"} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// Text from the data is escaped, not markup.
	r := sample()
	r.Result.Discrepancies[0].Meter = `<img src="https://x">`
	b.Reset()
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), `<img`) {
		t.Error("report.html let a meter name through as markup")
	}
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out", "run")
	paths, err := Write(dir, sample())
	if err != nil {
		t.Fatalf("Write = %v", err)
	}
	if len(paths) != 5 {
		t.Fatalf("Write wrote %q, want 5 files", paths)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 5 {
		t.Errorf("Write left %d entries in %s, want the 5 files and no temporary one", len(entries), dir)
	}
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("summary.json does not parse: %v", err)
	}
	if s.ExitStatus != 1 || s.Classes["under"] != 2 || s.Invoices.Totals["USD"].String() != "98765432109876543210123" ||
		len(s.Money) != 2 || s.Money[1].Currency != "USD" || s.Money[1].OverBilled.String() != "3750000000000000000" || s.Money[1].AtRisk.String() != "4500000000" ||
		s.Money[0].AtRisk.String() != "49000000000000" {
		t.Errorf("summary.json = %+v, want exit 1, 2 under, the exact total and money per currency", s)
	}
	f, _ := os.Open(filepath.Join(dir, CSVFile))
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) != 10 || len(recs[0]) != len(csvHeader) {
		t.Errorf("discrepancies.csv: %d records, %v; want a header and 9 rows of %d columns", len(recs), err, len(csvHeader))
	}
}

func TestMoney(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "0"},
		{"1", "0.000000000001"},
		{"1500000000000", "1.5"},
		{"-2000000000000", "-2"},
		{"98765432109876543210123", "98,765,432,109.876543210123"},
	}
	for _, tt := range tests {
		if got := money(qty(tt.in)); got != tt.want {
			t.Errorf("money(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Text cells that a spreadsheet would run as a formula get a leading
// quote; numbers, negative deltas included, stay numbers.
func TestCSVEscapesFormulas(t *testing.T) {
	r := sample()
	p := pair("sub_=HYPERLINK(\"x\")", "@SUM(A1)", reconcile.Over, "5", "7")
	p.EventType, p.Property, p.SampleEventIDs, p.Detail = "+cmd", "-2+3", []string{"=1+1"}, "\tx"
	neg := pair("sub_g", "Calls", reconcile.Under, "7", "5")
	r.Result.Discrepancies = []reconcile.Pair{p, neg}
	var b bytes.Buffer
	if err := WriteCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows[1:] {
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+@\t\r", rune(cell[0])) || strings.HasPrefix(cell, "-") && csvHeader[i] != "delta" && csvHeader[i] != "rel_delta" {
				t.Errorf("column %s = %q starts a formula", csvHeader[i], cell)
			}
		}
	}
	if got := rows[2][slices.Index(csvHeader, "delta")]; got != "-2" {
		t.Errorf("negative delta = %q, want -2", got)
	}
	if got := rows[1][0]; got != `'sub_=HYPERLINK("x")` && !strings.HasPrefix(rows[1][0], "sub_") {
		t.Errorf("subscription cell = %q", got)
	}
}

// Tables rank by money and say how much they hold when cut.
func TestMoneyTableRanksAndSaysWhenCut(t *testing.T) {
	r := sample()
	var extra []reconcile.Pair
	for i := range 25 {
		p := reconcile.Pair{SubscriptionID: fmt.Sprintf("sub_m%02d", i), Meter: "Fee", Measure: reconcile.MeasureAmount, Class: reconcile.Misbilled,
			Currency: "USD", Money: billing.MoneyFromInt64(-int64(i+1) * 1_000_000_000_000)}
		p.Delta = p.Money.Quantity()
		extra = append(extra, p)
	}
	r.Result.Discrepancies = append(r.Result.Discrepancies, extra...)
	slices.SortFunc(r.Result.Discrepancies, reconcile.ComparePairs)
	var b strings.Builder
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"### By money (the largest 20 of 28)",
		"| USD | 325 | 3,750,000 | 0.0045 | 3,749,675 | 27 |", // 1+…+25 under-billed
		"| sub_m24 | invoice | Fee |  | USD -25 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	if i, j := strings.Index(md, "USD 3,750,000"), strings.Index(md, "USD -25"); i < 0 || j < i {
		t.Errorf("the largest amount is not first in the money table")
	}
	if strings.Contains(md, "sub_m00 ") {
		t.Errorf("the smallest amount made the cut")
	}
}

// TestHTMLInChromium: the report (its script included) runs in a browser
// with nothing on the console, for a full run and for one that failed
// before comparing, which still names its window.
func TestHTMLInChromium(t *testing.T) {
	t.Parallel()
	early := failedEarly()
	early.Window = source.Window{From: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	for name, r := range map[string]*Report{"full": sample(), "failed early": early} {
		var b bytes.Buffer
		if err := WriteHTML(&b, r); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "report.html")
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		page := browsertest.Render(t, path)
		if len(page.Console) > 0 {
			t.Errorf("%s: console messages: %q", name, page.Console)
		}
		if !strings.Contains(page.DOM, "<table") {
			t.Errorf("%s: no table rendered", name)
		}
		if name == "failed early" && !strings.Contains(page.DOM, "2026-10-01") {
			t.Errorf("failed early: the page does not name its window")
		}
	}
}
