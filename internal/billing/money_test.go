package billing

import (
	"encoding/json"
	"math/big"
	"testing"

	"github.com/billharness/billharness/internal/parsetest"
)

func TestParseMoney(t *testing.T) {
	tests := []parsetest.Case[string]{
		{In: "0", Want: "0"},
		{In: "1000000000000", Want: "1000000000000"},
		{In: "-42", Want: "-42"},
		{In: "170141183460469231731687303715884105727", Want: "170141183460469231731687303715884105727"}, // 2^127-1
		{In: "170141183460469231731687303715884105728", Fail: true},                                      // 2^127
		{In: "-170141183460469231731687303715884105728", Want: "-170141183460469231731687303715884105728"},
		{In: "1.5", Fail: true},
		{In: "", Fail: true},
		{In: "abc", Fail: true},
		{In: "1e3", Fail: true},
	}
	parsetest.Run(t, "ParseMoney", func(s string) (string, error) {
		v, err := ParseMoney(s)
		return v.String(), err
	}, tests)

}

func TestMoneyAboveInt64(t *testing.T) {
	// Two amounts that each fit in int64 but whose sum does not.
	a := MoneyFromInt64(1 << 62)
	sum, err := a.Add(a)
	if err != nil {
		t.Fatal(err)
	}
	sum, err = sum.Add(a)
	if err != nil {
		t.Fatal(err)
	}
	want := new(big.Int).Mul(big.NewInt(3), new(big.Int).Lsh(big.NewInt(1), 62))
	if sum.BigInt().Cmp(want) != 0 {
		t.Errorf("3 × 2^62 = %s, want %s", sum, want)
	}
	huge := MustMoney("170141183460469231731687303715884105727")
	if _, err := huge.Add(MoneyFromInt64(1)); err == nil {
		t.Errorf("(2^127-1) + 1: no error, want overflow")
	}
}

func TestMoneyMulQuantity(t *testing.T) {
	tests := []struct {
		unit, qty, want string
	}{
		{"2000000", "1234567", "2469134000000"},
		{"3", "0.5", "2"},   // 1.5 rounds half away from zero
		{"3", "-0.5", "-2"}, // -1.5
		{"10", "0.01", "0"}, // 0.1
		{"7", "0.25", "2"},  // 1.75
		{"1000000000000", "9223372036854775807", "9223372036854775807000000000000"},
	}
	for _, tt := range tests {
		q, err := ParseQuantity(tt.qty)
		if err != nil {
			t.Fatal(err)
		}
		got, err := MustMoney(tt.unit).MulQuantity(q)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != tt.want {
			t.Errorf("%s × %s = %s, want %s", tt.unit, tt.qty, got, tt.want)
		}
	}
}

func TestMoneyJSON(t *testing.T) {
	var v struct {
		A Money `json:"a_nanos"`
		B Money `json:"b_nanos"`
	}
	if err := json.Unmarshal([]byte(`{"a_nanos":"18446744073709551616","b_nanos":12}`), &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), `{"a_nanos":"18446744073709551616","b_nanos":"12"}`; got != want {
		t.Errorf("round trip = %s, want %s", got, want)
	}
	if err := json.Unmarshal([]byte(`{"a_nanos":1.5}`), &v); err == nil {
		t.Errorf("money 1.5: no error, want one")
	}
}
