package load

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Stage is one part of an open-model schedule: the rate moves linearly from
// where the previous stage ended (the schedule's Start rate for the first)
// to Target requests per second over Duration. A zero Duration jumps to
// Target at once.
type Stage struct {
	Duration time.Duration
	Target   float64
}

// forever stands for an unbounded constant rate: 292 years.
const forever = time.Duration(math.MaxInt64)

// Schedule says when each request of an open-model run is due. It is
// immutable once built by NewSchedule, Constant or ParseStages, and safe
// for concurrent use.
type Schedule struct {
	start  float64
	stages []Stage
	// Derived, per stage i: the offset where it starts, the rate it starts
	// at, and the hits due before it (cumulative, exact in float64 up to
	// 2^53 hits).
	at    []float64 // seconds
	from  []float64
	cum   []float64
	total int64 // requests in the whole schedule
	// unbounded marks Constant(r, 0): no end.
	unbounded bool
}

// NewSchedule returns the schedule that starts at rate start and goes
// through stages. Rates are requests per second, finite and >= 0.
func NewSchedule(start float64, stages []Stage) (*Schedule, error) {
	if !(start >= 0) || math.IsInf(start, 0) {
		return nil, fmt.Errorf("schedule: start rate %v: must be a finite number >= 0", start)
	}
	if len(stages) == 0 {
		return nil, errors.New("schedule: no stages")
	}
	s := &Schedule{start: start, stages: append([]Stage(nil), stages...)}
	t, r, cum := 0.0, start, 0.0
	for i, st := range stages {
		if st.Duration < 0 {
			return nil, fmt.Errorf("schedule: stage %d: negative duration %s", i+1, st.Duration)
		}
		if !(st.Target >= 0) || math.IsInf(st.Target, 0) {
			return nil, fmt.Errorf("schedule: stage %d: rate %v: must be a finite number >= 0", i+1, st.Target)
		}
		s.at, s.from, s.cum = append(s.at, t), append(s.from, r), append(s.cum, cum)
		d := st.Duration.Seconds()
		cum += (r + st.Target) / 2 * d // area under the linear ramp
		t += d
		r = st.Target
	}
	s.at, s.from, s.cum = append(s.at, t), append(s.from, r), append(s.cum, cum)
	if cum > 1<<53 {
		return nil, fmt.Errorf("schedule: %.3g requests: too many", cum)
	}
	// Request n is due while n < cum: ceil, with a little slack so that a
	// float rounding above an exact count (2000.0000001) adds no request.
	s.total = int64(math.Ceil(cum - 1e-6))
	return s, nil
}

// Constant returns a schedule of rate requests per second for d; d == 0
// means until the run is stopped.
func Constant(rate float64, d time.Duration) (*Schedule, error) {
	if !(rate > 0) {
		return nil, fmt.Errorf("schedule: constant rate %v: must be > 0", rate)
	}
	if math.IsInf(rate, 0) {
		return nil, fmt.Errorf("schedule: constant rate %v: must be finite", rate)
	}
	if d == 0 {
		return &Schedule{start: rate, stages: []Stage{{Duration: forever, Target: rate}}, unbounded: true, total: math.MaxInt64}, nil
	}
	return NewSchedule(rate, []Stage{{Duration: d, Target: rate}})
}

// ParseStages parses "30s@100,2m@2000,30s@0": stages of DURATION@RATE,
// each ramping linearly from the previous rate (0 before the first) to its
// own. RATE is requests per second, written N or N/s (N/m and N/h too).
// "0s@500,1m@500" holds 500/s for a minute.
func ParseStages(s string) (*Schedule, error) {
	var stages []Stage
	for i, part := range strings.Split(s, ",") {
		ds, rs, ok := strings.Cut(strings.TrimSpace(part), "@")
		if !ok {
			return nil, fmt.Errorf("stages %q: stage %d %q: want DURATION@RATE, e.g. 30s@100", s, i+1, part)
		}
		d, err := time.ParseDuration(ds)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("stages %q: stage %d: duration %q: want e.g. 30s or 2m", s, i+1, ds)
		}
		r, err := parsePerSecond(rs)
		if err != nil {
			return nil, fmt.Errorf("stages %q: stage %d: %w", s, i+1, err)
		}
		stages = append(stages, Stage{Duration: d, Target: r})
	}
	sch, err := NewSchedule(0, stages)
	if err != nil {
		return nil, err
	}
	if sch.total == 0 {
		return nil, fmt.Errorf("stages %q: no request is ever due", s)
	}
	return sch, nil
}

// parsePerSecond reads "N", "N/s", "N/m" or "N/h" as requests per second.
func parsePerSecond(s string) (float64, error) {
	num, unit, _ := strings.Cut(strings.TrimSpace(s), "/")
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || !(v >= 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("rate %q: want a number >= 0, optionally /s, /m or /h", s)
	}
	switch unit {
	case "", "s":
	case "m":
		v /= 60
	case "h":
		v /= 3600
	default:
		return 0, fmt.Errorf("rate %q: unit %q: want /s, /m or /h", s, unit)
	}
	return v, nil
}

