package cli

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Rate is a rate in events per second, written "500/s", "30/m", "2/h" or
// per any positive duration ("100/10s"). "0" means unlimited. Rate
// implements flag.Value.
type Rate float64

// ParseRate parses a Rate. A positive count never yields 0 (unlimited),
// however small the rate: such a rate is an error.
func ParseRate(s string) (Rate, error) {
	if s == "0" {
		return 0, nil
	}
	count, per, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("invalid rate %q: want N/s, N/m, N/h, N/<duration>, or 0 for unlimited", s)
	}
	n, err := strconv.ParseFloat(count, 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, fmt.Errorf("invalid rate %q: count %q is not a non-negative number", s, count)
	}
	var d time.Duration
	switch per {
	case "s":
		d = time.Second
	case "m":
		d = time.Minute
	case "h":
		d = time.Hour
	default:
		d, err = time.ParseDuration(per)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("invalid rate %q: unit %q is not s, m, h or a positive duration", s, per)
		}
	}
	r := n / d.Seconds()
	switch {
	case n == 0:
		return 0, nil // also turns -0 into 0
	case math.IsInf(r, 0):
		return 0, fmt.Errorf("invalid rate %q: too large", s)
	case r == 0:
		return 0, fmt.Errorf("invalid rate %q: too small (0 would mean unlimited)", s)
	}
	return Rate(r), nil
}

// String formats r per second ("0.5/s"), or "0" when unlimited.
func (r Rate) String() string {
	if r == 0 {
		return "0"
	}
	return strconv.FormatFloat(float64(r), 'g', -1, 64) + "/s"
}

