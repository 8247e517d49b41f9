package load

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// DefaultPercentiles are the percentiles a summary shows unless told
// otherwise.
const DefaultPercentiles = "p50,p90,p99,p99.9,max"

// Percentiles are percentiles in (0, 100]; 100 is the maximum.
type Percentiles []float64

// ParsePercentiles reads a comma-separated list such as "p50,p99.9,max"
// (the p is optional).
func ParsePercentiles(s string) (Percentiles, error) {
	var out Percentiles
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "max" {
			out = append(out, 100)
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimPrefix(f, "p"), 64)
		if err != nil || !(v > 0 && v <= 100) {
			return nil, fmt.Errorf("percentile %q: want pN with 0 < N <= 100, or max", f)
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// String writes the list as ParsePercentiles reads it.
func (p Percentiles) String() string {
	parts := make([]string, len(p))
	for i, v := range p {
		parts[i] = PercentileName(v)
	}
	return strings.Join(parts, ",")
}

// PercentileName writes 99.9 as "p99.9" and 100 as "max".
func PercentileName(v float64) string {
	if v == 100 {
		return "max"
	}
	return "p" + strconv.FormatFloat(v, 'f', -1, 64)
}

// Millis is a duration written in JSON as milliseconds, to the microsecond.
type Millis time.Duration

// MarshalJSON writes m as a number of milliseconds.
func (m Millis) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, math.Round(float64(m)/1e3)/1e3, 'f', -1, 64), nil
}

// UnmarshalJSON reads a number of milliseconds.
func (m *Millis) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("milliseconds: %w", err)
	}
	*m = Millis(math.Round(v * 1e6))
	return nil
}

// Quantile is one percentile's value.
type Quantile struct {
	Percentile float64 `json:"percentile"`
	Ms         Millis  `json:"ms"`
}

// Latency is a histogram's headline values.
type Latency struct {
	Count       int64      `json:"count"`
	Min         Millis     `json:"min_ms"`
	Mean        Millis     `json:"mean_ms"`
	Max         Millis     `json:"max_ms"`
	Percentiles []Quantile `json:"percentiles"`
}

// At returns the value at percentile p (100: the maximum) and whether the
// summary holds it.
func (l Latency) At(p float64) (time.Duration, bool) {
	for _, q := range l.Percentiles {
		if q.Percentile == p {
			return time.Duration(q.Ms), true
		}
	}
	if p == 100 {
		return time.Duration(l.Max), true
	}
	return 0, false
}

func latencyOf(h *hdr.Histogram, ps Percentiles) Latency {
	l := Latency{Count: h.TotalCount(), Percentiles: []Quantile{}}
	if l.Count == 0 {
		return l
	}
	l.Min, l.Max = Millis(fromHist(h.Min())), Millis(fromHist(h.Max()))
	l.Mean = Millis(time.Duration(h.Mean() * float64(histUnit)))
	for _, p := range ps {
		v := l.Max
		if p < 100 {
			v = Millis(fromHist(h.ValueAtPercentile(p)))
		}
		l.Percentiles = append(l.Percentiles, Quantile{Percentile: p, Ms: v})
	}
	return l
}

// ClassLatency is one status class's count and latency.
type ClassLatency struct {
	Class     string  `json:"class"`
	Count     int64   `json:"count"`
	Corrected Latency `json:"corrected"`
	Service   Latency `json:"service"`
}

// ErrorCount is how often one kind of error happened.
type ErrorCount struct {
	Kind  string `json:"kind"`
	Count int64  `json:"count"`
}

