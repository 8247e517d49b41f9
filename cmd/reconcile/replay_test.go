package main

import (
	"bufio"
	"context"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/clitest"
	"github.com/billharness/billharness/internal/replay"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
	"github.com/billharness/billharness/internal/source/sourcetest"
)

// The test binary doubles as the reconcile command when this variable is
// set, so tests can run it as a child process and kill it.
const childEnv = "BILLHARNESS_RECONCILE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

const sample = "../../testdata/sample"

// proc is a reconcile command running as a separate process, whose exit is
// watched while it runs: a test polling for something can tell that the
// child died instead of waiting out its deadline.
type proc struct {
	cmd  *exec.Cmd
	out  *clitest.SyncBuffer // stdout and stderr
	done chan struct{}
	err  error // Wait's, once done is closed
}

// startProc starts the reconcile command with args and env added to this
// process's environment.
func startProc(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(os.Args[0], args...), out: &clitest.SyncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	return p
}

// wait waits for the child to exit and returns Wait's error; afterwards
// p.cmd.ProcessState holds the exit code.
func (p *proc) wait() error { <-p.done; return p.err }

// exited reports whether the child has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// child starts the reconcile command against sb.
func child(t *testing.T, sb *sandboxtest.Sandbox, args ...string) *proc {
	t.Helper()
	return startProc(t, []string{"BILLING_API_URL=" + sb.URL, "BILLING_TOKEN=" + sb.AdminToken}, args...)
}

// waitStored polls the sandbox until it stored at least n events; it fails
// at once when the child exits first.
func waitStored(t *testing.T, sb *sandboxtest.Sandbox, n int64, p *proc) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for sb.Server.Stats().EventsStored < n {
		if time.Now().After(deadline) {
			t.Fatalf("sandbox stored %d events after 60s, want %d", sb.Server.Stats().EventsStored, n)
		}
		if p.exited() {
			t.Fatalf("child exited (%v) before %d events were stored\n%s", p.err, n, p.out)
		}
		time.Sleep(5 * time.Millisecond) // polling the sandbox's counter, with a deadline
	}
}

// usageTotals is every non-zero (subscription, SKU) quantity the API reports.
func usageTotals(t *testing.T, sb *sandboxtest.Sandbox) map[string]string {
	t.Helper()
	c, err := billing.New(billing.Config{BaseURL: sb.URL, Token: sb.AdminToken})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := sandbox.LoadSeedFile(filepath.Join(sample, "seed.json"))
	out := map[string]string{}
	for _, s := range d.Subscriptions {
		u, err := c.Usage(context.Background(), s.ID, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range u.Meters {
			if !m.Quantity.IsZero() {
				out[s.ID+"/"+m.SKUID] = m.Quantity.String()
			}
		}
	}
	return out
}

// reference replays the same events uninterrupted into a fresh sandbox and
// returns its usage and how many events it stored.
func reference(t *testing.T, window string) (map[string]string, int64) {
	t.Helper()
	sb := sandboxtest.StartSample(t, sandbox.Config{})
	dir := t.TempDir()
	code, out, errOut := runReconcile(t, map[string]string{"BILLING_API_URL": sb.URL, "BILLING_TOKEN": sb.AdminToken},
		"replay", "-source", "parquet:"+filepath.Join(sample, "parquet"), "-window", window, "-rate", "0",
		"-dead-letter", filepath.Join(dir, "dl.jsonl"), "-progress", "off")
	if code != 0 {
		t.Fatalf("reference replay: exit %d\n%s%s", code, out, errOut)
	}
	return usageTotals(t, sb), sb.Server.Stats().EventsStored
}

// readSummary reads a replay -summary file.
func readSummary(t *testing.T, path string) replay.Stats {
	t.Helper()
	return clitest.ReadJSON[replay.Stats](t, path)
}

// EnvKillSeed fixes the kill points of TestReplayKilledAndResumed, to
// repeat a failing run; the test logs the seed it used.
const EnvKillSeed = "BILLHARNESS_KILL_SEED"

// killPoints returns n distinct stored-event counts, ascending, between 5%
// and 95% of total, from a seed taken from EnvKillSeed or the clock.
func killPoints(t *testing.T, n int, total int64) []int64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(EnvKillSeed); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("%s=%q: want a number", EnvKillSeed, v)
		}
	}
	t.Logf("kill points from seed %d (%s=%d repeats them)", seed, EnvKillSeed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	lo, span := total/20, total*9/10
	set := map[int64]bool{}
	for len(set) < n {
		set[lo+rng.Int64N(span)] = true
	}
	return slices.Sorted(maps.Keys(set))
}

