package source

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// pgReader streams a table or query in keyset batches inside one
// read-only REPEATABLE READ transaction, so that the count taken at Open
// and every batch see the same snapshot. The transaction stays open until
// Close.
type pgReader struct {
	spec  Spec
	conn  *pgx.Conn
	tx    pgx.Tx
	q     pgSQL
	limit int
	stats Stats
	err   error

	rows []pgRow // current batch
	bi   int
	// Keyset state: the key of the last row fetched, whether any was, and
	// whether the keyed phase is over (then null-key rows are read, nullSkip
	// of them already).
	lastTS   time.Time
	lastID   string
	haveKey  bool
	keyedEOF bool
	nullSkip int64
	nullEOF  bool
	nullRows pgx.Rows // the NULL-key statement, read to its end across batches
	// pending group completion after a resume inside a key's rows.
	resumeGroup bool

	strings  map[string]string // interned event types, customers, subscriptions
	shardOf  shardMemo         // to check the database's split
	received *atomic.Int64     // bytes received from the server
	arena    arena
}

// pgRow is one row as scanned, with its position.
type pgRow struct {
	id, et, cust, sub pgtype.Text
	ts                pgtype.Timestamptz
	props             []byte
	pos               Position
}

// Type OIDs accepted for the key columns.
const (
	oidText        = 25
	oidJSONB       = 3802
	oidVarchar     = 1043
	oidBpchar      = 1042
	oidName        = 19
	oidUUID        = 2950
	oidTimestamp   = 1114
	oidTimestamptz = 1184
)

func openPostgres(ctx context.Context, spec Spec) (_ *pgReader, err error) {
	cfg, err := pgx.ParseConfig(spec.DSN)
	if err != nil {
		return nil, fmt.Errorf("source: postgres %s: %w", RedactDSN(spec.DSN), err)
	}
	received := new(atomic.Int64)
	dial := cfg.DialFunc
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{c, received}, nil
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("source: postgres %s: %w", RedactDSN(spec.DSN), err)
	}
	r := &pgReader{received: received, spec: spec, conn: conn, limit: spec.BatchSize, strings: map[string]string{}, shardOf: shardMemo{shard: spec.Shard}}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	if r.limit == 0 {
		r.limit = DefaultBatchSize
	}
	// Timestamps without a zone are read as UTC.
	if _, err := conn.Exec(ctx, "SET TIME ZONE 'UTC'"); err != nil {
		return nil, fmt.Errorf("source: postgres: %w", err)
	}
	r.tx, err = conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("source: postgres: begin: %w", err)
	}
	if err := r.probe(ctx); err != nil {
		return nil, err
	}
	sql, args := r.q.count(spec.After)
	var total, inShard, before int64
	if err := r.tx.QueryRow(ctx, sql, args...).Scan(&total, &inShard, &before); err != nil {
		return nil, fmt.Errorf("source: postgres %s: count: %w", r.what(), err)
	}
	// Rows of other shards are accounted for, not read.
	r.stats.Declared, r.stats.SkippedShard = total, total-inShard
	if a := spec.After; !a.IsZero() {
		covered := before + a.Seq + 1
		if cov := spec.Resume; cov != nil && covered != cov.Rows {
			if covered < cov.Rows {
				return nil, fmt.Errorf("source: postgres %s: %w: %d rows in the window lie at or before %s, the checkpoint covered %d (rows deleted or moved)",
					r.what(), ErrSourceChanged, covered, a, cov.Rows)
			}
			// Rows appeared at or before the position since the checkpoint:
			// there is no telling which, so the window is read again and the
			// API deduplicates the rows it already has.
			r.stats.Late, r.stats.Reread = covered-cov.Rows, true
			return r, nil
		}
		r.stats.SkippedResume = covered
		if a.NullKey {
			r.keyedEOF, r.nullSkip = true, a.Seq+1
		} else {
			r.lastTS, r.lastID, r.haveKey, r.resumeGroup = a.Timestamp, a.ID, true, true
		}
	}
	return r, nil
}

// what names the source in errors.
func (r *pgReader) what() string {
	if r.spec.Query != "" {
		return "query"
	}
	return "table " + r.table()
}

func (r *pgReader) table() string {
	if r.spec.Table != "" {
		return r.spec.Table
	}
	return DefaultTable
}

