package replay_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/faultnet"
	"github.com/billharness/billharness/internal/faultnet/faultnettest"
	"github.com/billharness/billharness/internal/replay"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
	"github.com/billharness/billharness/internal/source"
	"github.com/billharness/billharness/internal/source/sourcetest"
)

// EnvFaultEvents sets how many events TestReplayAllFaultsExact replays.
// make test runs it at 200,000 without the race detector (scripts/faults.sh),
// make chaos at 2,000,000; plain go test uses defaultFaultEvents.
const EnvFaultEvents = "BILLHARNESS_FAULT_EVENTS"

// defaultFaultEvents keeps the race-detector suite quick.
const defaultFaultEvents = 5_000

// Every network fault at once: the sandbox's 500s, 429s and resets after
// the event was stored, and the proxy's refused connections, delays and
// responses cut part-way after the sandbox answered. Dropped and doubled
// events are left out: they are the API defects reconcile detects, and
// the totals here must be exact.
var (
	sandboxFaults = sandbox.Config{Seed: 42, FailRate: 0.05, ThrottleRate: 0.05, ResetRate: 0.02}
	proxyFaults   = faultnet.Config{Seed: 42, DropRate: 0.2, CutRate: 0.02, DelayMax: time.Millisecond}
)

func faultEvents(t *testing.T) int {
	t.Helper()
	v := os.Getenv(EnvFaultEvents)
	if v == "" {
		return defaultFaultEvents
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number of events", EnvFaultEvents, v)
	}
	return n
}

// tiledRow is the sample generator's Parquet row layout.
type tiledRow = sourcetest.Row

// tileSample writes n events to Parquet files in dir: the sample's events
// over and over, copy k with ".k" appended to every id, so each copy keeps
// the sample's repeated ids, events without a subscription and events
// outside the month. It returns the number of distinct ids written.
func tileSample(t *testing.T, dir string, n int) int64 {
	t.Helper()
	return tileSampleFiles(t, dir, n, 250_000)
}

// sampleEvents returns the sample's valid events, in source order.
func sampleEvents(t *testing.T) []source.Event {
	t.Helper()
	r, err := source.Open(context.Background(), sampleSpec(t, source.Window{}))
	if err != nil {
		t.Fatal(err)
	}
	var base []source.Event
	for {
		rec, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read the sample: %v", err)
		}
		base = append(base, rec.Event)
	}
	r.Close()
	return base
}

// tileSampleFiles is tileSample with perFile events a file.
func tileSampleFiles(t *testing.T, dir string, n, perFile int) int64 {
	t.Helper()
	base := sampleEvents(t)
	var (
		w        *parquet.GenericWriter[tiledRow]
		f        *os.File
		err      error
		rows     = make([]tiledRow, 0, 1024)
		distinct int64
		seen     map[string]bool
	)
	flush := func() {
		if _, err := w.Write(rows); err != nil {
			t.Fatal(err)
		}
		rows = rows[:0]
	}
	closeFile := func() {
		flush()
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if i%perFile == 0 {
			if w != nil {
				closeFile()
			}
			if f, err = os.Create(filepath.Join(dir, fmt.Sprintf("part-%04d.parquet", i/perFile))); err != nil {
				t.Fatal(err)
			}
			w = parquet.NewGenericWriter[tiledRow](f, parquet.Compression(&zstd.Codec{}), parquet.MaxRowsPerRowGroup(50_000))
		}
		ev, copyN := base[i%len(base)], i/len(base)
		if i%len(base) == 0 {
			seen = map[string]bool{}
		}
		if !seen[ev.ID] {
			seen[ev.ID] = true
			distinct++
		}
		row := tiledRow{ID: ev.ID + "." + strconv.Itoa(copyN), EventType: ev.EventType, CustomerID: ev.CustomerID,
			Timestamp: ev.Timestamp, Properties: string(ev.Properties)}
		if ev.SubscriptionID != "" {
			row.SubscriptionID = &ev.SubscriptionID
		}
		if rows = append(rows, row); len(rows) == cap(rows) {
			flush()
		}
	}
	closeFile()
	return distinct
}

