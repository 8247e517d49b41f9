package load

import (
	"slices"
	"time"
)

// MaxPoints bounds a Series. A run longer than MaxPoints seconds keeps its
// whole span at a coarser step: neighbouring points are merged two by two
// and the step doubles, so an hour-long run and a day-long one both hold
// at most MaxPoints points.
const MaxPoints = 3600

// Point is one step of a run's time series. Latencies are percentiles of
// the requests answered during the step.
type Point struct {
	// Time is when the step began; Seconds is its length (the last step of
	// a run may be short).
	Time    time.Time
	Seconds float64
	// Asked counts the ticks that came due (sent + dropped); Sent the
	// requests started; Dropped the ticks that found no free worker.
	Asked, Sent, Dropped int64
	// Counts are the answers received during the step, by class.
	Counts [NumClasses]int64
	// InFlight is the number of requests in flight at the end of the step.
	InFlight int64
	// Corrected and Service are latency percentiles over every class.
	Corrected, Service PointLatency
}

// PointLatency holds the percentiles a series point keeps. When points are
// merged each value becomes the larger of the two: for any percentile, the
// merged set's value is at most the larger of the parts', so a merged
// point is an upper bound (Max stays exact).
type PointLatency struct {
	P50, P90, P99, Max time.Duration
}

// Completed is the number of answers in the step, every class.
func (p *Point) Completed() int64 {
	var n int64
	for _, c := range p.Counts {
		n += c
	}
	return n
}

func maxLatency(a, b PointLatency) PointLatency {
	return PointLatency{P50: max(a.P50, b.P50), P90: max(a.P90, b.P90), P99: max(a.P99, b.P99), Max: max(a.Max, b.Max)}
}

// absorb merges q into p. concurrent says q ran at the same time as p (a
// shard of the same run) rather than right after it: then in-flight counts
// add up, otherwise the later one holds.
func (p *Point) absorb(q *Point, concurrent bool) {
	p.Asked += q.Asked
	p.Sent += q.Sent
	p.Dropped += q.Dropped
	for c := range p.Counts {
		p.Counts[c] += q.Counts[c]
	}
	if concurrent {
		p.InFlight += q.InFlight
		p.Seconds = max(p.Seconds, q.Seconds)
	} else {
		p.InFlight = q.InFlight
		p.Seconds += q.Seconds
	}
	p.Corrected = maxLatency(p.Corrected, q.Corrected)
	p.Service = maxLatency(p.Service, q.Service)
}

// Series is a run's per-step time series, bounded to MaxPoints points.
type Series struct {
	// Step is the length of every point but possibly the last.
	Step   time.Duration
	Points []Point
}

// add appends a point of at most one Step that follows the last one. After
// a compaction it fills the last point until that spans a whole Step.
func (s *Series) add(p Point) {
	if s.Step == 0 {
		s.Step = time.Second
	}
	if n := len(s.Points); n > 0 {
		last := &s.Points[n-1]
		// A 1% slack absorbs timer jitter in the collector's ticks.
		if last.Seconds+p.Seconds <= s.Step.Seconds()*1.01 && s.Step > time.Second {
			last.absorb(&p, false)
			return
		}
	}
	s.Points = append(s.Points, p)
	if len(s.Points) > MaxPoints {
		s.compact()
	}
}

// compact merges points two by two and doubles the step.
func (s *Series) compact() {
	out := s.Points[:0]
	for i := 0; i < len(s.Points); i += 2 {
		p := s.Points[i]
		if i+1 < len(s.Points) {
			p.absorb(&s.Points[i+1], false)
		}
		out = append(out, p)
	}
	clear(s.Points[len(out):])
	s.Points = out
	s.Step *= 2
}

// mergeSeries lays the series of concurrent runs (shards) over one time
// axis: each point goes to the step of the coarsest series that holds its
// start time, and points sharing a step are merged.
func mergeSeries(all []Series) Series {
	step := time.Second
	var t0 time.Time
	for _, s := range all {
		step = max(step, s.Step)
		for _, p := range s.Points {
			if t0.IsZero() || p.Time.Before(t0) {
				t0 = p.Time
			}
		}
	}
	buckets := map[int64]*Point{}
	for _, s := range all {
		// Points of one run that share a step follow each other; the runs'
		// steps then overlap in time.
		own := map[int64]*Point{}
		for _, p := range s.Points {
			k := int64(p.Time.Sub(t0) / step)
			if b, ok := own[k]; ok {
				b.absorb(&p, false)
				continue
			}
			q := p
			q.Time = t0.Add(time.Duration(k) * step)
			own[k] = &q
		}
		for k, p := range own {
			if b, ok := buckets[k]; ok {
				b.absorb(p, true)
			} else {
				buckets[k] = p
			}
		}
	}
	keys := make([]int64, 0, len(buckets))
	for k := range buckets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := Series{Step: step, Points: make([]Point, 0, len(keys))}
	for _, k := range keys {
		out.Points = append(out.Points, *buckets[k])
	}
	for len(out.Points) > MaxPoints {
		out.compact()
	}
	return out
}
