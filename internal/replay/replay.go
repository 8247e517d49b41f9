// Package replay sends every event of a source to the billing API's
// POST /v1/events, exactly once in effect, and can be stopped at any moment
// and resumed.
//
// The pipeline is: source → validate → age guard → bounded workers → the
// shared billing client (rate limiter, retries, event id as Idempotency-Key).
// Workers finish out of order, so progress is a low watermark: the
// checkpoint names the last record of the longest finished prefix, and a
// resumed run starts right after it. Records above the watermark may be
// sent again on resume; the API deduplicates them by id, so totals stay
// exact. Nothing is dropped silently: a record that is invalid, too old,
// rejected or that kept failing goes to the dead-letter file with its
// reason and position before the checkpoint may pass it.
package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/duration"
	"github.com/billharness/billharness/internal/progress"
	"github.com/billharness/billharness/internal/source"
)

// Defaults for zero Config fields.
const (
	DefaultConcurrency     = 32
	DefaultCheckpointEvery = 5 * time.Second
	DefaultProgressEvery   = 2 * time.Second
	DefaultDrainTimeout    = 30 * time.Second
	// DefaultStallTimeout is longer than the worst a record may rightly
	// take: every attempt timing out, with the backoffs and capped
	// Retry-After waits between them.
	DefaultStallTimeout = 15 * time.Minute
	// DefaultWindow bounds how far reading may run ahead of the watermark.
	DefaultWindow = 65536
)

// ErrInterrupted is returned when the context ended the run: reading
// stopped, in-flight requests were drained and the checkpoint written.
var ErrInterrupted = errors.New("replay interrupted")

// counters are updated by workers and read by progress.
type counters struct {
	read, accepted, duplicate, rejected, failed, invalid, tooOld, conflicting, retried, ambiguous, valid atomic.Int64
}

func (c *counters) stats() Stats {
	s := Stats{
		Read: c.read.Load(), Accepted: c.accepted.Load(), Duplicate: c.duplicate.Load(),
		Rejected: c.rejected.Load(), Failed: c.failed.Load(), Invalid: c.invalid.Load(),
		TooOld: c.tooOld.Load(), Conflicting: c.conflicting.Load(), Retried: c.retried.Load(), Ambiguous: c.ambiguous.Load(), Valid: c.valid.Load(),
	}
	s.DeadLettered = s.Rejected + s.Failed + s.Invalid + s.TooOld + s.Conflicting
	return s
}

// item is one record on its way to a worker.
type item struct {
	seq uint64
	rec source.Record
}

// run is the state of one Run.
type run struct {
	cfg      Config
	c        counters
	wm       *watermark
	consumed atomic.Int64 // source rows consumed, for the ETA
	declared atomic.Int64
	etaMu    sync.Mutex
	eta      progress.ETA
	cpMu     sync.Mutex // serializes checkpoint writes
	lastCP   *Checkpoint
	// stop ends the run on a fatal condition found outside the workers
	// (the watchdog); stopErr says why.
	stop    context.CancelCauseFunc
	stopMu  sync.Mutex
	stopErr error
	brk     breaker
	// copies orders the copies of one event id: while one is in flight,
	// later ones wait in its queue, in source order (see sendInOrder).
	copiesMu sync.Mutex
	copies   map[string][]item
}

// stopped returns why the run was stopped early, nil if it was not.
func (r *run) stopped() error {
	r.stopMu.Lock()
	defer r.stopMu.Unlock()
	return r.stopErr
}

// fatalError is an error that stops the whole run at once, unlike a
// broken source, after which the records already read are still sent.
type fatalError struct{ err error }

func (e fatalError) Error() string { return e.err.Error() }
func (e fatalError) Unwrap() error { return e.err }

