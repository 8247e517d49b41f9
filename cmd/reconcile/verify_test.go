package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/clitest"
	"github.com/billharness/billharness/internal/report"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
	"github.com/billharness/billharness/internal/source"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sync/errgroup"
)

// One day of the bundled sample: small enough to load into a sandbox in a
// test, with every event type and a few duplicate rows.
const (
	checkSource = "parquet:../../testdata/sample/parquet"
	checkDay1   = "2026-10-05..2026-10-06"
	checkMonth  = "2026-10-01..2026-11-01" // a billing cycle: bill needs one
)

// checkSandbox starts a sandbox seeded with the sample's catalog.
func checkSandbox(t *testing.T, cfg sandbox.Config) (*sandboxtest.Sandbox, *billing.Client) {
	t.Helper()
	sb := sandboxtest.StartSample(t, cfg)
	return sb, sb.AdminClient(t)
}

// checkLoad sends the sample's events of the window to the API, every
// row (duplicates too, as a replay would), and returns them.
func checkLoad(t *testing.T, c *billing.Client, from, to time.Time) []source.Event {
	t.Helper()
	spec, err := source.ParseSpec(checkSource)
	if err != nil {
		t.Fatal(err)
	}
	spec.Window = source.Window{From: from, To: to}
	r, err := source.Open(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var evs []source.Event
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(16)
	for {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, rec.Event)
		g.Go(func() error {
			_, err := c.SendEvent(ctx, rec.Event)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("load sample: %v", err)
	}
	return evs
}

func checkDay(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// checkSummary reads summary.json from dir.
func checkSummary(t *testing.T, dir string) report.Summary {
	t.Helper()
	return clitest.ReadJSON[report.Summary](t, filepath.Join(dir, report.SummaryFile))
}

// checkFlagged returns the subscriptions of the discrepancies in dir's JSONL.
func checkFlagged(t *testing.T, dir string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, report.JSONLFile))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var r report.Row
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		out[r.SubscriptionID] = append(out[r.SubscriptionID], string(r.Class))
	}
	return out
}

// checkCorrupted splits the subscriptions the sandbox checkCorrupted: must holds
// those with a lost (dropped and never re-sent) or doubled event of a type
// a Sum or Count meter counts, which a report has to find; may adds those
// whose only checkCorrupted events are storage readings, which the Max meter
// hides unless the reading was the maximum.
func checkCorrupted(sb *sandboxtest.Sandbox, sent []source.Event) (must, may map[string]bool) {
	times, typ := map[string]int{}, map[string]string{}
	for _, e := range sent {
		times[e.ID]++
		typ[e.ID] = e.EventType
	}
	must, may = map[string]bool{}, map[string]bool{}
	mark := func(sub, id string) {
		may[sub] = true
		if typ[id] != "storage.byte-hour" {
			must[sub] = true
		}
	}
	f := sb.Server.Faults()
	for sub, ids := range f.Dropped {
		for _, id := range ids {
			if times[id] == 1 { // a duplicate row re-sent it: counted after all
				mark(sub, id)
			}
		}
	}
	for sub, ids := range f.Doubled {
		for _, id := range ids {
			mark(sub, id)
		}
	}
	return must, may
}

// The report finds exactly the subscriptions the sandbox checkCorrupted, and
// -heal restores what it dropped.
func TestVerifySampleAgainstFaultySandbox(t *testing.T) {
	sb, c := checkSandbox(t, sandbox.Config{DropRate: 0.02, DoubleRate: 0.02, Seed: 42})
	sent := checkLoad(t, c, checkDay("2026-10-05"), checkDay("2026-10-06"))
	must, may := checkCorrupted(sb, sent)
	if len(must) < 5 {
		t.Fatalf("the sandbox checkCorrupted only %d subscriptions; pick another seed", len(must))
	}
	out := t.TempDir()
	env := map[string]string{"BILLING_TOKEN": sb.AdminToken}
	code, stdout, stderr := runReconcile(t, env, "verify", "-api-url", sb.URL, "-source", checkSource, "-window", checkDay1,
		"-out", out, "-run-id", "rc-test", "-rate", "0")
	if code != 3 {
		t.Fatalf("verify against a faulty sandbox: exit %d, want 3\n%s\n%s", code, stdout, stderr)
	}
	got := checkFlagged(t, out)
	for sub := range must {
		if got[sub] == nil {
			t.Errorf("the report misses %s, which the sandbox checkCorrupted", sub)
		}
	}
	for sub, classes := range got {
		if !may[sub] {
			t.Errorf("the report flags %s (%v), which the sandbox did not corrupt", sub, classes)
		}
		for _, c := range classes {
			if c != "under" && c != "over" {
				t.Errorf("%s is %s: a dropped or doubled event makes under or over", sub, c)
			}
		}
	}
	s := checkSummary(t, out)
	if s.RunID != "rc-test" || s.Status != "discrepancies" || !s.RowsComplete || s.Rows.Read != s.Rows.Declared || s.Subscriptions != 255 {
		t.Errorf("summary = %+v", s)
	}
	for _, want := range []string{"reconcile verify rc-test: discrepancies (exit 3)", "report: " + filepath.Join(out, "report.html")} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout+stderr, sb.AdminToken) {
		t.Error("verify printed the token")
	}

	// Heal re-sends what was dropped: no subscription is under any more.
	code, stdout, _ = runReconcile(t, env, "verify", "-api-url", sb.URL, "-source", checkSource, "-window", checkDay1,
		"-out", out, "-heal", "-rate", "0")
	s = checkSummary(t, out)
	if s.Heal == nil || s.Heal.After != 0 || s.Classes["under"] != 0 || s.Heal.Accepted == 0 {
		t.Errorf("after -heal: exit %d, heal %+v, %d under; want none under\n%s", code, s.Heal, s.Classes["under"], stdout)
	}
}

