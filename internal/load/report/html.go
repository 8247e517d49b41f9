package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/billharness/billharness/internal/load"
	"github.com/billharness/billharness/internal/progress"
)

//go:embed report.html.tmpl
var htmlTemplate string

// htmlView is what the template shows; every value is already formatted.
type htmlView struct {
	Title, Status, Headline string
	Meta, Numbers           [][2]string
	Charts                  []*chart
	PctHeader               []string
	PctRows                 []pctRow
	Classes                 []classRow
	Errors                  []load.ErrorCount
	Thresholds              []load.ThresholdResult
	Verify                  string
	VerifyPass              bool
	Mismatches              []load.Mismatch
	Files                   []string
}

type pctRow struct {
	Name   string
	Values []string
}

type classRow struct {
	Class, Count, Share, CorrectedP50, CorrectedP99, ServiceP50, ServiceP99 string
}

// Status is a run's one-word verdict: "failed" when a threshold or the
// verification failed, "interrupted", "passed" when thresholds or a
// verification were checked and held, "measured" otherwise.
func Status(s *load.Summary) string {
	checked := s.Verify != nil || len(s.Thresholds) > 0
	failed := s.Verify != nil && !s.Verify.Pass
	for _, t := range s.Thresholds {
		failed = failed || !t.Pass
	}
	switch {
	case failed:
		return "failed"
	case s.Interrupted:
		return "interrupted"
	case checked:
		return "passed"
	}
	return "measured"
}

// Failed lists what failed a run: each failed threshold with the value it
// got, and a failed verification; nil when nothing did.
func Failed(s *load.Summary) []string {
	var failed []string
	for _, t := range s.Thresholds {
		if !t.Pass {
			failed = append(failed, fmt.Sprintf("%s (got %s)", t.Threshold, t.Got))
		}
	}
	if s.Verify != nil && !s.Verify.Pass {
		failed = append(failed, fmt.Sprintf("verify (%d of %d subscriptions differ)", s.Verify.Mismatched, s.Verify.Subscriptions))
	}
	return failed
}

// headline is the report's first sentence: what failed first, when
// anything did, then the run's numbers, the dropped share among them.
func headline(s *load.Summary) string {
	h := fmt.Sprintf("%d requests in %s: %s (%s asked), p99 %s corrected, %s service, error rate %s",
		s.Completed, progress.Latency(time.Duration(s.Elapsed)), Rate(s.Rate), Rate(s.AskedRate),
		at(s.Corrected, 99), at(s.Service, 99), Percent(s.ErrorRate))
	if s.Model != load.ModelOpen {
		h = fmt.Sprintf("%d requests in %s: %s (closed model), p99 %s, error rate %s",
			s.Completed, progress.Latency(time.Duration(s.Elapsed)), Rate(s.Rate), at(s.Service, 99), Percent(s.ErrorRate))
	}
	if s.Dropped > 0 {
		h += fmt.Sprintf(", %s of the ticks dropped", Percent(s.DroppedShare))
	}
	h += "."
	if failed := Failed(s); len(failed) > 0 {
		h = "Failed: " + strings.Join(failed, ", ") + ". " + h
	}
	return h
}