// Run replays cfg.Source until it ends, ctx ends, or a fatal error (the
// source breaks, the API refuses the token) stops it. It returns
// ErrInterrupted when ctx ended first.
func Run(ctx context.Context, cfg Config) (Stats, error) {
	if err := cfg.defaults(); err != nil {
		return Stats{}, err
	}
	start := time.Now()
	r := &run{cfg: cfg, wm: newWatermark(cfg.Window), lastCP: cfg.Resumed, copies: map[string][]item{},
		brk: breaker{maxFor: cfg.FailFast, maxRuns: cfg.FailFastRejections, now: time.Now}}
	st0 := cfg.Source.Stats()
	r.declared.Store(st0.Declared)

	// sendCtx outlives ctx by the drain timeout: after an interruption the
	// requests in flight may finish, so their records count as done.
	sendCtx, cancelSendCause := context.WithCancelCause(context.WithoutCancel(ctx))
	cancelSend := func() { cancelSendCause(nil) }
	defer cancelSend()
	r.stop = func(err error) {
		r.stopMu.Lock()
		if r.stopErr == nil {
			r.stopErr = err
		}
		r.stopMu.Unlock()
		cancelSendCause(err)
	}
	stopDrain := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(cfg.DrainTimeout, cancelSend)
		context.AfterFunc(sendCtx, func() { t.Stop() })
	})
	defer stopDrain()

	// fatalCtx stops everything on a fatal error, in either stage.
	g, gctx := errgroup.WithContext(sendCtx)
	readCtx, cancelRead := context.WithCancel(gctx)
	defer cancelRead()
	stopRead := context.AfterFunc(ctx, cancelRead)
	defer stopRead()

	items := make(chan item, cfg.Concurrency*2)
	var srcStats source.Stats
	readErr := make(chan error, 1)
	g.Go(func() error {
		defer close(items)
		var err error
		srcStats, err = r.read(readCtx, items)
		// A broken source ends reading the way the end of the input does,
		// not with the group's error, which would cancel the workers: the
		// valid records already read are still sent, and covered by the
		// checkpoint, before the run fails. A dead letter that could not be
		// written stops everything.
		var fatal fatalError
		if errors.As(err, &fatal) {
			readErr <- nil
			return err
		}
		readErr <- err
		return nil
	})
	for range cfg.Concurrency {
		g.Go(func() error { return r.work(readCtx, gctx, items) })
	}

	done := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(1)
	go func() { defer bg.Done(); r.background(done, start) }()
	err := r.wait(g, sendCtx)
	select {
	case rerr := <-readErr:
		err = errors.Join(rerr, err)
	default: // the drain deadline passed with the reader still running
	}
	close(done)
	bg.Wait()
	stopErr := r.stopped()
	if stopErr == nil { // every worker is done: a streak still held was real failures
		if ferr := r.flush(r.brk.ok()); ferr != nil {
			err = errors.Join(err, ferr)
		}
	} else {
		err = errors.Join(stopErr, err)
	}

	if cerr := r.checkpoint(context.WithoutCancel(ctx)); cerr != nil {
		err = errors.Join(err, cerr)
	}
	st := r.c.stats()
	st.Source = srcStats
	st.Elapsed = duration.Duration(time.Since(start))
	st.Checkpoint = r.lastCP
	if !cfg.DryRun {
		st.Abandoned = st.Read - finished(st)
		// A run that ends without an error has finished every record it
		// read; anything else must not pass for a complete replay.
		if err == nil && ctx.Err() == nil && st.Abandoned != 0 {
			err = fmt.Errorf("replay: accounting: %d records read were neither delivered nor dead-lettered", st.Abandoned)
		}
	}
	if aerr := checkResume(st, cfg.Resumed); aerr != nil {
		err = errors.Join(err, aerr)
	}
	if cfg.Progress != nil {
		p := r.progress(st, 0, true)
		if stopErr != nil {
			p.Stopped = stopErr.Error()
		}
		cfg.Progress(p)
	}
	if err == nil && ctx.Err() != nil {
		err = ErrInterrupted
	}
	return st, err
}

