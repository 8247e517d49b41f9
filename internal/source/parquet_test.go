package source

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

const sample = "../../testdata/sample"

// manifest is the generator's count of the committed sample.
type manifest struct {
	Events, UniqueIDs, Duplicates, OutsideMonth, Subscriptions int
	Month                                                      string
}

func readManifest(t *testing.T) manifest {
	t.Helper()
	b, err := os.ReadFile(sample + "/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Events        int    `json:"events"`
		UniqueIDs     int    `json:"unique_ids"`
		Duplicates    int    `json:"duplicates"`
		OutsideMonth  int    `json:"outside_month"`
		Subscriptions int    `json:"subscriptions"`
		Month         string `json:"month"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return manifest{m.Events, m.UniqueIDs, m.Duplicates, m.OutsideMonth, m.Subscriptions, m.Month}
}

func sampleSpec() Spec { return Spec{Kind: KindParquet, Path: sample + "/parquet"} }

func TestSampleFullScan(t *testing.T) {
	m := readManifest(t)
	r := openSpec(t, sampleSpec())
	recs, bad := readAll(t, r)
	if len(bad) != 0 || len(recs) != m.Events {
		t.Fatalf("read %d events and %d errors, want %d and 0", len(recs), len(bad), m.Events)
	}
	ids, subs := map[string]bool{}, map[string]bool{}
	outside := 0
	month, _ := ParseWindow(m.Month)
	for i, rec := range recs {
		ids[rec.Event.ID] = true
		subs[rec.Event.SubscriptionID] = true
		if !month.Contains(rec.Event.Timestamp) {
			outside++
		}
		if i > 0 && !recs[i-1].Pos.Less(rec.Pos) {
			t.Fatalf("position %v after %v: want strictly increasing", rec.Pos, recs[i-1].Pos)
		}
	}
	if len(ids) != m.UniqueIDs || outside != m.OutsideMonth || len(subs) > m.Subscriptions {
		t.Errorf("unique ids, outside month, subscriptions = %d, %d, %d; want %d, %d, <= %d",
			len(ids), outside, len(subs), m.UniqueIDs, m.OutsideMonth, m.Subscriptions)
	}
	if st := r.Stats(); st.Declared != int64(m.Events) || st.Emitted != int64(m.Events) {
		t.Errorf("Stats() = %+v, want %d declared and emitted", st, m.Events)
	}
}

func TestSampleWindow(t *testing.T) {
	m := readManifest(t)
	month, _ := ParseWindow(m.Month)
	spec := sampleSpec()
	spec.Window = month
	r := openSpec(t, spec)
	recs, _ := readAll(t, r)
	if want := m.Events - m.OutsideMonth; len(recs) != want {
		t.Errorf("events in %s = %d, want %d", m.Month, len(recs), want)
	}
	for _, rec := range recs {
		if !month.Contains(rec.Event.Timestamp) {
			t.Fatalf("event %s at %v outside the window", rec.Event.ID, rec.Event.Timestamp)
		}
	}
	checkBalance(t, r.Stats())

	// A narrow window inside one file lets statistics skip row groups.
	spec.Window = Window{From: time.Date(2026, 10, 14, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC)}
	r = openSpec(t, spec)
	recs, _ = readAll(t, r)
	st := r.Stats()
	if st.RowGroupsSkipped == 0 || len(recs) == 0 {
		t.Errorf("narrow window: %d events, Stats() = %+v, want some events and skipped row groups", len(recs), st)
	}
	checkBalance(t, st)
}

// checkBalance asserts the completeness invariant of Stats.
func checkBalance(t *testing.T, st Stats) {
	t.Helper()
	if sum := st.Emitted + st.Invalid + st.SkippedWindow + st.SkippedShard + st.SkippedResume; sum != st.Declared {
		t.Errorf("Stats() = %+v: emitted+invalid+skipped = %d, want declared %d", st, sum, st.Declared)
	}
}

func TestSampleShards(t *testing.T) {
	const n = 4
	all, _ := readAll(t, openSpec(t, sampleSpec()))
	seen := map[Position]int{}
	custShard := map[string]int{}
	for i := range n {
		spec := sampleSpec()
		spec.Shard = Shard{Index: i, Count: n}
		r := openSpec(t, spec)
		recs, _ := readAll(t, r)
		if len(recs) == 0 {
			t.Errorf("shard %d/%d is empty", i, n)
		}
		for _, rec := range recs {
			seen[rec.Pos]++
			if s, ok := custShard[rec.Event.CustomerID]; ok && s != i {
				t.Fatalf("customer %s in shards %d and %d", rec.Event.CustomerID, s, i)
			}
			custShard[rec.Event.CustomerID] = i
			if got := ShardOf(rec.Event.CustomerID, n); got != i {
				t.Fatalf("ShardOf(%s, %d) = %d, read by shard %d", rec.Event.CustomerID, n, got, i)
			}
		}
		checkBalance(t, r.Stats())
	}
	if len(seen) != len(all) {
		t.Errorf("union of %d shards = %d records, want %d", n, len(seen), len(all))
	}
	for _, rec := range all {
		if seen[rec.Pos] != 1 {
			t.Errorf("record at %v read by %d shards, want 1", rec.Pos, seen[rec.Pos])
		}
	}
}

func TestSampleResume(t *testing.T) {
	all, _ := readAll(t, openSpec(t, sampleSpec()))
	// Stop points: the first record, inside a batch, the last row of a row
	// group, the last row of a file, the last record.
	cuts := []int{0, 1500, 4999, 5000, len(all) / 3, len(all) - 1}
	for _, cut := range cuts {
		t.Run(all[cut].Pos.String(), func(t *testing.T) {
			// The checkpoint goes through JSON, as replay saves it.
			b, err := json.Marshal(all[cut].Pos)
			if err != nil {
				t.Fatal(err)
			}
			var after Position
			if err := json.Unmarshal(b, &after); err != nil {
				t.Fatal(err)
			}
			spec := sampleSpec()
			spec.After = after
			r := openSpec(t, spec)
			rest, _ := readAll(t, r)
			want := all[cut+1:]
			if len(rest) != len(want) {
				t.Fatalf("resumed after %v: %d events, want %d", after, len(rest), len(want))
			}
			for i := range want {
				if rest[i].Pos != want[i].Pos || rest[i].Event.ID != want[i].Event.ID {
					t.Fatalf("resumed event %d = %s at %v, want %s at %v", i, rest[i].Event.ID, rest[i].Pos, want[i].Event.ID, want[i].Pos)
				}
			}
			st := r.Stats()
			if st.SkippedResume != int64(cut+1) {
				t.Errorf("Stats().SkippedResume = %d, want %d", st.SkippedResume, cut+1)
			}
			checkBalance(t, st)
		})
	}
}

func TestNextHonoursContext(t *testing.T) {
	r := openSpec(t, sampleSpec())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next(cancelled) error = %v, want context.Canceled", err)
	}
}

func TestClosedReader(t *testing.T) {
	r := openSpec(t, sampleSpec())
	if _, err := r.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if _, err := r.Next(context.Background()); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("Next() after Close = %v, want an error", err)
	}
}

func TestFindFiles(t *testing.T) {
	tests := []struct {
		path string
		want int
	}{
		{sample + "/parquet", 3},
		{sample + "/parquet/dt=*/*.parquet", 3},
		{sample + "/parquet/dt=2026-09-29/part-0000.parquet", 1},
		{fixtures + "/duckdb", 4},
	}
	for _, tt := range tests {
		got, err := findFiles(tt.path)
		if err != nil || len(got) != tt.want {
			t.Errorf("findFiles(%s) = %d files, %v; want %d", tt.path, len(got), err, tt.want)
		}
	}
}

// Skipping files and row groups on their statistics loses no row of the
// window: every windowed read equals the full read filtered by the
// window, whether the window misses whole files or only row groups.
func TestWindowPruningLosesNothing(t *testing.T) {
	all, _ := readAll(t, openSpec(t, sampleSpec()))
	if m := readManifest(t); len(all) != m.Events {
		t.Fatalf("full read: %d records, the manifest says %d", len(all), m.Events)
	}
	pruned := false
	for _, w := range []Window{
		{From: time.Date(2026, 10, 14, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC)},
		{From: time.Date(2026, 10, 11, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 12, 0, 0, 0, 0, time.UTC)},
		{From: time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 21, 12, 0, 0, 0, time.UTC)},
		{From: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC)},
		{From: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)},
	} {
		spec := sampleSpec()
		spec.Window = w
		r := openSpec(t, spec)
		got, _ := readAll(t, r)
		var want []Record
		for _, rec := range all {
			if w.Contains(rec.Event.Timestamp) {
				want = append(want, rec)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("window %v: %d records, the full read has %d in it", w, len(got), len(want))
		}
		for i := range want {
			if got[i].Pos != want[i].Pos || got[i].Event.ID != want[i].Event.ID {
				t.Fatalf("window %v, record %d: %s at %v, want %s at %v", w, i, got[i].Event.ID, got[i].Pos, want[i].Event.ID, want[i].Pos)
			}
		}
		st := r.Stats()
		checkBalance(t, st)
		pruned = pruned || st.Pruned > 0
	}
	if !pruned {
		t.Error("no window pruned a row group or file on its statistics: the test proves nothing")
	}
}