// Exit codes: 0 all match, 3 discrepancies, 1 a failure (which wins over
// discrepancies), 2 usage; a report is written whenever the run started.
func TestVerifyExitCodes(t *testing.T) {
	window := "2026-10-05T00:00:00Z..2026-10-05T06:00:00Z"
	clean, cc := checkSandbox(t, sandbox.Config{})
	checkLoad(t, cc, checkDay("2026-10-05"), checkDay("2026-10-05").Add(6*time.Hour))
	faulty, fc := checkSandbox(t, sandbox.Config{DropRate: 0.05, Seed: 3})
	checkLoad(t, fc, checkDay("2026-10-05"), checkDay("2026-10-05").Add(6*time.Hour))
	someSub := "019f1af9-b7e8-7bcc-8215-d3ca6273f6ec" // the seed's first subscription
	tests := []struct {
		name   string
		sb     *sandboxtest.Sandbox
		url    string
		extra  []string
		want   int
		status string
	}{
		{name: "all match", sb: clean, want: 0, status: "ok"},
		{name: "discrepancies", sb: faulty, want: 3, status: "discrepancies"},
		{name: "a usage call fails", sb: clean, url: sandboxtest.FailingProxy(t, clean.URL, "/v1/subscriptions/"+someSub+"/usage"), want: 1, status: "failed"},
		{name: "failure wins over discrepancies", sb: faulty, url: sandboxtest.FailingProxy(t, faulty.URL, "/v1/subscriptions/"+someSub+"/usage"), want: 1, status: "failed"},
		{name: "tolerance forgives", sb: faulty, extra: []string{"-tolerance", "rel=100%"}, want: 0, status: "ok"},
		{name: "broken source", sb: clean, extra: []string{"-source", "parquet:../../testdata/fixtures/parquet-go/truncated.parquet"}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			u := tt.url
			if u == "" {
				u = tt.sb.URL
			}
			args := append([]string{"verify", "-api-url", u, "-source", checkSource, "-window", window, "-out", out, "-rate", "0"}, tt.extra...)
			code, stdout, stderr := runReconcile(t, map[string]string{"BILLING_TOKEN": tt.sb.AdminToken, "RECONCILE_LOG_LEVEL": "warn"}, args...)
			if code != tt.want {
				t.Fatalf("verify %s: exit %d, want %d\n%s\n%s", tt.name, code, tt.want, stdout, stderr)
			}
			// Every report names its window, a failed run's too.
			s := checkSummary(t, out)
			if w := s.Window.From.Format(time.RFC3339) + ".." + s.Window.To.Format(time.RFC3339); w != window {
				t.Errorf("summary window %s, want %s", w, window)
			}
			if tt.status == "" {
				return
			}
			if s.Status != tt.status || s.ExitStatus != tt.want {
				t.Errorf("summary status %q exit %d, want %q %d", s.Status, s.ExitStatus, tt.status, tt.want)
			}
		})
	}
}

