package billing

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/billharness/billharness/internal/parsetest"
)

func TestParseQuantity(t *testing.T) {
	tests := []parsetest.Case[string]{
		{In: "0", Want: "0"},
		{In: "1234567", Want: "1234567"},
		{In: "-3", Want: "-3"},
		{In: "12.50", Want: "12.5"},
		{In: "0.001", Want: "0.001"},
		{In: "1e3", Want: "1000"},
		{In: "1.5E-2", Want: "0.015"},
		{In: "99999999999999999999999", Want: "99999999999999999999999"},
		{In: "", Fail: true},
		{In: "1/3", Fail: true},
		{In: "0x10", Fail: true},
		{In: "abc", Fail: true},
		{In: "1e999999", Fail: true},
		{In: " 1", Fail: true},
		{In: "NaN", Fail: true},
		{In: "Inf", Fail: true},
	}
	parsetest.Run(t, "ParseQuantity", func(s string) (string, error) {
		v, err := ParseQuantity(s)
		return v.String(), err
	}, tests)

}

func TestQuantityArithmetic(t *testing.T) {
	max := QuantityFromInt64(math.MaxInt64)
	sum := max.Add(QuantityFromInt64(1))
	if got, want := sum.String(), "9223372036854775808"; got != want {
		t.Errorf("MaxInt64 + 1 = %s, want %s", got, want)
	}
	if _, ok := sum.Int64(); ok {
		t.Errorf("MaxInt64 + 1 reports fitting in int64")
	}
	back := sum.Sub(QuantityFromInt64(1))
	if v, ok := back.Int64(); !ok || v != math.MaxInt64 {
		t.Errorf("(MaxInt64 + 1) - 1 = %s (int64 %v), want MaxInt64 on the fast path", back, ok)
	}
	a, _ := ParseQuantity("0.1")
	b, _ := ParseQuantity("0.2")
	if got := a.Add(b).String(); got != "0.3" {
		t.Errorf("0.1 + 0.2 = %s, want 0.3", got)
	}
	if a.Cmp(b) != -1 || b.Cmp(a) != 1 || a.Cmp(a) != 0 {
		t.Errorf("Cmp(0.1, 0.2) ordering wrong")
	}
	neg := QuantityFromInt64(-5)
	if got := neg.Abs().String(); got != "5" {
		t.Errorf("|-5| = %s, want 5", got)
	}
	minQ := QuantityFromInt64(math.MinInt64)
	if got := QuantityFromInt64(0).Sub(minQ).String(); got != "9223372036854775808" {
		t.Errorf("0 - MinInt64 = %s, want 9223372036854775808", got)
	}
}

func TestQuantityJSON(t *testing.T) {
	for _, in := range []string{`"1234567"`, `1234567`, `"12.5"`, `12.5`, `1.2345678901234567890123`} {
		var q Quantity
		if err := json.Unmarshal([]byte(in), &q); err != nil {
			t.Fatalf("Unmarshal(%s): %v", in, err)
		}
		want, _ := strconv.Unquote(in)
		if want == "" {
			want = in
		}
		if q.String() != want {
			t.Errorf("Unmarshal(%s) = %s, want %s", in, q, want)
		}
		out, _ := json.Marshal(q)
		if string(out) != `"`+want+`"` {
			t.Errorf("Marshal(%s) = %s, want %q", in, out, want)
		}
	}
	var q Quantity
	if err := json.Unmarshal([]byte(`true`), &q); err == nil {
		t.Errorf("Unmarshal(true): no error")
	}
}

func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"0", "-1", "12.5", "1e3", "99999999999999999999", "abc", "1/3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuantity(s)
		if err != nil {
			return
		}
		// Whatever parses must print to a form that parses to the same value.
		again, err := ParseQuantity(q.String())
		if err != nil {
			t.Fatalf("ParseQuantity(%q) = %s, which does not parse: %v", s, q, err)
		}
		if again.Cmp(q) != 0 {
			t.Fatalf("round trip of %q: %s != %s", s, again, q)
		}
	})
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"0", "-1", "170141183460469231731687303715884105727", "1.5", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMoney(s)
		if err != nil {
			return
		}
		again, err := ParseMoney(m.String())
		if err != nil || again.Cmp(m) != 0 {
			t.Fatalf("round trip of %q: %v, %v", s, again, err)
		}
	})
}
