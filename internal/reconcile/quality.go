package reconcile

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/jsonscan"
)

// quality counts the events of a Sum or Max pair whose value the API
// counts as nothing, or that reduce a Sum: API and source agree on them,
// so only this shows the revenue they lose. Allocated on the first such
// event: most pairs never need one.
type quality struct {
	// uncountable counts values present but not a number under the API's
	// rules ("1,000", "abc", null, objects, "NaN", exponents past ±64).
	uncountable int64
	// readable sums the uncountable values a human rule reads (digits
	// grouped by "," or "_", spaces around a number), readableN counts them.
	readable  billing.Quantity
	readableN int64
	// negative counts the negative values of a Sum, negSum sums them.
	negative int64
	negSum   billing.Quantity
	samples  samples // the smallest ids of the events above
}

// worth is the quantity the pair lost: the readable values, and what the
// negative values took off.
func (q *quality) worth() billing.Quantity { return q.readable.Sub(q.negSum) }

// detail describes the pair's data-quality problem.
func (q *quality) detail() string {
	var parts []string
	if q.uncountable > 0 {
		s := fmt.Sprintf("%d values are not numbers the API counts (counted as 0)", q.uncountable)
		if q.readableN > 0 {
			s += fmt.Sprintf("; %d of them read as %s by a human rule (digit groups, spaces)", q.readableN, q.readable)
		}
		parts = append(parts, s)
	}
	if q.negative > 0 {
		parts = append(parts, fmt.Sprintf("%d negative values took %s off the total", q.negative, q.negSum.Abs()))
	}
	return strings.Join(parts, "; ")
}

var (
	groupedNumber = regexp.MustCompile(`^[+-]?[0-9]{1,3}([,_][0-9]{3})+(\.[0-9]+)?$`)
	plainNumber   = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$`)
)

// readable reads a string value the API does not count as a human would
// [chosen rule, the same in push-down SQL]: ASCII spaces around it
// trimmed, then digits grouped by thousands with "," or "_" ("1,000",
// "12_500.5"), or a plain decimal (" 42 ").
func readable(raw []byte, kind byte) (billing.Quantity, bool) {
	if kind != kindString {
		return billing.Quantity{}, false
	}
	s := strings.Trim(string(jsonscan.Unquote(raw)), " ")
	switch {
	case groupedNumber.MatchString(s):
		s = strings.NewReplacer(",", "", "_", "").Replace(s)
	case !plainNumber.MatchString(s):
		return billing.Quantity{}, false
	}
	q, err := billing.ParseQuantity(strings.TrimPrefix(s, "+"))
	return q, err == nil
}

// noteQuality records one event's value in a's quality: n is the value
// when it is a number under the API's rules.
func (a *acc) noteQuality(m *Meter, id string, cloned *string, raw []byte, kind byte, n billing.Quantity, isNumber bool) {
	switch {
	case !isNumber:
	case m.Aggregation == billing.AggSum && n.Sign() < 0:
	default:
		return
	}
	if a.qual == nil {
		a.qual = &quality{}
	}
	q := a.qual
	if isNumber {
		q.negative++
		q.negSum = q.negSum.Add(n)
	} else {
		q.uncountable++
		if r, ok := readable(raw, kind); ok {
			q.readable, q.readableN = q.readable.Add(r), q.readableN+1
		}
	}
	q.samples.add(id, cloned)
}

// merge adds o into q (a spilled partition's or a push-down group's).
func (q *quality) merge(o *quality) {
	q.uncountable += o.uncountable
	q.readable, q.readableN = q.readable.Add(o.readable), q.readableN+o.readableN
	q.negative += o.negative
	q.negSum = q.negSum.Add(o.negSum)
	for _, id := range o.samples.list() {
		q.samples.add(id, &id)
	}
}