func sameUsage(t *testing.T, want, got map[string]string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("reference has no usage: the test proves nothing")
	}
	n := 0
	for k, v := range want {
		if got[k] != v {
			n++
			if n <= 5 {
				t.Errorf("usage %s = %q, want %q", k, got[k], v)
			}
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("usage %s = %q, want none", k, v)
		}
	}
	if n > 0 {
		t.Errorf("%d of %d (subscription, SKU) totals differ", n, len(want))
	}
}

// A replay killed with SIGKILL at 5 random points and resumed each time
// ends with exactly the totals of an uninterrupted one: every event stored
// once, nothing dead-lettered.
func TestReplayKilledAndResumed(t *testing.T) {
	const window = "2026-10-01..2026-10-11"
	want, wantStored := reference(t, window)
	sb := sandboxtest.StartSample(t, sandbox.Config{})
	dir := t.TempDir()
	dl, summary := filepath.Join(dir, "dl.jsonl"), filepath.Join(dir, "summary.json")
	args := []string{"replay", "-source", "parquet:" + filepath.Join(sample, "parquet"), "-window", window,
		"-rate", "4000/s", "-checkpoint", filepath.Join(dir, "replay.ckpt"), "-checkpoint-every", "100ms",
		"-dead-letter", dl, "-progress", "off", "-summary", summary}
	for i, at := range killPoints(t, 5, wantStored) {
		p := child(t, sb, args...)
		waitStored(t, sb, at, p)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = p.wait()
		t.Logf("kill %d at %d stored events (aimed at %d); output so far: %d bytes", i+1, sb.Server.Stats().EventsStored, at, len(p.out.String()))
	}
	p := child(t, sb, args...)
	out := p.out
	if err := p.wait(); err != nil {
		t.Fatalf("final resumed run: %v\n%s", err, out)
	}
	if st := readSummary(t, summary); st.Source.SkippedResume == 0 {
		t.Errorf("the final run skipped nothing: it did not resume from a checkpoint\n%s", out)
	}
	got := sb.Server.Stats().EventsStored
	t.Logf("stored %d events over 5 killed runs and the last, %d uninterrupted", got, wantStored)
	if got != wantStored {
		t.Errorf("sandbox stored %d events over the killed runs, want %d as uninterrupted", got, wantStored)
	}
	if b, err := os.ReadFile(dl); err != nil || len(b) != 0 {
		t.Errorf("dead-letter file: %d bytes, %v; want empty", len(b), err)
	}
	sameUsage(t, want, usageTotals(t, sb))
}

// The first SIGTERM stops reading, drains the requests in flight, writes a
// checkpoint that covers exactly the finished work, and exits 1 within the
// drain timeout; resuming ends exact. The sandbox's latency keeps requests
// in flight when the signal arrives.
func TestReplaySIGTERMDrains(t *testing.T) {
	const window = "2026-10-01..2026-10-06"
	want, _ := reference(t, window)
	sb := sandboxtest.StartSample(t, sandbox.Config{Latency: sandbox.Latency{Min: 10 * time.Millisecond, Max: 30 * time.Millisecond}})
	dir := t.TempDir()
	ckpt, summary := filepath.Join(dir, "replay.ckpt"), filepath.Join(dir, "summary.json")
	args := []string{"replay", "-source", "parquet:" + filepath.Join(sample, "parquet"), "-window", window,
		"-rate", "2000/s", "-checkpoint", ckpt, "-checkpoint-every", "1h", "-drain-timeout", "10s",
		"-dead-letter", filepath.Join(dir, "dl.jsonl"), "-progress", "off", "-summary", summary}
	p := child(t, sb, args...)
	out := p.out
	waitStored(t, sb, 1500, p)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := p.wait()
	took := time.Since(start)
	if took > 10*time.Second {
		t.Errorf("exit took %v after SIGTERM, want within the 10s drain timeout", took)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit code after SIGTERM = %d (%v), want 1\n%s", code, err, out)
	}
	cp, err := replay.FileStore{Path: ckpt}.Load(context.Background())
	if err != nil || cp == nil {
		t.Fatalf("no checkpoint after SIGTERM (with -checkpoint-every 1h, only the shutdown writes one): %v\n%s", err, out)
	}
	st := readSummary(t, summary)
	stored := sb.Server.Stats().EventsStored
	// Drained: every request that reached the sandbox got its answer
	// counted. Current: the checkpoint covers every finished record (the
	// queue is read in order, so the finished ones are a prefix).
	t.Logf("exit %v after SIGTERM: read %d, accepted %d, duplicate %d, left for the resumed run %d, checkpoint covers %d; sandbox stored %d",
		took.Round(time.Millisecond), st.Read, st.Accepted, st.Duplicate, st.Abandoned, cp.Coverage.Rows, stored)
	if st.Accepted != stored {
		t.Errorf("accepted %d, sandbox stored %d: requests in flight at SIGTERM were not drained", st.Accepted, stored)
	}
	// The resumed run checks that it skips exactly the rows the
	// checkpoint covers, and fails otherwise.
	if st.Checkpoint == nil || st.Checkpoint.Coverage.Rows != cp.Coverage.Rows || st.Checkpoint.Position.Compare(cp.Position) != 0 ||
		cp.Coverage.Rows < st.Read-st.Abandoned {
		t.Errorf("checkpoint %+v; want the summary's %+v, covering at least the %d records finished (read %d, abandoned %d)",
			cp, st.Checkpoint, st.Read-st.Abandoned, st.Read, st.Abandoned)
	}
	p = child(t, sb, args...)
	if err := p.wait(); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, p.out)
	}
	sameUsage(t, want, usageTotals(t, sb))
}

