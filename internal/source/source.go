// Package source streams usage events out of the two kinds of store that
// replay and reconcile read: Parquet files and a PostgreSQL table.
//
// Both readers implement [Reader]. They stream with bounded memory (Parquet
// row group by row group and only the columns needed; PostgreSQL in keyset
// batches), validate every record, and can resume after a saved [Position].
//
// A record that fails validation is returned as a [*RecordError] carrying
// its position and the reason; the reader carries on with the next record on
// the following call, and the caller decides what to do with it (usually a
// dead-letter file). Any other error is fatal for the reader.
//
// A [Spec] says what to read: the source, the column names, the time window
// ([Window], half-open on timestamp), the shard ([Shard], see [ShardOf] for
// the exact split) and where to start. [Open] returns the matching reader.
package source

import (
	"context"
	"fmt"

	"github.com/billharness/billharness/internal/billing"
)

// Event is one usage event as read from a source: the event the client
// sends.
type Event = billing.Event

// Record is one valid event and the position it was read at.
type Record struct {
	Event Event
	Pos   Position
}

// Reader streams the records of one source.
//
// Next returns the next record in source order. At the end it returns
// io.EOF. A record that fails validation comes back as a *RecordError (use
// errors.As): it is not fatal, and the next call returns the record after
// it. Any other error is fatal and is returned again by later calls.
// Positions of successive records and record errors strictly increase in
// the order of [Position.Compare].
//
// Stats may be called at any time, including after Close. A Reader is not
// safe for concurrent use.
type Reader interface {
	Next(ctx context.Context) (Record, error)
	Stats() Stats
	// Cover returns what a checkpoint at pos, a position this reader
	// returned, covers besides its row count (Stats.Through when pos was
	// returned). It is safe to call concurrently with Next.
	Cover(pos Position) Coverage
	Close() error
}

// Stats counts what a reader has seen. Once Next has returned io.EOF,
//
//	Declared == Emitted + Invalid + SkippedWindow + SkippedShard + SkippedResume + Kept
//
// which reconcile uses as a completeness guard.
type Stats struct {
	// Declared is the number of rows the source declares, known at Open:
	// the sum of the Parquet footers' row counts over all files, or
	// COUNT(*) of the PostgreSQL table or query's rows in the window (and
	// those with a NULL timestamp), of every shard, in the read snapshot.
	Declared int64 `json:"declared"`
	// Emitted counts records returned as events.
	Emitted int64 `json:"emitted"`
	// Invalid counts records returned as *RecordError.
	Invalid int64 `json:"invalid"`
	// SkippedWindow counts rows of this shard whose timestamp is outside
	// the window, and the rows of whole row groups skipped on their
	// statistics (Pruned).
	SkippedWindow int64 `json:"skipped_window"`
	// Pruned counts, of SkippedWindow, the rows of Parquet row groups
	// skipped whole on their timestamp statistics: never read, so not
	// split by shard (every shard counts them).
	Pruned int64 `json:"pruned,omitempty"`
	// SkippedShard counts rows that belong to another shard: their other
	// columns are never decoded (Parquet), or never leave the database
	// (PostgreSQL, which counts them).
	SkippedShard int64 `json:"skipped_shard"`
	// SkippedResume counts rows at or before the start position.
	SkippedResume int64 `json:"skipped_resume"`
	// RowGroupsSkipped counts Parquet row groups skipped whole because
	// their timestamp statistics lie outside the window.
	RowGroupsSkipped int64 `json:"row_groups_skipped,omitempty"`
	// Late counts rows read that a resumed checkpoint's position had
	// already passed but that it did not cover: Parquet files added
	// where they sort before the position, or PostgreSQL rows that appeared
	// at or before it (the window is then read again, Reread).
	Late int64 `json:"late,omitempty"`
	// Kept counts the letters of a dead-letter source that are not
	// re-sent (see RetryableLetter).
	Kept   int64 `json:"kept,omitempty"`
	Reread bool  `json:"reread,omitempty"`
	// BytesRead counts the bytes read from the Parquet files (footers,
	// pages), fetched from an object store (the holes between ranges
	// merged into one request included), or received from PostgreSQL.
	BytesRead int64 `json:"bytes_read,omitempty"`
	// Requests and Retries count, for Parquet in an object store, the
	// LIST and GET requests sent and, of those, the retries.
	Requests int64 `json:"requests,omitempty"`
	Retries  int64 `json:"retries,omitempty"`
	// Through counts the source rows at or before the last record
	// returned, in read order: what a checkpoint at its position covers
	// ([Coverage.Rows]).
	Through int64 `json:"-"`
}

// Open opens the reader that spec describes. It validates the spec and
// checks the source before returning: every Parquet footer is read (a
// truncated or corrupt file fails here, naming the file), and a PostgreSQL
// table, query or column that does not exist fails here, naming it.
func Open(ctx context.Context, spec Spec) (Reader, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	switch spec.Kind {
	case KindParquet:
		return openParquet(ctx, spec)
	case KindPostgres:
		return openPostgres(ctx, spec)
	case KindDeadLetter:
		return openDeadLetterSource(ctx, spec)
	}
	return nil, fmt.Errorf("source: unknown kind %q", spec.Kind)
}
