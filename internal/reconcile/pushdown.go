package reconcile

import (
	"context"
	"fmt"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/source"
)

// Pushdown modes (Config.Pushdown).
const (
	// PushdownAuto computes the totals in PostgreSQL when the source can
	// follow the streaming rules exactly (see source.Aggregate), else
	// streams.
	PushdownAuto = "auto"
	// PushdownOn requires it: a source that cannot is an error.
	PushdownOn = "on"
	// PushdownOff always streams every event.
	PushdownOff = "off"
)

// pushdown computes the expected totals from the aggregates PostgreSQL
// computes per (subscription, customer, event type): one row per group
// crosses the wire, and the ledger attributes each group as it would
// each of its events.
func (l *ledger) pushdown(ctx context.Context, spec source.Spec) error {
	var props []source.PropertyAggregate
	index := map[string]int{}
	groups := []*meterGroup{l.fallback}
	for _, g := range l.byPlan {
		groups = append(groups, g)
	}
	for _, g := range groups {
		for _, m := range g.meters {
			if m.Aggregation == billing.AggCount || m.Property == "" {
				continue
			}
			i, ok := index[m.Property]
			if !ok {
				i = len(props)
				index[m.Property] = i
				props = append(props, source.PropertyAggregate{Name: m.Property})
			}
			if m.Aggregation == billing.AggUniqueCount {
				props[i].Distinct = true
			} else {
				props[i].Numeric = true
			}
		}
	}
	a, err := source.Aggregate(ctx, spec, props)
	if err != nil {
		return err
	}
	if err := l.account(a.Stats); err != nil {
		return err
	}
	l.rows.Duplicates, l.rows.Conflicting = a.Duplicates, a.Conflicting
	for _, id := range a.ConflictSamples {
		l.conflicts.add(id, &id)
	}
	for i := range a.Groups {
		if err := l.addGroup(&a.Groups[i], index); err != nil {
			return err
		}
	}
	l.finish()
	return nil
}

// addGroup counts one group's events as add counts each of them.
func (l *ledger) addGroup(g *source.Group, index map[string]int) error {
	ev := source.Event{SubscriptionID: g.SubscriptionID, CustomerID: g.CustomerID}
	st, why := l.attribute(&ev)
	switch why {
	case unattributed:
		l.rows.Unattributed += g.Events
		return nil
	case foreign:
		l.rows.Foreign += g.Events
		return nil
	}
	idx := st.group.of(g.EventType)
	if len(idx) == 0 {
		l.rows.Unmetered += g.Events
		st.unmetered += g.Events
		return nil
	}
	l.rows.Counted += g.Events
	st.counted += g.Events
	for _, i := range idx {
		m, a := &st.group.meters[i], &st.acc[i]
		a.events += g.Events
		for _, id := range g.Samples {
			a.samples.add(id, &id)
		}
		if m.Aggregation == billing.AggCount {
			continue
		}
		pv := g.Props[index[m.Property]]
		switch m.Aggregation {
		case billing.AggUniqueCount:
			if a.uniq == nil && len(pv.Distinct) > 0 {
				a.uniq = map[string]struct{}{}
			}
			for _, k := range pv.Distinct {
				a.uniq[k] = struct{}{}
			}
		case billing.AggSum:
			if pv.Sum != "" {
				q, err := billing.ParseQuantity(pv.Sum)
				if err != nil {
					return fmt.Errorf("push-down sum of %s: %w", m.Property, err)
				}
				a.sum = a.sum.Add(q)
			}
			if err := a.addQuality(pv, true); err != nil {
				return fmt.Errorf("push-down values of %s: %w", m.Property, err)
			}
		case billing.AggMax:
			if err := a.addQuality(pv, false); err != nil {
				return fmt.Errorf("push-down values of %s: %w", m.Property, err)
			}
			if pv.Max != "" {
				q, err := billing.ParseQuantity(pv.Max)
				if err != nil {
					return fmt.Errorf("push-down max of %s: %w", m.Property, err)
				}
				if !a.hasMax || q.Cmp(a.max) > 0 {
					a.max, a.hasMax = q, true
				}
			}
		}
	}
	return nil
}

// addQuality adds a group's uncountable values, and for a Sum its
// negative ones, to a's quality.
func (a *acc) addQuality(pv source.PropertyValues, sum bool) error {
	o := quality{uncountable: pv.Uncountable, readableN: pv.Readable}
	ids := pv.UncountableIDs
	if sum {
		o.negative = pv.Negative
		ids = append(ids, pv.NegativeIDs...)
	}
	if o.uncountable == 0 && o.negative == 0 {
		return nil
	}
	for _, f := range []struct {
		text string
		dst  *billing.Quantity
		use  bool
	}{{pv.ReadableSum, &o.readable, true}, {pv.NegativeSum, &o.negSum, sum}} {
		if f.text == "" || !f.use {
			continue
		}
		q, err := billing.ParseQuantity(f.text)
		if err != nil {
			return err
		}
		*f.dst = q
	}
	for _, id := range ids {
		o.samples.add(id, &id)
	}
	if a.qual == nil {
		a.qual = &quality{}
	}
	a.qual.merge(&o)
	return nil
}
