package replay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billharness/billharness/internal/source"
)

// DefaultLettersTable is the PostgreSQL dead-letter table's default name.
const DefaultLettersTable = "billharness_dead_letters"

// PostgresLetters keeps dead letters in a PostgreSQL table, one row a
// letter under a name (one per replay: source, shard), for pods that have
// no volume that outlives them. Like the file, it is held by one run at a
// time (an advisory lock on the name), and a re-drive reads it back with
// -source deadletter:postgres://….
type PostgresLetters struct {
	DSN   string
	Table string // default DefaultLettersTable; created when missing
	Name  string
}

func (s PostgresLetters) table() string {
	if s.Table == "" {
		return DefaultLettersTable
	}
	return s.Table
}

func (s PostgresLetters) String() string {
	return fmt.Sprintf("%s table %s name %q", source.RedactDSN(s.DSN), s.table(), s.Name)
}

// PGLetters is an open PostgresLetters.
type PGLetters struct {
	s       PostgresLetters
	mu      sync.Mutex
	conn    *pgx.Conn
	err     error
	earlier map[string]int64
	maxSeq  int64 // the last letter of earlier runs
}

// Open connects, creates the table when missing, takes the name's lock and
// counts the letters already there.
func (s PostgresLetters) Open(ctx context.Context) (*PGLetters, error) {
	conn, err := pgx.Connect(ctx, s.DSN)
	if err != nil {
		return nil, fmt.Errorf("dead letters %s: %w", source.RedactDSN(s.DSN), err)
	}
	l := &PGLetters{s: s, conn: conn, earlier: map[string]int64{}}
	if err := l.open(ctx); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return l, nil
}

func (l *PGLetters) open(ctx context.Context) error {
	t := pgx.Identifier{l.s.table()}.Sanitize()
	// text, not jsonb: a letter may carry \u0000, which jsonb refuses.
	ddl := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
	name text NOT NULL,
	seq bigserial,
	kind text NOT NULL,
	letter text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (name, seq))`, t)
	if _, err := l.conn.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("dead letters: create table %s: %w", l.s.table(), err)
	}
	if err := advisoryLock(ctx, l.conn, "billharness dead letters "+l.s.table()+" "+l.s.Name, l.s.String()); err != nil {
		return fmt.Errorf("dead letters: %w", err)
	}
	rows, err := l.conn.Query(ctx, fmt.Sprintf(`SELECT kind, count(*), max(seq) FROM %s WHERE name = $1 GROUP BY kind`, t), l.s.Name)
	if err != nil {
		return fmt.Errorf("dead letters %s: %w", l.s, err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var n, maxSeq int64
		if err := rows.Scan(&kind, &n, &maxSeq); err != nil {
			return fmt.Errorf("dead letters %s: %w", l.s, err)
		}
		l.earlier[kind] = n
		l.maxSeq = max(l.maxSeq, maxSeq)
	}
	return rows.Err()
}

func (l *PGLetters) String() string { return l.s.String() }

// EarlierCounts implements Letters.
func (l *PGLetters) EarlierCounts() map[string]int64 { return l.earlier }

// Write inserts one letter, committed at once.
func (l *PGLetters) Write(letter Letter) error {
	line, err := encodeLetter(letter)
	if err != nil {
		return fmt.Errorf("dead letter for %s: %w", letter.Position, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	q := fmt.Sprintf(`INSERT INTO %s (name, kind, letter) VALUES ($1, $2, $3)`, pgx.Identifier{l.s.table()}.Sanitize())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := l.conn.Exec(ctx, q, l.s.Name, letter.Kind, string(line[:len(line)-1])); err != nil {
		l.err = fmt.Errorf("write dead letter to %s: %w", l.s, err)
		return l.err
	}
	return nil
}

// Sync implements Letters: every letter is committed when written.
func (l *PGLetters) Sync() error { return nil }

// Close drops the connection and with it the lock.
func (l *PGLetters) Close() error {
	return l.conn.Close(context.Background())
}

// FinishRedrive ends a re-drive of this name: the retryable letters of
// earlier runs, all re-sent, move to the name archive (kept for the audit
// trail); the letters not re-sent stay, and the records that failed again
// were written under the name by this run. It returns the letters the name
// now holds, by kind.
func (l *PGLetters) FinishRedrive(ctx context.Context, archive string) (map[string]int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return nil, l.err
	}
	t := pgx.Identifier{l.s.table()}.Sanitize()
	if _, err := l.conn.Exec(ctx, fmt.Sprintf(`UPDATE %s SET name = $1 WHERE name = $2 AND seq <= $3 AND kind = $4`, t),
		archive, l.s.Name, l.maxSeq, source.RetryableLetter); err != nil {
		return nil, fmt.Errorf("re-drive %s: %w", l.s, err)
	}
	rows, err := l.conn.Query(ctx, fmt.Sprintf(`SELECT kind, count(*) FROM %s WHERE name = $1 GROUP BY kind`, t), l.s.Name)
	if err != nil {
		return nil, fmt.Errorf("re-drive %s: %w", l.s, err)
	}
	left, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct {
		Kind string
		N    int64
	}, error) {
		var v struct {
			Kind string
			N    int64
		}
		return v, r.Scan(&v.Kind, &v.N)
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("re-drive %s", l.s), err)
	}
	out := map[string]int64{}
	for _, v := range left {
		out[v.Kind] = v.N
	}
	return out, nil
}

// Name is the name the letters are kept under.
func (l *PGLetters) Name() string { return l.s.Name }

// MaxSeq is the last letter of earlier runs: a re-drive reads up to it.
func (l *PGLetters) MaxSeq() int64 { return l.maxSeq }
