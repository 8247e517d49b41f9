package billing

import (
	"encoding/json"
	"fmt"
	"math/big"
)

// PicoPerUnit is the number of pico-units in one currency unit ($1).
const PicoPerUnit = 1_000_000_000_000

var (
	maxMoney = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 127), big.NewInt(1))
	minMoney = new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 127))
)

// Money is an exact amount of pico-units (scale 12: $1 = 1_000_000_000_000),
// carried on the wire as a JSON string in fields ending in _nanos. It holds
// any signed 128-bit value: sums above 2^63 (about $9.2M) stay exact, and an
// operation that would leave the 128-bit range fails instead of wrapping.
//
// The zero value is 0. Money is immutable: every operation returns a new
// value, so copies never alias.
type Money struct {
	v *big.Int // nil means zero
}

// MoneyFromInt64 returns n pico-units.
func MoneyFromInt64(n int64) Money { return Money{v: big.NewInt(n)} }

// ParseMoney parses a base-10 integer string of pico-units.
func ParseMoney(s string) (Money, error) {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return Money{}, fmt.Errorf("money %q: not a base-10 integer of pico-units", s)
	}
	if v.Cmp(maxMoney) > 0 || v.Cmp(minMoney) < 0 {
		return Money{}, fmt.Errorf("money %q: outside the signed 128-bit range", s)
	}
	return Money{v: v}, nil
}

// MustMoney is ParseMoney for constants in code and tests; it panics on a
// malformed literal and must never see user data.
func MustMoney(s string) Money {
	m, err := ParseMoney(s)
	if err != nil {
		panic(err)
	}
	return m
}

func (m Money) big() *big.Int {
	if m.v == nil {
		return new(big.Int)
	}
	return m.v
}

// BigInt returns a copy of the amount as a big.Int.
func (m Money) BigInt() *big.Int { return new(big.Int).Set(m.big()) }

func checked(v *big.Int) (Money, error) {
	if v.Cmp(maxMoney) > 0 || v.Cmp(minMoney) < 0 {
		return Money{}, fmt.Errorf("money %s: overflows 128 bits", v)
	}
	return Money{v: v}, nil
}

// Add returns m + o, or an error when the sum leaves the 128-bit range.
func (m Money) Add(o Money) (Money, error) {
	return checked(new(big.Int).Add(m.big(), o.big()))
}

// Sub returns m - o, or an error when the difference leaves the 128-bit range.
func (m Money) Sub(o Money) (Money, error) {
	return checked(new(big.Int).Sub(m.big(), o.big()))
}

// MulQuantity returns q × m (a PerUnit line amount). A fractional product is
// rounded half away from zero to a whole pico-unit.
func (m Money) MulQuantity(q Quantity) (Money, error) {
	r := new(big.Rat).Mul(q.Rat(), new(big.Rat).SetInt(m.big()))
	return checked(roundHalfAway(r))
}

func roundHalfAway(r *big.Rat) *big.Int {
	if r.IsInt() {
		return new(big.Int).Set(r.Num())
	}
	num := new(big.Int).Abs(r.Num())
	den := r.Denom()
	// floor(|r| + 1/2) = floor((2|num| + den) / 2den)
	n := new(big.Int).Add(new(big.Int).Lsh(num, 1), den)
	n.Quo(n, new(big.Int).Lsh(den, 1))
	if r.Sign() < 0 {
		n.Neg(n)
	}
	return n
}

// Cmp compares m and o and returns -1, 0 or +1.
func (m Money) Cmp(o Money) int { return m.big().Cmp(o.big()) }

// Equal reports whether m and o are the same amount (go-cmp uses it).
func (m Money) Equal(o Money) bool { return m.Cmp(o) == 0 }

// IsZero reports whether m is 0.
func (m Money) IsZero() bool { return m.v == nil || m.v.Sign() == 0 }

// String returns the decimal pico-unit count, as sent on the wire.
func (m Money) String() string { return m.big().String() }

// Quantity is m as a quantity of nanos, for comparisons under a tolerance.
func (m Money) Quantity() Quantity {
	q, _ := ParseQuantity(m.String()) // an integer always parses
	return q
}

// MarshalJSON encodes m as a JSON string, as the API requires.
func (m Money) MarshalJSON() ([]byte, error) {
	return []byte(`"` + m.String() + `"`), nil
}

// UnmarshalJSON accepts a JSON string (the documented form) or a JSON integer.
func (m *Money) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("money: %w", err)
		}
	} else {
		s = string(b)
	}
	if s == "null" {
		*m = Money{}
		return nil
	}
	v, err := ParseMoney(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}
