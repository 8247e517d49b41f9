package source

import (
	"fmt"
	"strings"
	"time"
)

// Window is a half-open time range [From, To) on the event timestamp. A
// zero From or To leaves that side unbounded; the zero Window selects
// everything.
type Window struct {
	From time.Time
	To   time.Time
}

// Contains reports whether t lies in w.
func (w Window) Contains(t time.Time) bool {
	return (w.From.IsZero() || !t.Before(w.From)) && (w.To.IsZero() || t.Before(w.To))
}

// IsZero reports whether w is unbounded on both sides.
func (w Window) IsZero() bool { return w.From.IsZero() && w.To.IsZero() }

// overlaps reports whether the closed range [lo, hi] meets w.
func (w Window) overlaps(lo, hi time.Time) bool {
	return (w.From.IsZero() || !hi.Before(w.From)) && (w.To.IsZero() || lo.Before(w.To))
}

// ParseWindow parses a window: "FROM..TO" where each side is an RFC 3339
// timestamp or a date (YYYY-MM-DD, midnight UTC) and may be empty for an
// open side ("2026-10-01.."), or a month alone ("2026-10") for that
// calendar month in UTC.
func ParseWindow(s string) (Window, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Window{}, nil
	}
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		m, err := time.Parse("2006-01", s)
		if err != nil {
			return Window{}, fmt.Errorf("window %q: want FROM..TO (RFC 3339 or YYYY-MM-DD) or a month YYYY-MM", s)
		}
		return Window{From: m, To: m.AddDate(0, 1, 0)}, nil
	}
	var w Window
	var err error
	if w.From, err = parseInstant(a); err != nil {
		return Window{}, fmt.Errorf("window %q: from: %w", s, err)
	}
	if w.To, err = parseInstant(b); err != nil {
		return Window{}, fmt.Errorf("window %q: to: %w", s, err)
	}
	if !w.From.IsZero() && !w.To.IsZero() && !w.From.Before(w.To) {
		return Window{}, fmt.Errorf("window %q: from must be before to", s)
	}
	return w, nil
}

func parseInstant(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor YYYY-MM-DD", s)
}

// String renders w as "FROM..TO" in RFC 3339, or "" for the zero Window.
func (w *Window) String() string {
	if w == nil || w.IsZero() {
		return ""
	}
	f := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	return f(w.From) + ".." + f(w.To)
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
