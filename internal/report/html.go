package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"

	"github.com/billharness/billharness/internal/progress"

	"github.com/billharness/billharness/internal/reconcile"
)

//go:embed report.html.tmpl
var htmlTemplate string

// classColor is the chart's color of a class.
func classColor(c reconcile.Class) string {
	switch c {
	case reconcile.Under:
		return "#c62828"
	case reconcile.Over:
		return "#ef6c00"
	case reconcile.Missing:
		return "#6a1b9a"
	case reconcile.Unexpected:
		return "#1565c0"
	case reconcile.Misbilled:
		return "#ad1457"
	case reconcile.LateUsage, reconcile.DoubleBilled, reconcile.OutsideTerm:
		return "#4e342e"
	case reconcile.Uncountable:
		return "#f9a825"
	}
	return "#424242"
}

// htmlView is what the template shows; every value is already formatted.
type htmlView struct {
	Title, Status, Headline, Error string
	Exit                           int
	Meta                           [][2]string
	HasResult                      bool
	Complete                       bool
	RowsRead, RowsDeclared         string
	Rows                           [][2]string
	Chart                          []htmlBar
	ChartHeight                    int
	Matches                        string
	NotYetReflected                int
	Settle                         string
	Top                            []htmlRow
	Lines                          []htmlRow
	Errors                         []htmlRow
	ErrorCount                     string
	Heal, Bill                     string
	CSV, JSONL                     string
	Money                          []htmlMoney
	MoneyTop                       []htmlRow
	MoneyCut, LinesCut, TopCut     string
	MoneyNote                      string
}

// htmlMoney is one currency's money at stake.
type htmlMoney struct {
	Currency, Under, Over, AtRisk, Net, Pairs string
}

// htmlBar is one bar of the chart.
type htmlBar struct {
	Class        string
	N            string
	Y, Width     int
	TextX, TextY int
	Color        string
}

// htmlRow is one table row.
type htmlRow struct {
	Sub, Meter, Class, Expected, Observed, Delta, Rel, Invoice, Detail string
	NotYet                                                             bool
}

// Chart geometry, in SVG user units.
const (
	barHeight = 22
	barGap    = 8
	barLeft   = 110
	barMax    = 420
)

// WriteHTML writes report.html: one page with inline CSS, an inline SVG
// chart of the discrepancies by class, the largest deltas, misbilled lines
// and errors, and an inline script that sorts the tables. It loads nothing
// from the network.
func WriteHTML(w io.Writer, r *Report) error {
	v := htmlView{
		Title:    fmt.Sprintf("Reconcile %s %s", r.Command, r.RunID),
		Status:   Status(r.ExitStatus),
		Exit:     r.ExitStatus,
		Headline: headline(r),
		Error:    r.Error,
		Meta: [][2]string{
			{"Window", r.window()}, {"Shard", r.shard()}, {"Source", r.Source}, {"Target", r.Target},
			{"Tolerance", r.Tolerance}, {"Generated", fmtTime(r.GeneratedAt)},
		},
		CSV: CSVFile, JSONL: JSONLFile,
	}
	if res := r.Result; res != nil {
		v.HasResult = true
		rows := res.Rows
		v.Complete, v.RowsRead, v.RowsDeclared = rows.Complete(), progress.Count3(rows.Read), progress.Count3(rows.Declared)
		v.Rows = [][2]string{
			{"declared", progress.Count3(rows.Declared)}, {"read", progress.Count3(rows.Read)}, {"events in window", progress.Count3(rows.Events)},
			{"invalid", progress.Count3(rows.Invalid)}, {"outside window", progress.Count3(rows.OutsideWindow)},
			{"duplicates", progress.Count3(rows.Duplicates)}, {"conflicting duplicates", progress.Count3(rows.Conflicting)},
			{"unattributed", progress.Count3(rows.Unattributed)},
			{"foreign", progress.Count3(rows.Foreign)}, {"other shards", progress.Count3(rows.OtherShards)},
			{"unmetered", progress.Count3(rows.Unmetered)}, {"counted", progress.Count3(rows.Counted)},
		}
		v.chart(r)
		d := r.digested()
		for _, m := range d.moneyList() {
			v.Money = append(v.Money, htmlMoney{Currency: cur(m.Currency), Under: money(m.UnderBilled.Quantity()), Over: money(m.OverBilled.Quantity()),
				AtRisk: money(m.AtRisk.Quantity()), Net: money(m.Net.Quantity()), Pairs: progress.Count3(int64(m.Pairs))})
		}
		for _, p := range d.topMoney {
			v.MoneyTop = append(v.MoneyTop, htmlRow{Sub: p.SubscriptionID, Class: string(p.Class), Meter: p.Meter, Invoice: p.InvoiceID,
				Delta: priced(p.Currency, p.Money), Detail: p.Detail})
		}
		v.MoneyCut, v.LinesCut, v.TopCut = cut(len(d.topMoney), d.nMoney), cut(len(d.topAmount), d.nAmount), cut(len(d.topQuantity), d.nQuantity)
		switch {
		case len(v.Money) > 0:
		case res.Bill == nil:
			v.MoneyNote = "No discrepancy is priced: run reconcile bill (or run -bill) to price them with the invoices' prices."
		default:
			v.MoneyNote = "No discrepancy costs money."
		}
		v.NotYetReflected, v.Settle = res.NotYetReflected, res.Settle.Budget.String()
		for _, p := range r.largest(reconcile.MeasureQuantity, TopN) {
			v.Top = append(v.Top, htmlRow{Sub: p.SubscriptionID, Meter: p.Meter, Class: string(p.Class), NotYet: p.NotYetReflected,
				Expected: progress.Group(p.Expected.String()), Observed: progress.Group(p.Observed.String()), Delta: progress.Group(p.Delta.String()), Rel: relDelta(p)})
		}
		for _, p := range r.largest(reconcile.MeasureAmount, TopN) {
			v.Lines = append(v.Lines, htmlRow{Sub: p.SubscriptionID, Invoice: p.InvoiceID, Meter: p.Meter,
				Expected: money(p.Expected), Observed: money(p.Observed), Delta: money(p.Delta)})
		}
		for _, p := range r.errorPairs(TopN) {
			v.Errors = append(v.Errors, htmlRow{Sub: p.SubscriptionID, Meter: p.Meter, Detail: p.Detail})
		}
		v.ErrorCount = plural(res.Counts[reconcile.Error], "pair")
		if h := res.Heal; h != nil {
			v.Heal = healText(h)
		}
		if bs := res.Bill; bs != nil {
			v.Bill = billText(bs)
		}
	}
	page, err := template.New("report").Parse(htmlTemplate)
	if err != nil {
		return err
	}
	return page.Execute(w, v)
}

// chart lays out one bar per class that is not a match, scaled to the
// largest.
func (v *htmlView) chart(r *Report) {
	counts := r.counts()
	most := 0
	for _, c := range counts {
		if c.Class == reconcile.Match {
			v.Matches = progress.Count3(int64(c.N))
			continue
		}
		most = max(most, c.N)
	}
	y := 0
	for _, c := range counts {
		if c.Class == reconcile.Match {
			continue
		}
		width := 0
		if most > 0 && c.N > 0 {
			width = max(2, c.N*barMax/most)
		}
		v.Chart = append(v.Chart, htmlBar{Class: string(c.Class), N: progress.Count3(int64(c.N)), Y: y, Width: width,
			TextX: barLeft + width + 6, TextY: y + barHeight - 6, Color: classColor(c.Class)})
		y += barHeight + barGap
	}
	v.ChartHeight = y
}
