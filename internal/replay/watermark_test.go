package replay

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/source"
)

// The watermark is the last record of the longest finished prefix, however
// out of order records finish, across many laps of the ring and while the
// ring grows to the window.
func TestWatermarkFinishedPrefix(t *testing.T) {
	for _, tt := range []struct{ window, total uint64 }{{8, 1000}, {5000, 30000}} {
		t.Run(fmt.Sprint(tt.window), func(t *testing.T) { checkFinishedPrefix(t, tt.window, tt.total) })
	}
}

func checkFinishedPrefix(t *testing.T, window, total uint64) {
	w := newWatermark(int(window))
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	var inflight []uint64
	finished := make(map[uint64]bool)
	var seq, prefix uint64
	for seq < total || len(inflight) > 0 {
		// A finished record keeps its slot until the watermark passes it.
		if seq < total && seq-prefix < window {
			if err := w.acquire(ctx, seq, source.Position{Kind: "test", Row: int64(seq)}, 0); err != nil {
				t.Fatal(err)
			}
			inflight = append(inflight, seq)
			seq++
			continue
		}
		i := rng.IntN(len(inflight))
		s := inflight[i]
		inflight = append(inflight[:i], inflight[i+1:]...)
		w.finish(s)
		finished[s] = true
		for finished[prefix] {
			prefix++
		}
		pos, _, count := w.position()
		if count != prefix {
			t.Fatalf("after finishing %d: count %d, want %d", s, count, prefix)
		}
		if prefix > 0 && pos.Row != int64(prefix-1) {
			t.Fatalf("after finishing %d: watermark row %d, want %d", s, pos.Row, prefix-1)
		}
	}
	if _, _, count := w.position(); count != total {
		t.Fatalf("count %d, want %d", count, total)
	}
	if window > 1024 && len(w.ring) < 1024*2 {
		t.Errorf("ring of %d entries never grew, though records ran up to %d ahead", len(w.ring), window)
	}
}

// The reader may not run more than the window ahead of an unfinished record.
func TestWatermarkWindowBlocks(t *testing.T) {
	w := newWatermark(2)
	ctx := context.Background()
	for seq := range uint64(2) {
		if err := w.acquire(ctx, seq, source.Position{Row: int64(seq)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	w.finish(1) // record 0 still holds the watermark
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := w.acquire(short, 2, source.Position{Row: 2}, 0); err == nil {
		t.Fatal("acquire past a full window succeeded")
	}
	w.finish(0)
	if err := w.acquire(ctx, 2, source.Position{Row: 2}, 0); err != nil {
		t.Fatalf("acquire after the window drained: %v", err)
	}
	if pos, _, count := w.position(); count != 2 || pos.Row != 1 {
		t.Fatalf("watermark row %d count %d, want row 1 count 2", pos.Row, count)
	}
}

// Growing the ring keeps every record's entry, wherever the watermark
// stood when it grew.
func TestWatermarkGrowsKeepingEntries(t *testing.T) {
	w := newWatermark(4096)
	ctx := context.Background()
	acquire := func(from, to uint64) {
		for seq := from; seq < to; seq++ {
			if err := w.acquire(ctx, seq, source.Position{Row: int64(seq)}, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	acquire(0, 100)
	for seq := range uint64(100) {
		w.finish(seq)
	}
	acquire(100, 3001) // record 100 holds the watermark: the ring grows twice
	for seq := uint64(3000); seq >= 100; seq-- {
		w.finish(seq)
	}
	if pos, _, count := w.position(); count != 3001 || pos.Row != 3000 {
		t.Fatalf("watermark row %d count %d, want row 3000 count 3001", pos.Row, count)
	}
}