// Every bad flag is reported at once, before any I/O, with exit 2.
func TestVerifyUsage(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "meters.json")
	os.WriteFile(bad, []byte(`[{"event_type":"a","aggregation":"Max"}]`), 0o644)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"nothing", []string{"verify"}, nil, []string{"no source", "no API URL", "no window"}},
		{"bad values", []string{"verify", "-source", "csv:x", "-api-url", "ftp://x", "-window", "2026-10-01..2026-11-01", "-concurrency", "0"}, nil,
			[]string{"-source", "invalid API URL", "-concurrency 0"}},
		{"bad tolerance", []string{"verify", "-tolerance", "rel=5"}, nil, []string{"write it as a percentage"}},
		{"bad tolerance env", []string{"verify"}, map[string]string{"RECONCILE_TOLERANCE": "abs=-1"}, []string{"RECONCILE_TOLERANCE (-tolerance)"}},
		{"window twice", []string{"verify", "-source", checkSource, "-api-url", "http://x", "-window", "2026-10-01..2026-11-01", "-from", "2026-10-01", "-to", "2026-11-01"}, nil,
			[]string{"give -window or -from and -to, not both"}},
		{"from without to", []string{"verify", "-source", checkSource, "-api-url", "http://x", "-from", "2026-10-01"}, nil, []string{"-from/-to"}},
		{"period differs", []string{"bill", "-source", checkSource, "-api-url", "http://x", "-window", "2026-10-01..2026-11-01", "-period", "2026-09-01..2026-10-01"}, nil,
			[]string{"-period 2026-09-01..2026-10-01 differs from the window"}},
		{"bad meters", []string{"verify", "-source", checkSource, "-api-url", "http://x", "-window", "2026-10-01..2026-11-01", "-meters", bad}, nil,
			[]string{"-meters:", "needs a property"}},
		{"no token", []string{"verify", "-source", checkSource, "-api-url", "http://x", "-window", "2026-10-01..2026-11-01"}, nil, []string{"no API token"}},
		{"arguments", []string{"verify", "extra"}, nil, []string{"unexpected arguments: extra"}},
		{"finalize without bill", []string{"run", "-finalize"}, nil, []string{"-only-matched and -finalize need -bill"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runReconcile(t, tt.env, tt.args...)
			if code != 2 {
				t.Fatalf("reconcile %q: exit %d, want 2\n%s%s", tt.args, code, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("reconcile %q stderr lacks %q:\n%s", tt.args, w, stderr)
				}
			}
		})
	}
}

func TestVerifyHelp(t *testing.T) {
	for _, cmd := range []string{"verify", "bill", "run"} {
		t.Run(cmd, func(t *testing.T) {
			code, stdout, _ := runReconcile(t, nil, cmd, "-h")
			if code != 0 {
				t.Fatalf("%s -h: exit %d", cmd, code)
			}
			for _, want := range []string{"-source parquet:PATH", "env RECONCILE_SOURCE", "-tolerance abs=N,rel=P%", "env RECONCILE_TOLERANCE",
				"-settle duration", "-heal", "-meters file", "-out directory", "(default out/reconcile; env RECONCILE_OUT)", "Examples:\n  BILLING_TOKEN=bsk_test_… reconcile " + cmd,
				"Exit codes:", "not yet reflected"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("%s -h lacks %q", cmd, want)
				}
			}
		})
	}
}

