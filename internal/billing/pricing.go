package billing

import (
	"fmt"
	"math/big"
	"time"
)

// Pricing models [doc names; chosen wire form].
const (
	PricingPerUnit   = "PerUnit"
	PricingGraduated = "Graduated"
	PricingVolume    = "Volume"
	PricingPackage   = "Package"
)

// Tier is one step of a Graduated or Volume price, in the shape Stripe and
// Orb users know: the tier covers quantities up to UpTo (inclusive; nil on
// the last tier, which has no bound), each unit in it costs UnitAmount and
// reaching it costs FlatAmount once.
type Tier struct {
	UpTo       *Quantity `json:"up_to"`
	UnitAmount Money     `json:"unit_amount_nanos"`
	FlatAmount Money     `json:"flat_amount_nanos"`
}

// Price is how a SKU turns a quantity into money [chosen]:
//
//   - PerUnit: quantity × UnitAmount (a negative quantity gives a credit).
//   - Graduated: each unit is priced by the tier it falls in; a tier's
//     FlatAmount is added once the quantity enters the tier (is above the
//     previous tier's UpTo, 0 for the first).
//   - Volume: every unit is priced by the one tier the whole quantity
//     falls in (the first whose UpTo is at or above it), plus that tier's
//     FlatAmount.
//   - Package: UnitAmount per started package of PackageSize units:
//     ceil(quantity / PackageSize) × UnitAmount.
//
// Graduated, Volume and Package price a quantity of zero or less at 0. An
// amount is computed exactly and rounded once, half away from zero, to a
// whole pico-unit; it must fit in 128 bits.
type Price struct {
	Model       string
	UnitAmount  Money
	Tiers       []Tier
	PackageSize int64
}

// PriceError is a price that cannot be used, naming the offending field.
type PriceError struct {
	Field, Msg string
}

func (e *PriceError) Error() string { return e.Field + ": " + e.Msg }

// Check reports what makes p unusable; an empty Model means PerUnit.
func (p Price) Check() *PriceError {
	bad := func(field, format string, args ...any) *PriceError {
		return &PriceError{field, fmt.Sprintf(format, args...)}
	}
	if p.UnitAmount.Cmp(Money{}) < 0 {
		return bad("unit_amount_nanos", "unit_amount_nanos must not be negative")
	}
	switch p.Model {
	case "", PricingPerUnit, PricingPackage:
		if len(p.Tiers) > 0 {
			return bad("tiers", "tiers apply to Graduated and Volume pricing only")
		}
		if p.Model == PricingPackage && p.PackageSize < 1 {
			return bad("package_size", "package_size must be a whole number of units, 1 or more, for Package pricing")
		}
		if p.Model != PricingPackage && p.PackageSize != 0 {
			return bad("package_size", "package_size applies to Package pricing only")
		}
		return nil
	case PricingGraduated, PricingVolume:
	default:
		return bad("pricing_model", "pricing_model must be PerUnit, Graduated, Volume or Package")
	}
	switch {
	case p.PackageSize != 0:
		return bad("package_size", "package_size applies to Package pricing only")
	case !p.UnitAmount.IsZero():
		return bad("unit_amount_nanos", "unit_amount_nanos must be 0 for %s pricing: the tiers carry the prices", p.Model)
	case len(p.Tiers) == 0:
		return bad("tiers", "%s pricing needs at least one tier", p.Model)
	case len(p.Tiers) > 100:
		return bad("tiers", "at most 100 tiers")
	}
	var prev Quantity
	for i, t := range p.Tiers {
		last := i == len(p.Tiers)-1
		switch {
		case t.UnitAmount.Cmp(Money{}) < 0 || t.FlatAmount.Cmp(Money{}) < 0:
			return bad(fmt.Sprintf("tiers[%d]", i), "tier amounts must not be negative")
		case last && t.UpTo != nil:
			return bad(fmt.Sprintf("tiers[%d].up_to", i), "the last tier must have no up_to (null): it covers every quantity above the previous one")
		case !last && t.UpTo == nil:
			return bad(fmt.Sprintf("tiers[%d].up_to", i), "only the last tier may have no up_to")
		case !last && t.UpTo.Cmp(prev) <= 0:
			return bad(fmt.Sprintf("tiers[%d].up_to", i), "up_to must be above 0 and above the previous tier's")
		}
		if t.UpTo != nil {
			prev = *t.UpTo
		}
	}
	return nil
}

