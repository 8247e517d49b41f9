package main

import (
	"math"
	"testing"
)

// FuzzParseRate parses -rate-limit values: what parses is a finite rate
// of at least 0 per second.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"500/s", "500", "30000/m", "2/h", "0", "-1/s", "1e400", "NaN", "1/d", " 7 /s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseRate(s)
		if err == nil && (v < 0 || math.IsInf(v, 0) || math.IsNaN(v)) {
			t.Fatalf("parseRate(%q) = %v, want a finite rate >= 0", s, v)
		}
	})
}
