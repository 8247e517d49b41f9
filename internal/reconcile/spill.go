package reconcile

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"time"

	"github.com/billharness/billharness/internal/source"
)

// DefaultMemoryLimit is the memory budget of a comparison when
// Config.MemoryLimit is zero: it fits the 1 GiB pods of jobs/ with room
// for the Go runtime's overhead.
const DefaultMemoryLimit = 512 << 20

// idBytes is what the id set takes per distinct id at its highest load.
const idBytes = 24 / maxLoad

// maxPartitions bounds the spill files open at once.
const maxPartitions = 256

// partitions returns how many partitions a scan of up to expected events
// needs: 1 (no spill) while its id set takes at most half the memory
// limit; past that, enough for each partition's to take at most a
// quarter, so that a spilled scan peaks below the largest in-memory one
// (memory stays flat as the events grow).
func partitions(expected, limit int64) int {
	need := float64(expected) * idBytes
	if need <= float64(limit)/2 {
		return 1
	}
	return min(maxPartitions, int(math.Ceil(need/(float64(limit)/4))))
}

// spill is a scan partitioned by id: every event goes to the partition
// file its id hashes to, so that all copies of an id share a partition,
// in source order. Each partition is then counted on its own, with an id
// set of its own: memory holds one partition's ids at a time, and the
// answer is the one an unpartitioned scan gives, since deduplication only
// ever compares copies of one id and every total merges by addition, by
// maximum or by set union.
type spill struct {
	dir   string
	seed  maphash.Seed
	files []*os.File
	w     []*bufio.Writer
	n     []int64 // events per partition
	bytes int64
	buf   []byte
}

func newSpill(workDir string, n int) (_ *spill, err error) {
	dir, err := os.MkdirTemp(workDir, "billharness-verify-")
	if err != nil {
		return nil, fmt.Errorf("work directory: %w", err)
	}
	s := &spill{dir: dir, seed: maphash.MakeSeed(), n: make([]int64, n)}
	defer func() {
		if err != nil {
			s.remove()
		}
	}()
	for i := range n {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("part-%03d", i)))
		if err != nil {
			return nil, fmt.Errorf("work directory: %w", err)
		}
		s.files = append(s.files, f)
		s.w = append(s.w, bufio.NewWriterSize(f, 64<<10))
	}
	return s, nil
}

// remove deletes the spill files.
func (s *spill) remove() {
	for _, f := range s.files {
		f.Close()
	}
	os.RemoveAll(s.dir)
}

// write appends ev to its id's partition.
func (s *spill) write(ev *source.Event) error {
	p := int(maphash.String(s.seed, ev.ID) % uint64(len(s.w)))
	b := s.buf[:0]
	for _, f := range [...]string{ev.ID, ev.EventType, ev.CustomerID, ev.SubscriptionID} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = binary.AppendVarint(b, ev.Timestamp.Unix())
	b = binary.AppendUvarint(b, uint64(ev.Timestamp.Nanosecond()))
	b = binary.AppendUvarint(b, uint64(len(ev.Properties)))
	b = append(b, ev.Properties...)
	s.buf = b
	s.n[p]++
	s.bytes += int64(len(b))
	if _, err := s.w[p].Write(b); err != nil {
		return fmt.Errorf("work directory %s: %w", s.dir, err)
	}
	return nil
}

// finish flushes every partition to disk.
func (s *spill) finish() error {
	for i, w := range s.w {
		if err := w.Flush(); err != nil {
			return fmt.Errorf("work directory %s: %w", s.dir, err)
		}
		if _, err := s.files[i].Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("work directory %s: %w", s.dir, err)
		}
	}
	return nil
}

// each calls fn with every event of partition p, in the order written.
func (s *spill) each(p int, fn func(ev *source.Event)) error {
	r := bufio.NewReaderSize(s.files[p], 64<<10)
	var ev source.Event
	var buf []byte
	for k := int64(0); k < s.n[p]; k++ {
		var f [4]string
		for i := range f {
			var err error
			if buf, err = readBytes(r, buf); err != nil {
				return s.corrupt(p, k, err)
			}
			f[i] = string(buf)
		}
		sec, err := binary.ReadVarint(r)
		if err != nil {
			return s.corrupt(p, k, err)
		}
		nsec, err := binary.ReadUvarint(r)
		if err != nil {
			return s.corrupt(p, k, err)
		}
		if buf, err = readBytes(r, buf); err != nil {
			return s.corrupt(p, k, err)
		}
		// The properties are read only during fn (the ledger copies what
		// it keeps), so they may share the buffer.
		ev = source.Event{ID: f[0], EventType: f[1], CustomerID: f[2], SubscriptionID: f[3],
			Timestamp: time.Unix(sec, int64(nsec)).UTC(), Properties: buf}
		if len(buf) == 0 {
			ev.Properties = nil
		}
		fn(&ev)
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return s.corrupt(p, s.n[p], errors.New("bytes after the last event"))
	}
	return nil
}

func (s *spill) corrupt(p int, k int64, err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("work directory %s: partition %d, event %d of %d: %w", s.dir, p, k, s.n[p], err)
}

// readBytes reads a length-prefixed field into buf, reusing it.
func readBytes(r *bufio.Reader, buf []byte) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return buf, err
	}
	if n > 1<<30 {
		return buf, fmt.Errorf("a field of %d bytes", n)
	}
	buf = slices.Grow(buf[:0], int(n))[:n]
	_, err = io.ReadFull(r, buf)
	return buf, err
}

// scanSpilled is ledger.scan's loop for a source too large for one id
// set in memory: it partitions the events into files under workDir, then
// counts each partition in turn.
func (l *ledger) scanSpilled(ctx context.Context, r source.Reader, parts int, workDir string) (int64, error) {
	s, err := newSpill(workDir, parts)
	if err != nil {
		return 0, err
	}
	defer s.remove()
	var n int64
	for {
		rec, err := r.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			if re := (*source.RecordError)(nil); errors.As(err, &re) {
				continue // counted by the reader's Invalid
			}
			return n, fmt.Errorf("read source: %w", err)
		}
		n++
		if err := s.write(&rec.Event); err != nil {
			return n, err
		}
	}
	if err := s.finish(); err != nil {
		return n, err
	}
	l.rows.SpillPartitions, l.rows.SpillBytes = parts, s.bytes
	for p := range parts {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		l.ids = newIDSet(s.n[p])
		if err := s.each(p, l.add); err != nil {
			return n, err
		}
		l.rows.DedupBytes = max(l.rows.DedupBytes, l.ids.bytes())
		l.ids = nil
	}
	return n, nil
}

// MemoryBudget is the scan's budget: asked when above 0, else the Go
// runtime's (GOMEMLIMIT), else DefaultMemoryLimit. Without GOMEMLIMIT, it
// sets the runtime's soft limit to the budget too, so that the collector
// keeps the heap within it rather than letting it double.
func MemoryBudget(asked int64) int64 {
	gm := debug.SetMemoryLimit(-1)
	switch {
	case asked > 0:
	case gm != math.MaxInt64:
		return gm
	default:
		asked = DefaultMemoryLimit
	}
	if gm == math.MaxInt64 {
		debug.SetMemoryLimit(asked)
	}
	return asked
}
