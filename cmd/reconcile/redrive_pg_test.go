package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/billharness/billharness/internal/pgtest"
	"github.com/billharness/billharness/internal/replay"
)

// Dead letters kept in a PostgreSQL table, for pods without a volume that
// outlives them: written, held by one run at a time, re-driven, and named
// by the next run until they are.
func TestReplayDeadLettersInPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	e, down, dir, file, rows := redriveSetup(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "test-" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	t.Cleanup(func() { _, _ = conn.Exec(ctx, "DELETE FROM billharness_dead_letters WHERE name LIKE $1", name+"%") })
	kinds := func(n string) map[string]int {
		out := map[string]int{}
		rows, err := conn.Query(ctx, "SELECT kind, count(*) FROM billharness_dead_letters WHERE name = $1 GROUP BY kind", n)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k string
			var c int
			_ = rows.Scan(&k, &c)
			out[k] = c
		}
		return out
	}
	env := func(url, token string) map[string]string {
		return map[string]string{"BILLING_API_URL": url, "BILLING_TOKEN": token}
	}
	healthy := env(e.sb.URL, e.sb.AdminToken)
	args := []string{"-dead-letter", dsn, "-dead-letter-name", name, "-rate", "0", "-progress", "off"}

	code, _, errOut := runReconcile(t, env(down.URL, down.AdminToken), append([]string{"replay", "-source", "parquet:" + file}, args...)...)
	if k := kinds(name); code != 1 || k[replay.KindFailed] != 21 || k[replay.KindInvalid] != 1 {
		t.Fatalf("against a failing target: exit %d, letters %v; want 1, 21 failed and 1 invalid\n%s", code, k, errOut)
	}

	// Held by another run: refused.
	held, err := replay.PostgresLetters{DSN: dsn, Name: name}.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runReconcile(t, healthy, append([]string{"replay", "-source", "parquet:" + file}, args...)...)
	held.Close()
	if code != 2 || !strings.Contains(errOut, "in use by another run") {
		t.Errorf("second run on held letters: exit %d, stderr %q; want 2", code, errOut)
	}

	code, _, errOut = runReconcile(t, healthy, "replay", "-source", "deadletter:"+dsn, "-dead-letter-name", name, "-rate", "0", "-progress", "off")
	if k := kinds(name); code != 1 || !strings.Contains(errOut, "2 letters remain") || len(k) != 2 || k[replay.KindRejected] != 1 || k[replay.KindInvalid] != 1 {
		t.Errorf("re-drive: exit %d, letters %v; want 1 and the rejected and invalid letters left\n%s", code, k, errOut)
	}
	if n := e.sb.Server.Stats().EventsStored; n != 20 {
		t.Errorf("re-drive stored %d events, want 20", n)
	}
	var archived int
	_ = conn.QueryRow(ctx, "SELECT count(*) FROM billharness_dead_letters WHERE name LIKE $1", name+".redriven-%").Scan(&archived)
	if archived != 21 {
		t.Errorf("%d letters archived, want the 21 re-sent", archived)
	}

	good := filepath.Join(dir, "good.parquet")
	writeParquet(t, good, rows)
	code, _, errOut = runReconcile(t, healthy, append([]string{"replay", "-source", "parquet:" + good}, args...)...)
	if code != 1 || !strings.Contains(errOut, "2 dead letters of earlier runs") || !strings.Contains(errOut, "-dead-letter-name "+name) {
		t.Errorf("run on a table with earlier letters: exit %d, stderr %q; want 1 naming them", code, errOut)
	}
}
