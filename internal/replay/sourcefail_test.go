package replay_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/replay"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/source"
)

// brokenReader yields good valid records, then fails for good: a file whose
// later row group is corrupt.
type brokenReader struct {
	events []source.Event
	i      int
	err    error
}

func (r *brokenReader) Next(context.Context) (source.Record, error) {
	if r.i >= len(r.events) {
		return source.Record{}, r.err
	}
	r.i++
	pos := source.Position{Kind: source.KindParquet, File: "events.parquet", Row: int64(r.i - 1)}
	return source.Record{Event: r.events[r.i-1], Pos: pos}, nil
}

func (r *brokenReader) Stats() source.Stats {
	return source.Stats{Declared: int64(len(r.events)) + 100, Emitted: int64(r.i), Through: int64(r.i)}
}

func (r *brokenReader) Cover(source.Position) source.Coverage { return source.Coverage{} }

func (r *brokenReader) Close() error { return nil }

// A source that breaks mid-run still gets the records it yielded before
// delivered and checkpointed; then the run fails with the source's error.
func TestSourceErrorDrainsWhatWasRead(t *testing.T) {
	e := newEnv(t, sandbox.Config{Latency: sandbox.Latency{Min: 5 * time.Millisecond, Max: 5 * time.Millisecond}})
	sub := e.data.Subscriptions[0]
	const n = 40
	broken := errors.New("parquet events.parquet row group 1: corrupt data")
	src := &brokenReader{err: broken}
	for i := range n {
		src.events = append(src.events, source.Event{ID: fmt.Sprintf("ev-%d", i), EventType: "api.request", CustomerID: sub.CustomerID,
			SubscriptionID: sub.ID, Timestamp: time.Date(2026, 10, 5, 0, 0, i, 0, time.UTC), Properties: []byte(`{"bytes":1}`)})
	}
	store := replay.FileStore{Path: filepath.Join(t.TempDir(), "replay.ckpt")}
	st, err := replay.Run(context.Background(), replay.Config{Source: src, Client: e.client, DeadLetter: e.dl, Concurrency: 8, Checkpoint: store})
	if !errors.Is(err, broken) {
		t.Fatalf("Run() error = %v, want the source's error", err)
	}
	if st.Accepted != n || st.Abandoned != 0 {
		t.Errorf("accepted %d, abandoned %d; want all %d records read before the failure delivered", st.Accepted, st.Abandoned, n)
	}
	if got := e.sb.Server.Stats().EventsStored; got != n {
		t.Errorf("sandbox stored %d events, want %d", got, n)
	}
	cp, err := store.Load(context.Background())
	if err != nil || cp == nil || cp.Coverage.Rows != n {
		t.Errorf("checkpoint = %+v, %v; want one covering all %d records", cp, err, n)
	}
}
