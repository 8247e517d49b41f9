package load

import (
	"math"
	"strings"
	"testing"
	"time"
)

func mustStages(t *testing.T, s string) *Schedule {
	t.Helper()
	sch, err := ParseStages(s)
	if err != nil {
		t.Fatalf("ParseStages(%q): %v", s, err)
	}
	return sch
}

func TestScheduleDue(t *testing.T) {
	constant, err := Constant(500, 4*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	unbounded, err := Constant(1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		sch  *Schedule
		n    int64
		want time.Duration
		ok   bool
	}{
		{"constant first", constant, 0, 0, true},
		{"constant second", constant, 1, 2 * time.Millisecond, true},
		{"constant last", constant, 1999, 3998 * time.Millisecond, true},
		{"constant past the end", constant, 2000, 0, false},
		{"unbounded far", unbounded, 3_600_000, time.Hour, true},
		// Ramp 0 → 100/s over 10 s: H(t) = 5t², so hit n is due at √(n/5).
		{"ramp first", mustStages(t, "10s@100"), 0, 0, true},
		{"ramp 5th", mustStages(t, "10s@100"), 5, time.Second, true},
		{"ramp 125th", mustStages(t, "10s@100"), 125, 5 * time.Second, true},
		{"ramp end", mustStages(t, "10s@100"), 500, 0, false},
		// Hold 100/s for 2 s (200 hits), then ramp down to 0 over 2 s
		// (100 more): H(t) = 100t - 25t² into the ramp.
		{"after a hold", mustStages(t, "0s@100,2s@100,2s@0"), 200, 2 * time.Second, true},
		{"down ramp", mustStages(t, "0s@100,2s@100,2s@0"), 275, 3 * time.Second, true},
		{"down ramp end", mustStages(t, "0s@100,2s@100,2s@0"), 300, 0, false},
		// A quiet stage is stepped over: hits resume after it.
		{"after a pause", mustStages(t, "0s@10,1s@10,0s@0,5s@0,0s@10,1s@10"), 10, 6 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.sch.Due(tt.n)
			if ok != tt.ok || (ok && (got-tt.want).Abs() > time.Microsecond) {
				t.Errorf("Due(%d) = %v, %v; want %v, %v", tt.n, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestScheduleConsistent: for every schedule, due times never decrease,
// Hits(Due(n)) is n, Len matches the hits of the whole schedule, and Rate
// is the slope of Hits.
func TestScheduleConsistent(t *testing.T) {
	for _, spec := range []string{"30s@100,2m@2000,30s@0", "10s@7.5,10s@7.5", "1s@1000,0s@10,3s@10", "5s@0.5/s,5s@60/m"} {
		t.Run(spec, func(t *testing.T) {
			sch := mustStages(t, spec)
			prev := time.Duration(-1)
			for n := int64(0); n < sch.Len(); n++ {
				d, ok := sch.Due(n)
				if !ok {
					t.Fatalf("Due(%d) not ok below Len %d", n, sch.Len())
				}
				if d < prev {
					t.Fatalf("Due(%d) = %v < Due(%d) = %v", n, d, n-1, prev)
				}
				if h := sch.Hits(d); math.Abs(h-float64(n)) > 1e-3 {
					t.Fatalf("Hits(Due(%d) = %v) = %v, want %d", n, d, h, n)
				}
				prev = d
			}
			if _, ok := sch.Due(sch.Len()); ok {
				t.Errorf("Due(Len()) is ok, want past the end")
			}
			if d := sch.Duration(); math.Abs(sch.Hits(d)-float64(sch.Len())) > 1 {
				t.Errorf("Hits(Duration) = %v, want about Len %d", sch.Hits(d), sch.Len())
			}
			for _, at := range []time.Duration{time.Second / 2, 3 * time.Second, 9 * time.Second} {
				if at >= sch.Duration() {
					continue
				}
				eps := time.Millisecond
				slope := (sch.Hits(at+eps) - sch.Hits(at-eps)) / (2 * eps.Seconds())
				if r := sch.Rate(at); math.Abs(slope-r) > 1e-3*max(1, r) {
					t.Errorf("Rate(%v) = %v, want the slope of Hits %v", at, r, slope)
				}
			}
		})
	}
}

func TestParseStages(t *testing.T) {
	tests := []struct {
		in      string
		len     int64
		dur     time.Duration
		str     string
		wantErr string
	}{
		{in: "30s@100,2m@2000,30s@0", len: 1500 + 126000 + 30000, dur: 3 * time.Minute, str: "30s@100,2m0s@2000,30s@0"},
		{in: "1m@60/m", len: 30, dur: time.Minute, str: "1m0s@1"},
		{in: "0s@500, 1m@500", len: 30000, dur: time.Minute, str: "0s@500,1m0s@500"},
		{in: "30s", wantErr: "want DURATION@RATE"},
		{in: "xs@10", wantErr: `duration "xs"`},
		{in: "10s@-1", wantErr: "want a number >= 0"},
		{in: "10s@5/d", wantErr: `unit "d"`},
		{in: "10s@0", wantErr: "no request is ever due"},
		{in: "-1s@5", wantErr: `duration "-1s"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sch, err := ParseStages(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseStages(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseStages(%q): %v", tt.in, err)
			}
			if sch.Len() != tt.len || sch.Duration() != tt.dur || sch.String() != tt.str {
				t.Errorf("ParseStages(%q) = len %d, duration %v, %q; want %d, %v, %q", tt.in, sch.Len(), sch.Duration(), sch.String(), tt.len, tt.dur, tt.str)
			}
		})
	}
}

func TestScheduleScale(t *testing.T) {
	sch := mustStages(t, "10s@100,10s@100")
	half, err := sch.Scale(0.25)
	if err != nil {
		t.Fatal(err)
	}
	if half.Len() != 375 || half.Duration() != 20*time.Second {
		t.Errorf("Scale(0.25) = %d requests over %v, want 375 over 20s", half.Len(), half.Duration())
	}
	u, _ := Constant(100, 0)
	us, err := u.Scale(0.5)
	if err != nil || us.Rate(time.Hour) != 50 || us.Duration() != 0 || us.String() != "50/s until stopped" {
		t.Errorf("Scale of an unbounded constant = %v (%v), want 50/s until stopped", us, err)
	}
}
