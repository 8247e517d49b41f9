package cli

import (
	"math"
	"testing"

	"github.com/billharness/billharness/internal/parsetest"
)

func TestParseRate(t *testing.T) {
	tests := []parsetest.Case[Rate]{
		{In: "0", Want: 0},
		{In: "0/s", Want: 0},
		{In: "-0/s", Want: 0},
		{In: "500/s", Want: 500},
		{In: "30/m", Want: 0.5},
		{In: "3600/h", Want: 1},
		{In: "100/10s", Want: 10},
		{In: "1.5/s", Want: 1.5},
		{In: "250/500ms", Want: 500},
		{In: "500", Want: 500},
		{In: "0.5", Want: 0.5},
		{In: "", Err: "not a non-negative number"},
		{In: "-5", Err: "not a non-negative number"},
		{In: "-1/s", Err: "not a non-negative number"},
		{In: "abc/s", Err: "not a non-negative number"},
		{In: "NaN/s", Err: "not a non-negative number"},
		{In: "Inf/s", Err: "not a non-negative number"},
		{In: "5/d", Err: "unit \"d\""},
		{In: "5/0s", Err: "positive duration"},
		{In: "5/-1s", Err: "positive duration"},
		{In: "5/", Err: "unit"},
		{In: "1e308/1ns", Err: "too large"},
		{In: "5e-324/h", Err: "too small"},
	}
	parsetest.Run(t, "ParseRate", ParseRate, tests)

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
