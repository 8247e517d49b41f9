package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/jsonscan"
	"github.com/billharness/billharness/internal/source"
)

// maxSamples is how many event ids a pair keeps to show in reports.
const maxSamples = 3

// Rows accounts for every row of the source. Once the scan is complete,
//
//	Declared == Events + Invalid + OutsideWindow + OtherShards
//	Events   == Counted + Duplicates + Conflicting + Unattributed + Foreign + Unmetered
type Rows struct {
	// Declared is what the source declares: the Parquet footers' row
	// counts, or COUNT(*) of the window in PostgreSQL, of every shard.
	Declared int64 `json:"declared"`
	// Read is the rows the reader went through, valid or not, in the
	// window or not. A complete scan reads every declared row.
	Read int64 `json:"read"`
	// Events counts valid events in the window.
	Events int64 `json:"events"`
	// Invalid counts rows that failed validation (no id, bad timestamp…);
	// the API would refuse them too.
	Invalid int64 `json:"invalid"`
	// OutsideWindow counts rows with timestamps outside the window.
	OutsideWindow int64 `json:"outside_window"`
	// Pruned counts, of OutsideWindow, the rows of Parquet row groups
	// whose statistics lie outside the window: not read, so every shard
	// counts them.
	Pruned int64 `json:"pruned,omitempty"`
	// OtherShards counts rows of other shards' customers, which the
	// reader skipped before decoding them (or the database never sent).
	OtherShards int64 `json:"other_shards"`
	// Duplicates counts events whose id was seen before with the same
	// payload: counted once.
	Duplicates int64 `json:"duplicates"`
	// Conflicting counts events whose id was seen before with another
	// payload: the API counts the first copy in source order (replay
	// sends copies of an id in that order), so these count for nothing,
	// and the source holds two versions of one event that someone must
	// settle. ConflictSamples names a few of their ids.
	Conflicting     int64    `json:"conflicting_duplicates"`
	ConflictSamples []string `json:"conflict_samples,omitempty"`
	// Unattributed counts events without subscription_id whose customer
	// has no subscription in the API: they count toward nothing.
	Unattributed int64 `json:"unattributed"`
	// Foreign counts events naming a subscription of another customer,
	// which the API refuses.
	Foreign int64 `json:"foreign"`
	// Unmetered counts events of a type no meter counts.
	Unmetered int64 `json:"unmetered"`
	// Counted counts events that went into at least one meter.
	Counted int64 `json:"counted"`
	// DedupBytes is the memory of the id set that deduplicates events
	// (of the largest partition's, when spilled).
	DedupBytes int64 `json:"dedup_bytes"`
	// SpillPartitions is how many partitions the scan spilled events to,
	// by id, to stay within its memory limit (0: none); SpillBytes is
	// what it wrote to the work directory.
	SpillPartitions int   `json:"spill_partitions,omitempty"`
	SpillBytes      int64 `json:"spill_bytes,omitempty"`
}

// Complete reports whether every declared row was read.
func (r Rows) Complete() bool { return r.Read == r.Declared }

// ErrIncomplete means the source yielded fewer rows than it declares: a
// comparison over part of the data must fail, not pass.
var ErrIncomplete = errors.New("source read incomplete")

// acc accumulates one (subscription, meter) pair over the scan.
type acc struct {
	events  int64 // events of the meter's type, for Count and to tell "no events" apart
	sum     billing.Quantity
	max     billing.Quantity
	hasMax  bool
	uniq    map[string]struct{} // UniqueCount: memory grows with distinct values
	samples samples             // the smallest ids counted
	qual    *quality            // values the API counts as nothing, or negative
}

// quantity is the pair's total under agg.
func (a *acc) quantity(agg string) billing.Quantity {
	switch agg {
	case billing.AggCount:
		return billing.QuantityFromInt64(a.events)
	case billing.AggSum:
		return a.sum
	case billing.AggMax:
		return a.max // zero when no event carried a number, as the API says
	case billing.AggUniqueCount:
		return billing.QuantityFromInt64(int64(len(a.uniq)))
	}
	return billing.Quantity{}
}

// ledger computes the expected totals of the subscriptions in scope.
type ledger struct {
	dir         *directory
	shards      int   // how many shards the source is split in
	memoryLimit int64 // see Config.MemoryLimit
	workDir     string
	sourceBytes int64                  // read from the source by the scan
	byPlan      map[string]*meterGroup // the API's meters, per plan
	fallback    *meterGroup            // a file's meters, or every meter the API has
	subs        map[string]*subState   // every subscription the shard's events name or the API lists
	rows        Rows
	conflicts   samples // of Rows.ConflictSamples
	ids         *idSet
	scratch     []byte
}

