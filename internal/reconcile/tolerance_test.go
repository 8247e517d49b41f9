package reconcile

import (
	"testing"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/parsetest"
)

func q(s string) billing.Quantity { return must(billing.ParseQuantity(s)) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestToleranceWithin(t *testing.T) {
	bytes := Meter{Name: "Bytes", Property: "bytes"}
	tokens := Meter{Name: "Input Tokens", Property: "input_tokens"}
	tests := []struct {
		tol      string
		meter    Meter
		exp, got string
		want     bool
	}{
		{"exact", bytes, "100", "100", true},
		{"exact", bytes, "100", "100.000000000000000001", false},
		{"abs=1", bytes, "100", "101", true},
		{"abs=1", bytes, "100", "99", true},
		{"abs=1", bytes, "100", "101.0000001", false},
		{"abs=0.5", bytes, "0", "0.5", true},
		{"rel=1%", bytes, "200", "202", true},
		{"rel=1%", bytes, "200", "202.01", false},
		{"rel=1%", bytes, "-200", "-198", true},
		{"rel=1%", bytes, "0", "0.0001", false},
		{"rel=0.001%", bytes, "123456789012345678901234567890", "123458023580235802358023580235", true},
		{"rel=0.001%", bytes, "123456789012345678901234567890", "123458023580235802358023580236", false},
		{"abs=5,rel=1%", bytes, "100", "105", true},
		{"abs=5,rel=10%", bytes, "100", "110", true},
		{"abs=0;Bytes:abs=3", bytes, "10", "13", true},
		{"abs=0;Bytes:abs=3", tokens, "10", "13", false},
		{"abs=0;input_tokens:abs=3", tokens, "10", "13", true},
		{"abs=9;bytes:abs=1;Bytes:abs=2", bytes, "10", "12", true},
	}
	for _, tt := range tests {
		t.Run(tt.tol+" "+tt.exp+" "+tt.got, func(t *testing.T) {
			tol, err := ParseTolerance(tt.tol)
			if err != nil {
				t.Fatal(err)
			}
			if got := tol.Within(tt.meter, q(tt.exp), q(tt.got)); got != tt.want {
				t.Errorf("Tolerance(%s).Within(%s, %s, %s) = %v, want %v", tt.tol, tt.meter.Name, tt.exp, tt.got, got, tt.want)
			}
		})
	}
}

func TestParseTolerance(t *testing.T) {
	tests := []parsetest.Case[string]{
		{In: "", Want: "exact"},
		{In: "exact", Want: "exact"},
		{In: "abs=0,rel=0%", Want: "exact"},
		{In: "abs=10", Want: "abs=10,rel=0%"},
		{In: " rel=0.5% , abs=2 ", Want: "abs=2,rel=0.5%"},
		{In: "abs=1;Input Tokens:rel=1%;model:abs=1", Want: "abs=1,rel=0%;Input Tokens:abs=0,rel=1%;model:abs=1,rel=0%"},
		{In: "a:b:abs=1", Want: "abs=0,rel=0%;a:b:abs=1,rel=0%"},
		{In: "rel=0.5", Err: "write it as a percentage"},
		{In: "abs=-1", Err: "non-negative"},
		{In: "abs=x", Err: "non-negative"},
		{In: "tol=1", Err: "want abs=N or rel=P%"},
		{In: "abs=1,abs=2", Err: "abs given twice"},
		{In: "abs=1;abs=2", Err: "only the first part"},
		{In: ":abs=2", Err: "empty meter name"},
	}
	parsetest.Run(t, "ParseTolerance", func(s string) (string, error) {
		tol, err := ParseTolerance(s)
		return tol.String(), err
	}, tests)

}