// wait waits for the pipeline, but no longer than the drain deadline: an
// attempt on a direct connection cannot be aborted mid-flight, and a record
// still in flight is not finished, so the checkpoint can be written without
// it and the resumed run sends it again.
func (r *run) wait(g *errgroup.Group, sendCtx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- g.Wait() }()
	select {
	case err := <-errc:
		return err
	case <-sendCtx.Done():
		select {
		case err := <-errc:
			return err
		case <-time.After(100 * time.Millisecond):
			r.cfg.Logger.Warn("drain deadline passed with requests in flight; they are left to the resumed run")
			return nil
		}
	}
}

// read pulls records, settles the ones that never reach the API (invalid,
// too old, dry run) and hands the others to the workers in order.
func (r *run) read(ctx context.Context, out chan<- item) (source.Stats, error) {
	src := r.cfg.Source
	var seq uint64
	var cutoff time.Time
	if r.cfg.MaxAge > 0 && !r.cfg.AllowOld {
		cutoff = r.cfg.Now().Add(-r.cfg.MaxAge)
	}
	for {
		if ctx.Err() != nil {
			return src.Stats(), nil
		}
		rec, err := src.Next(ctx)
		st := src.Stats()
		r.consumed.Store(st.Emitted + st.Invalid + st.SkippedWindow + st.SkippedShard + st.SkippedResume + st.Kept)
		var recErr *source.RecordError
		switch {
		case errors.Is(err, io.EOF):
			return st, nil
		case errors.As(err, &recErr):
			rec = source.Record{Pos: recErr.Pos}
		case err != nil:
			if ctx.Err() != nil {
				return st, nil
			}
			return st, fmt.Errorf("read source: %w", err)
		}
		r.c.read.Add(1)
		if err := r.wm.acquire(ctx, seq, rec.Pos, st.Through); err != nil {
			return st, nil
		}
		var serr error
		switch {
		case recErr != nil:
			serr = r.settle(seq, Letter{Kind: KindInvalid, Reason: recErr.Error(), Field: recErr.Field, Position: recErr.Pos, Raw: recErr.Raw})
		case !cutoff.IsZero() && rec.Event.Timestamp.Before(cutoff):
			r.c.valid.Add(1)
			serr = r.settle(seq, Letter{Kind: KindTooOld, Position: rec.Pos, Event: &rec.Event, Field: source.FieldTimestamp,
				Reason: fmt.Sprintf("timestamp %s is older than -max-age %s: past the target's deduplication window a replay can count it twice; pass -allow-old to send it anyway",
					rec.Event.Timestamp.Format(time.RFC3339), r.cfg.MaxAge)})
		case r.cfg.DryRun:
			r.c.valid.Add(1)
			r.wm.finish(seq)
		default:
			r.c.valid.Add(1)
			if r.queueBehindCopy(item{seq: seq, rec: rec}) {
				break // its earlier copy's worker sends it next
			}
			select {
			case out <- item{seq: seq, rec: rec}:
			case <-ctx.Done():
				return st, nil
			}
		}
		if serr != nil {
			return st, serr
		}
		seq++
	}
}

// settle dead-letters a record that never reaches the API, counts it and
// marks it done. A letter that cannot be written stops the run: the record
// is not done, so no checkpoint covers it and a resumed run meets it again.
func (r *run) settle(seq uint64, l Letter) error {
	if !r.cfg.DryRun {
		l.Time = r.cfg.Now().UTC()
		if err := r.cfg.DeadLetter.Write(l); err != nil {
			return fatalError{err}
		}
	}
	r.count(l.Kind).Add(1)
	r.wm.finish(seq)
	return nil
}

// count is the counter of a dead-letter kind.
func (r *run) count(kind string) *atomic.Int64 {
	switch kind {
	case KindInvalid:
		return &r.c.invalid
	case KindTooOld:
		return &r.c.tooOld
	case KindRejected:
		return &r.c.rejected
	case KindConflict:
		return &r.c.conflicting
	}
	return &r.c.failed
}