// Len is the number of requests the schedule holds (math.MaxInt64 when
// unbounded).
func (s *Schedule) Len() int64 { return s.total }

// Duration is the schedule's length; 0 when unbounded.
func (s *Schedule) Duration() time.Duration {
	if s.unbounded {
		return 0
	}
	return secondsToDuration(s.at[len(s.at)-1])
}

// Due returns when request n (0-based) is due, as an offset from the start
// of the run, and false once n is past the end. It is a pure function of n:
// the pacer never derives a send time from the previous one, so lateness
// never accumulates.
func (s *Schedule) Due(n int64) (time.Duration, bool) {
	if n < 0 || n >= s.total {
		return 0, false
	}
	h := float64(n)
	if s.unbounded {
		return secondsToDuration(h / s.start), true
	}
	// The stage holding hit n: the last one whose cumulative count is <= n
	// (stages with no hits, rate 0 or 0s, are stepped over).
	i := len(s.stages) - 1
	for i > 0 && s.cum[i] > h {
		i--
	}
	for i < len(s.stages)-1 && s.cum[i+1] <= h {
		i++
	}
	return secondsToDuration(s.at[i] + s.inStage(i, h-s.cum[i])), true
}

// inStage solves for the time t into stage i at which h hits of it have
// been due: r0·t + (r1-r0)·t²/(2D) = h.
func (s *Schedule) inStage(i int, h float64) float64 {
	if h <= 0 {
		return 0
	}
	r0, r1, d := s.from[i], s.stages[i].Target, s.stages[i].Duration.Seconds()
	if r0 == r1 || d == 0 {
		return h / r0
	}
	a := (r1 - r0) / (2 * d)
	disc := max(r0*r0+4*a*h, 0)
	// 2h/(r0+√disc) is the quadratic's root in a form that stays exact when
	// a is tiny or negative (no cancellation of r0 against √disc).
	return 2 * h / (r0 + math.Sqrt(disc))
}

// Hits returns how many requests are due in [0, elapsed): the load asked
// for so far, fractional.
func (s *Schedule) Hits(elapsed time.Duration) float64 {
	t := elapsed.Seconds()
	if t <= 0 {
		return 0
	}
	if s.unbounded {
		return t * s.start
	}
	last := len(s.stages)
	if t >= s.at[last] {
		return s.cum[last]
	}
	i := last - 1
	for i > 0 && s.at[i] > t {
		i--
	}
	dt := t - s.at[i]
	r0, r1, d := s.from[i], s.stages[i].Target, s.stages[i].Duration.Seconds()
	h := r0 * dt
	if d > 0 {
		h += (r1 - r0) * dt * dt / (2 * d)
	}
	return s.cum[i] + h
}

// Rate returns the rate asked for at elapsed, in requests per second.
func (s *Schedule) Rate(elapsed time.Duration) float64 {
	if s.unbounded {
		return s.start
	}
	t := elapsed.Seconds()
	last := len(s.stages)
	if t >= s.at[last] {
		return 0
	}
	i := last - 1
	for i > 0 && s.at[i] > t {
		i--
	}
	d := s.stages[i].Duration.Seconds()
	if d == 0 {
		return s.stages[i].Target
	}
	f := (t - s.at[i]) / d
	return s.from[i] + (s.stages[i].Target-s.from[i])*f
}

// Scale returns the schedule with every rate multiplied by f: a shard of a
// distributed run takes 1/N of the load.
func (s *Schedule) Scale(f float64) (*Schedule, error) {
	if s.unbounded {
		return Constant(s.start*f, 0)
	}
	stages := make([]Stage, len(s.stages))
	for i, st := range s.stages {
		stages[i] = Stage{Duration: st.Duration, Target: st.Target * f}
	}
	return NewSchedule(s.start*f, stages)
}

// String renders the schedule: "500/s for 4s", "500/s until stopped", or
// the stages as ParseStages reads them.
func (s *Schedule) String() string {
	if len(s.stages) == 1 && s.start == s.stages[0].Target {
		if s.unbounded {
			return fmtRate(s.start) + " until stopped"
		}
		return fmtRate(s.start) + " for " + s.stages[0].Duration.String()
	}
	var b strings.Builder
	if s.start != 0 {
		b.WriteString("0s@" + strconv.FormatFloat(s.start, 'g', -1, 64) + ",")
	}
	for i, st := range s.stages {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(st.Duration.String() + "@" + strconv.FormatFloat(st.Target, 'g', -1, 64))
	}
	return b.String()
}

// fmtRate writes a rate per second without needless digits.
func fmtRate(r float64) string { return strconv.FormatFloat(r, 'g', 6, 64) + "/s" }

func secondsToDuration(s float64) time.Duration {
	if s >= float64(math.MaxInt64)/1e9 {
		return forever
	}
	return time.Duration(math.Round(s * 1e9))
}
