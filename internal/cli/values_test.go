package cli

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    Rate
		wantErr string
	}{
		{in: "0", want: 0},
		{in: "0/s", want: 0},
		{in: "-0/s", want: 0},
		{in: "500/s", want: 500},
		{in: "30/m", want: 0.5},
		{in: "3600/h", want: 1},
		{in: "100/10s", want: 10},
		{in: "1.5/s", want: 1.5},
		{in: "250/500ms", want: 500},
		{in: "500", wantErr: "want N/s"},
		{in: "", wantErr: "want N/s"},
		{in: "-1/s", wantErr: "not a non-negative number"},
		{in: "abc/s", wantErr: "not a non-negative number"},
		{in: "NaN/s", wantErr: "not a non-negative number"},
		{in: "Inf/s", wantErr: "not a non-negative number"},
		{in: "5/d", wantErr: "unit \"d\""},
		{in: "5/0s", wantErr: "positive duration"},
		{in: "5/-1s", wantErr: "positive duration"},
		{in: "5/", wantErr: "unit"},
		{in: "1e308/1ns", wantErr: "too large"},
		{in: "5e-324/h", wantErr: "too small"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRate(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseRate(%q) = %v, %v, want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseRate(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestRateString(t *testing.T) {
	tests := []struct {
		in   Rate
		want string
	}{
		{0, "0"},
		{500, "500/s"},
		{0.5, "0.5/s"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Rate(%v).String() = %q, want %q", float64(tt.in), got, tt.want)
		}
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"0", "500/s", "30/m", "2/h", "100/10s", "1e308/1ns", "5e-324/h", "-0/s", "x/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			return
		}
		if r < 0 || math.IsInf(float64(r), 0) || math.IsNaN(float64(r)) {
			t.Fatalf("ParseRate(%q) = %v, want a finite rate >= 0", s, float64(r))
		}
		back, err := ParseRate(r.String())
		if err != nil || back != r {
			t.Fatalf("ParseRate(%q) = %v, %v, want %v (round trip of %q)", r.String(), back, err, r, s)
		}
	})
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "0", want: 0},
		{in: "0d", want: 0},
		{in: "30s", want: 30 * time.Second},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "35d", want: 35 * 24 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "106751d", want: 106751 * 24 * time.Hour},
		{in: "", wantErr: "want e.g. 30s"},
		{in: "5", wantErr: "want e.g. 30s"},
		{in: "-1s", wantErr: "negative"},
		{in: "1d-1h", wantErr: "negative"},
		{in: "d", wantErr: "day count"},
		{in: "-1d", wantErr: "day count"},
		{in: "1.5d", wantErr: "day count"},
		{in: "1dd", wantErr: "want e.g. 30s"},
		{in: "106752d", wantErr: "day count"},
		{in: "106751d24h", wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDuration(%q) = %v, %v, want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || time.Duration(got) != tt.want {
				t.Fatalf("ParseDuration(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"0", "30s", "1h30m", "35d", "1d12h", "-1s", "106751d23h", "1d-1h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, want >= 0", s, d)
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v, %v, want %v (round trip of %q)", d.String(), back, err, d, s)
		}
	})
}

func TestParseShard(t *testing.T) {
	tests := []struct {
		in      string
		want    Shard
		wantErr string
	}{
		{in: "0/1", want: Shard{0, 1}},
		{in: "3/4", want: Shard{3, 4}},
		{in: "0/2147483647", want: Shard{0, 2147483647}},
		{in: "4/4", wantErr: "below the count"},
		{in: "0/0", wantErr: "positive"},
		{in: "-1/4", wantErr: "index"},
		{in: "+1/4", wantErr: "index"},
		{in: "1/+4", wantErr: "count"},
		{in: " 1/4", wantErr: "index"},
		{in: "1", wantErr: "want i/N"},
		{in: "1/2/3", wantErr: "count"},
		{in: "0/2147483648", wantErr: "count"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseShard(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseShard(%q) = %v, %v, want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseShard(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
			}
		})
	}
	if got := (Shard{}).String(); got != "0/1" {
		t.Errorf("Shard{}.String() = %q, want %q", got, "0/1")
	}
}

func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"0/1", "3/4", "4/4", "-1/2", "9999999999/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := ParseShard(s)
		if err != nil {
			return
		}
		if sh.Index < 0 || sh.Index >= sh.Count {
			t.Fatalf("ParseShard(%q) = %v, want 0 <= index < count", s, sh)
		}
		if back, err := ParseShard(sh.String()); err != nil || back != sh {
			t.Fatalf("ParseShard(%q) = %v, %v, want %v", sh.String(), back, err, sh)
		}
	})
}

func TestParseWindow(t *testing.T) {
	date := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		in      string
		want    Window
		wantErr string
	}{
		{in: "2026-10-01..2026-11-01", want: Window{date(2026, 10, 1), date(2026, 11, 1)}},
		{in: "2026-10-01T12:00:00Z..2026-10-02", want: Window{date(2026, 10, 1).Add(12 * time.Hour), date(2026, 10, 2)}},
		{in: "2026-10-01T02:00:00+02:00..2026-10-01T00:00:01.5Z", want: Window{date(2026, 10, 1), date(2026, 10, 1).Add(1500 * time.Millisecond)}},
		{in: "2026-10-01..2026-10-01", wantErr: "start must be before end"},
		{in: "2026-11-01..2026-10-01", wantErr: "start must be before end"},
		{in: "2026-10-01", wantErr: "want FROM..TO"},
		{in: "2026-10-01..", wantErr: "neither a date"},
		{in: "2026-13-01..2026-14-01", wantErr: "neither a date"},
		{in: "yesterday..today", wantErr: "\"yesterday\" is neither"},
		{in: "0000-01-01T00:00:00+01:00..2026-01-01", wantErr: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseWindow(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseWindow(%q) = %v, %v, want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !got.From.Equal(tt.want.From) || !got.To.Equal(tt.want.To) {
				t.Fatalf("ParseWindow(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
			}
		})
	}
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
		if !w.From.Before(w.To) {
			t.Fatalf("ParseWindow(%q) = %v, want From before To", s, w)
		}
		back, err := ParseWindow(w.String())
		if err != nil || !back.From.Equal(w.From) || !back.To.Equal(w.To) {
			t.Fatalf("ParseWindow(%q) = %v, %v, want %v", w.String(), back, err, w)
		}
	})
}
