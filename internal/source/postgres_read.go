package source

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Next implements Reader.
func (r *pgReader) Next(ctx context.Context) (Record, error) {
	if r.err != nil {
		return Record{}, r.err
	}
	for {
		if r.bi < len(r.rows) {
			p := &r.rows[r.bi]
			r.bi++
			if rec, err, ok := r.yield(p); ok {
				return rec, err
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return Record{}, err
		}
		if err := r.fetch(ctx); err != nil {
			if err == io.EOF {
				r.err = io.EOF
				return Record{}, io.EOF
			}
			r.err = fmt.Errorf("source: postgres %s: %w", r.what(), err)
			return Record{}, r.err
		}
	}
}

func (r *pgReader) yield(p *pgRow) (Record, error, bool) {
	rw := row{id: p.id.String, eventType: p.et.String, customerID: p.cust.String, subscriptionID: p.sub.String,
		ts: p.ts.Time.UTC(), props: p.props}
	if !p.ts.Valid {
		rw.tsErr = "missing"
	}
	if field, reason := rw.check(); field != "" {
		r.stats.Invalid++
		return Record{}, rw.recordError(p.pos, field, reason), true
	}
	r.stats.Emitted++
	return Record{Event: rw.event(), Pos: p.pos}, nil, true
}

// fetch reads the next batch: first the rest of the resume key's rows,
// then keyed batches, then the NULL-key rows. A batch never ends inside a
// key's rows: when it is full, the rest of its last key's rows are read
// with it, so the next batch can start strictly after that key.
func (r *pgReader) fetch(ctx context.Context) error {
	r.rows, r.bi = r.rows[:0], 0
	switch {
	case r.resumeGroup:
		r.resumeGroup = false
		sql, args := r.q.group(r.lastTS, r.lastID, r.spec.After.Seq+1)
		return r.query(ctx, sql, args, r.spec.After.Seq+1)
	case !r.keyedEOF:
		sql, args := r.q.first(r.limit)
		if r.haveKey {
			sql, args = r.q.next(r.lastTS, r.lastID, r.limit)
		}
		if err := r.query(ctx, sql, args, 0); err != nil {
			return err
		}
		n := len(r.rows)
		if n < r.limit {
			r.keyedEOF = true
		}
		if n == 0 {
			return r.fetch(ctx)
		}
		last := r.rows[n-1].pos
		r.lastTS, r.lastID, r.haveKey = last.Timestamp, last.ID, true
		if n == r.limit {
			sql, args := r.q.group(last.Timestamp, last.ID, last.Seq+1)
			return r.query(ctx, sql, args, last.Seq+1)
		}
		return nil
	case !r.nullEOF:
		if r.nullRows == nil {
			sql, args := r.q.nullKeys(r.nullSkip)
			rows, err := r.tx.Query(ctx, sql, args...)
			if err != nil {
				return err
			}
			r.nullRows = rows
		}
		if err := r.scan(r.nullRows, 0, r.limit); err != nil {
			return err
		}
		if len(r.rows) < r.limit {
			r.nullEOF = true
			r.nullRows.Close()
			r.nullRows = nil
		}
		if len(r.rows) == 0 {
			return io.EOF
		}
		return nil
	}
	return io.EOF
}

// query appends the rows of one statement to the batch, giving each its
// position; seq0 is the Seq of a first row that continues the key of the
// row before the batch (group reads).
//
// Rows are decoded from their raw wire values: text columns are their
// bytes in either format, and the timestamp comes in binary (microseconds
// since 2000-01-01 UTC), which avoids pgx's per-value allocations. Repeated
// strings are interned and properties go to an arena, as in the Parquet
// reader.
func (r *pgReader) query(ctx context.Context, sql string, args []any, seq0 int64) error {
	rows, err := r.tx.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return r.scan(rows, seq0, -1)
}

// scan appends up to limit rows (all when limit < 0) of an open statement
// to the batch; the statement is fully read and its error returned when
// it ends first.
func (r *pgReader) scan(rows pgx.Rows, seq0 int64, limit int) error {
	binaryTS := rows.FieldDescriptions()[4].Format == pgx.BinaryFormatCode
	start := len(r.rows)
	for (limit < 0 || len(r.rows)-start < limit) && rows.Next() {
		var p pgRow
		if binaryTS {
			v := rows.RawValues()
			p.id = pgtype.Text{String: string(v[0]), Valid: v[0] != nil}
			p.et, p.cust, p.sub = r.intern(v[1]), r.intern(v[2]), r.intern(v[3])
			if len(v[4]) == 8 {
				p.ts = pgtype.Timestamptz{Time: pgTime(int64(binary.BigEndian.Uint64(v[4]))), Valid: true}
			}
			if v[5] != nil {
				s := r.arena.start()
				r.arena.buf = append(r.arena.buf, v[5]...)
				p.props = r.arena.end(s)
			}
		} else if err := rows.Scan(&p.id, &p.et, &p.cust, &p.sub, &p.ts, &p.props); err != nil {
			return fmt.Errorf("row %d of batch: %w", len(r.rows), err)
		}
		if !r.shardOf.contains(p.cust.String) {
			return fmt.Errorf("the database returned a row of customer %q for shard %s, which ShardOf puts in another: the shard expression and ShardOf disagree", p.cust.String, r.spec.Shard)
		}
		r.place(&p, start, seq0)
		r.rows = append(r.rows, p)
	}
	return rows.Err()
}

// pgTime converts a binary timestamptz: microseconds since 2000-01-01 UTC.
func pgTime(us int64) time.Time {
	const epoch2000 = 946684800 // Unix seconds of 2000-01-01
	return time.Unix(epoch2000+us/1e6, (us%1e6)*1e3).UTC()
}

// intern returns b as a shared string; NULL gives an invalid Text.
func (r *pgReader) intern(b []byte) pgtype.Text {
	if b == nil {
		return pgtype.Text{}
	}
	if s, ok := r.strings[string(b)]; ok {
		return pgtype.Text{String: s, Valid: true}
	}
	if len(r.strings) >= maxInterned {
		clear(r.strings)
	}
	s := string(b)
	r.strings[s] = s
	return pgtype.Text{String: s, Valid: true}
}

// place sets p's position from the row before it in the batch.
func (r *pgReader) place(p *pgRow, start int, seq0 int64) {
	if !p.ts.Valid || !p.id.Valid {
		p.pos = Position{Kind: KindPostgres, NullKey: true, Seq: r.nullSkip}
		r.nullSkip++
		return
	}
	p.pos = Position{Kind: KindPostgres, Timestamp: p.ts.Time.UTC(), ID: p.id.String, Seq: seq0}
	if n := len(r.rows); n > start {
		prev := r.rows[n-1].pos
		if prev.Timestamp.Equal(p.pos.Timestamp) && prev.ID == p.pos.ID {
			p.pos.Seq = prev.Seq + 1
		}
	}
}
