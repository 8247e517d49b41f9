package billing

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Quantity is an exact, non-float usage quantity. The API sends quantities
// as decimal strings ("1234567", "12.5") and sometimes as JSON numbers; both
// are kept exact. Integers that fit in int64 take a fast path with no
// allocation; anything else (fractions, huge sums) is held as a big.Rat.
//
// The zero value is 0. Quantity is immutable.
type Quantity struct {
	i int64
	r *big.Rat // non-nil when the value is not an int64
}

// maxExponent bounds the exponent of "1e3"-style input.
const maxExponent = 64

// QuantityFromInt64 returns n.
func QuantityFromInt64(n int64) Quantity { return Quantity{i: n} }

// ParseQuantity parses a decimal ("12", "-3.25") or exponent ("1e3") string.
func ParseQuantity(s string) (Quantity, error) {
	if s == "" {
		return Quantity{}, fmt.Errorf("quantity: empty")
	}
	if n, ok := parseInt64(s); ok {
		return Quantity{i: n}, nil
	}
	// big.Rat also accepts "1/3", "0x10" and the like: allow only decimal syntax.
	if strings.ContainsAny(s, "/xXoObBpP_") || strings.ContainsAny(s, " \t\n") {
		return Quantity{}, fmt.Errorf("quantity %q: not a decimal number", s)
	}
	if e := strings.IndexAny(s, "eE"); e >= 0 {
		// Bound the exponent before big.Rat expands 1e999999 into a huge number.
		if n, err := strconv.Atoi(s[e+1:]); err != nil || n > maxExponent || n < -maxExponent {
			return Quantity{}, fmt.Errorf("quantity %q: exponent outside ±%d", s, maxExponent)
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return Quantity{}, fmt.Errorf("quantity %q: not a decimal number", s)
	}
	return normalize(r), nil
}

// ParseQuantityBytes is ParseQuantity of b's text, without allocating for
// an integer of up to 18 digits: the form most meter values take.
func ParseQuantityBytes(b []byte) (Quantity, error) {
	if len(b) > 0 {
		if n, ok := parseInt64(b); ok {
			return Quantity{i: n}, nil
		}
	}
	return ParseQuantity(string(b))
}

// parseInt64 parses an optional '-' and decimal digits without allocating.
func parseInt64[T string | []byte](s T) (int64, bool) {
	neg := false
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func normalize(r *big.Rat) Quantity {
	if r.IsInt() && r.Num().IsInt64() {
		return Quantity{i: r.Num().Int64()}
	}
	return Quantity{r: r}
}

// Rat returns the quantity as a new big.Rat.
func (q Quantity) Rat() *big.Rat {
	if q.r != nil {
		return new(big.Rat).Set(q.r)
	}
	return new(big.Rat).SetInt64(q.i)
}

// Int64 returns the value and true when q is an integer that fits in int64.
func (q Quantity) Int64() (int64, bool) { return q.i, q.r == nil }

// Add returns q + o exactly.
func (q Quantity) Add(o Quantity) Quantity {
	if q.r == nil && o.r == nil {
		s := q.i + o.i
		// Overflow iff both operands have the same sign and the sum's differs.
		if (q.i >= 0) == (o.i >= 0) && (s >= 0) != (q.i >= 0) {
			return normalize(new(big.Rat).Add(q.Rat(), o.Rat()))
		}
		return Quantity{i: s}
	}
	return normalize(new(big.Rat).Add(q.Rat(), o.Rat()))
}

// Sub returns q - o exactly.
func (q Quantity) Sub(o Quantity) Quantity {
	if o.r == nil && o.i != math.MinInt64 {
		return q.Add(Quantity{i: -o.i})
	}
	return normalize(new(big.Rat).Sub(q.Rat(), o.Rat()))
}

// Cmp compares q and o and returns -1, 0 or +1.
func (q Quantity) Cmp(o Quantity) int {
	if q.r == nil && o.r == nil {
		switch {
		case q.i < o.i:
			return -1
		case q.i > o.i:
			return 1
		}
		return 0
	}
	return q.Rat().Cmp(o.Rat())
}

// Sign returns -1, 0 or +1.
func (q Quantity) Sign() int {
	if q.r != nil {
		return q.r.Sign()
	}
	switch {
	case q.i < 0:
		return -1
	case q.i > 0:
		return 1
	}
	return 0
}

// Abs returns |q|.
func (q Quantity) Abs() Quantity {
	if q.Sign() >= 0 {
		return q
	}
	return Quantity{}.Sub(q)
}

// IsZero reports whether q is 0.
func (q Quantity) IsZero() bool { return q.Sign() == 0 }

// Float64 returns an approximation for display and ratios only.
func (q Quantity) Float64() float64 {
	if q.r == nil {
		return float64(q.i)
	}
	f, _ := q.r.Float64()
	return f
}

// String formats q as an exact decimal: "12", "-3.25". Every value built
// from decimal input has a finite decimal expansion.
func (q Quantity) String() string {
	if q.r == nil {
		return fmt.Sprint(q.i)
	}
	if q.r.IsInt() {
		return q.r.Num().String()
	}
	// A denominator 2^a·5^b needs max(a, b) decimal places.
	d := new(big.Int).Set(q.r.Denom())
	two, five := 0, 0
	for d.Bit(0) == 0 {
		d.Rsh(d, 1)
		two++
	}
	m := new(big.Int)
	for {
		qq, rr := new(big.Int).QuoRem(d, big.NewInt(5), m)
		if rr.Sign() != 0 {
			break
		}
		d = qq
		five++
	}
	if d.Cmp(big.NewInt(1)) != 0 {
		return q.r.FloatString(18) // not a finite decimal: 18 places, rounded
	}
	s := q.r.FloatString(max(two, five))
	return s
}

// MarshalJSON encodes q as a JSON string, as the API does.
func (q Quantity) MarshalJSON() ([]byte, error) {
	return []byte(`"` + q.String() + `"`), nil
}

// UnmarshalJSON accepts a JSON string or a JSON number.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("quantity: %w", err)
		}
	}
	if s == "null" {
		*q = Quantity{}
		return nil
	}
	v, err := ParseQuantity(s)
	if err != nil {
		return err
	}
	*q = v
	return nil
}
