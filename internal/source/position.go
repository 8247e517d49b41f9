package source

import (
	"cmp"
	"fmt"
	"strings"
	"time"
)

// Source kinds, as they appear in [Spec.Kind] and [Position.Kind].
const (
	KindParquet  = "parquet"
	KindPostgres = "postgres"
)

// Position is where a record sits in its source. It is a small value that
// marshals to and from JSON, for checkpoints, and positions of one source
// are totally ordered by [Position.Compare] in the order the reader yields
// them, so a caller can keep a low watermark of completed positions and
// resume after it with [Spec.After].
//
// Parquet positions are (File, RowGroup, Row): the file's path as the
// reader found it (files are read in byte order of their paths, so adding a
// file never reorders those already read), the 0-based row group in that
// file and the 0-based row in that row group.
//
// PostgreSQL positions are the keyset (Timestamp, ID, Seq): rows are read in
// order of timestamp, then id in byte order (COLLATE "C"); Seq numbers the
// rows that share a (timestamp, id), from 0, since real tables hold repeated
// events. Rows whose timestamp or id is NULL cannot be placed in the keyset:
// they come after all others, with NullKey set and Seq numbering them.
//
// The zero Position (Kind == "") means "before the first record".
type Position struct {
	Kind string `json:"kind"`

	File     string `json:"file,omitempty"`
	RowGroup int    `json:"row_group,omitempty"`
	Row      int64  `json:"row,omitempty"`

	Timestamp time.Time `json:"timestamp,omitzero"`
	ID        string    `json:"id,omitempty"`
	Seq       int64     `json:"seq,omitempty"`
	NullKey   bool      `json:"null_key,omitempty"`
}

// IsZero reports whether p is the zero Position, before any record.
func (p Position) IsZero() bool { return p.Kind == "" }

// Compare returns -1, 0 or +1 as p sorts before, equal to or after q. The
// zero Position sorts before every other; positions of different kinds
// (never compared by a correct caller) sort by kind.
func (p Position) Compare(q Position) int {
	if c := cmp.Compare(p.Kind, q.Kind); c != 0 {
		return c
	}
	switch p.Kind {
	case KindDeadLetter:
		return cmp.Compare(p.Row, q.Row)
	case KindParquet:
		if c := strings.Compare(p.File, q.File); c != 0 {
			return c
		}
		if c := cmp.Compare(p.RowGroup, q.RowGroup); c != 0 {
			return c
		}
		return cmp.Compare(p.Row, q.Row)
	case KindPostgres:
		if p.NullKey != q.NullKey {
			if p.NullKey {
				return 1
			}
			return -1
		}
		if !p.NullKey {
			if c := p.Timestamp.Compare(q.Timestamp); c != 0 {
				return c
			}
			if c := strings.Compare(p.ID, q.ID); c != 0 {
				return c
			}
		}
		return cmp.Compare(p.Seq, q.Seq)
	}
	return 0
}

// Less reports whether p sorts before q.
func (p Position) Less(q Position) bool { return p.Compare(q) < 0 }

// String renders p for error messages: "file.parquet row group 2 row 17",
// "key (2026-10-01T00:00:00Z, evt-1) #0" or "null key #3".
func (p Position) String() string {
	switch p.Kind {
	case "":
		return "start"
	case KindParquet:
		return fmt.Sprintf("%s row group %d row %d", p.File, p.RowGroup, p.Row)
	case KindDeadLetter:
		return fmt.Sprintf("%s line %d", p.File, p.Row)
	case KindPostgres:
		if p.NullKey {
			return fmt.Sprintf("null key #%d", p.Seq)
		}
		return fmt.Sprintf("key (%s, %s) #%d", p.Timestamp.Format(time.RFC3339Nano), p.ID, p.Seq)
	}
	return p.Kind + " position"
}