// WriteHTML writes report.html: one page with inline CSS and SVG
// (throughput and latency over time, the latency percentile spectrum) and
// the summary's tables. It loads nothing from the network.
func WriteHTML(w io.Writer, res *load.Result, s *load.Summary) error {
	v := htmlView{
		Title:    "Load test " + s.RunID,
		Status:   Status(s),
		Headline: headline(s),
		Meta: [][2]string{
			{"Target", s.Target}, {"Model", model(s)}, {"Shards", fmt.Sprint(s.Shards)},
			{"Start", s.Start.Format(time.RFC3339)}, {"End", s.End.Format(time.RFC3339)},
		},
		Numbers: [][2]string{
			{"asked", strconv.FormatInt(s.Asked, 10)}, {"sent", strconv.FormatInt(s.Sent, 10)},
			{"completed", strconv.FormatInt(s.Completed, 10)}, {"dropped", strconv.FormatInt(s.Dropped, 10)},
			{"rate", Rate(s.Rate)}, {"asked rate", Rate(s.AskedRate)}, {"2xx throughput", Rate(s.Throughput)},
			{"error rate", Percent(s.ErrorRate)}, {"duplicates", strconv.FormatInt(s.Duplicates, 10)},
		},
		Errors: s.Errors, Thresholds: s.Thresholds,
		Files: []string{SummaryFile, SeriesFile, HistogramsFile},
	}
	for _, q := range s.Corrected.Percentiles {
		v.PctHeader = append(v.PctHeader, load.PercentileName(q.Percentile))
	}
	v.PctHeader = append(v.PctHeader, "mean")
	for _, r := range []struct {
		name string
		l    load.Latency
	}{{"corrected", s.Corrected}, {"service", s.Service}} {
		row := pctRow{Name: r.name}
		for _, q := range r.l.Percentiles {
			row.Values = append(row.Values, progress.Latency(time.Duration(q.Ms)))
		}
		row.Values = append(row.Values, progress.Latency(time.Duration(r.l.Mean)))
		v.PctRows = append(v.PctRows, row)
	}
	for _, c := range s.ByClass {
		v.Classes = append(v.Classes, classRow{Class: c.Class, Count: strconv.FormatInt(c.Count, 10),
			Share:        Percent(float64(c.Count) / float64(max(s.Completed, 1))),
			CorrectedP50: at(c.Corrected, 50), CorrectedP99: at(c.Corrected, 99),
			ServiceP50: at(c.Service, 50), ServiceP99: at(c.Service, 99)})
	}
	if s.Verify != nil {
		v.Verify, v.VerifyPass, v.Mismatches = VerifyLine(s.Verify), s.Verify.Pass, s.Verify.Mismatches
	}
	v.Charts = []*chart{throughputChart(res), latencyChart(res), spectrumChart(res)}
	t, err := template.New("report").Parse(htmlTemplate)
	if err != nil {
		return err
	}
	return t.Execute(w, v)
}

// offsets returns each point's end, in seconds from the run's start, and
// the run's end: the later of its elapsed time and the last point's end.
func offsets(res *load.Result) ([]float64, float64) {
	xs := make([]float64, len(res.Series.Points))
	end := res.Elapsed().Seconds()
	for i, p := range res.Series.Points {
		xs[i] = p.Time.Sub(res.Start).Seconds() + p.Seconds
		end = max(end, xs[i])
	}
	return xs, end
}

// shortStep is a point whose interval is too short (under a tenth of the
// series' usual step) for a rate over it to mean anything: the sliver a
// run's last answers fall in. Rates there are left out, not drawn as a
// plunge to 0 or a spike.
func shortStep(p load.Point, longest float64) bool { return p.Seconds < longest/10 }

func throughputChart(res *load.Result) *chart {
	c := newChart("Throughput over time", "time since start", "requests/s")
	xs, end := offsets(res)
	var longest float64
	for _, p := range res.Series.Points {
		longest = max(longest, p.Seconds)
	}
	per := func(n int64, p load.Point) float64 {
		if p.Seconds <= 0 || shortStep(p, longest) {
			return math.NaN()
		}
		return float64(n) / p.Seconds
	}
	all := []series{
		{name: "asked", color: "#9e9e9e", dash: true},
		{name: "answered", color: "#1565c0"},
		{name: "not 2xx", color: "#c62828"},
		{name: "dropped", color: "#ef6c00"},
	}
	hi := 0.0
	for i, p := range res.Series.Points {
		ys := []float64{per(p.Asked, p), per(p.Completed(), p), per(p.Completed()-p.Counts[load.Class2xx], p), per(p.Dropped, p)}
		for j, y := range ys {
			all[j].pts = append(all[j].pts, xy{xs[i], y})
			if !math.IsNaN(y) {
				hi = max(hi, y)
			}
		}
	}
	return c.finish(end, all, false, hi, 0)
}

func latencyChart(res *load.Result) *chart {
	c := newChart("Latency over time (log scale)", "time since start", "latency")
	xs, end := offsets(res)
	all := []series{
		{name: "corrected p50", color: "#64b5f6"},
		{name: "corrected p99", color: "#1565c0"},
		{name: "corrected max", color: "#6a1b9a", dash: true},
		{name: "service p99", color: "#2e7d32"},
	}
	msOf := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	lo, hi := math.Inf(1), 0.0
	for i, p := range res.Series.Points {
		for j, d := range []time.Duration{p.Corrected.P50, p.Corrected.P99, p.Corrected.Max, p.Service.P99} {
			y := msOf(d)
			all[j].pts = append(all[j].pts, xy{xs[i], y})
			if y > 0 {
				lo, hi = min(lo, y), max(hi, y)
			}
		}
	}
	return c.finish(end, all, true, hi, lo)
}

