package source

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/billharness/billharness/internal/jsonscan"
)

// ErrNoPushdown means a source cannot compute aggregates in the database
// with the exact rules of the streaming path; the reason follows it.
var ErrNoPushdown = errors.New("aggregates cannot be pushed down")

// PropertyAggregate asks for one property's aggregates over each group:
// Numeric for the sum and maximum of its numeric values, Distinct for its
// distinct values.
type PropertyAggregate struct {
	Name     string
	Numeric  bool
	Distinct bool
}

// Aggregates is what the database computed over the shard's valid events
// in the window, each id counted once (its first copy in the reader's
// order), grouped by (subscription_id, customer_id, event_type).
type Aggregates struct {
	// Stats accounts for the rows as a streaming read would: Declared
	// (the window's rows, every shard), Emitted (valid events of the
	// shard), Invalid, SkippedShard, BytesRead.
	Stats Stats
	// Duplicates and Conflicting count the later copies of an id whose
	// payload equals, or differs from, its first copy's; ConflictSamples
	// are the smallest three ids with a conflicting copy.
	Duplicates, Conflicting int64
	ConflictSamples         []string
	Groups                  []Group
}

// Group is one (subscription, customer, event type) of Aggregates.
type Group struct {
	SubscriptionID, CustomerID, EventType string
	// Events counts the group's events; Samples are its three smallest
	// ids, in bytewise order.
	Events  int64
	Samples []string
	// Props holds one entry per PropertyAggregate asked for, in order.
	Props []PropertyValues
}

// PropertyValues are one property's aggregates over a group: Sum and Max
// as decimal text ("" when no event had a numeric value), and the
// distinct values as keys: "s" and the decoded text of a string, "n" and
// the JSON text of a number, true or false.
type PropertyValues struct {
	Sum, Max string
	Distinct []string
	// The values present but not numeric (Uncountable, the smallest
	// three ids in UncountableIDs), and of those the ones a human rule
	// reads (Readable of them, summing to ReadableSum); the negative
	// values (Negative, summing to NegativeSum, ids in NegativeIDs).
	Uncountable, Readable, Negative int64
	ReadableSum, NegativeSum        string
	UncountableIDs, NegativeIDs     []string
}