// Amount prices quantity q. It fails when p is unusable or the amount
// leaves the 128-bit range.
func (p Price) Amount(q Quantity) (Money, error) {
	if pe := p.Check(); pe != nil {
		return Money{}, pe
	}
	switch p.Model {
	case "", PricingPerUnit:
		return p.UnitAmount.MulQuantity(q)
	}
	if q.Sign() <= 0 {
		return Money{}, nil
	}
	qr := q.Rat()
	total := new(big.Rat)
	switch p.Model {
	case PricingPackage:
		n := ceilDiv(qr, p.PackageSize)
		total.SetInt(n.Mul(n, p.UnitAmount.big()))
	case PricingGraduated:
		lower := new(big.Rat)
		for _, t := range p.Tiers {
			if qr.Cmp(lower) <= 0 {
				break
			}
			upper := qr
			if t.UpTo != nil && t.UpTo.Rat().Cmp(qr) < 0 {
				upper = t.UpTo.Rat()
			}
			units := new(big.Rat).Sub(upper, lower)
			total.Add(total, units.Mul(units, new(big.Rat).SetInt(t.UnitAmount.big())))
			total.Add(total, new(big.Rat).SetInt(t.FlatAmount.big()))
			if t.UpTo == nil {
				break
			}
			lower = t.UpTo.Rat()
		}
	case PricingVolume:
		t := p.Tiers[len(p.Tiers)-1]
		for _, c := range p.Tiers {
			if c.UpTo != nil && qr.Cmp(c.UpTo.Rat()) <= 0 {
				t = c
				break
			}
		}
		total.Mul(qr, new(big.Rat).SetInt(t.UnitAmount.big()))
		total.Add(total, new(big.Rat).SetInt(t.FlatAmount.big()))
	}
	return checked(roundHalfAway(total))
}

// ceilDiv returns ceil(q / size) for q > 0.
func ceilDiv(q *big.Rat, size int64) *big.Int {
	d := new(big.Int).Mul(q.Denom(), big.NewInt(size))
	n, m := new(big.Int).QuoRem(q.Num(), d, new(big.Int))
	if m.Sign() != 0 {
		n.Add(n, big.NewInt(1))
	}
	return n
}

// Prorate returns fee × part / whole, rounded half away from zero: the
// share of a flat fee for part of a billing period [chosen], by the second.
// A part of zero or less is 0; a part at or above whole is the full fee.
func Prorate(fee Money, part, whole time.Duration) Money {
	part, whole = part.Truncate(time.Second), whole.Truncate(time.Second)
	switch {
	case part <= 0 || whole <= 0:
		return Money{}
	case part >= whole:
		return fee
	}
	r := new(big.Rat).SetFrac(new(big.Int).Mul(fee.big(), big.NewInt(int64(part/time.Second))), big.NewInt(int64(whole/time.Second)))
	m, _ := checked(roundHalfAway(r)) // |result| < |fee|: always in range
	return m
}

// IsCycle reports whether p is one billing cycle of a Monthly plan
// [chosen]: a calendar month in UTC.
func IsCycle(p Period) bool {
	s := p.Start.UTC()
	first := time.Date(s.Year(), s.Month(), 1, 0, 0, 0, 0, time.UTC)
	return p.Start.Equal(first) && p.End.Equal(first.AddDate(0, 1, 0))
}
