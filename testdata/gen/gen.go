package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"
)

// Shares of the rows that real sources carry and a harness must cope with.
const (
	outsideShare   = 0.01  // timestamps in the two days around the month
	duplicateShare = 0.005 // a recent event re-emitted whole, same id
	outsideHours   = 48
)

// summary counts what was generated; it is written as manifest.json and
// printed.
type summary struct {
	Seed          uint64   `json:"seed"`
	Month         string   `json:"month"`
	Events        int      `json:"events"`
	UniqueIDs     int      `json:"unique_ids"`
	Duplicates    int      `json:"duplicates"`
	OutsideMonth  int      `json:"outside_month"`
	Customers     int      `json:"customers"`
	Subscriptions int      `json:"subscriptions"`
	ByType        ByType   `json:"by_type"`
	Files         []string `json:"files,omitempty"`
	RowGroupRows  int      `json:"row_group_rows,omitempty"`
}

// ByType counts rows per event type.
type ByType map[string]int

func run(args []string, stdout io.Writer) error {
	c, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return err
	}
	if c.Scenario == "month-end" {
		return monthEnd(c)
	}
	return generate(c, stdout)
}

// sink receives the events in order.
type sink interface {
	write(e *event) error
	close() error
}

func generate(c config, stdout io.Writer) error {
	r := rand.New(rand.NewPCG(c.Seed, 0x6269_6c6c_6861_726e))
	w := newWorld(r, c)
	sum := summary{Seed: c.Seed, Month: c.Month.Format("2006-01"), Events: c.Events, Customers: c.Customers,
		Subscriptions: len(w.seed.Subscriptions), ByType: ByType{}}
	if c.wants("seed") {
		if err := writeJSON(filepath.Join(c.Out, "seed.json"), w.seed); err != nil {
			return err
		}
	}
	var sinks []sink
	var pq *parquetSink
	if c.wants("parquet") {
		pq = newParquetSink(c)
		sinks = append(sinks, pq)
	}
	if c.wants("copy") {
		cs, err := newCopySink(c.Out)
		if err != nil {
			return err
		}
		sinks = append(sinks, cs)
	}
	if c.wants("jsonl") {
		js, err := newJSONLSink(c.Out)
		if err != nil {
			return err
		}
		sinks = append(sinks, js)
	}
	err := timeline(r, c, w, func(e *event, dup bool) error {
		if dup {
			sum.Duplicates++
		}
		if e.ts.Before(c.Month) || !e.ts.Before(c.Month.AddDate(0, 1, 0)) {
			sum.OutsideMonth++
		}
		sum.ByType[e.eventType]++
		for _, s := range sinks {
			if err := s.write(e); err != nil {
				return err
			}
		}
		return nil
	})
	for _, s := range sinks {
		if cerr := s.close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return err
	}
	sum.UniqueIDs = sum.Events - sum.Duplicates
	if pq != nil {
		sum.Files, sum.RowGroupRows = pq.names, c.RowGroup
	}
	if err := writeJSON(filepath.Join(c.Out, "manifest.json"), sum); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d events (%d duplicates, %d outside %s), %d customers, %d subscriptions\n",
		c.Out, sum.Events, sum.Duplicates, sum.OutsideMonth, sum.Month, sum.Customers, sum.Subscriptions)
	return nil
}

// timeline draws c.Events rows in time order: each row's hour follows a
// daily cycle (busiest mid-afternoon UTC, quieter at weekends), with a
// small share in the days around the month; a few rows re-emit a recent
// event whole. emit sees every row once, in order.
func timeline(r *rand.Rand, c config, w *world, emit func(e *event, dup bool) error) error {
	start := c.Month.Add(-outsideHours * time.Hour)
	monthHours := int(c.Month.AddDate(0, 1, 0).Sub(c.Month).Hours())
	hours := monthHours + 2*outsideHours
	weights := make([]float64, hours)
	var inside float64
	for h := range weights {
		t := start.Add(time.Duration(h) * time.Hour)
		if h < outsideHours || h >= outsideHours+monthHours {
			continue
		}
		wt := 1 + 0.7*math.Sin(2*math.Pi*float64(t.Hour()-9)/24)
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			wt *= 0.6
		}
		weights[h] = wt
		inside += wt
	}
	outside := inside * outsideShare / (1 - outsideShare) / float64(2*outsideHours)
	cum := make([]float64, hours)
	var total float64
	for h := range weights {
		if weights[h] == 0 {
			weights[h] = outside
		}
		total += weights[h]
		cum[h] = total
	}
	// A multinomial draw of rows per hour: memory is per hour, not per row.
	counts := make([]int, hours)
	for range c.Events {
		counts[sort.SearchFloat64s(cum, r.Float64()*total)]++
	}
	recent := make([]event, 0, 1000)
	var offsets []int64
	for h, n := range counts {
		base := start.Add(time.Duration(h) * time.Hour)
		offsets = offsets[:0]
		for range n {
			offsets = append(offsets, r.Int64N(int64(time.Hour/time.Microsecond)))
		}
		slices.Sort(offsets)
		for _, off := range offsets {
			if len(recent) > 0 && r.Float64() < duplicateShare {
				e := recent[r.IntN(len(recent))]
				if err := emit(&e, true); err != nil {
					return err
				}
				continue
			}
			ts := base.Add(time.Duration(off) * time.Microsecond)
			e := w.newEvent(r, ts, c.Month)
			if len(recent) < cap(recent) {
				recent = append(recent, e)
			} else {
				recent[r.IntN(len(recent))] = e
			}
			if err := emit(&e, false); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