// Set implements flag.Value.
func (r *Rate) Set(s string) error {
	v, err := ParseRate(s)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Duration is a non-negative time.Duration that also takes whole days as a
// leading "Nd" ("35d", "1d12h"), as dedup windows and backdating limits are
// given in days. Duration implements flag.Value.
type Duration time.Duration

// maxDays is the largest day count a time.Duration holds.
const maxDays = math.MaxInt64 / int64(24*time.Hour)

// ParseDuration parses a Duration: time.ParseDuration syntax, optionally
// after a day count.
func ParseDuration(s string) (Duration, error) {
	var days int64
	// Go's duration units never contain a "d", so one marks days.
	before, rest, hasDays := strings.Cut(s, "d")
	if hasDays {
		n, err := strconv.ParseUint(before, 10, 63)
		if err != nil || int64(n) > maxDays {
			return 0, fmt.Errorf("invalid duration %q: day count %q is not a whole number up to %d", s, before, maxDays)
		}
		days = int64(n)
	} else {
		rest = s
	}
	var d time.Duration
	if rest != "" || !hasDays {
		var err error
		if d, err = time.ParseDuration(rest); err != nil {
			return 0, fmt.Errorf("invalid duration %q: want e.g. 30s, 5m, 1h30m or 35d", s)
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid duration %q: negative", s)
	}
	if days > (math.MaxInt64-int64(d))/int64(24*time.Hour) {
		return 0, fmt.Errorf("invalid duration %q: too large", s)
	}
	return Duration(time.Duration(days)*24*time.Hour + d), nil
}

// String formats d as time.Duration does ("840h0m0s").
func (d Duration) String() string { return time.Duration(d).String() }

// Set implements flag.Value.
func (d *Duration) Set(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Shard selects part Index of Count disjoint parts of the input, written
// "i/N" with 0 <= i < N, so N jobs can share one replay. The zero value
// means the whole input and reads as "0/1". Shard implements flag.Value.
type Shard struct {
	Index int
	Count int
}

// ParseShard parses a Shard.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("invalid shard %q: want i/N, e.g. 0/4", s)
	}
	// ParseUint refuses signs and spaces; bit size 31 keeps both in an int.
	i, err := strconv.ParseUint(is, 10, 31)
	if err != nil {
		return Shard{}, fmt.Errorf("invalid shard %q: index %q is not a whole number", s, is)
	}
	n, err := strconv.ParseUint(ns, 10, 31)
	if err != nil || n == 0 {
		return Shard{}, fmt.Errorf("invalid shard %q: count %q is not a positive whole number", s, ns)
	}
	if i >= n {
		return Shard{}, fmt.Errorf("invalid shard %q: index must be below the count (0 to %d)", s, n-1)
	}
	return Shard{Index: int(i), Count: int(n)}, nil
}

// String formats s as "i/N".
func (s Shard) String() string {
	if s.Count == 0 {
		return "0/1"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Set implements flag.Value.
func (s *Shard) Set(v string) error {
	p, err := ParseShard(v)
	if err != nil {
		return err
	}
	*s = p
	return nil
}

// Window is the half-open time range [From, To), written "FROM..TO", each
// end an RFC 3339 timestamp or a date (midnight UTC):
// "2026-10-01..2026-11-01" is October 2026. It may also be named relative
// to the time it is parsed: "last-month" (the previous calendar month in
// UTC) or "yesterday" (the previous UTC day). Both ends are held in UTC.
// The zero value means no window. Window implements flag.Value.
type Window struct {
	From time.Time
	To   time.Time
}

// dateLayout is the date-only form of a window end.
const dateLayout = "2006-01-02"

// Relative window names, for jobs scheduled to check a period that just
// closed.
const (
	// LastMonth is the previous calendar month in UTC.
	LastMonth = "last-month"
	// Yesterday is the previous day in UTC.
	Yesterday = "yesterday"
)

// ParseWindow parses a Window; From must be before To. A relative name is
// resolved against the current time.
func ParseWindow(s string) (Window, error) {
	return ParseWindowAt(s, time.Now())
}

// ParseWindowAt parses a Window as ParseWindow does, resolving a relative
// name against now. Only closed periods have names: a window that ends in
// the future would compare usage still arriving.
func ParseWindowAt(s string, now time.Time) (Window, error) {
	now = now.UTC()
	switch s {
	case LastMonth:
		to := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
		return Window{From: to.AddDate(0, -1, 0), To: to}, nil
	case Yesterday:
		to := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		return Window{From: to.AddDate(0, 0, -1), To: to}, nil
	}
	fs, ts, ok := strings.Cut(s, "..")
	if !ok {
		return Window{}, fmt.Errorf("invalid window %q: want FROM..TO (e.g. 2026-10-01..2026-11-01), %s or %s", s, LastMonth, Yesterday)
	}
	from, errFrom := parseWindowEnd(fs)
	to, errTo := parseWindowEnd(ts)
	if err := errors.Join(errFrom, errTo); err != nil {
		return Window{}, fmt.Errorf("invalid window %q: %w", s, err)
	}
	if !from.Before(to) {
		return Window{}, fmt.Errorf("invalid window %q: start must be before end (the end is excluded)", s)
	}
	return Window{From: from, To: to}, nil
}

// parseWindowEnd parses a date or an RFC 3339 timestamp, in UTC.
func parseWindowEnd(s string) (time.Time, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return time.Time{}, fmt.Errorf("%q is neither a date (2026-10-01) nor an RFC 3339 time (2026-10-01T00:00:00Z)", s)
		}
	}
	t = t.UTC()
	// An offset can move year 0000 or 9999 out of what RFC 3339 can write.
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, fmt.Errorf("%q is out of range in UTC", s)
	}
	return t, nil
}

// IsZero reports whether w is the zero Window (no window).
func (w Window) IsZero() bool { return w.From.IsZero() && w.To.IsZero() }

// Contains reports whether t is in [From, To).
func (w Window) Contains(t time.Time) bool {
	return !t.Before(w.From) && t.Before(w.To)
}

// String formats w as "FROM..TO", writing midnight ends as dates.
func (w Window) String() string {
	if w.IsZero() {
		return ""
	}
	return formatWindowEnd(w.From) + ".." + formatWindowEnd(w.To)
}

func formatWindowEnd(t time.Time) string {
	t = t.UTC()
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format(dateLayout)
	}
	return t.Format(time.RFC3339Nano)
}

// Set implements flag.Value.
func (w *Window) Set(s string) error {
	v, err := ParseWindow(s)
	if err != nil {
		return err
	}
	*w = v
	return nil
}
