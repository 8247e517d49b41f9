package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/source"
)

// feedBuffer is how many events the source reader may read ahead.
const feedBuffer = 1024

// SourceEvents sends the events of a source (Parquet files, a Postgres
// table) at the run's rate, in source order. Bodies are sent as they are,
// but each id gets IDPrefix in front, so that a replayed source is new to
// the API on every run and exercises its store path rather than its
// duplicate path. Records that fail validation are skipped and counted.
type SourceEvents struct {
	prefix  string
	feed    chan billing.Event
	done    chan struct{}
	cancel  context.CancelFunc
	invalid atomic.Int64
	err     error // set before feed is closed
}

// StartSource starts reading rd on a goroutine of its own, a bounded
// buffer ahead of the workers. Call Stop before closing rd.
func StartSource(ctx context.Context, rd source.Reader, idPrefix string) *SourceEvents {
	ctx, cancel := context.WithCancel(ctx)
	s := &SourceEvents{prefix: idPrefix, feed: make(chan billing.Event, feedBuffer), done: make(chan struct{}), cancel: cancel}
	go s.read(ctx, rd)
	return s
}

func (s *SourceEvents) read(ctx context.Context, rd source.Reader) {
	defer close(s.done)
	defer close(s.feed)
	for {
		rec, err := rd.Next(ctx)
		var recErr *source.RecordError
		switch {
		case errors.As(err, &recErr):
			s.invalid.Add(1)
			continue
		case errors.Is(err, io.EOF):
			return
		case err != nil:
			if ctx.Err() == nil {
				s.err = fmt.Errorf("read source: %w", err)
			}
			return
		}
		ev := rec.Event
		ev.ID = s.prefix + ev.ID
		select {
		case s.feed <- ev:
		case <-ctx.Done():
			return
		}
	}
}

// Stop stops the reader goroutine and waits for it.
func (s *SourceEvents) Stop() {
	s.cancel()
	<-s.done
}

// Invalid counts the records skipped because they failed validation.
func (s *SourceEvents) Invalid() int64 { return s.invalid.Load() }

// Worker returns a worker's generator (for Config.Events). Workers share
// the source: each takes the next event.
func (s *SourceEvents) Worker(int) Generator { return sourceWorker{s} }

type sourceWorker struct{ s *SourceEvents }

// Next implements Generator.
func (w sourceWorker) Next(ctx context.Context, _ Tick, ev *billing.Event) error {
	select {
	case e, ok := <-w.s.feed:
		if !ok {
			if w.s.err != nil {
				return w.s.err
			}
			return io.EOF
		}
		*ev = e
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done implements Generator.
func (sourceWorker) Done(*billing.Event, Outcome) {}