// Aggregate computes spec's aggregates in PostgreSQL, in one read-only
// snapshot, so that one row per group crosses the wire instead of one per
// event. The rules are the streaming path's: a row is valid when the
// reader would emit it; a property's value is numeric when it is a JSON
// number or a string the API reads as a decimal (optional sign, digits
// with an optional point, an exponent within ±64); distinct values are
// keyed as above. It needs properties held as jsonb (or typed property
// columns) and a UTF-8 database; otherwise it returns ErrNoPushdown.
func Aggregate(ctx context.Context, spec Spec, props []PropertyAggregate) (*Aggregates, error) {
	if spec.Kind != KindPostgres {
		return nil, fmt.Errorf("%w: only a PostgreSQL source can", ErrNoPushdown)
	}
	spec.After, spec.Resume = Position{}, nil
	r, err := openPostgres(ctx, spec)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var enc string
	if err := r.tx.QueryRow(ctx, "SHOW server_encoding").Scan(&enc); err != nil {
		return nil, fmt.Errorf("source: postgres: %w", err)
	}
	switch {
	case enc != "UTF8":
		return nil, fmt.Errorf("%w: the database's encoding is %s, not UTF8 (the reader checks every byte)", ErrNoPushdown, enc)
	case r.q.propsJSONB == "":
		return nil, fmt.Errorf("%w: the properties column is not jsonb (text or json keeps number spellings that SQL reads differently)", ErrNoPushdown)
	}
	a := &Aggregates{Stats: r.stats} // Declared and SkippedShard, counted at open
	q := &r.q
	base, args := q.aggregateBase()

	// Sorting for the first copy of each id spills to disk past work_mem:
	// give this read-only transaction room (bounded, and local to it).
	if _, err := r.tx.Exec(ctx, "SET LOCAL work_mem = '64MB'"); err != nil {
		return nil, fmt.Errorf("source: postgres: %w", err)
	}
	// The invalid rows of the shard; and the properties with more than
	// maxDepth brackets, which jsonb accepts however deep they nest but
	// the reader refuses past maxDepth levels: only streaming can tell.
	var deep int64
	count := fmt.Sprintf(`SELECT (SELECT count(*) FROM r) - (SELECT count(*) FROM v),
	(SELECT count(*) FROM v WHERE length(pt) - length(translate(pt, '{[', '')) > %d)`, maxDepth)
	if err := r.tx.QueryRow(ctx, base+count, args...).Scan(&a.Stats.Invalid, &deep); err != nil {
		return nil, fmt.Errorf("source: postgres %s: count: %w", r.what(), err)
	}
	if deep > 0 {
		return nil, fmt.Errorf("%w: %d events have properties with more than %d brackets, perhaps nested deeper than the reader accepts", ErrNoPushdown, deep, maxDepth)
	}

	// One pass, one sort: each valid row numbered among the copies of its
	// id in the reader's order, and compared with the first; the groups
	// aggregate the first copies and count the later ones.
	const payload = "(et, cust, coalesce(sub, ''), ts, coalesce(pt, ''))"
	first := "rn = 1"
	cols := []string{`coalesce(sub, '')`, `cust`, `et`, `count(*) FILTER (WHERE rn = 1)`,
		`coalesce((array_agg(id ORDER BY id COLLATE "C") FILTER (WHERE rn = 1))[1:3], '{}')`,
		`count(*) FILTER (WHERE rn > 1 AND same)`, `count(*) FILTER (WHERE rn > 1 AND NOT same)`,
		`coalesce((array_agg(DISTINCT id COLLATE "C") FILTER (WHERE rn > 1 AND NOT same))[1:3], '{}')`}
	for _, p := range props {
		args = append(args, p.Name)
		v := fmt.Sprintf("(pj -> $%d::text)", len(args))
		if p.Numeric {
			n := numericSQL(v)
			cols = append(cols, fmt.Sprintf("sum(%s) FILTER (WHERE %s)::text", n, first), fmt.Sprintf("max(%s) FILTER (WHERE %s)::text", n, first))
			bad := fmt.Sprintf("%s AND %s IS NOT NULL AND %s IS NULL", first, v, n)
			neg := fmt.Sprintf("%s AND %s < 0", first, n)
			rd := readableSQL(v)
			cols = append(cols,
				fmt.Sprintf("count(*) FILTER (WHERE %s)", bad),
				fmt.Sprintf("count(%s) FILTER (WHERE %s)", rd, bad),
				fmt.Sprintf("coalesce(sum(%s) FILTER (WHERE %s)::text, '')", rd, bad),
				fmt.Sprintf(`coalesce((array_agg(id ORDER BY id COLLATE "C") FILTER (WHERE %s))[1:3], '{}')`, bad),
				fmt.Sprintf("count(*) FILTER (WHERE %s)", neg),
				fmt.Sprintf("coalesce(sum(%s) FILTER (WHERE %s)::text, '')", n, neg),
				fmt.Sprintf(`coalesce((array_agg(id ORDER BY id COLLATE "C") FILTER (WHERE %s))[1:3], '{}')`, neg))
		}
		if p.Distinct {
			k := fmt.Sprintf(`CASE jsonb_typeof(%[1]s) WHEN 'string' THEN 's' || (%[1]s #>> '{}') WHEN 'number' THEN 'n' || %[1]s::text WHEN 'boolean' THEN 'n' || %[1]s::text END`, v)
			cols = append(cols, fmt.Sprintf("coalesce(array_agg(DISTINCT %[1]s) FILTER (WHERE %[2]s AND %[1]s IS NOT NULL), '{}')", k, first))
		}
	}
	sql := base + fmt.Sprintf(`, c AS (SELECT *, row_number() OVER w AS rn, %[1]s IS NOT DISTINCT FROM first_value(%[1]s) OVER w AS same
	FROM v WINDOW w AS (PARTITION BY id ORDER BY ts, %[2]s))
SELECT %[3]s FROM c GROUP BY 1, 2, 3`, payload, aggOthers, strings.Join(cols, ", "))
	res, err := r.tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("source: postgres %s: aggregates: %w", r.what(), err)
	}
	defer res.Close()
	for res.Next() {
		var g Group
		var dups, conflicts int64
		var conflictIDs []string
		sums, maxes := make([]*string, len(props)), make([]*string, len(props))
		g.Props = make([]PropertyValues, len(props))
		dest := []any{&g.SubscriptionID, &g.CustomerID, &g.EventType, &g.Events, &g.Samples, &dups, &conflicts, &conflictIDs}
		for i, p := range props {
			if p.Numeric {
				pv := &g.Props[i]
				dest = append(dest, &sums[i], &maxes[i], &pv.Uncountable, &pv.Readable, &pv.ReadableSum, &pv.UncountableIDs,
					&pv.Negative, &pv.NegativeSum, &pv.NegativeIDs)
			}
			if p.Distinct {
				dest = append(dest, &g.Props[i].Distinct)
			}
		}
		if err := res.Scan(dest...); err != nil {
			return nil, fmt.Errorf("source: postgres %s: aggregates: %w", r.what(), err)
		}
		if !r.shardOf.contains(g.CustomerID) {
			return nil, fmt.Errorf("source: postgres %s: the database returned customer %q for shard %s, which ShardOf puts in another", r.what(), g.CustomerID, spec.Shard)
		}
		a.Duplicates += dups
		a.Conflicting += conflicts
		a.ConflictSamples = append(a.ConflictSamples, conflictIDs...)
		a.Stats.Emitted += g.Events + dups + conflicts
		if g.Events == 0 {
			continue // later copies only: their first copies count elsewhere
		}
		for i := range props {
			if sums[i] != nil {
				g.Props[i].Sum = *sums[i]
			}
			if maxes[i] != nil {
				g.Props[i].Max = *maxes[i]
			}
		}
		a.Groups = append(a.Groups, g)
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("source: postgres %s: aggregates: %w", r.what(), err)
	}
	slices.Sort(a.ConflictSamples)
	a.ConflictSamples = slices.Compact(a.ConflictSamples)
	a.ConflictSamples = a.ConflictSamples[:min(len(a.ConflictSamples), 3)]
	a.Stats.BytesRead = r.received.Load()
	return a, nil
}

