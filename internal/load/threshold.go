package load

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrThresholdSyntax marks a threshold that cannot be parsed, an unknown
// metric above all: such a threshold must stop a run before it starts,
// never pass silently.
var ErrThresholdSyntax = errors.New("invalid threshold")

// metric kinds, which decide the units a value may carry.
const (
	kindLatency = iota + 1
	kindRatio
	kindRate
	kindCount
	kindCountOrRatio
)

// durationUnit returns the length of a unit a latency may be written in.
func durationUnit(u string) (time.Duration, bool) {
	switch u {
	case "ns":
		return time.Nanosecond, true
	case "us", "µs":
		return time.Microsecond, true
	case "ms":
		return time.Millisecond, true
	case "s":
		return time.Second, true
	case "m":
		return time.Minute, true
	case "h":
		return time.Hour, true
	}
	return 0, false
}

// Threshold is a pass/fail condition on a run's summary, written
// METRIC OP VALUE, e.g. "p99<250ms", "error_rate<0.1%", "rate>1900/s".
//
// Metrics: latency from the intended send time as p50, p90, p99.9 (any
// pN, 0 < N <= 100), min, mean or max, and the same with a service_ prefix
// for service time, the value with a unit (ns, us, ms, s, m, h);
// error_rate, the share of completed requests that were not 2xx, as a
// percentage (0.1%) or a fraction (0.001); rate, completed requests per
// second, and throughput, 2xx answers per second (1900, 1900/s, 114000/m);
// dropped, ticks that found no free worker, as a count (0) or a share of
// the ticks due (1%); requests, the completed count. Operators: <, <=, >,
// >=.
type Threshold struct {
	Metric string
	Op     string
	// Num and Unit are the value as written; Value is it in the metric's
	// base unit: nanoseconds, a fraction, per second, or a count.
	Num   float64
	Unit  string
	Value float64

	kind       int
	percentile float64 // for latency metrics; 100 for max
	latency    string  // "", "min" or "mean" for the non-percentile ones
	service    bool
}

// ParseThreshold parses one threshold. Every error wraps
// ErrThresholdSyntax.
func ParseThreshold(s string) (Threshold, error) {
	fail := func(format string, args ...any) (Threshold, error) {
		return Threshold{}, fmt.Errorf("%w %q: %s", ErrThresholdSyntax, s, fmt.Sprintf(format, args...))
	}
	i := strings.IndexAny(s, "<>")
	if i < 0 {
		return fail("want METRIC OP VALUE with OP one of < <= > >=, e.g. p99<250ms")
	}
	t := Threshold{Metric: strings.ToLower(strings.TrimSpace(s[:i])), Op: s[i : i+1]}
	rest := s[i+1:]
	if strings.HasPrefix(rest, "=") {
		t.Op += "="
		rest = rest[1:]
	}
	if t.Metric == "" {
		return fail("missing metric")
	}
	if err := t.setMetric(); err != nil {
		return fail("%v", err)
	}
	num, unit := splitNumber(strings.TrimSpace(rest))
	v, err := strconv.ParseFloat(num, 64)
	if num == "" || err != nil || !(v >= 0) || math.IsInf(v, 0) {
		return fail("value %q: want a number >= 0 with a unit, e.g. 250ms, 0.1%%, 1900/s", strings.TrimSpace(rest))
	}
	t.Num, t.Unit = v, unit
	if err := t.setValue(); err != nil {
		return fail("%v", err)
	}
	return t, nil
}

// splitNumber splits "250ms" into "250" and "ms". No unit starts with a
// character of a number, so the number is the longest such prefix.
func splitNumber(s string) (num, unit string) {
	end := 0
	for end < len(s) && strings.IndexByte("0123456789.eE+-", s[end]) >= 0 {
		end++
	}
	return s[:end], strings.TrimSpace(s[end:])
}

// setMetric checks the metric name and sets what it measures.
func (t *Threshold) setMetric() error {
	switch t.Metric {
	case "error_rate":
		t.kind = kindRatio
		return nil
	case "rate", "throughput":
		t.kind = kindRate
		return nil
	case "dropped":
		t.kind = kindCountOrRatio
		return nil
	case "requests":
		t.kind = kindCount
		return nil
	}
	name := t.Metric
	if after, ok := strings.CutPrefix(name, "service_"); ok {
		name, t.service = after, true
	}
	t.kind = kindLatency
	switch name {
	case "max":
		t.percentile = 100
		return nil
	case "min", "mean":
		t.latency = name
		return nil
	}
	if p, ok := strings.CutPrefix(name, "p"); ok {
		v, err := strconv.ParseFloat(p, 64)
		if err == nil && v > 0 && v <= 100 && !strings.ContainsAny(p, "eE+-") {
			t.percentile = v
			return nil
		}
	}
	return fmt.Errorf("unknown metric %q: want p50, p99.9 (any pN), min, mean, max, service_p99 (…), error_rate, rate, throughput, dropped or requests", t.Metric)
}