// spectrumQuantiles are the percentiles the spectrum chart plots, as far
// as the histogram holds enough values to tell them apart.
func spectrumQuantiles() []float64 {
	return []float64{0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999, 99.9995, 99.9999}
}

func spectrumChart(res *load.Result) *chart {
	c := newChart("Latency by percentile (log scales)", "percentile", "latency")
	hists := []*hdr.Histogram{res.AllCorrected(), res.AllService()}
	all := []series{{name: "corrected", color: "#1565c0"}, {name: "service", color: "#2e7d32"}}
	lo, hi, xmax := math.Inf(1), 0.0, 1.0
	for i, h := range hists {
		n := h.TotalCount()
		if n == 0 {
			continue
		}
		for _, q := range spectrumQuantiles() {
			// Past this, fewer than one value lies above the percentile.
			if q > 0 && float64(n)*(1-q/100) < 1-1e-9 {
				break
			}
			all[i].pts = append(all[i].pts, xy{1 / (1 - q/100), ms(h.ValueAtPercentile(q))}) // 50% → 2, 99% → 100
		}
		// The maximum ends the line, at the percentile of the last value.
		top := ms(h.Max())
		if last := &all[i].pts[len(all[i].pts)-1]; last.x >= float64(n)*(1-1e-9) {
			last.y = max(last.y, top)
		} else {
			all[i].pts = append(all[i].pts, xy{float64(n), top})
		}
		for _, p := range all[i].pts {
			xmax = max(xmax, p.x)
			lo, hi = min(lo, p.y), max(hi, p.y)
		}
	}
	if hi == 0 {
		lo, hi = 0.1, 1
	}
	_, _, ylo, yhi := logTicks(lo, hi, msLabel)
	xa, ya := c.xAxis(1, math.Max(xmax, 10), true), c.yAxis(ylo, yhi, true)
	var xv []float64
	var xl []string
	for _, q := range []float64{0, 90, 99, 99.9, 99.99, 99.999, 99.9999} {
		x := 1 / (1 - q/100)
		if x > math.Max(xmax, 10)*1.001 {
			break
		}
		xv, xl = append(xv, x), append(xl, strconv.FormatFloat(q, 'f', -1, 64)+"%")
	}
	c.XTicks = ticks(xa, xv, xl)
	yv, yl, _, _ := logTicks(ylo, yhi, msLabel)
	c.YTicks = ticks(ya, yv, yl)
	c.plot(xa, ya, all)
	return c
}

// ms converts a histogram value (µs) to milliseconds.
func ms(v int64) float64 { return float64(v) / 1000 }

// finish lays out a time chart's axes and lines. A log chart spans
// [lo, hi] in decades; a linear one starts at 0.
func (c *chart) finish(end float64, all []series, log bool, hi, lo float64) *chart {
	// The x-axis ends where the run ended, not at the next round number:
	// a 10 s run drawn to 15 s looks as if it stopped early.
	xmax := max(end, 1)
	xv, xl, _ := linearTicks(xmax, secLabel)
	for len(xv) > 0 && xv[len(xv)-1] > xmax*1.0001 {
		xv, xl = xv[:len(xv)-1], xl[:len(xl)-1]
	}
	xa := c.xAxis(0, xmax, false)
	c.XTicks = ticks(xa, xv, xl)
	var ya axis
	if log {
		if hi == 0 {
			lo, hi = 0.1, 1
		}
		yv, yl, ylo, yhi := logTicks(lo, hi, msLabel)
		ya = c.yAxis(ylo, yhi, true)
		c.YTicks = ticks(ya, yv, yl)
	} else {
		yv, yl, ytop := linearTicks(hi, func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) })
		ya = c.yAxis(0, ytop, false)
		c.YTicks = ticks(ya, yv, yl)
	}
	c.plot(xa, ya, all)
	return c
}
