package source

import (
	"strings"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/parsetest"
)

func TestParseWindow(t *testing.T) {
	date := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []parsetest.Case[Window]{
		{In: "2026-10-01..2026-11-01", Want: Window{date(2026, 10, 1), date(2026, 11, 1)}},
		{In: "2026-10-01T12:00:00Z..2026-10-02", Want: Window{date(2026, 10, 1).Add(12 * time.Hour), date(2026, 10, 2)}},
		{In: "2026-10-01T02:00:00+02:00..2026-10-01T00:00:01.5Z", Want: Window{date(2026, 10, 1), date(2026, 10, 1).Add(1500 * time.Millisecond)}},
		{In: "2026-10-01..2026-10-01", Err: "start must be before end"},
		{In: "2026-11-01..2026-10-01", Err: "start must be before end"},
		{In: "2026-10-01", Err: "want FROM..TO"},
		{In: "2026-10", Want: Window{date(2026, 10, 1), date(2026, 11, 1)}},
		{In: "", Want: Window{}},
		{In: "..", Err: "at least one end"},
		{In: "..2026-11-01T00:00:00Z", Want: Window{To: date(2026, 11, 1)}},
		{In: "2026-10-01T02:00:00+02:00..", Want: Window{From: date(2026, 10, 1)}},
		{In: "2026-13-01..2026-14-01", Err: "neither a date"},
		{In: "yesterday..today", Err: "\"yesterday\" is neither"},
		{In: "0000-01-01T00:00:00+01:00..2026-01-01", Err: "out of range"},
	}
	parsetest.RunEqual(t, "ParseWindow", ParseWindow, func(a, b Window) bool { return a.From.Equal(b.From) && a.To.Equal(b.To) }, tests)

}

func TestParseWindowAt(t *testing.T) {
	date := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		in   string
		now  time.Time
		want Window
	}{
		{in: "last-month", now: date(2026, 11, 1), want: Window{date(2026, 10, 1), date(2026, 11, 1)}},
		{in: "last-month", now: date(2026, 11, 30).Add(23*time.Hour + 59*time.Minute), want: Window{date(2026, 10, 1), date(2026, 11, 1)}},
		{in: "last-month", now: date(2026, 1, 15), want: Window{date(2025, 12, 1), date(2026, 1, 1)}},
		{in: "last-month", now: date(2026, 3, 31), want: Window{date(2026, 2, 1), date(2026, 3, 1)}},
		// 00:30 on 1 November in UTC+2 is still 31 October in UTC.
		{in: "last-month", now: time.Date(2026, 11, 1, 0, 30, 0, 0, time.FixedZone("EET", 2*3600)), want: Window{date(2026, 9, 1), date(2026, 10, 1)}},
		{in: "yesterday", now: date(2026, 3, 1).Add(5 * time.Hour), want: Window{date(2026, 2, 28), date(2026, 3, 1)}},
		{in: "yesterday", now: date(2028, 3, 1), want: Window{date(2028, 2, 29), date(2028, 3, 1)}},
		{in: "2026-10-01..2026-11-01", now: date(2030, 1, 1), want: Window{date(2026, 10, 1), date(2026, 11, 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.in+"@"+tt.now.Format(time.RFC3339), func(t *testing.T) {
			got, err := ParseWindowAt(tt.in, tt.now)
			if err != nil || !got.From.Equal(tt.want.From) || !got.To.Equal(tt.want.To) {
				t.Fatalf("ParseWindowAt(%q, %v) = %v, %v, want %v", tt.in, tt.now, got, err, tt.want)
			}
			if got.From.Location() != time.UTC || got.To.Location() != time.UTC {
				t.Errorf("ParseWindowAt(%q, %v) = %v, want both ends in UTC", tt.in, tt.now, got)
			}
		})
	}
	if _, err := ParseWindowAt("last-week", date(2026, 1, 1)); err == nil || !strings.Contains(err.Error(), "last-month or yesterday") {
		t.Errorf("ParseWindowAt(%q) error = %v, want one naming last-month and yesterday", "last-week", err)
	}
}

func TestWindowContains(t *testing.T) {
	w, err := ParseWindow("2026-10-01..2026-11-01")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		t    time.Time
		want bool
	}{
		{time.Date(2026, 9, 30, 23, 59, 59, 999999999, time.UTC), false},
		{time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2026, 10, 31, 23, 59, 59, 999999999, time.UTC), true},
		{time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2026, 11, 1, 1, 0, 0, 0, time.FixedZone("CET", 3600)), false},
		{time.Date(2026, 11, 1, 0, 59, 0, 0, time.FixedZone("CET", 3600)), true},
	}
	for _, tt := range tests {
		if got := w.Contains(tt.t); got != tt.want {
			t.Errorf("%v.Contains(%v) = %v, want %v", w, tt.t, got, tt.want)
		}
	}
}

func FuzzParseWindow(f *testing.F) {
	for _, s := range []string{"2026-10-01..2026-11-01", "2026-10-01T00:00:00.5Z..2026-10-02", "9999-12-31T23:00:00-05:00..2026-01-01", "a..b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWindow(s)
		if err != nil {
			return
		}
		if w.Closed() && !w.From.Before(w.To) {
			t.Fatalf("ParseWindow(%q) = %v, want From before To", s, w)
		}
		back, err := ParseWindow(w.String())
		if err != nil || !back.From.Equal(w.From) || !back.To.Equal(w.To) {
			t.Fatalf("ParseWindow(%q) = %v, %v, want %v", w.String(), back, err, w)
		}
	})
}
