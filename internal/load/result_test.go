package load

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// fakeResult records n random latencies into a result, spread over the
// classes, and returns it with the raw values of class 2xx.
func fakeResult(t *testing.T, seed uint64, n int, start time.Time) (*Result, []int64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0))
	rec := newRecorder()
	var raw []int64
	for i := range n {
		c := Class(rng.IntN(int(NumClasses)))
		us := int64(rng.ExpFloat64()*5000) + 1
		if c == Class2xx {
			raw = append(raw, us)
		}
		rec.record(i, Outcome{Class: c}, time.Duration(us)*time.Microsecond, time.Duration(us/2+1)*time.Microsecond)
	}
	res := newResult()
	rec.totals(res)
	res.RunID, res.Shards, res.Model = "r", []string{"0/1"}, ModelOpen
	res.Start, res.End = start, start.Add(10*time.Second)
	res.Asked, res.Sent = int64(n), int64(n)
	res.AskedRate = float64(n) / 10
	for i := range 10 {
		res.Series.add(Point{Time: start.Add(time.Duration(i) * time.Second), Seconds: 1, Asked: int64(n / 10), InFlight: 3,
			Counts: [NumClasses]int64{int64(n / 10)}, Corrected: PointLatency{P99: time.Duration(i) * time.Millisecond}})
	}
	return res, raw
}

// TestMergeExact: merging the results of two shards gives the histogram
// that recording every value into one would have given, and the counts
// are the sums.
func TestMergeExact(t *testing.T) {
	t0 := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	a, rawA := fakeResult(t, 1, 20000, t0)
	b, rawB := fakeResult(t, 2, 30000, t0.Add(500*time.Millisecond))
	a.Shards, b.Shards = []string{"0/2"}, []string{"1/2"}
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := NewHistogram()
	for _, v := range append(rawA, rawB...) {
		if err := want.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	if !m.Corrected[Class2xx].Equals(want) {
		t.Errorf("merged 2xx histogram differs from one holding every value (counts %d, want %d)", m.Corrected[Class2xx].TotalCount(), want.TotalCount())
	}
	for c := range NumClasses {
		if got, w := m.Corrected[c].TotalCount(), a.Corrected[c].TotalCount()+b.Corrected[c].TotalCount(); got != w || m.Counts[c] != w {
			t.Errorf("class %s: merged count %d (counter %d), want %d", c, got, m.Counts[c], w)
		}
	}
	for _, p := range []float64{50, 99, 99.9} {
		if got, w := m.Corrected[Class2xx].ValueAtPercentile(p), want.ValueAtPercentile(p); got != w {
			t.Errorf("merged p%v = %d, want %d", p, got, w)
		}
	}
	if m.Completed() != 50000 || m.Asked != 50000 || m.AskedRate != 5000 || !m.Start.Equal(t0) || !m.End.Equal(b.End) {
		t.Errorf("merged completed %d asked %d rate %v span %v..%v", m.Completed(), m.Asked, m.AskedRate, m.Start, m.End)
	}
	if len(m.Shards) != 2 || m.Shards[1] != "1/2" {
		t.Errorf("merged shards = %v, want [0/2 1/2]", m.Shards)
	}
	var asked, inflight int64
	for _, p := range m.Series.Points {
		asked += p.Asked
		inflight = max(inflight, p.InFlight)
	}
	if asked != 50000 || inflight != 6 {
		t.Errorf("merged series: asked %d, peak in flight %d; want 50000, 6 (concurrent shards add up)", asked, inflight)
	}
}

func TestMergeRefusesOtherGeometry(t *testing.T) {
	a, _ := fakeResult(t, 1, 10, time.Now())
	b, _ := fakeResult(t, 2, 10, time.Now())
	b.Service[Class4xx] = nil
	if _, err := Merge(a, b); err == nil {
		t.Error("Merge with a missing histogram succeeded, want an error")
	}
}

// TestSeriesBounded: a day of one-second points stays within MaxPoints,
// loses no count, and keeps each step's worst latency.
func TestSeriesBounded(t *testing.T) {
	var s Series
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	const n = 24 * 3600
	for i := range n {
		s.add(Point{Time: t0.Add(time.Duration(i) * time.Second), Seconds: 1, Sent: 2, InFlight: int64(i),
			Counts: [NumClasses]int64{1, 1}, Corrected: PointLatency{Max: time.Duration(i)}})
	}
	if len(s.Points) > MaxPoints {
		t.Fatalf("len = %d, want <= %d", len(s.Points), MaxPoints)
	}
	var sent, answered int64
	var secs float64
	for _, p := range s.Points {
		sent += p.Sent
		answered += p.Completed()
		secs += p.Seconds
	}
	if sent != 2*n || answered != 2*n || secs != n {
		t.Errorf("sent %d, answered %d, seconds %v; want %d, %d, %d", sent, answered, secs, 2*n, 2*n, n)
	}
	if s.Step != 32*time.Second {
		t.Errorf("step = %v, want 32s", s.Step)
	}
	last := s.Points[len(s.Points)-1]
	if last.Corrected.Max != n-1 || last.InFlight != n-1 {
		t.Errorf("last point max %v in flight %d, want %d, %d", last.Corrected.Max, last.InFlight, n-1, n-1)
	}
}

func TestSummaryRoundTrip(t *testing.T) {
	res, _ := fakeResult(t, 3, 5000, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	res.Errors["429 rate_limited"] = 7
	s := res.Summary(Percentiles{50, 99, 100})
	back, err := s.Result(res.Corrected, res.Service, res.Series.Points)
	if err != nil {
		t.Fatal(err)
	}
	again := back.Summary(Percentiles{50, 99, 100})
	if again.Completed != s.Completed || again.Errors[0] != s.Errors[0] || again.Corrected.Max != s.Corrected.Max || again.Rate != s.Rate {
		t.Errorf("Summary → Result → Summary = %+v, want %+v", again, s)
	}
	res.Counts[Class2xx]++
	if _, err := res.Summary(nil).Result(res.Corrected, res.Service, nil); err == nil {
		t.Error("Result with counts that disagree with the histograms succeeded, want an error")
	}
}

func TestParsePercentiles(t *testing.T) {
	for _, tt := range []struct {
		in, want, err string
	}{
		{in: DefaultPercentiles, want: "p50,p90,p99,p99.9,max"},
		{in: "99,50,max,p50", want: "p50,p99,max"},
		{in: "p0", err: "0 < N"},
		{in: "p99,x", err: `"x"`},
	} {
		p, err := ParsePercentiles(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParsePercentiles(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || p.String() != tt.want {
			t.Errorf("ParsePercentiles(%q) = %q, %v; want %q", tt.in, p, err, tt.want)
		}
	}
}
