package source

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// openPGLetterSource reads the dead letters kept in PostgreSQL under
// spec.Letters, in seq order, up to spec.LettersUpTo, in batches.
func openPGLetterSource(ctx context.Context, spec Spec) (*dlReader, error) {
	if spec.Letters == "" {
		return nil, fmt.Errorf("source: dead letters in %s: the name they are kept under is missing", RedactDSN(spec.DSN))
	}
	conn, err := pgx.Connect(ctx, spec.DSN)
	if err != nil {
		return nil, fmt.Errorf("source: dead letters %s: %w", RedactDSN(spec.DSN), err)
	}
	table := spec.Table
	if table == "" {
		table = "billharness_dead_letters"
	}
	t := pgx.Identifier{table}.Sanitize()
	upTo := spec.LettersUpTo
	r := &dlReader{spec: spec, where: fmt.Sprintf("table %s name %q seq", table, spec.Letters),
		close: func() error { return conn.Close(context.Background()) }}
	if err := conn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE name = $1 AND seq <= $2`, t), spec.Letters, upTo).
		Scan(&r.stats.Declared); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("source: dead letters %s: %w", r.where, err)
	}
	type row struct {
		seq    int64
		letter []byte
	}
	var batch []row
	var after int64
	r.nextLine = func(ctx context.Context) (int64, []byte, bool, error) {
		if len(batch) == 0 {
			rows, err := conn.Query(ctx, fmt.Sprintf(`SELECT seq, letter FROM %s WHERE name = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT 1000`, t),
				spec.Letters, after, upTo)
			if err != nil {
				return after, nil, false, err
			}
			for rows.Next() {
				var v row
				if err := rows.Scan(&v.seq, &v.letter); err != nil {
					rows.Close()
					return after, nil, false, err
				}
				batch = append(batch, v)
			}
			if err := rows.Err(); err != nil {
				return after, nil, false, err
			}
			if len(batch) == 0 {
				return after, nil, false, nil
			}
		}
		v := batch[0]
		batch = batch[1:]
		after = v.seq
		return v.seq, v.letter, true, nil
	}
	return r, nil
}
