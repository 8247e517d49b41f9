package replay

import (
	"context"
	"sync"

	"github.com/billharness/billharness/internal/source"
)

// watermark tracks the low watermark of finished records. Records are
// numbered in read order; workers finish them out of order. The watermark
// is the position of the last record of the longest finished prefix: every
// record at or before it is done, so a resumed run may start after it.
//
// Why a window: a record stuck in retries holds the watermark back while
// later ones finish. Remembering those costs memory, so the reader may run
// at most `window` records ahead of the watermark; acquire blocks past that.
type watermark struct {
	slots chan struct{} // one token per record between the watermark and the reader

	mu   sync.Mutex
	next uint64          // lowest sequence number not yet finished
	ring []entry         // record seq lives at ring[seq%len(ring)] until the watermark passes it; grows to the window
	pos  source.Position // the watermark; zero while nothing is finished
	thru int64           // the source rows at or before pos (source.Stats.Through)
}

type entry struct {
	pos  source.Position
	thru int64
	used bool // acquired and not yet below the watermark
	done bool
}

func newWatermark(window int) *watermark {
	return &watermark{slots: make(chan struct{}, window), ring: make([]entry, min(window, 1024))}
}

// acquire registers record seq (numbered from 0 in read order) at pos,
// with thru source rows at or before it, waiting for room in the window.
// It fails only when ctx ends.
func (w *watermark) acquire(ctx context.Context, seq uint64, pos source.Position, thru int64) error {
	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	w.mu.Lock()
	if seq-w.next >= uint64(len(w.ring)) {
		w.grow(seq - w.next + 1)
	}
	w.ring[seq%uint64(len(w.ring))] = entry{pos: pos, thru: thru, used: true}
	w.mu.Unlock()
	return nil
}

// grow makes room for n records from w.next on, keeping each entry at its
// sequence number's index in the larger ring. Most runs never grow: only
// a record stuck in retries lets the reader run far ahead.
func (w *watermark) grow(n uint64) {
	size := uint64(len(w.ring))
	for size < n {
		size *= 2
	}
	size = min(size, uint64(cap(w.slots)))
	ring := make([]entry, size)
	for seq := w.next; seq < w.next+uint64(len(w.ring)); seq++ {
		ring[seq%size] = w.ring[seq%uint64(len(w.ring))]
	}
	w.ring = ring
}

// finish marks record seq done and advances the watermark over the
// finished prefix.
func (w *watermark) finish(seq uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := uint64(len(w.ring))
	if e := &w.ring[seq%n]; e.used && seq >= w.next {
		e.done = true
	}
	for {
		e := &w.ring[w.next%n]
		if !e.used || !e.done {
			return
		}
		w.pos, w.thru = e.pos, e.thru
		*e = entry{}
		w.next++
		<-w.slots
	}
}

// position returns the watermark, the source rows at or before it, and
// how many records of this run lie at or below it.
func (w *watermark) position() (pos source.Position, thru int64, count uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pos, w.thru, w.next // records 0..next-1 are at or below the watermark
}

// head returns the first record not yet finished: its position, its
// sequence number, and whether it was acquired (false when the watermark
// has caught up with the reader).
func (w *watermark) head() (source.Position, uint64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e := w.ring[w.next%uint64(len(w.ring))]
	return e.pos, w.next, e.used
}
