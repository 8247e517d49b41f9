package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/billharness/billharness/internal/replay"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
	"github.com/billharness/billharness/internal/source/sourcetest"
)

const parquetFixtures = "../../testdata/fixtures/parquet-go"

// badInputDay is when the suite's events happen: inside October 2026, the
// sample catalog's billing period.
var badInputDay = time.Date(2026, 10, 5, 10, 0, 0, 0, time.UTC)

// Row layouts the suite writes: the sample's own, one with every column
// optional (null required fields), one with text timestamps and plain
// text properties (values of the wrong type), one with a numeric
// customer_id (a column of the wrong type).
type (
	nullableRow struct {
		ID             *string    `parquet:"id,optional"`
		EventType      *string    `parquet:"event_type,optional"`
		CustomerID     *string    `parquet:"customer_id,optional"`
		SubscriptionID *string    `parquet:"subscription_id,optional"`
		Timestamp      *time.Time `parquet:"timestamp,optional,timestamp(microsecond:utc)"`
		Properties     *string    `parquet:"properties,optional"` // JSON text; parquet-go writes a *string tagged json as null
	}
	textRow struct {
		ID         string `parquet:"id"`
		EventType  string `parquet:"event_type"`
		CustomerID string `parquet:"customer_id"`
		Timestamp  string `parquet:"timestamp"`
		Properties string `parquet:"properties"`
	}
	numericCustomerRow struct {
		ID         string    `parquet:"id"`
		EventType  string    `parquet:"event_type"`
		CustomerID float64   `parquet:"customer_id"`
		Timestamp  time.Time `parquet:"timestamp,timestamp(microsecond:utc)"`
	}
)

// badEnv is a sandbox with the sample catalog and the ids the suite uses.
type badEnv struct {
	sb       *sandboxtest.Sandbox
	cust     string // the customer of sub
	sub      string
	otherSub string // a subscription of another customer
}

