package reconcile

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/source"
)

// Merge combines the results of the N shards of one comparison (Shard i/N
// for every i in [0, N), each exactly once) into the result one unsharded
// comparison of the same data finds: the same rows accounting, pair counts
// and discrepancies. A single result with no shard (or 0/1) merges into a
// copy of itself.
//
// Every shard reads its own customers' rows, so the rows accounting is
// summed and checked to split the declared rows exactly (see mergeRows);
// other_shards is zero, as the merge covers them all. Pairs,
// subscriptions and classes are summed and the discrepancies joined, as
// the shards' subscriptions are disjoint. Settle, heal and billing statistics are summed, durations are
// the longest shard's (the shards ran side by side).
func Merge(shards []*Result) (*Result, error) {
	if len(shards) == 0 {
		return nil, errors.New("merge: no results")
	}
	if err := checkCoverage(shards); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	first := shards[0]
	out := &Result{Window: first.Window, Counts: map[Class]int{}, Settle: SettleStats{Budget: first.Settle.Budget}}
	rows, err := mergeRows(shards)
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	out.Rows = rows
	var errs []error
	n := 0
	for _, r := range shards {
		n += len(r.Discrepancies)
	}
	out.Discrepancies = make([]Pair, 0, n)
	meters := map[Meter]bool{}
	for _, r := range shards {
		if !r.Window.From.Equal(first.Window.From) || !r.Window.To.Equal(first.Window.To) {
			errs = append(errs, fmt.Errorf("shard %s compared %s, shard %s %s", shardName(r.Shard), windowName(r.Window), shardName(first.Shard), windowName(first.Window)))
		}
		out.Subscriptions += r.Subscriptions
		out.Pairs += r.Pairs
		out.NotYetReflected += r.NotYetReflected
		for c, k := range r.Counts {
			out.Counts[c] += k
		}
		out.Discrepancies = append(out.Discrepancies, r.Discrepancies...)
		for _, m := range r.Meters {
			if !meters[m] {
				meters[m] = true
				out.Meters = append(out.Meters, m)
			}
		}
		out.Settle.Budget = max(out.Settle.Budget, r.Settle.Budget)
		out.Settle.Polls += r.Settle.Polls
		out.Settle.Settled += r.Settle.Settled
		out.Settle.Elapsed = max(out.Settle.Elapsed, r.Settle.Elapsed)
		out.ScanTime = max(out.ScanTime, r.ScanTime)
		out.SourceBytes += r.SourceBytes
		out.FetchTime = max(out.FetchTime, r.FetchTime)
		out.Heal = mergeHeal(out.Heal, r.Heal)
		out.Invoices = append(out.Invoices, r.Invoices...)
	}
	if out.Bill, err = mergeBill(shards); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	slices.SortFunc(out.Discrepancies, comparePairs)
	slices.SortStableFunc(out.Invoices, func(a, b Invoice) int { return cmp.Compare(a.SubscriptionID, b.SubscriptionID) })
	return out, nil
}

// checkCoverage checks that the shards are i/N for every i in [0, N),
// each exactly once, naming every shard missing or given twice.
func checkCoverage(shards []*Result) error {
	n := max(shards[0].Shard.Count, 1)
	seen := make([]int, n)
	var errs []error
	for _, r := range shards {
		c := max(r.Shard.Count, 1)
		switch {
		case c != n:
			errs = append(errs, fmt.Errorf("shard %s is one of %d, shard %s one of %d: all shards must come from one split", shardName(r.Shard), c, shardName(shards[0].Shard), n))
			continue
		case r.Shard.Index < 0 || r.Shard.Index >= c:
			errs = append(errs, fmt.Errorf("shard %d/%d: the index must be below the count", r.Shard.Index, c))
			continue
		}
		seen[r.Shard.Index]++
	}
	var missing, twice []string
	for i, k := range seen {
		switch {
		case k == 0:
			missing = append(missing, fmt.Sprintf("%d/%d", i, n))
		case k > 1:
			twice = append(twice, fmt.Sprintf("%d/%d (%d times)", i, n, k))
		}
	}
	if len(missing) > 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("missing shards: %s", strings.Join(missing, ", ")))
	}
	if len(twice) > 0 {
		errs = append(errs, fmt.Errorf("shards given more than once: %s", strings.Join(twice, ", ")))
	}
	return errors.Join(errs...)
}

