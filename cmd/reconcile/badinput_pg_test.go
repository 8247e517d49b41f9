package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/billharness/billharness/internal/pgtest"
	"github.com/billharness/billharness/internal/replay"
)

// badTable creates table (ddl, then rows) in a fresh schema dropped at
// cleanup, and returns the test server's DSN and the qualified table name.
func badTable(t *testing.T, ddl, rows string) (dsn, table string) {
	t.Helper()
	dsn = pgtest.DSN(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "badinput_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	})
	table = schema + ".events"
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema+"; CREATE TABLE "+table+" "+ddl); err != nil {
		t.Fatalf("create table: %v", err)
	}
	if rows != "" {
		if _, err := conn.Exec(ctx, "INSERT INTO "+table+" VALUES "+rows); err != nil {
			t.Fatalf("insert: %v", err)
		}
	}
	return dsn, table
}

// goodValues renders the good events as VALUES rows of the full layout.
func (e *badEnv) goodValues(n int) string {
	var rows []string
	for _, g := range e.good(n) {
		rows = append(rows, fmt.Sprintf("('%s', '%s', '%s', '%s', '%s', '%s')", g.ID, g.EventType, g.CustomerID, *g.SubscriptionID,
			g.Timestamp.Format("2006-01-02T15:04:05Z"), g.Properties))
	}
	return strings.Join(rows, ",\n")
}

func TestReplayBadPostgresInput(t *testing.T) {
	const nGood = 5
	const full = `(id text, event_type text, customer_id text, subscription_id text, "timestamp" timestamptz, properties jsonb)`
	tests := []struct {
		name string
		ddl  string
		bad  func(e *badEnv) string // rows added to the good ones
		badCase
	}{
		{
			name: "table missing a column",
			ddl:  `(id text, event_type text, subscription_id text, "timestamp" timestamptz, properties jsonb)`,
			badCase: badCase{wantCode: 1, refused: true,
				wantStderr: []string{`column "customer_id" (customer_id) not found`, ".events (columns: event_type, id, properties, subscription_id, timestamp)"}},
		},
		{
			name: "null required fields",
			ddl:  full,
			bad: func(e *badEnv) string {
				return fmt.Sprintf(`('null-type', NULL, '%[1]s', NULL, '2026-10-05T11:00:00Z', '{}'),
					('null-customer', 'api.request', NULL, NULL, '2026-10-05T11:00:01Z', '{}'),
					(NULL, 'api.request', '%[1]s', NULL, '2026-10-05T11:00:02Z', '{}'),
					('null-timestamp', 'api.request', '%[1]s', NULL, NULL, '{}'),
					('null-properties', 'api.request', '%[1]s', NULL, '2026-10-05T11:00:03Z', NULL)`, e.cust)
			},
			badCase: badCase{wantCode: 1, wantStderr: []string{"4 records, see "}, extraGood: 1,
				wantLetters: map[string]letterWant{
					"key:null-type":     {replay.KindInvalid, "event_type", 0, "missing"},
					"key:null-customer": {replay.KindInvalid, "customer_id", 0, "missing"},
					"null key:0":        {replay.KindInvalid, "timestamp", 0, "missing"},
					"null key:1":        {replay.KindInvalid, "id", 0, "missing"},
				}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newBadEnv(t)
			rows := ""
			if tt.bad != nil {
				rows = e.goodValues(nGood) + ",\n" + tt.bad(e)
			}
			dsn, table := badTable(t, tt.ddl, rows)
			o := replayBad(t, e, dsn, "-table", table)
			checkBadOutcome(t, e, o, tt.badCase, nGood+tt.extraGood, 0)
		})
	}
}
