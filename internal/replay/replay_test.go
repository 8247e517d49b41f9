package replay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/jsonscan"
	"github.com/billharness/billharness/internal/replay"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
	"github.com/billharness/billharness/internal/source"
)

const sampleDir = "../../testdata/sample"

// everything is a usage window wide enough for every sample event.
var (
	allFrom = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	allTo   = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

func seed(t *testing.T) *sandbox.SeedData {
	t.Helper()
	d, err := sandbox.LoadSeedFile(filepath.Join(sampleDir, "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sampleSpec(t *testing.T, window source.Window) source.Spec {
	t.Helper()
	spec, err := source.ParseSpec("parquet:" + filepath.Join(sampleDir, "parquet"))
	if err != nil {
		t.Fatal(err)
	}
	spec.Window = window
	return spec
}

// expected computes, straight from the source and the seed's meters, the
// usage the API must report per subscription and SKU: ids counted once,
// events without a subscription attributed to the customer's first one.
func expected(t *testing.T, spec source.Spec, d *sandbox.SeedData) map[string]map[string]string {
	t.Helper()
	r, err := source.Open(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The contract's attribution rule: the earliest created_at, ties
	// broken by the smaller id.
	firstSub := map[string]string{}
	firstAt := map[string]time.Time{}
	for _, s := range d.Subscriptions {
		f, ok := firstSub[s.CustomerID]
		if c := s.CreatedAt.Compare(firstAt[s.CustomerID]); !ok || c < 0 || c == 0 && s.ID < f {
			firstSub[s.CustomerID], firstAt[s.CustomerID] = s.ID, s.CreatedAt
		}
	}
	type acc struct {
		q      billing.Quantity
		unique map[string]bool
	}
	totals := map[string]map[string]*acc{}
	seen := map[string]bool{}
	for {
		rec, err := r.Next(context.Background())
		var recErr *source.RecordError
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.As(err, &recErr) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		ev := rec.Event
		if seen[ev.ID] {
			continue
		}
		seen[ev.ID] = true
		sub := ev.SubscriptionID
		if sub == "" {
			sub = firstSub[ev.CustomerID]
		}
		if totals[sub] == nil {
			totals[sub] = map[string]*acc{}
		}
		for _, sku := range d.SKUs {
			if sku.MeterEventType != ev.EventType {
				continue
			}
			a := totals[sub][sku.ID]
			if a == nil {
				a = &acc{unique: map[string]bool{}}
				totals[sub][sku.ID] = a
			}
			if sku.Aggregation == billing.AggCount {
				a.q = a.q.Add(billing.QuantityFromInt64(1))
				continue
			}
			raw, _, ok := jsonscan.Lookup(ev.Properties, sku.MeterProperty)
			if !ok {
				continue
			}
			if sku.Aggregation == billing.AggUniqueCount {
				var v any
				if json.Unmarshal(raw, &v) == nil && v != nil {
					a.unique[fmt.Sprint(v)] = true
				}
				a.q = billing.QuantityFromInt64(int64(len(a.unique)))
				continue
			}
			s := strings.Trim(string(raw), `"`)
			q, err := billing.ParseQuantity(s)
			if err != nil {
				continue
			}
			switch sku.Aggregation {
			case billing.AggSum:
				a.q = a.q.Add(q)
			case billing.AggMax:
				if q.Cmp(a.q) > 0 {
					a.q = q
				}
			}
		}
	}
	out := map[string]map[string]string{}
	for sub, m := range totals {
		out[sub] = map[string]string{}
		for sku, a := range m {
			out[sub][sku] = a.q.String()
		}
	}
	return out
}

// observed is the usage the API reports for every seeded subscription.
func observed(t *testing.T, c *billing.Client, d *sandbox.SeedData) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, s := range d.Subscriptions {
		u, err := c.Usage(context.Background(), s.ID, allFrom, allTo)
		if err != nil {
			t.Fatalf("Usage(%s): %v", s.ID, err)
		}
		for _, m := range u.Meters {
			if m.Quantity.IsZero() {
				continue
			}
			if out[s.ID] == nil {
				out[s.ID] = map[string]string{}
			}
			out[s.ID][m.SKUID] = m.Quantity.String()
		}
	}
	return out
}

// sameTotals reports every (subscription, SKU) whose totals differ.
func sameTotals(t *testing.T, want, got map[string]map[string]string) {
	t.Helper()
	var diffs []string
	for sub, m := range want {
		for sku, q := range m {
			if q == "0" {
				continue
			}
			if got[sub][sku] != q {
				diffs = append(diffs, fmt.Sprintf("%s/%s: API %q, source %q", sub, sku, got[sub][sku], q))
			}
		}
	}
	for sub, m := range got {
		for sku, q := range m {
			if want[sub][sku] == "" || want[sub][sku] == "0" {
				diffs = append(diffs, fmt.Sprintf("%s/%s: API %q, source none", sub, sku, q))
			}
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%d (subscription, SKU) totals differ, e.g.:\n%s", len(diffs), strings.Join(diffs[:min(10, len(diffs))], "\n"))
	}
	if len(want) == 0 {
		t.Fatal("the source produced no totals: the test proves nothing")
	}
}

type env struct {
	sb     *sandboxtest.Sandbox
	client *billing.Client
	data   *sandbox.SeedData
	dl     *replay.DeadLetter
	dlPath string
}

func newEnv(t *testing.T, cfg sandbox.Config) *env {
	t.Helper()
	e := &env{data: seed(t)}
	cfg.Data = e.data
	e.sb = sandboxtest.Start(t, cfg)
	c, err := billing.New(billing.Config{BaseURL: e.sb.URL, Token: e.sb.AdminToken, MaxRetries: 30,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond, MaxConns: 16})
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	e.dlPath = filepath.Join(t.TempDir(), "dead-letter.jsonl")
	if e.dl, err = replay.OpenDeadLetter(e.dlPath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.dl.Close() })
	return e
}

func (e *env) run(t *testing.T, spec source.Spec, cfg replay.Config) replay.Stats {
	t.Helper()
	src, err := source.Open(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cfg.Source, cfg.Client, cfg.DeadLetter = src, e.client, e.dl
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 16
	}
	st, err := replay.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("replay.Run: %v", err)
	}
	return st
}

func TestReplaySampleExact(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	spec := sampleSpec(t, source.Window{})
	st := e.run(t, spec, replay.Config{})
	if st.Read != 50000 || st.Accepted != 49777 || st.Duplicate != 223 || st.DeadLettered != 0 {
		t.Errorf("stats = read %d accepted %d duplicate %d dead-lettered %d, want 50000/49777/223/0 (the sample's manifest)",
			st.Read, st.Accepted, st.Duplicate, st.DeadLettered)
	}
	if got := e.sb.Server.Stats().EventsStored; got != 49777 {
		t.Errorf("sandbox stored %d events, want 49777 distinct ids", got)
	}
	sameTotals(t, expected(t, spec, e.data), observed(t, e.client, e.data))
}

func TestReplayUnderFaultsExact(t *testing.T) {
	e := newEnv(t, sandbox.Config{Seed: 42, FailRate: 0.05, ThrottleRate: 0.05, ResetRate: 0.02})
	spec := sampleSpec(t, source.Window{From: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 9, 0, 0, 0, 0, time.UTC)})
	st := e.run(t, spec, replay.Config{})
	ss := e.sb.Server.Stats()
	if ss.ServerErrors == 0 || ss.RateLimited == 0 || ss.Resets == 0 {
		t.Fatalf("sandbox injected 500s %d, 429s %d, resets %d: some knob did not bite", ss.ServerErrors, ss.RateLimited, ss.Resets)
	}
	if st.Failed != 0 || st.Rejected != 0 || st.Retried == 0 {
		t.Errorf("stats = failed %d rejected %d retried %d, want 0, 0 and some retries", st.Failed, st.Rejected, st.Retried)
	}
	if st.Accepted+st.Duplicate != st.Read {
		t.Errorf("accepted %d + duplicate %d != read %d", st.Accepted, st.Duplicate, st.Read)
	}
	if st.Accepted < ss.EventsStored || st.Accepted > ss.EventsStored+st.Ambiguous {
		t.Errorf("accepted %d (ambiguous %d), but the sandbox stored %d events: outcomes misclassified", st.Accepted, st.Ambiguous, ss.EventsStored)
	}
	t.Logf("read %d, accepted %d (ambiguous %d), duplicate %d, retried %d; sandbox 500s %d, 429s %d, resets %d",
		st.Read, st.Accepted, st.Ambiguous, st.Duplicate, st.Retried, ss.ServerErrors, ss.RateLimited, ss.Resets)
	sameTotals(t, expected(t, spec, e.data), observed(t, e.client, e.data))
}

func TestReplayResumeFromCheckpoint(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	window := source.Window{From: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 11, 0, 0, 0, 0, time.UTC)}
	spec := sampleSpec(t, window)
	total := e.run(t, spec, replay.Config{DryRun: true}).Valid
	store := replay.FileStore{Path: filepath.Join(t.TempDir(), "replay.ckpt")}
	fp := replay.Fingerprint(spec)

	// First run: stop after about a third of the records by cancelling.
	src, err := source.Open(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	first, err := replay.Run(ctx, replay.Config{Source: src, Client: e.client, DeadLetter: e.dl, Concurrency: 8,
		Checkpoint: store, Fingerprint: fp, DrainTimeout: 10 * time.Second,
		Progress: func(p replay.Progress) {
			if p.Sent > total/3 {
				cancel()
			}
		}, ProgressEvery: 5 * time.Millisecond})
	src.Close()
	if !errors.Is(err, replay.ErrInterrupted) {
		t.Fatalf("first run = %v, want ErrInterrupted", err)
	}
	cp, err := store.Load(context.Background())
	if err != nil || cp == nil {
		t.Fatalf("checkpoint after interruption = %v, %v", cp, err)
	}
	// Second run: resume after the checkpoint.
	spec.After, spec.Resume = cp.Position, &cp.Coverage
	second := e.run(t, spec, replay.Config{Checkpoint: store, Fingerprint: fp, Resumed: cp})
	src2 := second.Source
	if got := src2.SkippedResume + second.Read + src2.SkippedWindow + src2.SkippedShard; src2.SkippedResume != cp.Coverage.Rows || got != src2.Declared {
		t.Errorf("resumed: skipped as done %d (checkpoint covers %d) + read %d + outside the window %d = %d, want every row once (%d)",
			src2.SkippedResume, cp.Coverage.Rows, second.Read, src2.SkippedWindow, got, src2.Declared)
	}
	if stored := e.sb.Server.Stats().EventsStored; first.Accepted+second.Accepted < stored || first.Accepted+second.Accepted > stored+first.Ambiguous+second.Ambiguous {
		t.Errorf("accepted over both runs = %d + %d, sandbox stored %d", first.Accepted, second.Accepted, stored)
	}
	sameTotals(t, expected(t, sampleSpec(t, window), e.data), observed(t, e.client, e.data))
	final, _ := store.Load(context.Background())
	if final == nil || final.Coverage.Rows < src2.SkippedResume+second.Read {
		t.Errorf("final checkpoint = %+v, want it to cover at least the %d rows up to the last record", final, src2.SkippedResume+second.Read)
	}
}

func TestReplayDryRunSendsNothing(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	spec := sampleSpec(t, source.Window{})
	src, err := source.Open(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	// With a client that could send, so that sending nothing is the dry run's doing.
	st, err := replay.Run(context.Background(), replay.Config{Source: src, Client: e.client, DeadLetter: e.dl, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if st.Valid != 50000 || st.Accepted != 0 {
		t.Errorf("dry run: valid %d accepted %d, want 50000 and 0", st.Valid, st.Accepted)
	}
	if got := e.sb.Server.Stats().Requests; got != 0 {
		t.Errorf("dry run made %d requests, want 0", got)
	}
}

func TestMaxAgeGuard(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	spec := sampleSpec(t, source.Window{From: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 3, 0, 0, 0, 0, time.UTC)})
	now := func() time.Time { return time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC).Add(35 * 24 * time.Hour) }
	st := e.run(t, spec, replay.Config{MaxAge: 35 * 24 * time.Hour, Now: now})
	if st.TooOld == 0 || st.Accepted == 0 {
		t.Fatalf("too old %d, accepted %d: want both (events on either side of the cutoff)", st.TooOld, st.Accepted)
	}
	if err := e.dl.Sync(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(e.dlPath)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if int64(len(lines)) != st.TooOld {
		t.Fatalf("dead-letter lines = %d, want %d", len(lines), st.TooOld)
	}
	var l replay.Letter
	if err := json.Unmarshal([]byte(lines[0]), &l); err != nil {
		t.Fatal(err)
	}
	if l.Kind != replay.KindTooOld || !strings.Contains(l.Reason, "-max-age") || l.Event == nil || l.Position.IsZero() {
		t.Errorf("dead letter = %+v, want kind too_old naming -max-age, with the event and its position", l)
	}
	all := e.run(t, spec, replay.Config{MaxAge: 35 * 24 * time.Hour, Now: now, AllowOld: true})
	if all.TooOld != 0 {
		t.Errorf("with AllowOld, too old = %d, want 0", all.TooOld)
	}
}

func sandboxConfig() sandbox.Config { return sandbox.Config{} }
