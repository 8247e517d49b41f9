package sandbox

import (
	"net/http"
	"time"

	"github.com/billharness/billharness/internal/billing"
)

// meterState accumulates one meter over a scan.
type meterState struct {
	sku    *billing.SKU
	count  int64
	sum    billing.Quantity
	max    billing.Quantity
	hasMax bool
	uniq   map[string]struct{}
}

func (m *meterState) quantity() billing.Quantity {
	switch m.sku.Aggregation {
	case billing.AggCount:
		return billing.QuantityFromInt64(m.count)
	case billing.AggSum:
		return m.sum
	case billing.AggMax:
		return m.max // zero when no event carried a number
	case billing.AggUniqueCount:
		return billing.QuantityFromInt64(int64(len(m.uniq)))
	}
	return billing.Quantity{}
}

// usage aggregates sub's events with timestamps in [from, to) that are
// visible at now, one quantity per metered SKU in skus (flat SKUs are
// skipped). It scans the subscription's events once for all meters.
func usage(sub *subscription, skus []*billing.SKU, from, to, now time.Time) []meterState {
	var meters []meterState
	for _, s := range skus {
		if s.MeterEventType != "" {
			meters = append(meters, meterState{sku: s})
		}
	}
	if len(meters) == 0 {
		return meters
	}
	lo, hi, at := clampNanos(from), clampNanos(to), clampNanos(now)
	blocks, types := sub.log.snapshot()
	// byType[t] lists the meters counting event type t.
	byType := make([][]int, len(types))
	for t, name := range types {
		for j := range meters {
			if meters[j].sku.MeterEventType == name {
				byType[t] = append(byType[t], j)
			}
		}
	}
	var scratch []byte
	for _, b := range blocks {
		for i := range b.recs {
			r := &b.recs[i]
			if r.ts < lo || r.ts >= hi || r.visible > at {
				continue
			}
			for _, j := range byType[r.typ] {
				m := &meters[j]
				if m.sku.Aggregation == billing.AggCount {
					m.count += int64(r.mult)
					continue
				}
				raw, kind, ok := lookup(b.props(r), m.sku.MeterProperty)
				if !ok {
					continue
				}
				scratch = m.add(raw, kind, r.mult, scratch)
			}
		}
	}
	return meters
}

// add folds one property value into a Sum, Max or UniqueCount meter.
// Values that do not apply (non-numeric for Sum/Max, null or composite for
// UniqueCount) contribute nothing.
func (m *meterState) add(raw []byte, kind byte, mult uint32, scratch []byte) []byte {
	if m.sku.Aggregation == billing.AggUniqueCount {
		// Distinct by raw JSON text; strings by their decoded value, so
		// "a" and "\u0061" are the same value.
		switch kind {
		case '"':
			scratch = append(scratch[:0], 's')
			scratch = append(scratch, spanText(raw, span{start: 1, end: len(raw) - 1, esc: hasBackslash(raw)})...)
		case '0', 't', 'f':
			scratch = append(append(scratch[:0], 'n'), raw...)
		default:
			return scratch
		}
		if m.uniq == nil {
			m.uniq = map[string]struct{}{}
		}
		if _, ok := m.uniq[string(scratch)]; !ok {
			m.uniq[string(scratch)] = struct{}{}
		}
		return scratch
	}
	q, ok := numeric(raw, kind)
	if !ok {
		return scratch
	}
	switch m.sku.Aggregation {
	case billing.AggSum:
		for range mult {
			m.sum = m.sum.Add(q)
		}
	case billing.AggMax:
		if !m.hasMax || q.Cmp(m.max) > 0 {
			m.max, m.hasMax = q, true
		}
	}
	return scratch
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// numeric reads a JSON number or a numeric string as an exact Quantity.
func numeric(raw []byte, kind byte) (billing.Quantity, bool) {
	switch kind {
	case '0':
	case '"':
		raw = spanText(raw, span{start: 1, end: len(raw) - 1, esc: hasBackslash(raw)})
	default:
		return billing.Quantity{}, false
	}
	q, err := billing.ParseQuantityBytes(raw)
	return q, err == nil
}

// clampNanos converts t to Unix ns, saturating outside the int64 range so
// that windows reaching past year 2262 still compare correctly.
func clampNanos(t time.Time) int64 {
	switch y := t.UTC().Year(); {
	case y < minEventYear:
		return -1 << 63
	case y > maxEventYear:
		return 1<<63 - 1
	}
	return t.UnixNano()
}

// getUsage serves GET /v1/subscriptions/{id}/usage.
func (s *Server) getUsage(c *call) response {
	sub, skus := s.cat.subscription(c.param)
	if sub == nil {
		return s.notFound(c, "subscription")
	}
	from, to := monthOf(c.now)
	q := c.r.URL.Query()
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return s.invalid(c, p.name, p.name+" must be an RFC 3339 timestamp, e.g. 2026-02-01T00:00:00Z")
		}
		*p.dst = t.UTC()
	}
	if !from.Before(to) {
		return s.invalid(c, "to", "to must be after from")
	}
	meters := usage(sub, skus, from, to, c.now)
	out := billing.Usage{
		SubscriptionID: sub.ID,
		CustomerID:     sub.CustomerID,
		PeriodStart:    from,
		PeriodEnd:      to,
		Meters:         make([]billing.MeterUsage, 0, len(meters)),
	}
	for i := range meters {
		m := &meters[i]
		out.Meters = append(out.Meters, billing.MeterUsage{
			SKUID:       m.sku.ID,
			Name:        m.sku.Name,
			EventType:   m.sku.MeterEventType,
			Property:    m.sku.MeterProperty,
			Aggregation: m.sku.Aggregation,
			Quantity:    m.quantity(),
		})
	}
	return s.json(c, http.StatusOK, out)
}
