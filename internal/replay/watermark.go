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

	mu      sync.Mutex
	next    uint64            // lowest sequence number not yet finished
	pending map[uint64]*entry // read, not yet below the watermark
	pos     source.Position   // the watermark; zero while nothing is finished
	count   uint64            // records at or below the watermark
}

type entry struct {
	pos  source.Position
	done bool
}

func newWatermark(window int) *watermark {
	return &watermark{slots: make(chan struct{}, window), pending: make(map[uint64]*entry, window)}
}

// acquire registers record seq (numbered from 0 in read order) at pos,
// waiting for room in the window. It fails only when ctx ends.
func (w *watermark) acquire(ctx context.Context, seq uint64, pos source.Position) error {
	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	w.mu.Lock()
	w.pending[seq] = &entry{pos: pos}
	w.mu.Unlock()
	return nil
}

// finish marks record seq done and advances the watermark over the
// finished prefix.
func (w *watermark) finish(seq uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := w.pending[seq]; e != nil {
		e.done = true
	}
	for {
		e := w.pending[w.next]
		if e == nil || !e.done {
			return
		}
		w.pos = e.pos
		delete(w.pending, w.next)
		w.next++
		w.count++
		<-w.slots
	}
}

// position returns the watermark and how many records lie at or below it.
func (w *watermark) position() (source.Position, uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pos, w.count
}