// Replaying through every network fault at once loses nothing and counts
// nothing twice: the sandbox stores each distinct id once, and its usage
// equals the source's, subscription by subscription and meter by meter.
func TestReplayAllFaultsExact(t *testing.T) {
	n := faultEvents(t)
	dir := t.TempDir()
	distinct := tileSample(t, dir, n)
	spec := dirSpec(t, dir)
	data := seed(t)
	want := expected(t, spec, data)
	tests := []struct {
		name      string
		transport func() http.RoundTripper // nil: the default, fasthttp
	}{
		{"fasthttp", nil},
		{"net/http", func() http.RoundTripper {
			return &http.Transport{MaxIdleConnsPerHost: 32, ResponseHeaderTimeout: 30 * time.Second}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var transport http.RoundTripper
			if tt.transport != nil {
				transport = tt.transport()
			}
			sb, px, client := faultyTarget(t, data, transport)
			start := time.Now()
			st, dlPath := replayAll(t, spec, client)
			took := time.Since(start)
			ss, ps := sb.Server.Stats(), px.Stats()
			t.Logf("%d events (%d distinct ids) in %v (%.0f/s): accepted %d (ambiguous %d), duplicate %d, retried %d, dead-lettered %d; "+
				"sandbox 500s %d, 429s %d, resets %d, stored %d; proxy connections %d, dropped %d, cut %d, delayed %v",
				n, distinct, took.Round(time.Millisecond), float64(n)/took.Seconds(), st.Accepted, st.Ambiguous, st.Duplicate, st.Retried,
				st.DeadLettered, ss.ServerErrors, ss.RateLimited, ss.Resets, ss.EventsStored, ps.Conns, ps.Dropped, ps.Cut, ps.Delayed.Round(time.Millisecond))
			if ss.ServerErrors == 0 || ss.RateLimited == 0 || ss.Resets == 0 || ps.Dropped == 0 || ps.Cut == 0 || ps.Delayed == 0 {
				t.Errorf("a fault did not bite: sandbox %+v, proxy %+v", ss, ps)
			}
			if st.Read != int64(n) || st.Accepted+st.Duplicate != st.Read || st.DeadLettered != 0 {
				t.Errorf("stats: read %d, accepted %d + duplicate %d, dead-lettered %d; want %d read, all delivered, none dead-lettered",
					st.Read, st.Accepted, st.Duplicate, st.DeadLettered, n)
			}
			if st.Accepted < ss.EventsStored || st.Accepted > ss.EventsStored+st.Ambiguous {
				t.Errorf("accepted %d (ambiguous %d), sandbox stored %d: outcomes misclassified", st.Accepted, st.Ambiguous, ss.EventsStored)
			}
			if b, err := os.ReadFile(dlPath); err != nil || len(b) != 0 {
				t.Errorf("dead-letter file: %d bytes, %v; want empty", len(b), err)
			}
			checkExact(t, sb, want, data, distinct)
		})
	}
}

// faultyTarget starts a sandbox with data behind the fault proxy, both
// with every network fault, and a client through the proxy (over
// transport, nil for the default).
func faultyTarget(t *testing.T, data *sandbox.SeedData, transport http.RoundTripper) (*sandboxtest.Sandbox, *faultnettest.Proxy, *billing.Client) {
	t.Helper()
	sbCfg := sandboxFaults
	sbCfg.Data = data
	sb := sandboxtest.Start(t, sbCfg)
	pxCfg := proxyFaults
	pxCfg.Target = sb.URL[len("http://"):]
	px := faultnettest.Start(t, pxCfg)
	client, err := billing.New(billing.Config{BaseURL: px.URL, Token: sb.AdminToken, MaxRetries: 30,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond, MaxConns: 32, Transport: transport})
	if err != nil {
		t.Fatal(err)
	}
	return sb, px, client
}

// checkExact compares the sandbox, read directly, with the source.
func checkExact(t *testing.T, sb *sandboxtest.Sandbox, want map[string]map[string]string, data *sandbox.SeedData, distinct int64) {
	t.Helper()
	if n := sb.Server.Stats().EventsStored; n != distinct {
		t.Errorf("sandbox stored %d events, want the %d distinct ids: %+d", n, distinct, n-distinct)
	}
	direct, err := billing.New(billing.Config{BaseURL: sb.URL, Token: sb.AdminToken})
	if err != nil {
		t.Fatal(err)
	}
	sameTotals(t, want, observed(t, direct, data))
}

