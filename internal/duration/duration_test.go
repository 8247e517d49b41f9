package duration

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/parsetest"
)

func TestParse(t *testing.T) {
	tests := []parsetest.Case[time.Duration]{
		{In: "0", Want: 0},
		{In: "0d", Want: 0},
		{In: "30s", Want: 30 * time.Second},
		{In: "1h30m", Want: 90 * time.Minute},
		{In: "35d", Want: 35 * 24 * time.Hour},
		{In: "1d12h", Want: 36 * time.Hour},
		{In: "106751d", Want: 106751 * 24 * time.Hour},
		{In: "", Err: "want e.g. 30s"},
		{In: "5", Err: "want e.g. 30s"},
		{In: "-1s", Err: "negative"},
		{In: "1d-1h", Err: "negative"},
		{In: "d", Err: "day count"},
		{In: "-1d", Err: "day count"},
		{In: "1.5d", Err: "day count"},
		{In: "1dd", Err: "want e.g. 30s"},
		{In: "106752d", Err: "day count"},
		{In: "106751d24h", Err: "too large"},
	}
	parsetest.Run(t, "Parse", func(s string) (time.Duration, error) {
		d, err := Parse(s)
		return time.Duration(d), err
	}, tests)

}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "30s", "1h30m", "35d", "1d12h", "-1s", "106751d23h", "1d-1h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("Parse(%q) = %v, want >= 0", s, d)
		}
		back, err := Parse(d.String())
		if err != nil || back != d {
			t.Fatalf("Parse(%q) = %v, %v, want %v (round trip of %q)", d.String(), back, err, d, s)
		}
	})
}

// A Duration in JSON is its text, and reads back the same.
func TestJSON(t *testing.T) {
	in := struct{ D Duration }{Duration(36*time.Hour + 1500*time.Millisecond)}
	b, err := json.Marshal(in)
	if err != nil || string(b) != `{"D":"36h0m1.5s"}` {
		t.Fatalf("Marshal = %s, %v; want {\"D\":\"36h0m1.5s\"}", b, err)
	}
	var out struct{ D Duration }
	if err := json.Unmarshal([]byte(`{"D":"1d12h"}`), &out); err != nil || out.D != Duration(36*time.Hour) {
		t.Errorf("Unmarshal 1d12h = %v, %v; want 36h", out.D, err)
	}
}
