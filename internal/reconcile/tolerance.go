package reconcile

import (
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/billharness/billharness/internal/billing"
)

// Bound is one tolerance: a pair matches when |observed - expected| <= Abs,
// or <= Rel × |expected|. The zero Bound is exact.
type Bound struct {
	// Abs is an absolute quantity, >= 0.
	Abs billing.Quantity
	// Rel is a fraction of the expected quantity (0.005 for 0.5%), >= 0;
	// nil is 0.
	Rel *big.Rat
}

// within reports whether got is within b of exp, in exact arithmetic.
func (b Bound) within(exp, got billing.Quantity) bool {
	d := got.Sub(exp).Abs()
	if d.Cmp(b.Abs) <= 0 {
		return true
	}
	if b.Rel == nil || b.Rel.Sign() == 0 {
		return false
	}
	limit := new(big.Rat).Mul(b.Rel, exp.Abs().Rat())
	return d.Rat().Cmp(limit) <= 0
}

func (b Bound) String() string {
	rel := "0"
	if b.Rel != nil {
		pct := new(big.Rat).Mul(b.Rel, big.NewRat(100, 1))
		q, _ := billing.ParseQuantity(pct.FloatString(12))
		rel = q.String()
	}
	return "abs=" + b.Abs.String() + ",rel=" + rel + "%"
}

// MeterBound is a Bound for the meters a selector names.
type MeterBound struct {
	// Meter is a meter's name (the SKU's name) or its property.
	Meter string
	Bound
}

// Tolerance says how far apart the source and the API may be and still
// match. The zero Tolerance is exact. Tolerance implements flag.Value, in
// the syntax of ParseTolerance.
type Tolerance struct {
	// Default applies to meters no override names.
	Default Bound
	// Meters are per-meter overrides; a meter takes the first whose
	// selector is its name, else the first whose selector is its property.
	Meters []MeterBound
}

// ParseTolerance parses "abs=N,rel=P%", optionally followed by per-meter
// overrides "; METER:abs=N,rel=P%" where METER is a meter's name or
// property: "abs=0,rel=0.1%;Input Tokens:abs=10;model:abs=1". A bound
// leaves out what it does not set (0). "" and "exact" mean exact.
func ParseTolerance(s string) (Tolerance, error) {
	var t Tolerance
	s = strings.TrimSpace(s)
	if s == "" || s == "exact" {
		return t, nil
	}
	var errs []error
	for i, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		sel := ""
		if eq := strings.IndexByte(part, '='); eq > 0 {
			if c := strings.LastIndexByte(part[:eq], ':'); c >= 0 {
				sel, part = strings.TrimSpace(part[:c]), part[c+1:]
				if sel == "" {
					errs = append(errs, fmt.Errorf("tolerance %q: empty meter name before ':'", s))
					continue
				}
			}
		}
		b, err := parseBound(part)
		if err != nil {
			errs = append(errs, fmt.Errorf("tolerance %q: %w", s, err))
			continue
		}
		switch {
		case sel != "":
			t.Meters = append(t.Meters, MeterBound{Meter: sel, Bound: b})
		case i == 0:
			t.Default = b
		default:
			errs = append(errs, fmt.Errorf("tolerance %q: only the first part may omit METER:", s))
		}
	}
	return t, errors.Join(errs...)
}

func parseBound(s string) (Bound, error) {
	var b Bound
	seen := map[string]bool{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || (k != "abs" && k != "rel") {
			return b, fmt.Errorf("%q: want abs=N or rel=P%%", kv)
		}
		if seen[k] {
			return b, fmt.Errorf("%s given twice", k)
		}
		seen[k] = true
		if k == "abs" {
			q, err := billing.ParseQuantity(v)
			if err != nil || q.Sign() < 0 {
				return b, fmt.Errorf("abs=%s: want a non-negative number", v)
			}
			b.Abs = q
			continue
		}
		pct, ok := strings.CutSuffix(v, "%")
		q, err := billing.ParseQuantity(strings.TrimSpace(pct))
		switch {
		case !ok:
			return b, fmt.Errorf("rel=%s: write it as a percentage, e.g. rel=0.5%%", v)
		case err != nil || q.Sign() < 0:
			return b, fmt.Errorf("rel=%s: want a non-negative percentage", v)
		}
		b.Rel = new(big.Rat).Quo(q.Rat(), big.NewRat(100, 1))
	}
	return b, nil
}

// Within reports whether got is close enough to exp for meter m.
func (t *Tolerance) Within(m Meter, exp, got billing.Quantity) bool {
	return t.bound(m).within(exp, got)
}

func (t *Tolerance) bound(m Meter) Bound {
	for _, mb := range t.Meters {
		if m.Name != "" && mb.Meter == m.Name {
			return mb.Bound
		}
	}
	for _, mb := range t.Meters {
		if m.Property != "" && mb.Meter == m.Property {
			return mb.Bound
		}
	}
	return t.Default
}

// IsExact reports whether t allows no difference at all.
func (t *Tolerance) IsExact() bool {
	exact := func(b Bound) bool { return b.Abs.IsZero() && (b.Rel == nil || b.Rel.Sign() == 0) }
	if !exact(t.Default) {
		return false
	}
	for _, mb := range t.Meters {
		if !exact(mb.Bound) {
			return false
		}
	}
	return true
}

// String renders t in the syntax of ParseTolerance, "exact" when it is.
func (t *Tolerance) String() string {
	if t == nil || t.IsExact() && len(t.Meters) == 0 {
		return "exact"
	}
	parts := []string{t.Default.String()}
	for _, mb := range t.Meters {
		parts = append(parts, mb.Meter+":"+mb.Bound.String())
	}
	return strings.Join(parts, ";")
}

// Set implements flag.Value.
func (t *Tolerance) Set(s string) error {
	v, err := ParseTolerance(s)
	if err != nil {
		return err
	}
	*t = v
	return nil
}
