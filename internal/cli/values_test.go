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
		{in: "500", want: 500},
		{in: "0.5", want: 0.5},
		{in: "", wantErr: "not a non-negative number"},
		{in: "-5", wantErr: "not a non-negative number"},
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

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in      string
		want    Bytes
		wantErr bool
	}{
		{in: "0", want: 0}, {in: "1000000", want: 1000000}, {in: "512MiB", want: 512 << 20}, {in: "1GiB", want: 1 << 30},
		{in: "2GB", want: 2e9}, {in: "64KiB", want: 64 << 10}, {in: "10B", want: 10},
		{in: "", wantErr: true}, {in: "-1MiB", wantErr: true}, {in: "1.5GiB", wantErr: true}, {in: "1 GiB", wantErr: true},
		{in: "9999999999TiB", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseBytes(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil {
			if back, err := ParseBytes(got.String()); err != nil || back != got {
				t.Errorf("ParseBytes(%q) = %d, %v: %q does not parse back", got.String(), back, err, tt.in)
			}
		}
	}
}
