package source

import (
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgSQL builds the statements of one PostgreSQL source from the spec and
// the probed column types.
//
// Rows are read in keyset order (timestamp, id COLLATE "C"), then by the
// other columns so that rows sharing a key come in the same order in every
// statement; an index on ("timestamp", id COLLATE "C") serves it. Bytewise
// id order (COLLATE "C") is what makes Position.Compare agree with the
// database whatever the column's collation.
type pgSQL struct {
	src                  string // FROM clause
	id, ts               string // quoted key columns
	collate              string // ` COLLATE "C"` for text ids; "" for uuid
	et, cust, sub, props string // select expressions
	others               string // tie-break order after the key
	from, to             time.Time
	shard                string // the shard predicate (Shard.ShardSQL), "true" for all rows
	// propsJSONB is the properties as jsonb, for aggregates in the
	// database; "" when the column is not jsonb (text or json keep the
	// original text, whose rules SQL does not follow exactly).
	propsJSONB string
}

func quoteIdent(name string) string { return pgx.Identifier(strings.Split(name, ".")).Sanitize() }

// sel is the select list and FROM clause shared by every read.
func (q *pgSQL) sel() string {
	return fmt.Sprintf("SELECT %s::text, %s, %s, %s, %s::timestamptz, %s FROM %s",
		q.id, q.et, q.cust, q.sub, q.ts, q.props, q.src)
}

func (q *pgSQL) key() string { return fmt.Sprintf("(%s, %s%s)", q.ts, q.id, q.collate) }

func (q *pgSQL) keyed() string { return fmt.Sprintf("%s IS NOT NULL AND %s IS NOT NULL", q.ts, q.id) }

func (q *pgSQL) order() string {
	return fmt.Sprintf("ORDER BY %s, %s%s, %s", q.ts, q.id, q.collate, q.others)
}

// window returns the window predicate, numbering its parameters from
// first, and their values; "true" when the window is unbounded.
func (q *pgSQL) window(first int) (string, []any) {
	var parts []string
	var args []any
	if !q.from.IsZero() {
		parts = append(parts, fmt.Sprintf("%s >= $%d", q.ts, first+len(args)))
		args = append(args, q.from)
	}
	if !q.to.IsZero() {
		parts = append(parts, fmt.Sprintf("%s < $%d", q.ts, first+len(args)))
		args = append(args, q.to)
	}
	if len(parts) == 0 {
		return "true", nil
	}
	return strings.Join(parts, " AND "), args
}

// inWindow is true for rows read at all: those of the shard in the
// window, and those of the shard whose timestamp is NULL (reported as
// invalid whatever the window).
func (q *pgSQL) inWindow(first int) (string, []any) {
	w, args := q.window(first)
	return fmt.Sprintf("(%s IS NULL OR (%s)) AND %s", q.ts, w, q.shard), args
}

// count returns the rows in the window (of every shard: the declared
// rows), those of the shard, and, when after is a keyed position, the
// shard's keyed rows in the window before its key. Only the window is
// scanned: an index on the timestamp serves it.
func (q *pgSQL) count(after Position) (string, []any) {
	w, args := q.window(1)
	before := "0"
	if !after.IsZero() && !after.NullKey {
		n := len(args) + 1
		before = fmt.Sprintf("count(*) FILTER (WHERE %s AND %s AND %s < ($%d, $%d))", q.shard, q.keyed(), q.key(), n, n+1)
		args = append(args, after.Timestamp, after.ID)
	} else if after.NullKey {
		before = fmt.Sprintf("count(*) FILTER (WHERE %s AND %s)", q.shard, q.keyed())
	}
	return fmt.Sprintf("SELECT count(*), count(*) FILTER (WHERE %s), %s FROM %s WHERE %s IS NULL OR (%s)", q.shard, before, q.src, q.ts, w), args
}

// first reads the first keyed batch.
func (q *pgSQL) first(limit int) (string, []any) {
	w, args := q.window(2)
	return fmt.Sprintf("%s WHERE %s AND %s AND %s %s LIMIT $1", q.sel(), q.keyed(), w, q.shard, q.order()), append([]any{limit}, args...)
}

// next reads the keyed batch after a key.
func (q *pgSQL) next(ts time.Time, id string, limit int) (string, []any) {
	w, args := q.window(4)
	return fmt.Sprintf("%s WHERE %s > ($1, $2) AND %s AND %s %s LIMIT $3", q.sel(), q.key(), w, q.shard, q.order()),
		append([]any{ts, id, limit}, args...)
}

// group reads the shard's rows of one key after the first skip.
func (q *pgSQL) group(ts time.Time, id string, skip int64) (string, []any) {
	return fmt.Sprintf("%s WHERE %s = $1 AND %s = $2 AND %s ORDER BY %s OFFSET $3", q.sel(), q.ts, q.id, q.shard, q.others),
		[]any{ts, id, skip}
}

// nullKeys reads the shard's rows whose timestamp or id is NULL, after
// the first skip (a resumed run's), in one statement: they have no key to
// page by, so the reader streams them to the end.
func (q *pgSQL) nullKeys(skip int64) (string, []any) {
	in, args := q.inWindow(2)
	return fmt.Sprintf("%s WHERE (%s IS NULL OR %s IS NULL) AND %s ORDER BY %s NULLS FIRST, %s%s NULLS FIRST, %s OFFSET $1",
		q.sel(), q.ts, q.id, in, q.ts, q.id, q.collate, q.others), append([]any{skip}, args...)
}