// A replay interrupted half way through every network fault, then resumed
// after a file appeared that sorts before the checkpoint's position (a late
// partition): the late file is sent whole, nothing the checkpoint covered is
// read again, and the totals end exact.
func TestReplayLateFileResumeUnderFaults(t *testing.T) {
	n := faultEvents(t)
	dir, held := t.TempDir(), t.TempDir()
	distinct := tileSampleFiles(t, dir, n, max(n/4, 1))
	late := filepath.Join(dir, "part-0000.parquet")
	if err := os.Rename(late, filepath.Join(held, "late.parquet")); err != nil {
		t.Fatal(err)
	}
	spec := dirSpec(t, dir)
	data := seed(t)
	sb, _, client := faultyTarget(t, data, nil)
	store := replay.FileStore{Path: filepath.Join(t.TempDir(), "replay.ckpt")}
	dl, err := replay.OpenDeadLetter(filepath.Join(t.TempDir(), "dead-letter.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Close()
	fp := replay.Fingerprint(spec)

	src, err := source.Open(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	half := src.Stats().Declared / 2
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first, err := replay.Run(ctx, replay.Config{Source: src, Client: client, DeadLetter: dl, Concurrency: 32, Checkpoint: store,
		Fingerprint: fp, CheckpointEvery: 10 * time.Millisecond, ProgressEvery: time.Millisecond,
		Progress: func(p replay.Progress) {
			if p.Sent >= half {
				cancel()
			}
		}})
	src.Close()
	if !errors.Is(err, replay.ErrInterrupted) {
		t.Fatalf("first run = %v, want interrupted half way", err)
	}
	cp, err := store.Load(context.Background())
	if err != nil || cp == nil {
		t.Fatalf("checkpoint = %v, %v", cp, err)
	}

	if err := os.Rename(filepath.Join(held, "late.parquet"), late); err != nil {
		t.Fatal(err)
	}
	spec.After, spec.Resume = cp.Position, &cp.Coverage
	if src, err = source.Open(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	lateRows := src.Stats().Late
	second, err := replay.Run(context.Background(), replay.Config{Source: src, Client: client, DeadLetter: dl, Concurrency: 32,
		Checkpoint: store, Fingerprint: fp, Resumed: cp})
	if err != nil {
		t.Fatalf("resumed run: %v", err)
	}
	s := second.Source
	t.Logf("first run read %d (abandoned %d), checkpoint covers %d rows; resumed: late %d rows, skipped as done %d, read %d, accepted %d, duplicate %d",
		first.Read, first.Abandoned, cp.Coverage.Rows, lateRows, s.SkippedResume, second.Read, second.Accepted, second.Duplicate)
	if lateRows == 0 || lateRows != int64(min(n, max(n/4, 1))) {
		t.Errorf("late rows %d, want the late file's %d", lateRows, min(n, max(n/4, 1)))
	}
	if s.SkippedResume != cp.Coverage.Rows || second.Read+s.SkippedResume != s.Declared || second.DeadLettered != 0 {
		t.Errorf("resumed accounting: skipped %d (checkpoint %d) + read %d, declared %d, dead-lettered %d",
			s.SkippedResume, cp.Coverage.Rows, second.Read, s.Declared, second.DeadLettered)
	}
	checkExact(t, sb, expected(t, dirSpec(t, dir), data), data, distinct) // the whole source, late file included
}

// dirSpec is the source spec of the Parquet files under dir.
func dirSpec(t *testing.T, dir string) source.Spec {
	t.Helper()
	spec, err := source.ParseSpec("parquet:" + dir)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// Copies of one id with different payloads, side by side in the source,
// through every network fault: the API keeps the first copy of each, the
// second is a conflicting duplicate, and the totals are those of the first
// copies, exactly.
func TestReplayConflictingDuplicatesUnderFaults(t *testing.T) {
	n := faultEvents(t)
	dir := t.TempDir()
	distinct := tileSample(t, dir, n)
	base := sampleEvents(t)
	pairs := min(n/20, 5000, len(base)-1)
	var rows []tiledRow
	row := func(id string, ev source.Event) tiledRow {
		r := tiledRow{ID: id, EventType: ev.EventType, CustomerID: ev.CustomerID, Timestamp: ev.Timestamp, Properties: string(ev.Properties)}
		if ev.SubscriptionID != "" {
			r.SubscriptionID = &ev.SubscriptionID
		}
		return r
	}
	conflicting := 0
	for i := range pairs {
		id := fmt.Sprintf("conflict-%d", i)
		first, other := base[i], base[i+1] // the second copy says what another event says
		rows = append(rows, row(id, first), row(id, other))
		if a, b := row(id, first), row(id, other); a.EventType != b.EventType || a.CustomerID != b.CustomerID || !a.Timestamp.Equal(b.Timestamp) ||
			a.Properties != b.Properties || (a.SubscriptionID == nil) != (b.SubscriptionID == nil) ||
			a.SubscriptionID != nil && *a.SubscriptionID != *b.SubscriptionID {
			conflicting++
		}
	}
	if err := parquet.WriteFile(filepath.Join(dir, "part-conflicts.parquet"), rows); err != nil {
		t.Fatal(err)
	}
	spec := dirSpec(t, dir)
	data := seed(t)
	want := expected(t, spec, data)
	sb, _, client := faultyTarget(t, data, nil)
	st, _ := replayAll(t, spec, client)
	t.Logf("%d pairs (%d with different payloads): accepted %d, duplicate %d, conflicting %d, dead-lettered %d",
		pairs, conflicting, st.Accepted, st.Duplicate, st.Conflicting, st.DeadLettered)
	if st.Conflicting != int64(conflicting) || st.DeadLettered != st.Conflicting {
		t.Errorf("conflicting %d, dead-lettered %d; want the %d pairs with different payloads, and nothing else", st.Conflicting, st.DeadLettered, conflicting)
	}
	checkExact(t, sb, want, data, distinct+int64(pairs))
}

// replayAll replays spec with client, 32 workers, into a fresh dead-letter
// file, failing the test if the run fails; it returns the statistics and
// the dead-letter file's path.
func replayAll(t *testing.T, spec source.Spec, client *billing.Client) (replay.Stats, string) {
	t.Helper()
	dlPath := filepath.Join(t.TempDir(), "dead-letter.jsonl")
	dl, err := replay.OpenDeadLetter(dlPath)
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Close()
	src, err := source.Open(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	st, err := replay.Run(context.Background(), replay.Config{Source: src, Client: client, DeadLetter: dl, Concurrency: 32})
	if err != nil {
		t.Fatalf("replay.Run: %v", err)
	}
	return st, dlPath
}