// work sends items until the channel closes or reading stopped. It returns
// an error only for a fatal answer, which stops the whole run.
func (r *run) work(readCtx, sendCtx context.Context, in <-chan item) error {
	for it := range in {
		if readCtx.Err() != nil {
			continue // interrupted: leave queued records for the resumed run
		}
		if err := r.sendInOrder(readCtx, sendCtx, it); err != nil {
			return err
		}
	}
	return nil
}

// queueBehindCopy queues it behind a copy of its id still in flight and
// reports whether it did; otherwise it marks the id in flight.
func (r *run) queueBehindCopy(it item) bool {
	r.copiesMu.Lock()
	defer r.copiesMu.Unlock()
	id := it.rec.Event.ID
	if q, busy := r.copies[id]; busy {
		r.copies[id] = append(q, it)
		return true
	}
	r.copies[id] = nil
	return false
}

// sendInOrder sends it, then each copy of its id that queued behind it,
// one at a time in source order: copies of an id are never in flight at
// once, so the API keeps the first copy in the source, deterministically.
func (r *run) sendInOrder(readCtx, sendCtx context.Context, it item) error {
	for {
		if err := r.send(sendCtx, it); err != nil {
			return err
		}
		r.copiesMu.Lock()
		id := it.rec.Event.ID
		q := r.copies[id]
		if len(q) == 0 {
			delete(r.copies, id)
			r.copiesMu.Unlock()
			return nil
		}
		it = q[0]
		r.copies[id] = q[1:]
		r.copiesMu.Unlock()
		if readCtx.Err() != nil {
			return nil // interrupted: the queued copies are left for the resumed run
		}
	}
}

// send delivers one event and settles it by its outcome.
func (r *run) send(ctx context.Context, it item) error {
	ev := it.rec.Event
	res, err := r.cfg.Client.SendEvent(ctx, ev)
	if err == nil {
		if res.Attempts > 1 {
			r.c.retried.Add(1)
		}
		switch {
		case !res.Counted():
			r.c.duplicate.Add(1)
		case res.Ambiguous():
			r.c.ambiguous.Add(1)
			fallthrough
		default:
			r.c.accepted.Add(1)
		}
		r.wm.finish(it.seq)
		return r.flush(r.brk.ok())
	}
	if ctx.Err() != nil {
		return nil // drain deadline: not done, the resumed run resends it
	}
	var apiErr *billing.APIError
	var tooLong *billing.RetryAfterError
	switch {
	case errors.As(err, &tooLong):
		// Waiting would freeze every worker for that long: stop, and let the
		// resumed run (or a larger -max-retry-after) take it from here.
		return fmt.Errorf("%w; the run stops instead of waiting (raise -max-retry-after to wait)", err)
	case errors.As(err, &apiErr) && (apiErr.Status == http.StatusUnauthorized || apiErr.Status == http.StatusForbidden):
		return fmt.Errorf("the API refused the token: %w", err)
	case billing.IsCertificateError(err):
		// Every event would fail the same way: stop, as for a bad token,
		// rather than dead-letter the whole source.
		return fmt.Errorf("the API's TLS certificate does not verify: %w", err)
	}
	l := apiLetter(KindRejected, it.rec, err)
	switch {
	case billing.IsRetryable(err):
		l.Kind = KindFailed
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusConflict && apiErr.Code == billing.CodeKeyReused:
		l.Kind = KindConflict
		l.Reason = "another copy of this event id, with a different payload, was sent before and is the one the API counts: " + l.Reason
	}
	flush, trip := r.brk.fail(it.seq, l, err)
	if trip != nil {
		r.stop(trip)
	}
	return r.flush(flush)
}

// flush dead-letters the failures of a streak that ended without
// tripping the breaker.
func (r *run) flush(held []heldFailure) error {
	for _, h := range held {
		if err := r.settle(h.seq, h.l); err != nil {
			return err
		}
	}
	return nil
}
