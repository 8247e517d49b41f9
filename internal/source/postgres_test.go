package source

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/pgtest"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// pgSchema creates a uniquely named schema, dropped at cleanup, and returns
// a connection whose search_path is it, and the schema name.
func pgSchema(t *testing.T) (*pgx.Conn, string) {
	t.Helper()
	ctx := context.Background()
	conn := pgtest.Connect(t)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "source_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema+"; SET search_path = "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() { conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	return conn, schema
}

// loadSample loads the committed sample into schema.usage_events with the
// generator's schema.sql and COPY file.
func loadSample(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	ddl, err := os.ReadFile(sample + "/schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, string(ddl)); err != nil {
		t.Fatalf("schema.sql: %v", err)
	}
	f, err := os.Open(sample + "/usage_events.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.PgConn().CopyFrom(ctx, gz, "COPY usage_events FROM STDIN (FORMAT csv, HEADER true)"); err != nil {
		t.Fatalf("copy: %v", err)
	}
	if _, err := conn.Exec(ctx, "ANALYZE usage_events"); err != nil {
		t.Fatal(err)
	}
}

// pgSpec reads table in schema through the test server.
func pgSpec(t *testing.T, schema, table string) Spec {
	return Spec{Kind: KindPostgres, DSN: pgtest.DSN(t), Table: schema + "." + table}
}

// byKey sorts records in keyset order, for comparing with Parquet.
func byKey(recs []Record) []Record {
	out := slices.Clone(recs)
	slices.SortStableFunc(out, func(a, b Record) int {
		if c := a.Event.Timestamp.Compare(b.Event.Timestamp); c != 0 {
			return c
		}
		return strings.Compare(a.Event.ID, b.Event.ID)
	})
	return out
}

func TestPostgresMatchesParquet(t *testing.T) {
	conn, schema := pgSchema(t)
	loadSample(t, conn)
	m := readManifest(t)
	r := openSpec(t, pgSpec(t, schema, "usage_events"))
	got, bad := readAll(t, r)
	if len(bad) != 0 || len(got) != m.Events {
		t.Fatalf("read %d events and %d errors, want %d and 0", len(got), len(bad), m.Events)
	}
	for i := 1; i < len(got); i++ {
		if !got[i-1].Pos.Less(got[i].Pos) {
			t.Fatalf("position %v after %v: want strictly increasing", got[i].Pos, got[i-1].Pos)
		}
	}
	want, _ := readAll(t, openSpec(t, sampleSpec()))
	want = byKey(want)
	dups := 0
	for i := range want {
		g, w := got[i].Event, want[i].Event
		g.Properties = []byte(normJSON(t, g.Properties))
		w.Properties = []byte(normJSON(t, w.Properties))
		same := g.ID == w.ID && g.EventType == w.EventType && g.CustomerID == w.CustomerID &&
			g.SubscriptionID == w.SubscriptionID && g.Timestamp.Equal(w.Timestamp) && string(g.Properties) == string(w.Properties)
		if !same {
			t.Fatalf("event %d mismatch (-parquet +postgres):\n%s", i, cmp.Diff(w, g))
		}
		if got[i].Pos.Seq > 0 {
			dups++
		}
	}
	if dups != m.Duplicates {
		t.Errorf("rows with Seq > 0 = %d, want the %d duplicates", dups, m.Duplicates)
	}
	st := r.Stats()
	if st.Declared != int64(m.Events) || st.Emitted != int64(m.Events) {
		t.Errorf("Stats() = %+v, want %d declared and emitted", st, m.Events)
	}
}

