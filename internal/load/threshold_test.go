package load

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		in      string
		metric  string
		op      string
		value   float64
		str     string
		wantErr string
	}{
		{in: "p99<250ms", metric: "p99", op: "<", value: 250e6, str: "p99<250ms"},
		{in: " p99.9 <= 1.5s ", metric: "p99.9", op: "<=", value: 1.5e9, str: "p99.9<=1.5s"},
		{in: "service_p50<800us", metric: "service_p50", op: "<", value: 800e3, str: "service_p50<800us"},
		{in: "max<2m", metric: "max", op: "<", value: 120e9, str: "max<2m"},
		{in: "Mean<10ms", metric: "mean", op: "<", value: 10e6, str: "mean<10ms"},
		{in: "error_rate<0.1%", metric: "error_rate", op: "<", value: 0.001, str: "error_rate<0.1%"},
		{in: "error_rate<0.001", metric: "error_rate", op: "<", value: 0.001, str: "error_rate<0.001"},
		{in: "rate>1900/s", metric: "rate", op: ">", value: 1900, str: "rate>1900/s"},
		{in: "rate>=1900", metric: "rate", op: ">=", value: 1900, str: "rate>=1900"},
		{in: "throughput>6000/m", metric: "throughput", op: ">", value: 100, str: "throughput>6000/m"},
		{in: "dropped<=0", metric: "dropped", op: "<=", value: 0, str: "dropped<=0"},
		{in: "dropped<1%", metric: "dropped", op: "<", value: 0.01, str: "dropped<1%"},
		{in: "requests>1e3", metric: "requests", op: ">", value: 1000, str: "requests>1000"},
		{in: "p99>=0ms", metric: "p99", op: ">=", value: 0, str: "p99>=0ms"},
		{in: "p98<1s", metric: "p98", op: "<", value: 1e9, str: "p98<1s"},

		{in: "latency<250ms", wantErr: `unknown metric "latency"`},
		{in: "p99.9x<1s", wantErr: "unknown metric"},
		{in: "p0<1s", wantErr: "unknown metric"},
		{in: "p101<1s", wantErr: "unknown metric"},
		{in: "p1e1<1s", wantErr: "unknown metric"},
		{in: "errors<1", wantErr: `unknown metric "errors"`},
		{in: "p99=250ms", wantErr: "want METRIC OP VALUE"},
		{in: "p99<250", wantErr: "needs a time unit"},
		{in: "p99<250 parsecs", wantErr: "needs a time unit"},
		{in: "p99<", wantErr: "want a number"},
		{in: "<250ms", wantErr: "missing metric"},
		{in: "error_rate<150%", wantErr: "above 100%"},
		{in: "error_rate<1ms", wantErr: "a percentage"},
		{in: "rate>100ms", wantErr: "per second"},
		{in: "dropped<1.5", wantErr: "whole count"},
		{in: "requests>5%", wantErr: "is a count"},
		{in: "p99<-1ms", wantErr: "want a number"},
		{in: "p99<<1ms", wantErr: "want a number"},
		{in: "p99<NaNms", wantErr: "want a number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			th, err := ParseThreshold(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrThresholdSyntax) {
					t.Fatalf("ParseThreshold(%q) error = %v, want ErrThresholdSyntax containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseThreshold(%q): %v", tt.in, err)
			}
			if th.Metric != tt.metric || th.Op != tt.op || th.Value != tt.value || th.String() != tt.str {
				t.Errorf("ParseThreshold(%q) = %s %s %v (%q), want %s %s %v (%q)", tt.in, th.Metric, th.Op, th.Value, th.String(), tt.metric, tt.op, tt.value, tt.str)
			}
		})
	}
}

func TestThresholdCheck(t *testing.T) {
	ms := func(v float64) Millis { return Millis(v * float64(time.Millisecond)) }
	s := &Summary{
		Completed: 1000, Asked: 1010, Dropped: 10, DroppedShare: 10.0 / 1010, Rate: 1950.5, Throughput: 1900, ErrorRate: 0.0025,
		Corrected: Latency{Count: 1000, Min: ms(1), Mean: ms(20), Max: ms(900),
			Percentiles: []Quantile{{50, ms(12)}, {99, ms(240)}, {99.9, ms(700)}}},
		Service: Latency{Count: 1000, Min: ms(1), Mean: ms(9), Max: ms(300), Percentiles: []Quantile{{50, ms(8)}, {99, ms(40)}}},
	}
	tests := []struct {
		in   string
		got  string
		pass bool
	}{
		{"p99<250ms", "240ms", true},
		{"p99<0.2s", "0.24s", false},
		{"p99<=240ms", "240ms", true},
		{"service_p99<50ms", "40ms", true},
		{"max<1s", "0.9s", true},
		{"mean<10ms", "20ms", false},
		{"service_mean<10ms", "9ms", true},
		{"min>=1ms", "1ms", true},
		{"p90<1s", "not measured", false},
		{"error_rate<0.1%", "0.25%", false},
		{"error_rate<0.01", "0.0025", true},
		{"rate>1900/s", "1950.5/s", true},
		{"throughput>1900", "1900/s", false},
		{"dropped<=0", "10", false},
		{"dropped<1%", "0.9901%", true},
		{"requests>=1000", "1000", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			th, err := ParseThreshold(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			r := th.Check(s)
			if r.Got != tt.got || r.Pass != tt.pass || r.Threshold != th.String() {
				t.Errorf("Check(%q) = %+v, want got %q, pass %v", tt.in, r, tt.got, tt.pass)
			}
		})
	}
	t.Run("nothing completed fails latency", func(t *testing.T) {
		for _, in := range []string{"p99<1s", "error_rate<1%", "service_max<1h"} {
			th, _ := ParseThreshold(in)
			if r := th.Check(&Summary{}); r.Pass {
				t.Errorf("Check(%q) of an empty run = %+v, want a failure", in, r)
			}
		}
	})
}

func TestThresholdPercentile(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want float64
		ok   bool
	}{{"p99.9<1s", 99.9, true}, {"service_max<1s", 100, true}, {"mean<1s", 0, false}, {"rate>1", 0, false}} {
		th, err := ParseThreshold(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := th.Percentile(); p != tt.want || ok != tt.ok {
			t.Errorf("ParseThreshold(%q).Percentile() = %v, %v; want %v, %v", tt.in, p, ok, tt.want, tt.ok)
		}
	}
}

// FuzzParseThreshold: the parser never panics, and whatever it accepts it
// writes back in a form that parses to the same threshold.
func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"p99<250ms", "error_rate<0.1%", "rate>1900/s", "dropped<=0", "service_p99.9>=1.5s", "requests>1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThreshold(s)
		if err != nil {
			if !errors.Is(err, ErrThresholdSyntax) {
				t.Fatalf("ParseThreshold(%q) error %v does not wrap ErrThresholdSyntax", s, err)
			}
			return
		}
		again, err := ParseThreshold(th.String())
		if err != nil {
			t.Fatalf("ParseThreshold(%q) = %q, which does not parse: %v", s, th.String(), err)
		}
		if again.String() != th.String() || again.Value != th.Value || again.Op != th.Op || again.Metric != th.Metric {
			t.Fatalf("ParseThreshold(%q) = %+v, re-parsed as %+v", s, th, again)
		}
		_ = th.Check(&Summary{Completed: 1, Corrected: Latency{Count: 1}, Service: Latency{Count: 1}})
	})
}
