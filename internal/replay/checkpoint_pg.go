package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/billharness/billharness/internal/lock"

	"github.com/billharness/billharness/internal/source"
	"github.com/jackc/pgx/v5"
)

// PostgresStore keeps checkpoints in a PostgreSQL table, one row per name,
// for pods that have no volume to write a file to (Kubernetes Jobs).
type PostgresStore struct {
	// DSN is the server's postgres:// URL.
	DSN string
	// Table defaults to billharness_checkpoints; it is created when missing.
	Table string
	// Name is the row's key: one per replay (source, shard).
	Name string
}

func (s PostgresStore) table() string {
	if s.Table == "" {
		return "billharness_checkpoints"
	}
	return s.Table
}

func (s PostgresStore) String() string {
	return fmt.Sprintf("%s table %s name %q", source.RedactDSN(s.DSN), s.table(), s.Name)
}

func (s PostgresStore) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, s.DSN)
	if err != nil {
		return nil, fmt.Errorf("checkpoint store %s: %w", source.RedactDSN(s.DSN), err)
	}
	ddl := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
	name text PRIMARY KEY,
	checkpoint jsonb NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now())`, pgx.Identifier{s.table()}.Sanitize())
	if _, err := conn.Exec(ctx, ddl); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("checkpoint store: create table %s: %w", s.table(), err)
	}
	return conn, nil
}

// Load reads the row named s.Name; none is no checkpoint.
func (s PostgresStore) Load(ctx context.Context) (*Checkpoint, error) {
	conn, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var raw []byte
	q := fmt.Sprintf(`SELECT checkpoint FROM %s WHERE name = $1`, pgx.Identifier{s.table()}.Sanitize())
	err = conn.QueryRow(ctx, q, s.Name).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load checkpoint %q: %w", s.Name, err)
	}
	var cp Checkpoint
	if err := json.Unmarshal(raw, &cp); err != nil {
		return nil, fmt.Errorf("checkpoint %q: %w", s.Name, err)
	}
	return &cp, nil
}

// Save upserts the row in one statement: it is replaced atomically.
func (s PostgresStore) Save(ctx context.Context, cp Checkpoint) error {
	b, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	conn, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	q := fmt.Sprintf(`INSERT INTO %s (name, checkpoint, updated_at) VALUES ($1, $2, now())
ON CONFLICT (name) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, updated_at = EXCLUDED.updated_at`,
		pgx.Identifier{s.table()}.Sanitize())
	if _, err := conn.Exec(ctx, q, s.Name, string(b)); err != nil {
		return fmt.Errorf("save checkpoint %q: %w", s.Name, err)
	}
	return nil
}

// Lock takes a session-level advisory lock on the checkpoint's row name,
// held by a connection of its own until release: two replays on one
// checkpoint would each skip what the other claims to have done. A second
// run fails at once with a *lock.HeldError naming the holding session.
func (s PostgresStore) Lock(ctx context.Context) (release func() error, err error) {
	conn, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	if err := advisoryLock(ctx, conn, "billharness checkpoint "+s.table()+" "+s.Name, s.String()); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return func() error { return conn.Close(context.Background()) }, nil
}

// advisoryLock takes a session-level advisory lock on key for conn's
// session, or fails at once with a *lock.HeldError naming the session that
// holds it (what names the locked thing).
func advisoryLock(ctx context.Context, conn *pgx.Conn, key, what string) error {
	host, _ := os.Hostname()
	app := fmt.Sprintf("billharness replay pid %d on %s", os.Getpid(), host)
	if _, err := conn.Exec(ctx, `SELECT set_config('application_name', $1, false)`, app); err != nil {
		return fmt.Errorf("lock %s: %w", what, err)
	}
	var k int64
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT k, pg_try_advisory_lock(k) FROM (SELECT hashtextextended($1, 0) AS k) x`, key).Scan(&k, &ok); err != nil {
		return fmt.Errorf("lock %s: %w", what, err)
	}
	if !ok {
		holder := "holder unknown"
		var pid int
		var name, addr string
		var since time.Time
		q := `SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local socket'), a.backend_start
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid = (($1::bigint >> 32) & 4294967295)::oid AND l.objid = ($1::bigint & 4294967295)::oid AND l.objsubid = 1`
		if conn.QueryRow(ctx, q, k).Scan(&pid, &name, &addr, &since) == nil {
			holder = fmt.Sprintf("PostgreSQL session %d, %q from %s since %s", pid, name, addr, since.UTC().Format(time.RFC3339))
		}
		return &lock.HeldError{Path: what, Holder: holder}
	}
	return nil
}