// setValue checks the unit against the metric and computes Value.
func (t *Threshold) setValue() error {
	switch t.kind {
	case kindLatency:
		d, ok := durationUnit(t.Unit)
		if !ok {
			return fmt.Errorf("%s needs a time unit (ns, us, ms, s, m, h), e.g. %s<250ms", t.Metric, t.Metric)
		}
		t.Value = t.Num * float64(d)
	case kindRatio:
		switch t.Unit {
		case "%":
			t.Value = t.Num / 100
		case "":
			t.Value = t.Num
		default:
			return fmt.Errorf("%s is a percentage (0.1%%) or a fraction (0.001), not %q", t.Metric, t.Unit)
		}
		if t.Value > 1 {
			return fmt.Errorf("%s above 100%% can never be reached", t.Metric)
		}
	case kindRate:
		switch t.Unit {
		case "", "/s":
			t.Value = t.Num
		case "/m":
			t.Value = t.Num / 60
		case "/h":
			t.Value = t.Num / 3600
		default:
			return fmt.Errorf("%s is per second (1900 or 1900/s; /m and /h too), not %q", t.Metric, t.Unit)
		}
	case kindCount, kindCountOrRatio:
		switch {
		case t.Unit == "%" && t.kind == kindCountOrRatio:
			t.Value = t.Num / 100
		case t.Unit != "" && t.kind == kindCountOrRatio:
			return fmt.Errorf("%s is a count (0) or a percentage (1%%), not %q", t.Metric, t.Unit)
		case t.Unit != "":
			return fmt.Errorf("%s is a count, not %q", t.Metric, t.Unit)
		case t.Num != math.Trunc(t.Num):
			return fmt.Errorf("%s is a whole count, not %v", t.Metric, t.Num)
		default:
			t.Value = t.Num
		}
	}
	if math.IsInf(t.Value, 0) {
		return fmt.Errorf("%s: value too large", t.Metric)
	}
	return nil
}

// Percentile returns the latency percentile the threshold needs in the
// summary (100 for max), and false for other metrics.
func (t Threshold) Percentile() (float64, bool) {
	return t.percentile, t.kind == kindLatency && t.latency == ""
}

// String writes the threshold in the form ParseThreshold reads.
func (t Threshold) String() string {
	return t.Metric + t.Op + strconv.FormatFloat(t.Num, 'g', -1, 64) + t.Unit
}

// ThresholdResult is one threshold checked against a summary.
type ThresholdResult struct {
	Threshold string `json:"threshold"`
	// Got is the measured value in the threshold's unit, e.g. "212.3ms".
	Got  string `json:"got"`
	Pass bool   `json:"pass"`
}

// Check evaluates t against s. Latency and error-rate thresholds fail
// when no request completed: nothing measured is not a pass.
func (t Threshold) Check(s *Summary) ThresholdResult {
	res := ThresholdResult{Threshold: t.String()}
	got, ok := t.measure(s)
	if !ok {
		res.Got = "not measured"
		return res
	}
	res.Got = t.format(got)
	switch t.Op {
	case "<":
		res.Pass = got < t.Value
	case "<=":
		res.Pass = got <= t.Value
	case ">":
		res.Pass = got > t.Value
	case ">=":
		res.Pass = got >= t.Value
	}
	return res
}

// measure reads the metric from s, in Value's unit.
func (t Threshold) measure(s *Summary) (float64, bool) {
	switch t.Metric {
	case "error_rate":
		return s.ErrorRate, s.Completed > 0
	case "rate":
		return s.Rate, true
	case "throughput":
		return s.Throughput, true
	case "requests":
		return float64(s.Completed), true
	case "dropped":
		if t.Unit == "%" {
			return s.DroppedShare, true
		}
		return float64(s.Dropped), true
	}
	l := s.Corrected
	if t.service {
		l = s.Service
	}
	if l.Count == 0 {
		return 0, false
	}
	switch t.latency {
	case "min":
		return float64(l.Min), true
	case "mean":
		return float64(l.Mean), true
	}
	d, ok := l.At(t.percentile)
	return float64(d), ok
}

// format writes a measured value in the threshold's unit.
func (t Threshold) format(v float64) string {
	num := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	switch t.kind {
	case kindLatency:
		d, _ := durationUnit(t.Unit)
		return num(math.Round(v/float64(d)*1000)/1000) + t.Unit
	case kindRatio:
		if t.Unit == "%" {
			return num(math.Round(v*100*10000)/10000) + "%"
		}
		return num(math.Round(v*1e6) / 1e6)
	case kindRate:
		return num(math.Round(v*10)/10) + "/s"
	}
	if t.Unit == "%" {
		return num(math.Round(v*100*10000)/10000) + "%"
	}
	return num(v)
}

// DefaultThresholds gate a run given no thresholds: k6's rule that only
// thresholds decide the exit code is kept, but a run in which no request
// succeeded, or none was answered (the target down, the token refused),
// measured nothing and must not pass.
const DefaultThresholds = "error_rate<100%;requests>0"

// Thresholds is a repeatable flag.Value of thresholds. An unknown metric
// or a bad value is an error when the flag is parsed: before any request.
type Thresholds []Threshold

func (l *Thresholds) String() string {
	if l == nil {
		return ""
	}
	parts := make([]string, len(*l))
	for i, t := range *l {
		parts[i] = t.String()
	}
	return strings.Join(parts, ";")
}

// Set appends one threshold, or several separated by ';'.
func (l *Thresholds) Set(s string) error {
	for _, part := range strings.Split(s, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		t, err := ParseThreshold(part)
		if err != nil {
			return err
		}
		*l = append(*l, t)
	}
	return nil
}

// Gate evaluates the thresholds into s.Thresholds: l, else
// DefaultThresholds. It reports whether errors went ungated: no
// threshold of l is on the error rate.
func (l Thresholds) Gate(s *Summary) (ungated bool) {
	ts := l
	if len(ts) == 0 {
		_ = ts.Set(DefaultThresholds) // constant, known to parse
	}
	for _, t := range ts {
		s.Thresholds = append(s.Thresholds, t.Check(s))
	}
	return !slices.ContainsFunc(l, func(t Threshold) bool { return t.Metric == "error_rate" })
}