func TestPostgresResumeShardWindow(t *testing.T) {
	conn, schema := pgSchema(t)
	loadSample(t, conn)
	spec := pgSpec(t, schema, "usage_events")
	// Small batches so that batch boundaries fall inside repeated keys.
	spec.BatchSize = 997
	all, _ := readAll(t, openSpec(t, spec))

	t.Run("resume", func(t *testing.T) {
		cuts := []int{0, 996, 997, len(all) / 2, len(all) - 1}
		for i, rec := range all { // inside a repeated key
			if rec.Pos.Seq == 1 {
				cuts = append(cuts, i-1)
				break
			}
		}
		for _, cut := range cuts {
			s := spec
			s.After = all[cut].Pos
			r := openSpec(t, s)
			rest, _ := readAll(t, r)
			want := all[cut+1:]
			if len(rest) != len(want) {
				t.Fatalf("resumed after %v: %d events, want %d", s.After, len(rest), len(want))
			}
			for i := range want {
				if rest[i].Pos.Compare(want[i].Pos) != 0 || rest[i].Event.ID != want[i].Event.ID {
					t.Fatalf("resumed after %v: event %d at %v, want %v", s.After, i, rest[i].Pos, want[i].Pos)
				}
			}
			st := r.Stats()
			if st.SkippedResume != int64(cut+1) {
				t.Errorf("resumed after %v: SkippedResume = %d, want %d", s.After, st.SkippedResume, cut+1)
			}
			checkBalance(t, st)
		}
	})

	t.Run("shards", func(t *testing.T) {
		const n = 3
		seen := map[string]int{}
		for i := range n {
			s := spec
			s.Shard = Shard{Index: i, Count: n}
			r := openSpec(t, s)
			recs, _ := readAll(t, r)
			for _, rec := range recs {
				seen[rec.Pos.String()]++
				if ShardOf(rec.Event.CustomerID, n) != i {
					t.Fatalf("event %s of subscription %s read by shard %d", rec.Event.ID, rec.Event.SubscriptionID, i)
				}
			}
			checkBalance(t, r.Stats())
		}
		if len(seen) != len(all) {
			t.Errorf("union of %d shards = %d records, want %d", n, len(seen), len(all))
		}
		for _, rec := range all {
			if seen[rec.Pos.String()] != 1 {
				t.Fatalf("record at %v read by %d shards, want 1", rec.Pos, seen[rec.Pos.String()])
			}
		}
	})

	t.Run("window", func(t *testing.T) {
		m := readManifest(t)
		s := spec
		s.Window, _ = ParseWindow(m.Month)
		r := openSpec(t, s)
		recs, _ := readAll(t, r)
		if want := m.Events - m.OutsideMonth; len(recs) != want {
			t.Errorf("events in %s = %d, want %d", m.Month, len(recs), want)
		}
		// The window is in the SQL, the count included: rows outside it
		// are neither read nor declared.
		st := r.Stats()
		if st.SkippedWindow != 0 || st.Declared != int64(len(recs))+st.Invalid {
			t.Errorf("SkippedWindow = %d, Declared = %d, want 0 and the %d rows in the window", st.SkippedWindow, st.Declared, int64(len(recs))+st.Invalid)
		}
		checkBalance(t, st)
	})
}

// TestShardSQLMatchesShardOf checks that the SQL shard predicate selects
// exactly the keys ShardOf puts in each shard, on random keys of every
// kind of text (multi-byte, empty, NULL) at several shard counts.
func TestShardSQLMatchesShardOf(t *testing.T) {
	conn, _ := pgSchema(t)
	ctx := context.Background()
	rng := mrand.New(mrand.NewPCG(1, 2))
	alphabet := []rune("abcXYZ019-_é€🙂 ")
	keys := []string{"", "cus_1", "ключ"}
	for range 2000 {
		b := make([]rune, rng.IntN(40))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		keys = append(keys, string(b))
	}
	for _, n := range []int{2, 3, 4, 7, 64, 1000} {
		for i := range n {
			if n > 7 && i > 2 {
				break
			}
			sh := Shard{Index: i, Count: n}
			sql := fmt.Sprintf("SELECT k FROM unnest($1::text[]) AS k WHERE %s", sh.ShardSQL("k"))
			rows, err := conn.Query(ctx, sql, keys)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for rows.Next() {
				var k string
				if err := rows.Scan(&k); err != nil {
					t.Fatal(err)
				}
				got[k] = true
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				if want := sh.Contains(k); got[k] != want {
					t.Fatalf("shard %s: SQL selects %q = %v, ShardOf says %v", sh, k, got[k], want)
				}
			}
		}
	}
	// A NULL key is the empty key, as the readers read it.
	var inShard bool
	sh := Shard{Index: ShardOf("", 5), Count: 5}
	if err := conn.QueryRow(ctx, "SELECT "+sh.ShardSQL("NULL::text")).Scan(&inShard); err != nil || !inShard {
		t.Fatalf("NULL key in shard %s = %v, %v, want true like the empty key", sh, inShard, err)
	}
}

func TestPostgresValidation(t *testing.T) {
	conn, schema := pgSchema(t)
	ctx := context.Background()
	_, err := conn.Exec(ctx, `CREATE TABLE events (id text, event_type text, customer_id text, subscription_id text,
		"timestamp" timestamptz, properties jsonb);
	INSERT INTO events VALUES
		('ok-1', 'api.request', 'cus-1', 'sub-1', '2026-10-01T00:00:00Z', '{"bytes":1}'),
		('bad-type', '', 'cus-1', NULL, '2026-10-01T00:00:01Z', '{}'),
		('bad-customer', 'api.request', NULL, NULL, '2026-10-01T00:00:02Z', '{}'),
		('bad-props', 'api.request', 'cus-1', NULL, '2026-10-01T00:00:03Z', '[1,2]'),
		('ok-2', 'api.request', 'cus-1', NULL, '2026-10-01T00:00:04Z', NULL),
		(NULL, 'api.request', 'cus-1', NULL, '2026-10-01T00:00:05Z', '{}'),
		('bad-ts', 'api.request', 'cus-1', NULL, NULL, '{}')`)
	if err != nil {
		t.Fatal(err)
	}
	r := openSpec(t, pgSpec(t, schema, "events"))
	recs, bad := readAll(t, r)
	ts := func(s int) time.Time { return time.Date(2026, 10, 1, 0, 0, s, 0, time.UTC) }
	key := func(s int, id string) Position { return Position{Kind: KindPostgres, Timestamp: ts(s), ID: id} }
	type got struct {
		Pos           Position
		Field, Reason string
	}
	want := []got{
		{key(1, "bad-type"), FieldEventType, "missing"},
		{key(2, "bad-customer"), FieldCustomerID, "missing"},
		{key(3, "bad-props"), FieldProperties, "not a JSON object"},
		{Position{Kind: KindPostgres, NullKey: true, Seq: 0}, FieldTimestamp, "missing"},
		{Position{Kind: KindPostgres, NullKey: true, Seq: 1}, FieldID, "missing"},
	}
	var gots []got
	for _, e := range bad {
		gots = append(gots, got{e.Pos, e.Field, e.Reason})
	}
	if diff := cmp.Diff(want, gots); diff != "" {
		t.Errorf("record errors mismatch (-want +got):\n%s", diff)
	}
	if len(recs) != 2 || recs[0].Event.ID != "ok-1" || recs[1].Event.ID != "ok-2" {
		t.Errorf("valid records = %+v, want ok-1, ok-2", recs)
	}
	checkBalance(t, r.Stats())

	// Resuming after the first NULL-key row yields only the second.
	s := pgSpec(t, schema, "events")
	s.After = want[3].Pos
	_, bad = readAll(t, openSpec(t, s))
	if len(bad) != 1 || bad[0].Pos != want[4].Pos {
		t.Errorf("resume after %v: errors %v, want only the one at %v", s.After, bad, want[4].Pos)
	}
}

