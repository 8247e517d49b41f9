package reconcile

import (
	"github.com/billharness/billharness/internal/billing"
)

// subState is one subscription in scope: its meters, the totals the source
// implies and what the API last answered.
type subState struct {
	id, customerID string
	known          bool // listed by the API
	// start and trialEnd (Unix nanoseconds) bound what flat fees may charge.
	start, trialEnd int64
	// counted and unmetered count the events attributed to it, metered
	// or not, to take them back should it turn out foreign.
	counted, unmetered int64
	group              *meterGroup
	acc                []acc              // per meter of group
	expected           []billing.Quantity // per meter, after the scan

	polled bool
	err    error                // the last usage call's error
	obs    []observation        // per meter of group, from the last answer
	extra  []billing.MeterUsage // API meters the group lacks, beyond tolerance after classify
	class  []Class              // per meter; "" when neither side has the meter
}

// observation is what the API reported for one meter.
type observation struct {
	present bool
	qty     billing.Quantity
	skuID   string
	// rose records that a re-poll saw the meter appear or its quantity
	// increase: usage still arriving.
	rose bool
}

// finish computes the expected totals and frees the distinct-value sets.
func (st *subState) finish() {
	st.expected = make([]billing.Quantity, len(st.acc))
	for i := range st.acc {
		st.expected[i] = st.acc[i].quantity(st.group.meters[i].Aggregation)
		st.acc[i].uniq = nil
	}
}

// observe records a usage answer.
func (st *subState) observe(u *billing.Usage) {
	obs := make([]observation, len(st.group.meters))
	var extra []billing.MeterUsage
	for j := range u.Meters {
		mu := &u.Meters[j]
		i := st.group.find(mu)
		switch {
		case i < 0 && st.group.fromAPI:
			extra = append(extra, *mu)
		case i >= 0 && !obs[i].present:
			sku := mu.SKUID
			if sku == st.group.meters[i].SKUID {
				sku = st.group.meters[i].SKUID // share the group's string, not one per answer
			}
			obs[i] = observation{present: true, qty: mu.Quantity, skuID: sku}
		}
	}
	if st.obs != nil { // an earlier answer, even if a failed call came between
		for i := range obs {
			prev := st.obs[i]
			obs[i].rose = prev.rose ||
				(obs[i].present && !prev.present) ||
				(obs[i].present && obs[i].qty.Cmp(prev.qty) > 0)
		}
	}
	st.obs, st.extra, st.err, st.polled = obs, extra, nil, true
}

// fail records a failed usage call.
func (st *subState) fail(err error) {
	st.err, st.polled = err, true
}

// classify decides every pair of the subscription and reports whether all
// of them match.
func (st *subState) classify(tol *Tolerance) bool {
	if st.class == nil {
		st.class = make([]Class, len(st.group.meters))
	}
	ok := st.err == nil
	for i, m := range st.group.meters {
		c := st.classOf(i, &m, tol)
		st.class[i] = c
		if c != "" && c != Match {
			ok = false
		}
	}
	// Keep only the unknown meters whose usage is beyond tolerance: each
	// is an unexpected pair.
	kept := st.extra[:0]
	for _, mu := range st.extra {
		if !tol.Within(Meter{Name: mu.Name, Property: mu.Property}, billing.Quantity{}, mu.Quantity) {
			kept = append(kept, mu)
		}
	}
	st.extra = kept
	return ok && len(kept) == 0
}

func (st *subState) classOf(i int, m *Meter, tol *Tolerance) Class {
	events := st.acc[i].events
	switch {
	case !st.known:
		if events == 0 {
			return ""
		}
		return Missing
	case st.err != nil:
		return Error
	case !st.polled:
		return ""
	case !st.obs[i].present:
		if events == 0 {
			return ""
		}
		return Missing
	}
	exp, got := st.expected[i], st.obs[i].qty
	switch {
	case tol.Within(*m, exp, got):
		return Match
	case events == 0:
		return Unexpected
	case got.Cmp(exp) < 0:
		return Under
	}
	return Over
}

// skuOf returns the meter of group the API reports under skuID, or -1.
func (st *subState) skuOf(skuID string) int {
	for i := range st.obs {
		if st.obs[i].present && st.obs[i].skuID == skuID {
			return i
		}
	}
	for i, m := range st.group.meters {
		if m.SKUID != "" && m.SKUID == skuID {
			return i
		}
	}
	return -1
}

// matched reports whether every pair of the subscription matched: API and
// source agree (uncountable values, which they agree on, do not count).
func (st *subState) matched() bool {
	return st.err == nil && st.known && st.discrepancies()-st.uncountable() == 0
}

// discrepancies counts the pairs pairs emits that are not a match, without
// building them.
func (st *subState) discrepancies() int {
	n := len(st.extra) // every extra meter is Unexpected
	for _, c := range st.class {
		if c != "" && c != Match {
			n++
		}
	}
	return n + st.uncountable()
}

// uncountable counts the meters with a data-quality pair.
func (st *subState) uncountable() int {
	n := 0
	for i := range st.acc {
		if st.acc[i].qual != nil && st.known {
			n++
		}
	}
	return n
}

// pairs emits the subscription's pairs.
func (st *subState) pairs(emit func(Pair)) {
	for i, m := range st.group.meters {
		c := st.class[i]
		if c == "" {
			continue
		}
		p := Pair{
			SubscriptionID: st.id, CustomerID: st.customerID,
			Meter: m.Label(), SKUID: m.SKUID, EventType: m.EventType, Property: m.Property, Aggregation: m.Aggregation,
			Measure: MeasureQuantity, Expected: st.expected[i], Class: c, Events: st.acc[i].events,
		}
		if st.polled && st.err == nil && st.obs[i].present {
			p.Observed = st.obs[i].qty
			if p.SKUID == "" {
				p.SKUID = st.obs[i].skuID
			}
		}
		if c != Error { // an API that did not answer has no delta
			p.Delta = p.Observed.Sub(p.Expected)
		}
		p.SampleEventIDs = st.acc[i].samples.list()
		switch c {
		case Missing:
			p.Detail = "meter not in the API's usage"
			if !st.known {
				p.Detail = "subscription not listed by the API"
			}
		case Error:
			p.Detail = st.err.Error()
		}
		p.NotYetReflected = (c == Under || c == Missing) && st.obs != nil && st.obs[i].rose
		emit(p)
	}
	for i, m := range st.group.meters {
		q := st.acc[i].qual
		if q == nil || !st.known {
			continue // an unknown subscription's events are Missing already
		}
		emit(Pair{
			SubscriptionID: st.id, CustomerID: st.customerID,
			Meter: m.Label(), SKUID: m.SKUID, EventType: m.EventType, Property: m.Property, Aggregation: m.Aggregation,
			Measure: MeasureQuantity, Expected: st.expected[i], Observed: st.expected[i], Delta: q.worth(), Class: Uncountable,
			Events: q.uncountable + q.negative, SampleEventIDs: q.samples.list(), Detail: q.detail(),
		})
	}
	for j := range st.extra {
		mu := &st.extra[j]
		emit(Pair{
			SubscriptionID: st.id, CustomerID: st.customerID,
			Meter: mu.Name, SKUID: mu.SKUID, EventType: mu.EventType, Property: mu.Property, Aggregation: mu.Aggregation,
			Measure: MeasureQuantity, Observed: mu.Quantity, Delta: mu.Quantity, Class: Unexpected,
			Detail: "meter not known when the run started",
		})
	}
}
