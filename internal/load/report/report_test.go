package report

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	goldenfile "github.com/billharness/billharness/internal/golden"

	"github.com/billharness/billharness/internal/load"
	"github.com/billharness/billharness/internal/progress"

	"github.com/billharness/billharness/internal/browsertest"
)

// sample is a fixed 10-second open-model run with a stall in its 6th
// second: corrected latency climbs, service time does not.
func sample(t *testing.T) *load.Result {
	t.Helper()
	t0 := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	r := &load.Result{
		RunID: "lg-test", Shards: []string{"0/1"}, Target: "http://127.0.0.1:8080", Model: load.ModelOpen,
		Schedule: "100/s for 10s", AskedRate: 100, Workers: 16, MaxInFlight: 1000, Connections: 4,
		Start: t0, End: t0.Add(10*time.Second + 20*time.Millisecond),
		Errors: map[string]int64{"429 rate_limited": 6, "500 internal_error": 3, "timeout": 1},
	}
	for c := range load.NumClasses {
		r.Corrected[c], r.Service[c] = load.NewHistogram(), load.NewHistogram()
	}
	record := func(c load.Class, corrected, service time.Duration) {
		if err := r.Corrected[c].RecordValue(corrected.Microseconds()); err != nil {
			t.Fatal(err)
		}
		if err := r.Service[c].RecordValue(service.Microseconds()); err != nil {
			t.Fatal(err)
		}
		r.Counts[c]++
	}
	for sec := range 10 {
		p := load.Point{Time: t0.Add(time.Duration(sec) * time.Second), Seconds: 1, Asked: 100, Sent: 100, InFlight: 2}
		for i := range 100 {
			service := time.Duration(2000+i*37) * time.Microsecond
			corrected := service + 100*time.Microsecond
			if sec == 5 {
				corrected += time.Duration(100-i) * 10 * time.Millisecond // waited for a connection
			}
			c := load.Class2xx
			switch {
			case sec == 7 && i < 6:
				c = load.Class429
			case sec == 8 && i < 3:
				c = load.Class5xx
			case sec == 9 && i == 0:
				c, corrected, service = load.ClassError, 5*time.Second, 5*time.Second
			}
			record(c, corrected, service)
			p.Counts[c]++
		}
		p.Corrected = load.PointLatency{P50: 4 * time.Millisecond, P90: 5 * time.Millisecond, P99: 6 * time.Millisecond, Max: 7 * time.Millisecond}
		if sec == 5 {
			p.Corrected = load.PointLatency{P50: 500 * time.Millisecond, P90: 900 * time.Millisecond, P99: 990 * time.Millisecond, Max: time.Second}
		}
		p.Service = load.PointLatency{P50: 4 * time.Millisecond, P90: 5 * time.Millisecond, P99: 6 * time.Millisecond, Max: 6 * time.Millisecond}
		r.Series.Points = append(r.Series.Points, p)
	}
	r.Series.Step = time.Second
	r.Asked, r.Sent = 1000, 1000
	r.Duplicates = 2
	return r
}

func summary(t *testing.T, r *load.Result) *load.Summary {
	t.Helper()
	ps, err := load.ParsePercentiles(load.DefaultPercentiles)
	if err != nil {
		t.Fatal(err)
	}
	s := r.Summary(ps)
	for _, in := range []string{"p99<250ms", "error_rate<2%", "rate>99/s"} {
		th, err := load.ParseThreshold(in)
		if err != nil {
			t.Fatal(err)
		}
		s.Thresholds = append(s.Thresholds, th.Check(s))
	}
	s.Verify = &load.Verification{Pass: false, Subscriptions: 10, Matched: 9, Mismatched: 1, Rounds: 3, Elapsed: load.Millis(2 * time.Second),
		Mismatches: []load.Mismatch{{SubscriptionID: "sub_1", Meter: "Input Tokens", Accepted: 1200, Uncertain: 40, Reported: "1100"}}}
	return s
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, name, got)
}

func TestGolden(t *testing.T) {
	r := sample(t)
	s := summary(t, r)
	var text, html, series bytes.Buffer
	if err := WriteText(&text, s); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&html, r, s); err != nil {
		t.Fatal(err)
	}
	if err := WriteSeries(&series, r.Series.Points); err != nil {
		t.Fatal(err)
	}
	golden(t, "sample.txt", text.Bytes())
	golden(t, "sample.report.html", html.Bytes())
	golden(t, "sample.series.csv", series.Bytes())
	for _, want := range []string{"FAIL  p99<250ms", "PASS  error_rate<2%", "verify FAIL: 1 of 10"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text summary lacks %q", want)
		}
	}
	if all, target := strings.Count(html.String(), "http://"), strings.Count(html.String(), "<code>http://127.0.0.1:8080</code>"); all != target {
		t.Errorf("report.html has %d http:// references, %d of them the run's target: it refers to the network", all, target)
	}
}