// group returns the meters of subscription id.
func (l *ledger) group(id string) *meterGroup {
	if s, ok := l.dir.subs[id]; ok && l.byPlan != nil {
		if g := l.byPlan[s.PlanID]; g != nil {
			return g
		}
	}
	return l.fallback
}

// state returns the state of subscription id, creating it.
func (l *ledger) state(id string) *subState {
	if st, ok := l.subs[id]; ok {
		return st
	}
	st := &subState{id: strings.Clone(id)} // the reader's id shares a whole batch's memory
	if s, ok := l.dir.subs[id]; ok {
		st.id, st.customerID, st.known = s.ID, s.CustomerID, true
		st.start, st.trialEnd = unixNano(s.CreatedAt), unixNano(s.CreatedAt)
		if s.TrialDays != nil {
			st.trialEnd = unixNano(s.CreatedAt.AddDate(0, 0, *s.TrialDays))
		}
	}
	l.subs[st.id] = st
	st.group = l.group(id)
	st.acc = make([]acc, len(st.group.meters))
	return st
}

// unixNano is t in Unix nanoseconds, saturated outside 1678–2262.
func unixNano(t time.Time) int64 {
	switch y := t.Year(); {
	case y < 1678:
		return math.MinInt64
	case y > 2261:
		return math.MaxInt64
	}
	return t.UnixNano()
}

// attribute returns the subscription ev counts toward (see newDirectory
// for the rule), or why it counts toward none. A subscription the API does
// not list gets a state too: its usage is missing from the API.
func (l *ledger) attribute(ev *source.Event) (*subState, int) {
	if ev.SubscriptionID == "" {
		id, ok := l.dir.first[ev.CustomerID]
		if !ok {
			return nil, unattributed
		}
		return l.state(id), attributed
	}
	// One map lookup per event once the subscription has been seen.
	st, ok := l.subs[ev.SubscriptionID]
	if !ok {
		st = l.state(ev.SubscriptionID)
	}
	if st.known && st.customerID != ev.CustomerID {
		return nil, foreign
	}
	return st, attributed
}

// scan streams r into the totals and checks that it read every row.
func (l *ledger) scan(ctx context.Context, r source.Reader) error {
	// Size for the shard's part: PostgreSQL counts it, a Parquet shard
	// expects about its share, with room for skew (the id set grows past
	// it; only memory depends on the guess, never the answer).
	st0 := r.Stats()
	expected := st0.Declared - st0.SkippedShard
	if n := int64(l.shards); n > 1 && st0.SkippedShard == 0 {
		expected = expected/n + expected/(2*n)
	}
	var n int64
	var err error
	if parts := partitions(expected, l.memoryLimit); parts > 1 {
		n, err = l.scanSpilled(ctx, r, parts, l.workDir)
	} else {
		n, err = l.scanInMemory(ctx, r, expected)
	}
	if err != nil {
		return err
	}
	st := r.Stats()
	if n != st.Emitted {
		return fmt.Errorf("%w: the reader yielded %d events but counted %d", ErrIncomplete, n, st.Emitted)
	}
	if err := l.account(st); err != nil {
		return err
	}
	l.finish()
	return nil
}

// account sets the rows from what the reader (or the database) saw, and
// checks that every declared row was accounted for.
func (l *ledger) account(st source.Stats) error {
	l.rows.Declared = st.Declared
	l.rows.Events = st.Emitted
	l.rows.Invalid = st.Invalid
	l.rows.OutsideWindow = st.SkippedWindow
	l.rows.Pruned = st.Pruned
	l.rows.OtherShards = st.SkippedShard
	l.rows.Read = st.Emitted + st.Invalid + st.SkippedWindow + st.SkippedShard + st.SkippedResume
	l.sourceBytes = st.BytesRead
	if !l.rows.Complete() {
		return fmt.Errorf("%w: the source declares %d rows, %d were read", ErrIncomplete, l.rows.Declared, l.rows.Read)
	}
	return nil
}