// probe checks that the table or query and every column exist, and that
// the key columns have usable types, before any batch is read.
func (r *pgReader) probe(ctx context.Context) error {
	src := quoteIdent(r.table())
	if r.spec.Query != "" {
		src = "(" + strings.TrimRight(strings.TrimSpace(r.spec.Query), ";") + ") AS q"
	}
	rows, err := r.tx.Query(ctx, "SELECT * FROM "+src+" LIMIT 0")
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42P01" && r.spec.Query == "" {
			return fmt.Errorf("source: postgres: table %s does not exist", r.table())
		}
		return fmt.Errorf("source: postgres %s: %w", r.what(), err)
	}
	fields := rows.FieldDescriptions()
	rows.Close()
	types := map[string]uint32{}
	var names []string
	for _, f := range fields {
		types[f.Name] = f.DataTypeOID
		names = append(names, f.Name)
	}
	var errs []error
	col := func(field string, required bool) (string, uint32) {
		name := r.spec.column(field)
		oid, ok := types[name]
		_, mapped := r.spec.Columns[field]
		if !ok && (required || mapped) {
			errs = append(errs, fmt.Errorf("column %q (%s) not found", name, field))
		}
		if !ok {
			return "", 0
		}
		return quoteIdent(name), oid
	}
	q := pgSQL{src: src, collate: ` COLLATE "C"`, from: r.spec.Window.From, to: r.spec.Window.To}
	var idOID, tsOID uint32
	q.id, idOID = col(FieldID, true)
	q.ts, tsOID = col(FieldTimestamp, true)
	q.et, _ = col(FieldEventType, true)
	q.cust, _ = col(FieldCustomerID, true)
	q.sub, _ = col(FieldSubscriptionID, false)
	switch idOID {
	case 0, oidText, oidVarchar, oidBpchar, oidName:
	case oidUUID:
		q.collate = "" // uuid orders bytewise, as its text does
	default:
		errs = append(errs, fmt.Errorf("column %q (id) must be text or uuid for the keyset", r.spec.column(FieldID)))
	}
	if tsOID != 0 && tsOID != oidTimestamptz && tsOID != oidTimestamp {
		errs = append(errs, fmt.Errorf("column %q (timestamp) must be timestamptz or timestamp for the keyset", r.spec.column(FieldTimestamp)))
	}
	if len(r.spec.Properties) > 0 {
		var pairs []string
		for _, p := range r.spec.Properties {
			if _, ok := types[p]; !ok {
				errs = append(errs, fmt.Errorf("column %q (property) not found", p))
				continue
			}
			pairs = append(pairs, fmt.Sprintf("'%s', %s", strings.ReplaceAll(p, "'", "''"), quoteIdent(p)))
		}
		q.propsJSONB = fmt.Sprintf("jsonb_strip_nulls(jsonb_build_object(%s))", strings.Join(pairs, ", "))
		q.props = q.propsJSONB + "::text"
	} else if c, oid := col(FieldProperties, false); c != "" {
		q.props = c + "::text"
		if oid == oidJSONB {
			q.propsJSONB = c
		}
	} else {
		q.props, q.propsJSONB = "NULL::text", "NULL::jsonb"
	}
	if err := errors.Join(errs...); err != nil {
		slices.Sort(names)
		return fmt.Errorf("source: postgres %s (columns: %s): %w", r.what(), strings.Join(names, ", "), err)
	}
	text := func(c string) string {
		if c == "" {
			return "NULL::text"
		}
		return c + "::text"
	}
	q.et, q.cust, q.sub = text(q.et), text(q.cust), text(q.sub)
	q.shard = r.spec.Shard.ShardSQL(q.cust)
	q.others = strings.Join([]string{q.et, q.cust, q.sub, q.props}, ", ")
	r.q = q
	return nil
}

func (r *pgReader) Stats() Stats {
	s := r.stats
	// Rows of other shards are not read, and not counted as passed.
	s.Through = s.Emitted + s.Invalid + s.SkippedResume
	s.BytesRead = r.received.Load()
	return s
}

// Cover implements Reader: a keyset position needs nothing besides its
// row count.
func (r *pgReader) Cover(Position) Coverage { return Coverage{} }

// countingConn counts the bytes received on a connection.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (r *pgReader) Close() error {
	if r.conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if r.nullRows != nil {
		r.nullRows.Close()
	}
	if r.tx != nil {
		r.tx.Rollback(ctx) // read-only: nothing to lose
	}
	err := r.conn.Close(ctx)
	r.conn = nil
	if r.err == nil {
		r.err = errors.New("source: reader closed")
	}
	return err
}
