package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

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