// shardName renders a shard as i/N, the whole as 0/1.
func shardName(s source.Shard) string {
	return fmt.Sprintf("%d/%d", s.Index, max(s.Count, 1))
}

// windowName renders a window as FROM..TO in RFC 3339.
func windowName(w source.Window) string {
	return w.From.UTC().Format(time.RFC3339) + ".." + w.To.UTC().Format(time.RFC3339)
}

// mergeRows merges the rows accounting (see Merge). Each shard read its
// customers' rows and accounted for the rest as other_shards, so what the
// shards read is summed, and the declared rows (every shard declares the
// whole source) and pruned row groups (every shard skips them unread) are
// kept once. The split is then checked: the rows the shards read,
// together, are exactly the declared rows less the pruned, each row read
// by one shard. Shards that read different data (the source changed
// between their runs) fail the check.
func mergeRows(shards []*Result) (Rows, error) {
	first := shards[0].Rows
	out := Rows{Declared: first.Declared, Pruned: first.Pruned}
	var conflicts samples
	for _, r := range shards {
		x := r.Rows
		if x.Declared != first.Declared || x.Pruned != first.Pruned {
			return Rows{}, fmt.Errorf("shard %s declares %d rows (%d pruned), shard %s %d (%d pruned): the source changed between their runs; run them again",
				shardName(r.Shard), x.Declared, x.Pruned, shardName(shards[0].Shard), first.Declared, first.Pruned)
		}
		out.Read += x.Read - x.OtherShards - x.Pruned
		out.Events += x.Events
		out.Invalid += x.Invalid
		out.OutsideWindow += x.OutsideWindow - x.Pruned
		out.Duplicates += x.Duplicates
		out.Conflicting += x.Conflicting
		for _, id := range x.ConflictSamples {
			conflicts.add(id, &id)
		}
		out.Unattributed += x.Unattributed
		out.Foreign += x.Foreign
		out.Unmetered += x.Unmetered
		out.Counted += x.Counted
		out.DedupBytes = max(out.DedupBytes, x.DedupBytes)
	}
	out.Read += out.Pruned
	out.OutsideWindow += out.Pruned
	out.ConflictSamples = conflicts.list()
	if got := out.Events + out.Invalid + out.OutsideWindow; got != out.Declared {
		return Rows{}, fmt.Errorf("the shards read %d rows between them (events, invalid, outside the window), the source declares %d: "+
			"they do not split the rows alike (the source changed between their runs, or they were not one split); run them again", got, out.Declared)
	}
	return out, nil
}

// mergeHeal adds h to sum (nil when neither healed).
func mergeHeal(sum, h *HealStats) *HealStats {
	if h == nil {
		return sum
	}
	if sum == nil {
		sum = &HealStats{}
	}
	sum.Subscriptions += h.Subscriptions
	sum.Resent += h.Resent
	sum.Accepted += h.Accepted
	sum.Duplicates += h.Duplicates
	sum.Failed += h.Failed
	sum.Before += h.Before
	sum.After += h.After
	if sum.FirstError == "" {
		sum.FirstError = h.FirstError
	}
	return sum
}

// mergeBill sums the shards' billing: all of them billed the same period,
// or none did.
func mergeBill(shards []*Result) (*BillStats, error) {
	var out *BillStats
	billed := 0
	for _, r := range shards {
		b := r.Bill
		if b == nil {
			continue
		}
		billed++
		if out == nil {
			out = &BillStats{Period: b.Period, Totals: map[string]billing.Money{}}
		}
		if !b.Period.Start.Equal(out.Period.Start) || !b.Period.End.Equal(out.Period.End) {
			return nil, fmt.Errorf("shard %s billed another period than the others", shardName(r.Shard))
		}
		out.Billed += b.Billed
		out.Created += b.Created
		out.Found += b.Found
		out.Finalized += b.Finalized
		out.Skipped += b.Skipped
		out.Failed += b.Failed
		out.Mismatched += b.Mismatched
		for cur, t := range b.Totals {
			total, err := out.Totals[cur].Add(t)
			if err != nil {
				return nil, fmt.Errorf("sum the billed totals: %w", err)
			}
			out.Totals[cur] = total
		}
	}
	if billed > 0 && billed < len(shards) {
		return nil, fmt.Errorf("%d of %d shards billed: merge the shards of one run", billed, len(shards))
	}
	return out, nil
}