// Summary is a run's headline numbers: what summary.json holds, what the
// text summary prints, and what thresholds are checked against. It also
// holds every counter of the Result, so a Result can be rebuilt from it
// and the histograms.
type Summary struct {
	RunID       string    `json:"run_id"`
	Shards      []string  `json:"shards"`
	Target      string    `json:"target"`
	Model       string    `json:"model"`
	Schedule    string    `json:"schedule,omitempty"`
	Workers     int       `json:"workers"`
	MaxInFlight int       `json:"max_inflight,omitempty"`
	Connections int       `json:"connections"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Elapsed     Millis    `json:"elapsed_ms"`
	// Asked counts ticks that came due; Sent, requests started; Completed,
	// requests ended (any class); Dropped, ticks that found no free worker.
	Asked     int64 `json:"asked"`
	Sent      int64 `json:"sent"`
	Completed int64 `json:"completed"`
	Dropped   int64 `json:"dropped"`
	// AskedRate is the schedule's mean rate; Rate is Completed/Elapsed;
	// Throughput is 2xx answers/Elapsed. Per second.
	AskedRate  float64 `json:"asked_rate"`
	Rate       float64 `json:"rate"`
	Throughput float64 `json:"throughput"`
	// ErrorRate is the share of completed requests that were not 2xx.
	ErrorRate float64 `json:"error_rate"`
	// DroppedShare is Dropped/Asked.
	DroppedShare float64          `json:"dropped_share"`
	Classes      map[string]int64 `json:"classes"`
	Duplicates   int64            `json:"duplicates"`
	Errors       []ErrorCount     `json:"errors"`
	// Corrected is latency from the intended send time, Service from the
	// actual one, every class together; ByClass splits them.
	Corrected   Latency        `json:"corrected"`
	Service     Latency        `json:"service"`
	ByClass     []ClassLatency `json:"by_class"`
	Interrupted bool           `json:"interrupted,omitempty"`
	Exhausted   bool           `json:"exhausted,omitempty"`
	// SeriesStep is the step of the saved series (1 s unless the run
	// outgrew MaxPoints).
	SeriesStep Millis `json:"series_step_ms"`
	// Thresholds and Verify are filled in by the caller that checked them.
	Thresholds []ThresholdResult `json:"thresholds,omitempty"`
	Verify     *Verification     `json:"verify,omitempty"`
}

// Summary computes the headline numbers with the percentiles ps (sorted,
// 100 for the maximum).
func (r *Result) Summary(ps Percentiles) *Summary {
	s := &Summary{
		RunID: r.RunID, Shards: r.Shards, Target: r.Target, Model: r.Model, Schedule: r.Schedule,
		Workers: r.Workers, MaxInFlight: r.MaxInFlight, Connections: r.Connections,
		Start: r.Start.UTC(), End: r.End.UTC(), Elapsed: Millis(r.Elapsed()),
		Asked: r.Asked, Sent: r.Sent, Completed: r.Completed(), Dropped: r.Dropped,
		AskedRate: r.AskedRate, Duplicates: r.Duplicates,
		Classes:     map[string]int64{},
		Errors:      []ErrorCount{},
		Corrected:   latencyOf(r.AllCorrected(), ps),
		Service:     latencyOf(r.AllService(), ps),
		ByClass:     []ClassLatency{},
		Interrupted: r.Interrupted, Exhausted: r.Exhausted, SeriesStep: Millis(r.Series.Step),
	}
	if s.Shards == nil {
		s.Shards = []string{}
	}
	if secs := r.Elapsed().Seconds(); secs > 0 {
		s.Rate = float64(s.Completed) / secs
		s.Throughput = float64(r.Counts[Class2xx]) / secs
	}
	if s.Completed > 0 {
		s.ErrorRate = float64(s.Completed-r.Counts[Class2xx]) / float64(s.Completed)
	}
	if s.Asked > 0 {
		s.DroppedShare = float64(s.Dropped) / float64(s.Asked)
	}
	for c := range NumClasses {
		s.Classes[c.String()] = r.Counts[c]
		if r.Counts[c] > 0 {
			s.ByClass = append(s.ByClass, ClassLatency{Class: c.String(), Count: r.Counts[c],
				Corrected: latencyOf(r.Corrected[c], ps), Service: latencyOf(r.Service[c], ps)})
		}
	}
	for k, n := range r.Errors {
		s.Errors = append(s.Errors, ErrorCount{Kind: k, Count: n})
	}
	slices.SortFunc(s.Errors, func(a, b ErrorCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Kind, b.Kind))
	})
	return s
}

// Result rebuilds the counters of the run s summarizes, with the given
// histograms and series points (as the report files hold them), so that
// runs saved apart merge exactly.
func (s *Summary) Result(corrected, service [NumClasses]*hdr.Histogram, points []Point) (*Result, error) {
	series := Series{Step: time.Duration(s.SeriesStep), Points: points}
	if series.Step <= 0 {
		series.Step = time.Second
	}
	r := &Result{
		RunID: s.RunID, Shards: s.Shards, Target: s.Target, Model: s.Model, Schedule: s.Schedule,
		AskedRate: s.AskedRate, Workers: s.Workers, MaxInFlight: s.MaxInFlight, Connections: s.Connections,
		Start: s.Start, End: s.End, Asked: s.Asked, Sent: s.Sent, Dropped: s.Dropped, Duplicates: s.Duplicates,
		Errors: map[string]int64{}, Corrected: corrected, Service: service, Series: series,
		Interrupted: s.Interrupted, Exhausted: s.Exhausted,
	}
	for name, n := range s.Classes {
		c, err := ParseClass(name)
		if err != nil {
			return nil, err
		}
		r.Counts[c] = n
	}
	for _, e := range s.Errors {
		r.Errors[e.Kind] += e.Count
	}
	if err := checkGeometry(r); err != nil {
		return nil, err
	}
	for c := range NumClasses {
		if got := r.Corrected[c].TotalCount(); got != r.Counts[c] {
			return nil, fmt.Errorf("class %s: the histogram holds %d requests, the summary counts %d", c, got, r.Counts[c])
		}
	}
	return r, nil
}