// Events without subscription_id count toward the customer's first
// subscription: earliest created_at, ties broken by the smaller id. The
// sample holds customers whose subscriptions share created_at, some
// created in the opposite order of their ids; verify and the sandbox must
// pick the same one, so replaying such events and verifying them finds no
// discrepancy.
func TestVerifyAndSandboxAgreeOnTiedSubscriptions(t *testing.T) {
	d, err := sandbox.LoadSeedFile(filepath.Join(sample, "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ cust, at string }
	firstSeen := map[key]string{} // the first subscription of each tie, in seed order
	var rows []eventRow
	reversed := 0
	for _, s := range d.Subscriptions {
		k := key{s.CustomerID, s.CreatedAt.String()}
		prev, tied := firstSeen[k]
		if !tied {
			firstSeen[k] = s.ID
			continue
		}
		if s.ID < prev {
			reversed++ // created after a sibling with the same created_at, with a smaller id
		}
	}
	if reversed == 0 {
		t.Fatal("the sample has no tie created in the opposite order of its ids: this test could not fail")
	}
	seen := map[string]bool{}
	for k := range firstSeen {
		if seen[k.cust] {
			continue
		}
		seen[k.cust] = true
		rows = append(rows, eventRow{ID: "tie-" + k.cust, EventType: "api.request", CustomerID: k.cust,
			Timestamp: badInputDay, Properties: `{"bytes":7}`})
	}
	e := newBadEnv(t)
	file := filepath.Join(t.TempDir(), "events.parquet")
	writeParquet(t, file, rows)
	if o := replayBad(t, e, "parquet:"+file); o.code != 0 {
		t.Fatalf("replay: exit %d\n%s", o.code, o.stderr)
	}
	code, out, errOut := runReconcile(t, map[string]string{"BILLING_API_URL": e.sb.URL, "BILLING_TOKEN": e.sb.AdminToken},
		"verify", "-source", "parquet:"+file, "-window", "2026-10-01..2026-11-01", "-out", t.TempDir())
	if code != 0 {
		t.Errorf("verify: exit %d over %d customers (%d ties in reverse id order); want 0\n%s\n%s", code, len(rows), reversed, out, errOut)
	}
}

// After a replay of good and bad records together, verify's report
// accounts for every row of the source and flags exactly what the API
// refused: the reader's invalid rows and the rows outside the window are
// counted apart, a repeated id counts once, and the events the API
// rejected show as usage it lacks.
func TestVerifyReportAccountsForBadInput(t *testing.T) {
	e := newBadEnv(t)
	p := func(s string) *string { return &s }
	ts := badInputDay
	var rows []nullableRow
	for _, g := range e.good(5) {
		rows = append(rows, nullableRow{ID: p(g.ID), EventType: p(g.EventType), CustomerID: p(g.CustomerID), SubscriptionID: g.SubscriptionID,
			Timestamp: &ts, Properties: p(g.Properties)})
	}
	row := func(id string) nullableRow {
		return nullableRow{ID: p(id), EventType: p("api.request"), CustomerID: p(e.cust), SubscriptionID: p(e.sub), Timestamp: &ts, Properties: p(`{"bytes":1}`)}
	}
	noID, noCust := row(""), row("null-customer")
	noID.ID, noCust.CustomerID = nil, nil
	huge := row("huge")
	huge.Properties = p(`{"bytes":1,"blob":"` + strings.Repeat("x", 2<<20) + `"}`)
	unknown := row("unknown-subscription")
	unknown.SubscriptionID = p("01944b1f-0000-7000-8000-00000000dead")
	late := row("late")
	after := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	late.Timestamp = &after
	rows = append(rows, noID, noCust, huge, unknown, late, rows[0])
	dir := t.TempDir()
	writeParquet(t, filepath.Join(dir, "mixed.parquet"), rows)
	const window = "2026-10-01..2026-11-01"

	o := replayBad(t, e, "parquet:"+dir, "-window", window)
	if o.code != 1 || len(o.letters) != 4 || o.summary == nil || o.summary.Accepted != 5 || o.summary.Duplicate != 1 {
		for k, l := range o.letters {
			t.Logf("%s: %s %s %d %.80s", k, l.Kind, l.Field, l.Status, l.Reason)
		}
		t.Fatalf("replay: exit %d, %d dead letters, summary %+v; want 1, 4 (2 invalid, 2 rejected), 5 accepted and 1 duplicate\n%s",
			o.code, len(o.letters), o.summary, o.stderr)
	}
	out := t.TempDir()
	code, _, stderr := runReconcile(t, map[string]string{"BILLING_API_URL": e.sb.URL, "BILLING_TOKEN": e.sb.AdminToken},
		"verify", "-source", "parquet:"+dir, "-window", window, "-out", out)
	if code != 3 {
		t.Fatalf("verify: exit %d, want 3 (the API lacks the rejected events)\n%s", code, stderr)
	}
	s := checkSummary(t, out)
	r := s.Rows
	if !s.RowsComplete || r.Declared != int64(len(rows)) || r.Declared != r.Events+r.Invalid+r.OutsideWindow {
		t.Errorf("report rows %+v: want all %d declared rows read and declared = events + invalid + outside window", r, len(rows))
	}
	if r.Invalid != 2 || r.OutsideWindow != 1 || r.Duplicates != 1 {
		t.Errorf("report rows: invalid %d, outside window %d, duplicates %d; want 2, 1, 1", r.Invalid, r.OutsideWindow, r.Duplicates)
	}
	// The huge event counts toward the subscription's request count and
	// bytes, which the API lacks; the unknown subscription is not in the API.
	want := map[string][]string{e.sub: {"under", "under"}, "01944b1f-0000-7000-8000-00000000dead": {"missing", "missing"}}
	if got := checkFlagged(t, out); !cmp.Equal(got, want, cmpopts.SortSlices(func(a, b string) bool { return a < b })) {
		t.Errorf("flagged pairs = %v, want %v", got, want)
	}
}
