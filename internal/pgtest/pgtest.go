// Package pgtest gives tests the PostgreSQL server that make test starts.
package pgtest

import (
	"context"
	"testing"

	"github.com/billharness/billharness/internal/testenv"
	"github.com/jackc/pgx/v5"
)

// EnvDSN names the variable holding the test server's URL.
const EnvDSN = "BILLHARNESS_TEST_PG_DSN"

// DSN returns the test server's URL. Without one the test is skipped,
// except in CI (CI set), where tests that need PostgreSQL must never be
// skipped: there it fails.
func DSN(t testing.TB) string {
	t.Helper()
	return testenv.Getenv(t, EnvDSN, "make test starts a PostgreSQL server")
}

// Connect connects to the test server (see DSN), closing the connection
// when the test ends.
func Connect(t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), DSN(t))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
