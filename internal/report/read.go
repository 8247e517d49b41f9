package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/billharness/billharness/internal/reconcile"
	"github.com/billharness/billharness/internal/source"
)

// Read reads back the report Write wrote into dir, from summary.json and
// discrepancies.jsonl, so that reports can be merged: writing what Read
// returns writes the same files again. What the files do not keep is left
// zero in the Result: the meters and the invoices' list (their counts and
// total are kept). The Result is nil when the run failed before comparing.
func Read(dir string) (*Report, error) {
	r, err := ReadSummary(dir)
	if err != nil || r.Result == nil {
		return r, err
	}
	if r.Result.Discrepancies, err = readRows(filepath.Join(dir, JSONLFile)); err != nil {
		return nil, err
	}
	return r, nil
}

// ReadSummary reads a report as Read does, without its discrepancy rows
// (see MergedPairs).
func ReadSummary(dir string) (*Report, error) {
	var s Summary
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read report %s: %w", filepath.Join(dir, SummaryFile), err)
	}
	r := &Report{
		RunID: s.RunID, Command: s.Command, GeneratedAt: s.GeneratedAt, Source: s.Source, Target: s.Target,
		Tolerance: s.Tolerance, ExitStatus: s.ExitStatus, Error: s.Error,
	}
	r.Replay = s.Replay
	if s.Window.From.IsZero() && s.Window.To.IsZero() {
		return r, nil // failed before comparing: there is no result
	}
	res, err := result(&s)
	if err != nil {
		return nil, fmt.Errorf("read report %s: %w", filepath.Join(dir, SummaryFile), err)
	}
	r.Result = res
	return r, nil
}

// result rebuilds the comparison's numbers from a summary.
func result(s *Summary) (*reconcile.Result, error) {
	res := &reconcile.Result{
		Window: source.Window{From: s.Window.From, To: s.Window.To},
		Rows:   s.Rows, Subscriptions: s.Subscriptions, Pairs: s.Pairs, NotYetReflected: s.NotYetReflected,
		Counts: map[reconcile.Class]int{}, Heal: s.Heal,
		ScanTime: seconds(s.ScanSeconds), FetchTime: seconds(s.FetchSeconds), SourceBytes: s.SourceBytes, Pushdown: s.Pushdown,
	}
	var errs []error
	if s.Shard != "0/1" {
		sh, err := source.ParseShard(s.Shard)
		if err != nil {
			errs = append(errs, fmt.Errorf("shard: %w", err))
		}
		res.Shard = sh
	}
	for c, n := range s.Classes {
		res.Counts[reconcile.Class(c)] = n
	}
	var err error
	res.Settle = reconcile.SettleStats{Polls: s.Settle.Polls, Settled: s.Settle.Settled}
	if res.Settle.Budget, err = time.ParseDuration(s.Settle.Budget); err != nil {
		errs = append(errs, fmt.Errorf("settle budget: %w", err))
	}
	if res.Settle.Elapsed, err = time.ParseDuration(s.Settle.Elapsed); err != nil {
		errs = append(errs, fmt.Errorf("settle elapsed: %w", err))
	}
	if inv := s.Invoices; inv != nil {
		b := inv.BillStats
		b.Period.Start, b.Period.End = inv.Period.From, inv.Period.To
		res.Bill = &b
	}
	return res, errors.Join(errs...)
}

// seconds turns the summary's float seconds back into a duration, to the
// nanosecond it was written from.
func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s * float64(time.Second)))
}

// readRows reads discrepancies.jsonl back into pairs, streaming: a report
// can hold a pair per (subscription, meter) of the run.
func readRows(path string) ([]reconcile.Pair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 64<<10))
	dec.DisallowUnknownFields()
	var pairs []reconcile.Pair
	for line := 1; ; line++ {
		var row Row
		err := dec.Decode(&row)
		if err == io.EOF {
			return pairs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read report %s: row %d: %w", path, line, err)
		}
		pairs = append(pairs, pairOf(row))
	}
}

// pairOf is the inverse of rowOf; RelDelta is derived, so it is dropped.
func pairOf(r Row) reconcile.Pair {
	p := reconcile.Pair{
		SubscriptionID: r.SubscriptionID, CustomerID: r.CustomerID, Meter: r.Meter, SKUID: r.SKUID,
		EventType: r.EventType, Property: r.Property, Aggregation: r.Aggregation, Measure: r.Measure,
		Class: r.Class, Expected: r.Expected, Observed: r.Observed, Delta: r.Delta,
		NotYetReflected: r.NotYetReflected, Events: r.Events, SampleEventIDs: r.SampleEventIDs,
		InvoiceID: r.InvoiceID, Currency: r.Currency, Money: r.MoneyNanos, Detail: r.Detail,
	}
	if len(p.SampleEventIDs) == 0 {
		p.SampleEventIDs = nil
	}
	return p
}
