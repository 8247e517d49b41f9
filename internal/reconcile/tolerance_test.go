package reconcile

import (
	"strings"
	"testing"

	"github.com/billharness/billharness/internal/billing"
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
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "", want: "exact"},
		{in: "exact", want: "exact"},
		{in: "abs=0,rel=0%", want: "exact"},
		{in: "abs=10", want: "abs=10,rel=0%"},
		{in: " rel=0.5% , abs=2 ", want: "abs=2,rel=0.5%"},
		{in: "abs=1;Input Tokens:rel=1%;model:abs=1", want: "abs=1,rel=0%;Input Tokens:abs=0,rel=1%;model:abs=1,rel=0%"},
		{in: "a:b:abs=1", want: "abs=0,rel=0%;a:b:abs=1,rel=0%"},
		{in: "rel=0.5", wantErr: "write it as a percentage"},
		{in: "abs=-1", wantErr: "non-negative"},
		{in: "abs=x", wantErr: "non-negative"},
		{in: "tol=1", wantErr: "want abs=N or rel=P%"},
		{in: "abs=1,abs=2", wantErr: "abs given twice"},
		{in: "abs=1;abs=2", wantErr: "only the first part"},
		{in: ":abs=2", wantErr: "empty meter name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			tol, err := ParseTolerance(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseTolerance(%q) = %v, want error containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || tol.String() != tt.want {
				t.Errorf("ParseTolerance(%q) = %q, %v; want %q", tt.in, tol.String(), err, tt.want)
			}
		})
	}
}