// TestWriteLoad: a result written to a directory reads back identical, and
// two such directories merge exactly.
func TestWriteLoad(t *testing.T) {
	r := sample(t)
	s := summary(t, r)
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	if err := Write(dirA, r, s); err != nil {
		t.Fatal(err)
	}
	r.Shards = []string{"1/2"}
	if err := Write(dirB, r, r.Summary(nil)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{SummaryFile, SeriesFile, HistogramsFile, HTMLFile} {
		if _, err := os.Stat(filepath.Join(dirA, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	back, saved, err := Load(dirA)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Verify == nil || saved.Verify.Mismatched != 1 || len(saved.Thresholds) != 3 {
		t.Errorf("saved summary lost its verification or thresholds: %+v", saved)
	}
	for c := range load.NumClasses {
		if !back.Corrected[c].Equals(r.Corrected[c]) || !back.Service[c].Equals(r.Service[c]) {
			t.Errorf("class %s: histograms differ after Write and Load", c)
		}
	}
	if back.Counts != r.Counts || back.Asked != r.Asked || !back.Start.Equal(r.Start) || !back.End.Equal(r.End) || back.Errors["timeout"] != 1 {
		t.Errorf("Load = counts %v asked %d span %v..%v errors %v; want %v %d %v..%v", back.Counts, back.Asked, back.Start, back.End, back.Errors,
			r.Counts, r.Asked, r.Start, r.End)
	}
	if len(back.Series.Points) != 10 || back.Series.Points[5] != r.Series.Points[5] {
		t.Errorf("series point 5 = %+v, want %+v", back.Series.Points[5], r.Series.Points[5])
	}
	other, _, err := Load(dirB)
	if err != nil {
		t.Fatal(err)
	}
	m, err := load.Merge(back, other)
	if err != nil {
		t.Fatal(err)
	}
	if m.Completed() != 2*r.Completed() || m.AllCorrected().TotalCount() != 2*r.Completed() {
		t.Errorf("merged completed %d (histogram %d), want %d", m.Completed(), m.AllCorrected().TotalCount(), 2*r.Completed())
	}
	ms := m.Summary(load.Percentiles{99})
	rs := r.Summary(load.Percentiles{99})
	if ms.Corrected.Percentiles[0] != rs.Corrected.Percentiles[0] {
		t.Errorf("merged p99 of two identical runs = %v, want %v", ms.Corrected.Percentiles[0], rs.Corrected.Percentiles[0])
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), SummaryFile) {
		t.Errorf("Load of an empty directory = %v, want an error naming %s", err, SummaryFile)
	}
	r := sample(t)
	if err := Write(dir, r, r.Summary(nil)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, HistogramsFile), []byte(`{"corrected":{"2xx":"not base64"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), HistogramsFile) {
		t.Errorf("Load with a broken histogram file = %v, want an error naming it", err)
	}
}

func TestLatencyFormat(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{812 * time.Microsecond, "812µs"}, {1234 * time.Microsecond, "1.23ms"}, {45600 * time.Microsecond, "45.6ms"},
		{999 * time.Millisecond, "999ms"}, {1200 * time.Millisecond, "1.20s"}, {125 * time.Second, "125s"}} {
		if got := progress.Latency(tt.d); got != tt.want {
			t.Errorf("progress.Latency(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestHTMLInChromium: report.html renders in a browser with nothing on the
// console, and the time charts' x-axis ends where the run ended: the last
// point sits on the plot's right edge and no tick lies beyond it.
func TestHTMLInChromium(t *testing.T) {
	r := sample(t)
	s := summary(t, r)
	path := filepath.Join(t.TempDir(), "report.html")
	var html bytes.Buffer
	if err := WriteHTML(&html, r, s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, html.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	page := browsertest.Render(t, path)
	if len(page.Console) > 0 {
		t.Errorf("console messages: %q", page.Console)
	}
	charts := regexp.MustCompile(`(?s)<svg[^>]*aria-label="([^"]*over time[^"]*)".*?</svg>`).FindAllStringSubmatch(page.DOM, -1)
	if len(charts) != 2 {
		t.Fatalf("rendered %d time charts, want 2", len(charts))
	}
	right := float64(chartWidth - plotRight)
	num := regexp.MustCompile(`[0-9.]+`)
	for _, c := range charts {
		var lastX float64
		for _, pts := range regexp.MustCompile(`points="([^"]*)"`).FindAllStringSubmatch(c[0], -1) {
			for _, p := range strings.Fields(pts[1]) {
				x, _ := strconv.ParseFloat(strings.Split(p, ",")[0], 64)
				lastX = max(lastX, x)
			}
		}
		// The last point ends its interval; the run ends after its last
		// answers drained (20 ms here): within 1% of the width.
		if width := right - plotLeft; lastX < right-width/100 || lastX > right+0.01 {
			t.Errorf("%s: the last point is at x=%.1f, want the plot's right edge %.0f (the run's end)", c[1], lastX, right)
		}
		for _, tick := range regexp.MustCompile(`<line class="grid" x1="([0-9.]+)"`).FindAllStringSubmatch(c[0], -1) {
			if x, _ := strconv.ParseFloat(num.FindString(tick[1]), 64); x > right+0.01 {
				t.Errorf("%s: a tick at x=%.1f lies past the run's end (%.0f)", c[1], x, right)
			}
		}
	}
}