// maxDepth is the nesting the reader accepts in properties
// (jsonscan.MaxDepth).
const maxDepth = jsonscan.MaxDepth

// aggOthers is the reader's tie-break order after (timestamp, id), over
// the columns of aggregateBase.
const aggOthers = "et, cust, sub, pt"

// aggregateBase returns the WITH clause shared by the aggregate
// statements: r, the shard's rows in the window (and those without a
// timestamp), and v, those the reader would emit as valid events.
func (q *pgSQL) aggregateBase() (string, []any) {
	w, args := q.window(1)
	return fmt.Sprintf(`WITH r AS (
	SELECT %s::text AS id, %s AS et, %s AS cust, %s AS sub, %s::timestamptz AS ts, %s AS pj, %s AS pt
	FROM %s WHERE (%s IS NULL OR (%s)) AND %s
), v AS (
	SELECT * FROM r WHERE id <> '' AND et <> '' AND cust <> '' AND ts IS NOT NULL
		AND id || et || cust || coalesce(sub, '') !~ '[\x01-\x1f\x7f]'
		AND (pj IS NULL OR jsonb_typeof(pj) = 'object')
)
`, q.id, q.et, q.cust, q.sub, q.ts, q.propsJSONB, q.props, q.src, q.ts, w, q.shard), args
}

// readableSQL is the value a human rule reads in the jsonb string v, NULL
// when none: reconcile's readable (ASCII spaces trimmed; digits grouped
// by "," or "_", or a plain decimal).
func readableSQL(v string) string {
	t := fmt.Sprintf("btrim(%s #>> '{}', ' ')", v)
	return fmt.Sprintf(`CASE WHEN jsonb_typeof(%[1]s) = 'string' THEN CASE
	WHEN %[2]s ~ '^[+-]?[0-9]{1,3}([,_][0-9]{3})+(\.[0-9]+)?$' THEN replace(replace(%[2]s, ',', ''), '_', '')::numeric
	WHEN %[2]s ~ '^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$' THEN %[2]s::numeric END END`, v, t)
}

// numericSQL is the numeric value of the jsonb value v under the API's
// rules, NULL when it has none: a JSON number, or a string that is a
// decimal with an optional exponent within ±64 (billing.ParseQuantity).
func numericSQL(v string) string {
	s := fmt.Sprintf("(%s #>> '{}')", v)
	return fmt.Sprintf(`CASE jsonb_typeof(%[1]s) WHEN 'number' THEN %[2]s::numeric
	WHEN 'string' THEN CASE WHEN %[2]s ~ '^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$'
		AND coalesce(abs(substring(%[2]s from '[eE]([+-]?[0-9]+)$')::numeric), 0) <= 64 THEN %[2]s::numeric END END`, v, s)
}