func newBadEnv(t *testing.T) *badEnv {
	t.Helper()
	d, err := sandbox.LoadSeedFile(filepath.Join(sample, "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	first, last := d.Subscriptions[0], d.Subscriptions[len(d.Subscriptions)-1]
	if first.CustomerID == last.CustomerID {
		t.Fatal("the seed's first and last subscriptions share a customer")
	}
	return &badEnv{sb: sandboxtest.StartSample(t, sandbox.Config{}), cust: first.CustomerID, sub: first.ID, otherSub: last.ID}
}

// good returns n valid events of sub, ids good-0…, each worth 10 bytes.
func (e *badEnv) good(n int) []eventRow {
	rows := make([]eventRow, n)
	for i := range rows {
		rows[i] = eventRow{ID: fmt.Sprintf("good-%d", i), EventType: "api.request", CustomerID: e.cust, SubscriptionID: &e.sub,
			Timestamp: badInputDay.Add(time.Duration(i) * time.Minute), Properties: `{"bytes":10}`}
	}
	return rows
}

func writeParquet[T any](t *testing.T, path string, rows []T) {
	t.Helper()
	sourcetest.WriteFile(t, path, rows)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// footerRows is the row count a Parquet file's footer declares.
func footerRows(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true))
	if err != nil {
		t.Fatalf("footer of %s: %v", path, err)
	}
	return pf.NumRows()
}

// replayOutcome is what one replay run left behind.
type replayOutcome struct {
	code           int
	stdout, stderr string
	summary        *replay.Stats // nil when the run stopped before replaying
	letters        map[string]replay.Letter
}

// replayBad replays source into e's sandbox and collects the outcome.
// Letters are keyed "file:row" (Parquet), "key:id" or "null key:seq"
// (PostgreSQL).
func replayBad(t *testing.T, e *badEnv, source string, args ...string) replayOutcome {
	t.Helper()
	out := t.TempDir()
	dl, sum := filepath.Join(out, "dead-letter.jsonl"), filepath.Join(out, "summary.json")
	args = append([]string{"replay", "-source", source, "-rate", "0", "-progress", "off", "-dead-letter", dl, "-summary", sum}, args...)
	var o replayOutcome
	o.code, o.stdout, o.stderr = runReconcile(t, map[string]string{"BILLING_API_URL": e.sb.URL, "BILLING_TOKEN": e.sb.AdminToken}, args...)
	if b, err := os.ReadFile(sum); err == nil {
		o.summary = new(replay.Stats)
		if err := json.Unmarshal(b, o.summary); err != nil {
			t.Fatalf("summary: %v", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	o.letters = map[string]replay.Letter{}
	f, err := os.Open(dl)
	if errors.Is(err, fs.ErrNotExist) {
		return o
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20) // a letter carries its event, 2 MiB of properties included
	for sc.Scan() {
		var l replay.Letter
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("dead-letter line %q: %v", sc.Text(), err)
		}
		key := fmt.Sprintf("%s:%d", filepath.Base(l.Position.File), l.Position.Row)
		switch {
		case l.Position.NullKey:
			key = fmt.Sprintf("null key:%d", l.Position.Seq)
		case l.Position.Kind == "postgres":
			key = "key:" + l.Position.ID
		}
		o.letters[key] = l
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("dead-letter file: %v", err)
	}
	return o
}

// letterWant is what a dead letter must say.
type letterWant struct {
	kind, field string
	status      int
	reason      string // a part of the reason
}

// badCase is one kind of bad input among good records.
type badCase struct {
	name string
	// write puts the source's files into dir (good holds the good rows)
	// and returns how many declared rows the run cannot read.
	write      func(t *testing.T, e *badEnv, dir string, good []eventRow) (unread int64)
	args       []string
	wantCode   int
	wantStderr []string
	// refused: the source is refused before anything is sent.
	refused     bool
	wantLetters map[string]letterWant
	wantDup     int64
	wantSkipped int64 // outside the window
	// extraGood counts valid records the case adds to the good ones.
	extraGood int
}

// Each bad input among good records: a clear message, the good records
// delivered, the bad ones in the dead-letter file with their reason, and a
// summary that accounts for every declared row.
func TestReplayBadInput(t *testing.T) {
	const nGood = 5
	tests := []badCase{
		{
			name: "corrupt parquet footer",
			write: func(t *testing.T, e *badEnv, dir string, good []eventRow) int64 {
				writeParquet(t, filepath.Join(dir, "a-good.parquet"), good)
				copyFile(t, filepath.Join(parquetFixtures, "truncated.parquet"), filepath.Join(dir, "b-truncated.parquet"))
				return 0
			},
			wantCode: 1, refused: true, wantStderr: []string{"b-truncated.parquet: not a readable Parquet file"},
		},
		{
			name: "corrupt parquet pages",
			write: func(t *testing.T, e *badEnv, dir string, good []eventRow) int64 {
				writeParquet(t, filepath.Join(dir, "a-good.parquet"), good)
				bad := filepath.Join(dir, "b-corrupt.parquet")
				copyFile(t, filepath.Join(parquetFixtures, "corrupt.parquet"), bad)
				return footerRows(t, bad)
			},
			wantCode: 1, wantStderr: []string{"read source: source: parquet ", "b-corrupt.parquet row group 0"},
		},
		{
			name: "column of the wrong type",
			write: func(t *testing.T, e *badEnv, dir string, good []eventRow) int64 {
				writeParquet(t, filepath.Join(dir, "a-good.parquet"), good)
				writeParquet(t, filepath.Join(dir, "b-numeric.parquet"), []numericCustomerRow{{ID: "n-1", EventType: "api.request", CustomerID: 1, Timestamp: badInputDay}})
				return 0
			},
			wantCode: 1, refused: true,
			wantStderr: []string{"b-numeric.parquet: column \"customer_id\" (customer_id) has type DOUBLE, want a string, UUID or integer"},
		},
		{
			name: "values of the wrong type",
			write: func(t *testing.T, e *badEnv, dir string, good []eventRow) int64 {
				rows := []textRow{{ID: "text-ts", EventType: "api.request", CustomerID: e.cust, Timestamp: "yesterday", Properties: `{}`}}
				for _, g := range good {
					rows = append(rows, textRow{ID: g.ID, EventType: g.EventType, CustomerID: g.CustomerID, Timestamp: g.Timestamp.Format(time.RFC3339), Properties: g.Properties})
				}
				rows = append(rows, textRow{ID: "text-props", EventType: "api.request", CustomerID: e.cust, Timestamp: badInputDay.Format(time.RFC3339), Properties: "bytes=10"},
					textRow{ID: "array-props", EventType: "api.request", CustomerID: e.cust, Timestamp: badInputDay.Format(time.RFC3339), Properties: "[10]"})
				writeParquet(t, filepath.Join(dir, "text.parquet"), rows)
				return 0
			},
			wantCode: 1, wantStderr: []string{"3 records, see "},
			wantLetters: map[string]letterWant{
				"text.parquet:0": {replay.KindInvalid, "timestamp", 0, `unparsable "yesterday": want RFC 3339`},
				"text.parquet:6": {replay.KindInvalid, "properties", 0, "not a JSON object"},
				"text.parquet:7": {replay.KindInvalid, "properties", 0, "not a JSON object"},
			},
		},
		{
			name: "null required fields",
			write: func(t *testing.T, e *badEnv, dir string, good []eventRow) int64 {
				p := func(s string) *string { return &s }
				ts := badInputDay
				full := func(id string) nullableRow {
					return nullableRow{ID: p(id), EventType: p("api.request"), CustomerID: p(e.cust), Timestamp: &ts, Properties: p(`{}`)}
				}
				var rows []nullableRow
				for _, g := range good {
					r := full(g.ID)
					r.SubscriptionID, r.Properties = g.SubscriptionID, &g.Properties
					rows = append(rows, r)
				}
				noID, noType, noCust, noTS := full(""), full("null-type"), full("null-customer"), full("null-timestamp")
				noID.ID, noType.EventType, noCust.CustomerID, noTS.Timestamp = nil, nil, nil, nil
				noProps := full("null-properties") // properties are optional: a good record
				noProps.Properties = nil
				writeParquet(t, filepath.Join(dir, "nulls.parquet"), append(rows, noID, noType, noCust, noTS, noProps))
				return 0
			},
			wantCode: 1, wantStderr: []string{"4 records, see "}, extraGood: 1,
			wantLetters: map[string]letterWant{
				"nulls.parquet:5": {replay.KindInvalid, "id", 0, "missing"},
				"nulls.parquet:6": {replay.KindInvalid, "event_type", 0, "missing"},
				"nulls.parquet:7": {replay.KindInvalid, "customer_id", 0, "missing"},
				"nulls.parquet:8": {replay.KindInvalid, "timestamp", 0, "missing"},
			},
		},
		{
			// The API's body limit is not documented; the sandbox's is
			// 1 MiB. The harness does not guess a limit of its own: the
			// target's 413 dead-letters the event with the target's reason.
			name: "2 MiB properties object",
			write: func(t *testing.T, e *badEnv, dir string, good []eventRow) int64 {
				big := eventRow{ID: "huge", EventType: "api.request", CustomerID: e.cust, SubscriptionID: &e.sub, Timestamp: badInputDay,
					Properties: `{"bytes":1,"blob":"` + strings.Repeat("x", 2<<20) + `"}`}
				writeParquet(t, filepath.Join(dir, "big.parquet"), append(good, big))
				return 0
			},
			wantCode: 1, wantStderr: []string{"1 records, see "},
			wantLetters: map[string]letterWant{"big.parquet:5": {replay.KindRejected, "", 413, "the request body exceeds 1 MiB"}},
		},
		{
			// A repeated id with the same content is a duplicate; with other
			// content, the API refuses the second body under the same
			// Idempotency-Key (409). One worker, so the first copy in the
			// file is the one that counts.
			name: "duplicated ids",
			write: func(t *testing.T, e *badEnv, dir string, good []eventRow) int64 {
				again, changed := good[0], good[1]
				changed.Properties = `{"bytes":999}`
				writeParquet(t, filepath.Join(dir, "dups.parquet"), append(good, again, changed))
				return 0
			},
			args: []string{"-concurrency", "1"}, wantCode: 1, wantStderr: []string{"1 records, see "}, wantDup: 1,
			wantLetters: map[string]letterWant{"dups.parquet:6": {replay.KindConflict, "", 409, "used with a different body"}},
		},
		{
			name: "events outside the window",
			write: func(t *testing.T, e *badEnv, dir string, good []eventRow) int64 {
				before, after := good[0], good[1]
				before.ID, before.Timestamp = "before", time.Date(2026, 9, 30, 23, 59, 59, 0, time.UTC)
				after.ID, after.Timestamp = "after", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
				writeParquet(t, filepath.Join(dir, "window.parquet"), append(good, before, after))
				return 0
			},
			args: []string{"-window", "2026-10-01..2026-11-01"}, wantSkipped: 2,
		},
		{
			name: "unknown subscriptions",
			write: func(t *testing.T, e *badEnv, dir string, good []eventRow) int64 {
				unknown, foreign := "01944b1f-0000-7000-8000-00000000dead", e.otherSub
				r1, r2, r3 := good[0], good[0], good[0]
				r1.ID, r1.SubscriptionID = "unknown-subscription", &unknown
				r2.ID, r2.SubscriptionID = "foreign-subscription", &foreign
				r3.ID, r3.CustomerID, r3.SubscriptionID = "unknown-customer", "01944b1f-0000-7000-8000-00000000beef", nil
				writeParquet(t, filepath.Join(dir, "subs.parquet"), append(good, r1, r2, r3))
				return 0
			},
			wantCode: 1, wantStderr: []string{"3 records, see "},
			wantLetters: map[string]letterWant{
				"subs.parquet:5": {replay.KindRejected, "subscription_id", 422, ""},
				"subs.parquet:6": {replay.KindRejected, "subscription_id", 422, ""},
				"subs.parquet:7": {replay.KindRejected, "customer_id", 422, ""},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newBadEnv(t)
			dir := t.TempDir()
			unread := tt.write(t, e, dir, e.good(nGood))
			o := replayBad(t, e, "parquet:"+dir, tt.args...)
			checkBadOutcome(t, e, o, tt, nGood+tt.extraGood, unread)
		})
	}
}

// checkBadOutcome asserts what every bad-input case must show.
func checkBadOutcome(t *testing.T, e *badEnv, o replayOutcome, tt badCase, nGood int, unread int64) {
	t.Helper()
	if o.code != tt.wantCode {
		t.Errorf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", o.code, tt.wantCode, o.stdout, o.stderr)
	}
	for _, w := range tt.wantStderr {
		if !strings.Contains(o.stderr, w) {
			t.Errorf("stderr = %q, want it to name %q", o.stderr, w)
		}
	}
	stored := e.sb.Server.Stats().EventsStored
	if tt.refused {
		if stored != 0 || o.summary != nil || len(o.letters) != 0 {
			t.Errorf("refused source: stored %d, summary %v, %d dead letters; want nothing sent or written", stored, o.summary != nil, len(o.letters))
		}
		return
	}
	if stored != int64(nGood) {
		t.Errorf("sandbox stored %d events, want the %d good ones", stored, nGood)
	}
	for key, w := range tt.wantLetters {
		l, ok := o.letters[key]
		switch {
		case !ok:
			t.Errorf("no dead letter at %s; have %v", key, letterKeys(o.letters))
		case l.Kind != w.kind || l.Field != w.field || l.Status != w.status || l.Reason == "" || !strings.Contains(l.Reason, w.reason):
			t.Errorf("dead letter at %s = kind %q field %q status %d reason %q; want %q, %q, %d, a reason containing %q",
				key, l.Kind, l.Field, l.Status, l.Reason, w.kind, w.field, w.status, w.reason)
		case l.Event == nil && len(l.Raw) == 0:
			t.Errorf("dead letter at %s carries neither the event nor the raw record", key)
		}
	}
	if len(o.letters) != len(tt.wantLetters) {
		t.Errorf("dead letters at %v, want exactly %d", letterKeys(o.letters), len(tt.wantLetters))
	}
	st := o.summary
	if st == nil {
		t.Fatalf("no summary written\n%s", o.stderr)
	}
	if st.DeadLettered != int64(len(o.letters)) || st.Duplicate != tt.wantDup || st.Source.SkippedWindow != tt.wantSkipped {
		t.Errorf("summary: dead-lettered %d, duplicate %d, outside the window %d; want %d, %d, %d",
			st.DeadLettered, st.Duplicate, st.Source.SkippedWindow, len(o.letters), tt.wantDup, tt.wantSkipped)
	}
	accounted := st.Accepted + st.Duplicate + st.DeadLettered + st.Abandoned +
		st.Source.SkippedWindow + st.Source.SkippedShard + st.Source.SkippedResume + unread
	if st.Source.Declared == 0 || accounted != st.Source.Declared {
		t.Errorf("summary accounts for %d rows (accepted %d + duplicate %d + dead-lettered %d + abandoned %d + skipped %d/%d/%d + unread %d), the source declares %d",
			accounted, st.Accepted, st.Duplicate, st.DeadLettered, st.Abandoned, st.Source.SkippedWindow, st.Source.SkippedShard,
			st.Source.SkippedResume, unread, st.Source.Declared)
	}
}

func letterKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