func TestPostgresQueryAndColumns(t *testing.T) {
	t.Parallel()
	conn, schema := pgSchema(t)
	ctx := context.Background()
	_, err := conn.Exec(ctx, `CREATE TABLE raw (event_id uuid, kind varchar, account text, ts timestamp,
		input_tokens bigint, model text);
	INSERT INTO raw VALUES
		('0199a000-0000-7000-8000-000000000002', 'llm.completion', 'cus-1', '2026-10-02 00:00:00', 10, 'gpt-4o'),
		('0199a000-0000-7000-8000-000000000001', 'llm.completion', 'cus-1', '2026-10-02 00:00:00', NULL, 'gpt-4o'),
		('0199a000-0000-7000-8000-000000000003', 'api.request', 'cus-2', '2026-10-01 00:00:00', NULL, NULL)`)
	if err != nil {
		t.Fatal(err)
	}
	cols := ColumnMap{"id": "event_id", "event_type": "kind", "customer_id": "account", "timestamp": "ts"}
	spec := Spec{Kind: KindPostgres, DSN: pgtest.DSN(t), Table: schema + ".raw", Columns: cols, Properties: []string{"input_tokens", "model"}}
	recs, bad := readAll(t, openSpec(t, spec))
	var got []string
	for _, r := range recs {
		got = append(got, r.Event.ID+" "+r.Event.Timestamp.Format(time.RFC3339)+" "+normJSON(t, r.Event.Properties))
	}
	want := []string{
		`0199a000-0000-7000-8000-000000000003 2026-10-01T00:00:00Z {}`,
		`0199a000-0000-7000-8000-000000000001 2026-10-02T00:00:00Z {"model":"gpt-4o"}`,
		`0199a000-0000-7000-8000-000000000002 2026-10-02T00:00:00Z {"input_tokens":10,"model":"gpt-4o"}`,
	}
	if len(bad) != 0 || !slices.Equal(got, want) {
		t.Errorf("events = %q, errors %v; want %q", got, bad, want)
	}

	q := Spec{Kind: KindPostgres, DSN: pgtest.DSN(t), Columns: cols,
		Query: "SELECT event_id, kind, account, ts, jsonb_build_object('n', input_tokens) AS properties FROM " + schema + ".raw WHERE kind = 'llm.completion';"}
	recs, _ = readAll(t, openSpec(t, q))
	if len(recs) != 2 || recs[1].Event.CustomerID != "cus-1" {
		t.Errorf("query read %+v, want the 2 llm.completion events", recs)
	}

	errTests := []struct {
		name string
		spec Spec
		want string
	}{
		{"missing table", Spec{Table: schema + ".nope"}, "table " + schema + ".nope does not exist"},
		{"missing column", Spec{Table: schema + ".raw"}, `column "id" (id) not found`},
		{"missing mapped column", Spec{Table: schema + ".raw", Columns: ColumnMap{"id": "event_id", "event_type": "kind",
			"customer_id": "account", "timestamp": "ts", "subscription_id": "sub"}}, `column "sub" (subscription_id) not found`},
		{"bad key type", Spec{Table: schema + ".raw", Columns: ColumnMap{"id": "input_tokens", "event_type": "kind",
			"customer_id": "account", "timestamp": "ts"}}, `column "input_tokens" (id) must be text or uuid`},
		{"bad query", Spec{Query: "SELECT nonsense FROM nowhere"}, "postgres query"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.spec
			s.Kind, s.DSN = KindPostgres, pgtest.DSN(t)
			_, err := Open(ctx, s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open() error = %v, want containing %q", err, tt.want)
			}
		})
	}
}