// scanInMemory is ledger.scan's loop with one id set for every event.
func (l *ledger) scanInMemory(ctx context.Context, r source.Reader, expected int64) (int64, error) {
	l.ids = newIDSet(expected)
	defer func() {
		l.rows.DedupBytes = l.ids.bytes()
		l.ids = nil // the only per-event memory: release it before fetching
	}()
	var n int64
	for {
		rec, err := r.Next(ctx)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			if re := (*source.RecordError)(nil); errors.As(err, &re) {
				continue // counted by the reader's Invalid
			}
			return n, fmt.Errorf("read source: %w", err)
		}
		n++
		l.add(&rec.Event)
	}
}

// add counts one event.
func (l *ledger) add(ev *source.Event) {
	if fresh, same := l.ids.add(ev.ID, l.ids.payloadHash(ev)); !fresh {
		if same {
			l.rows.Duplicates++
			return
		}
		l.rows.Conflicting++
		cloned := ""
		l.conflicts.add(ev.ID, &cloned)
		return
	}
	st, why := l.attribute(ev)
	switch {
	case why == unattributed:
		l.rows.Unattributed++
		return
	case why == foreign:
		l.rows.Foreign++
		return
	}
	idx := st.group.of(ev.EventType)
	if len(idx) == 0 {
		l.rows.Unmetered++
		st.unmetered++
		return
	}
	l.rows.Counted++
	st.counted++
	cloned := ""
	for _, i := range idx {
		m, a := &st.group.meters[i], &st.acc[i]
		a.events++
		a.samples.add(ev.ID, &cloned)
		if m.Aggregation == billing.AggCount {
			continue
		}
		raw, kind, ok := jsonscan.Lookup(ev.Properties, m.Property)
		if !ok {
			continue
		}
		l.fold(m, a, raw, kind, ev.ID, &cloned)
	}
}

// fold adds one property value to a Sum, Max or UniqueCount pair, noting
// the values the API cannot count.
func (l *ledger) fold(m *Meter, a *acc, raw []byte, kind byte, id string, cloned *string) {
	if m.Aggregation == billing.AggUniqueCount {
		var ok bool
		if l.scratch, ok = distinctKey(l.scratch, raw, kind); !ok {
			return
		}
		if a.uniq == nil {
			a.uniq = map[string]struct{}{}
		}
		if _, seen := a.uniq[string(l.scratch)]; !seen {
			a.uniq[string(l.scratch)] = struct{}{}
		}
		return
	}
	q, ok := numeric(raw, kind)
	if !ok || q.Sign() < 0 {
		a.noteQuality(m, id, cloned, raw, kind, q, ok)
	}
	if !ok {
		return
	}
	switch m.Aggregation {
	case billing.AggSum:
		a.sum = a.sum.Add(q)
	case billing.AggMax:
		if !a.hasMax || q.Cmp(a.max) > 0 {
			a.max, a.hasMax = q, true
		}
	}
}

// finish turns the accumulators into expected totals and frees the
// distinct-value sets.
func (l *ledger) finish() {
	for _, st := range l.subs {
		st.finish()
	}
	l.rows.ConflictSamples = l.conflicts.list()
}

// foreign takes back what st's events counted: its subscription turned
// out to be another shard's customer's, so the API refuses them.
func (l *ledger) foreign(st *subState) {
	l.rows.Counted -= st.counted
	l.rows.Unmetered -= st.unmetered
	l.rows.Foreign += st.counted + st.unmetered
	delete(l.subs, st.id)
}

// samples keeps the maxSamples smallest ids it is given, sorted: which
// ids are kept does not depend on the order events are read in (shards,
// spilled partitions, push-down groups).
type samples struct {
	ids [maxSamples]string
	n   int8
}

// add keeps id if it is among the smallest. *cloned is the id's copy,
// made on first need and shared by every set that keeps it: a reader's id
// shares a whole batch's memory. An id the caller owns is its own copy.
func (s *samples) add(id string, cloned *string) {
	n := int(s.n)
	if n == maxSamples && id >= s.ids[n-1] {
		return
	}
	i, found := slices.BinarySearch(s.ids[:n], id)
	if found {
		return
	}
	if *cloned == "" {
		*cloned = strings.Clone(id)
	}
	if n < maxSamples {
		n++
		s.n++
	}
	copy(s.ids[i+1:n], s.ids[i:n-1])
	s.ids[i] = *cloned
}

// list returns the ids kept, nil for none.
func (s *samples) list() []string {
	if s.n == 0 {
		return nil
	}
	return slices.Clone(s.ids[:s.n])
}