// eventRow is the sample generator's Parquet row layout.
type eventRow = sourcetest.Row

func TestReplayDeadLettersRejectedRecords(t *testing.T) {
	sb := sandboxtest.StartSample(t, sandbox.Config{})
	d, _ := sandbox.LoadSeedFile(filepath.Join(sample, "seed.json"))
	cust, sub := d.Subscriptions[0].CustomerID, d.Subscriptions[0].ID
	other := d.Subscriptions[len(d.Subscriptions)-1]
	ts := time.Date(2026, 10, 5, 10, 0, 0, 0, time.UTC)
	p := func(s string) *string { return &s }
	rows := []eventRow{
		{ID: "good-1", EventType: "api.request", CustomerID: cust, SubscriptionID: p(sub), Timestamp: ts, Properties: `{"bytes":10}`},
		{ID: "unknown-customer", EventType: "api.request", CustomerID: "01944b1f-0000-7000-8000-0000000dead0", Timestamp: ts, Properties: `{}`},
		{ID: "foreign-subscription", EventType: "api.request", CustomerID: cust, SubscriptionID: p(other.ID), Timestamp: ts, Properties: `{}`},
		{ID: "", EventType: "api.request", CustomerID: cust, Timestamp: ts, Properties: `{}`},
		{ID: "good-2", EventType: "api.request", CustomerID: cust, SubscriptionID: p(sub), Timestamp: ts, Properties: `{"bytes":5}`},
	}
	if other.CustomerID == cust {
		t.Fatal("the seed's first and last subscriptions share a customer")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "events.parquet")
	if err := parquet.WriteFile(file, rows); err != nil {
		t.Fatal(err)
	}
	dl := filepath.Join(dir, "dl.jsonl")
	code, out, errOut := runReconcile(t, map[string]string{"BILLING_API_URL": sb.URL, "BILLING_TOKEN": sb.AdminToken},
		"replay", "-source", "parquet:"+file, "-dead-letter", dl, "-progress", "off")
	if code != 1 || !strings.Contains(errOut, "3 records, see "+dl) {
		t.Errorf("exit %d, stderr %q; want 1 naming 3 dead-lettered records and the file\n%s", code, errOut, out)
	}
	f, err := os.Open(dl)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[string]replay.Letter{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l replay.Letter
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("dead-letter line %q: %v", sc.Text(), err)
		}
		key := ""
		if l.Event != nil {
			key = l.Event.ID
		}
		got[key] = l
	}
	tests := []struct {
		id, kind, field string
		status          int
	}{
		{"unknown-customer", replay.KindRejected, "customer_id", 422},
		{"foreign-subscription", replay.KindRejected, "subscription_id", 422},
		{"", replay.KindInvalid, "id", 0},
	}
	for _, tt := range tests {
		l, ok := got[tt.id]
		if !ok {
			t.Errorf("no dead letter for %q; have %v", tt.id, got)
			continue
		}
		if l.Kind != tt.kind || l.Field != tt.field || l.Status != tt.status || l.Reason == "" || l.Position.IsZero() {
			t.Errorf("dead letter for %q = %+v, want kind %s, field %s, status %d, a reason and a position", tt.id, l, tt.kind, tt.field, tt.status)
		}
	}
	if n := sb.Server.Stats().EventsStored; n != 2 {
		t.Errorf("stored %d events, want the 2 good ones", n)
	}
}
