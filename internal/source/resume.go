package source

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// ErrSourceChanged is wrapped by the error Open returns when the source
// no longer holds what a checkpoint covered: a Parquet file rewritten or
// gone, or PostgreSQL rows at or before the position deleted. Resuming
// would skip records the checkpoint never saw; the caller starts over.
var ErrSourceChanged = errors.New("the source changed under the checkpoint")

// FileMark identifies one Parquet file as a reader found it: a file whose
// mark differs later was rewritten. Footer is a SHA-256 of the file's
// footer (schema, row groups, statistics and offsets), so a rewrite that
// keeps the size and the row count is still told apart.
//
// Version is, for an object in a store, the ETag (S3) or generation (GCS)
// its listing gave: an object rewritten with the same bytes in its
// footer still differs there.
type FileMark struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	Rows    int64  `json:"rows"`
	Footer  string `json:"footer"`
	Version string `json:"version,omitempty"`
}

// Coverage is what a checkpoint at a position covers, besides the
// position itself: how many source rows, in the reader's order, lie at
// or before it (read, skipped by window or shard, or skipped as covered
// by an earlier checkpoint), and, for Parquet, which files it covers whole
// and the identity of the file the position is in.
//
// A resumed reader skips exactly what the coverage names and reads
// everything else, late data included: files that were not there (wherever
// they sort), and, for PostgreSQL, the whole window again when rows
// appeared at or before the position (the API deduplicates what it has).
type Coverage struct {
	Rows    int64      `json:"rows"`
	Files   []FileMark `json:"files,omitempty"`
	Partial *FileMark  `json:"partial,omitempty"`
}

// footerMark reads the identity of an open Parquet file of the given size,
// and the length of its footer.
func footerMark(path string, f io.ReaderAt, size, rows int64) (FileMark, int64, error) {
	m := FileMark{Path: path, Size: size, Rows: rows}
	var tail [8]byte
	if size < 12 {
		return m, 0, fmt.Errorf("parquet %s: %d bytes is too short for a Parquet file", path, size)
	}
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return m, 0, fmt.Errorf("parquet %s: read footer: %w", path, err)
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n > size-12 {
		return m, 0, fmt.Errorf("parquet %s: footer length %d exceeds the file", path, n)
	}
	footer := make([]byte, n)
	if _, err := f.ReadAt(footer, size-8-n); err != nil {
		return m, 0, fmt.Errorf("parquet %s: read footer: %w", path, err)
	}
	h := sha256.Sum256(footer)
	m.Footer = hex.EncodeToString(h[:16])
	return m, n, nil
}

// differs says how m differs from was, for an error message; "" when
// they are the same file.
func (m FileMark) differs(was FileMark) string {
	switch {
	case m.Size != was.Size:
		return fmt.Sprintf("size %d bytes, was %d", m.Size, was.Size)
	case m.Rows != was.Rows:
		return fmt.Sprintf("%d rows, was %d", m.Rows, was.Rows)
	case m.Footer != was.Footer:
		return "its footer changed (rewritten with the same size and row count)"
	case m.Version != was.Version:
		return fmt.Sprintf("object version %s, was %s (rewritten)", m.Version, was.Version)
	}
	return ""
}
