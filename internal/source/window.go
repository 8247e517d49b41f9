package source

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Window is the half-open time range [From, To) on the event timestamp,
// written "FROM..TO", each end an RFC 3339 timestamp or a date (midnight
// UTC): "2026-10-01..2026-11-01" is October 2026. It may also be a month
// ("2026-10"), or named relative to the time it is parsed: "last-month"
// (the previous calendar month in UTC) or "yesterday" (the previous UTC
// day). Either end may be left empty for an open side ("2026-10-01..");
// commands that compare totals need both. Both ends are held in UTC. The
// zero Window selects everything. Window implements flag.Value.
type Window struct {
	From time.Time
	To   time.Time
}

// Relative window names, for jobs scheduled to check a period that just
// closed.
const (
	// LastMonth is the previous calendar month in UTC.
	LastMonth = "last-month"
	// Yesterday is the previous day in UTC.
	Yesterday = "yesterday"
)

// Contains reports whether t lies in w.
func (w Window) Contains(t time.Time) bool {
	return (w.From.IsZero() || !t.Before(w.From)) && (w.To.IsZero() || t.Before(w.To))
}

// IsZero reports whether w is unbounded on both sides.
func (w Window) IsZero() bool { return w.From.IsZero() && w.To.IsZero() }

// Closed reports whether w has both ends.
func (w Window) Closed() bool { return !w.From.IsZero() && !w.To.IsZero() }

// overlaps reports whether the closed range [lo, hi] meets w.
func (w Window) overlaps(lo, hi time.Time) bool {
	return (w.From.IsZero() || !hi.Before(w.From)) && (w.To.IsZero() || lo.Before(w.To))
}

// ParseWindow parses a Window; a relative name is resolved against the
// current time.
func ParseWindow(s string) (Window, error) {
	return ParseWindowAt(s, time.Now())
}

// ParseWindowAt parses a Window as ParseWindow does, resolving a relative
// name against now. Only closed periods have names: a window that ends in
// the future would compare usage still arriving.
func ParseWindowAt(s string, now time.Time) (Window, error) {
	s = strings.TrimSpace(s)
	now = now.UTC()
	switch s {
	case "":
		return Window{}, nil
	case LastMonth:
		to := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
		return Window{From: to.AddDate(0, -1, 0), To: to}, nil
	case Yesterday:
		to := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		return Window{From: to.AddDate(0, 0, -1), To: to}, nil
	}
	fs, ts, ok := strings.Cut(s, "..")
	if !ok {
		m, err := time.Parse("2006-01", s)
		if err != nil {
			return Window{}, fmt.Errorf("invalid window %q: want FROM..TO (e.g. 2026-10-01..2026-11-01), a month (2026-10), %s or %s", s, LastMonth, Yesterday)
		}
		if end := m.AddDate(0, 1, 0); m.Year() < 1 || end.Year() > 9999 {
			return Window{}, fmt.Errorf("invalid window %q: a month from 0001-01 to 9999-11, the range RFC 3339 can write both ends of", s)
		}
		return Window{From: m, To: m.AddDate(0, 1, 0)}, nil
	}
	from, errFrom := parseWindowEnd(fs)
	to, errTo := parseWindowEnd(ts)
	if err := errors.Join(errFrom, errTo); err != nil {
		return Window{}, fmt.Errorf("invalid window %q: %w", s, err)
	}
	if from.IsZero() && to.IsZero() {
		return Window{}, fmt.Errorf("invalid window %q: give at least one end", s)
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return Window{}, fmt.Errorf("invalid window %q: start must be before end (the end is excluded)", s)
	}
	return Window{From: from, To: to}, nil
}

// parseWindowEnd parses a date or an RFC 3339 timestamp, in UTC; "" is an
// open end.
func parseWindowEnd(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return time.Time{}, fmt.Errorf("%q is neither a date (2026-10-01) nor an RFC 3339 time (2026-10-01T00:00:00Z)", s)
		}
	}
	t = t.UTC()
	// An offset can move year 0000 or 9999 out of what RFC 3339 can write.
	if y := t.Year(); y < 1 || y > 9999 {
		return time.Time{}, fmt.Errorf("%q is out of range in UTC", s)
	}
	return t, nil
}

// String renders w as "FROM..TO", writing midnight ends as dates, or ""
// for the zero Window.
func (w Window) String() string {
	if w.IsZero() {
		return ""
	}
	return formatWindowEnd(w.From) + ".." + formatWindowEnd(w.To)
}

func formatWindowEnd(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339Nano)
}

// Set parses v into w, for use as a flag.Value.
func (w *Window) Set(v string) error {
	p, err := ParseWindow(v)
	if err != nil {
		return err
	}
	*w = p
	return nil
}
