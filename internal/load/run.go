package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/defaults"
	"github.com/billharness/billharness/internal/progress"
)

// Defaults for zero Config fields.
const (
	DefaultMaxInFlight   = 1000
	DefaultOpenWorkers   = 16
	DefaultClosedWorkers = 64
	DefaultDrainTimeout  = 10 * time.Second
)

// Tick is one request to make.
type Tick struct {
	// Seq numbers the requests of a run from 0; with the run id and shard
	// it makes event ids unique.
	Seq int64
	// Intended is when the request was due: the schedule's time in the open
	// model, the moment its worker became free in the closed one.
	Intended time.Time
}

// Generator makes the events of one worker. Each worker has its own, used
// by that worker's goroutine only.
type Generator interface {
	// Next fills ev for the request of tick t. io.EOF ends the run (the
	// event source ran out); any other error fails it. ev is reused: what
	// it points to may be overwritten by the next call.
	Next(ctx context.Context, t Tick, ev *billing.Event) error
	// Done reports how the request for ev ended, before the next Next.
	Done(ev *billing.Event, o Outcome)
}

// Config configures Run. Client and Events are required.
type Config struct {
	// Client sends the events. Give it MaxRetries < 0 (a load test measures
	// each request once, it does not retry) and MaxConns >= Connections.
	Client *billing.Client
	// Events makes each worker's Generator; worker numbers start at 0.
	Events func(worker int) Generator
	// Schedule selects the open model: requests are due on this schedule
	// whatever the answers. Nil selects the closed model.
	Schedule *Schedule
	// Duration is how long the closed model runs; 0 runs until ctx is done
	// or the events run out. The open model runs for its schedule.
	Duration time.Duration
	// Workers is, in the closed model, the number of workers sending back
	// to back (default DefaultClosedWorkers). In the open model it is how many workers start
	// before the first tick (default DefaultOpenWorkers); more start on
	// demand, up to MaxInFlight.
	Workers int
	// MaxInFlight caps the requests in flight in the open model. A tick
	// that comes due while MaxInFlight requests are in flight is dropped:
	// counted in Result.Dropped and nowhere else. Default
	// DefaultMaxInFlight.
	MaxInFlight int
	// Connections caps the requests on the wire at once; default
	// MaxInFlight (open) or Workers (closed), so no request ever waits.
	// Fewer connections than in-flight requests model a client with a
	// small pool: a request then waits for a connection, and the wait
	// counts in its corrected latency, not in its service time.
	Connections int
	// DrainTimeout bounds how long requests in flight may still take once
	// ctx is done. Default DefaultDrainTimeout.
	DrainTimeout time.Duration
	// Metrics, when set, is updated as the run goes.
	Metrics *Metrics
	// Progress, when set, is called about once a second from a goroutine
	// of the run, and once more at the end with Final set.
	Progress func(Progress)
	// RunID, Target and Shard ("i/N") label the result.
	RunID, Target, Shard string
}

// Progress is a run's state so far, for a live display.
type Progress struct {
	Elapsed                         time.Duration
	Asked, Sent, Completed, Dropped int64
	Errors                          int64 // completed requests that were not 2xx
	InFlight                        int64
	Rate, AskedRate                 float64 // over the last step, per second
	P99                             time.Duration
	// Total is the run's planned length (the schedule's, or -duration in
	// the closed model); 0 when it runs until stopped.
	Total time.Duration
	// LastError is the latest failed request's cause, "" when none failed.
	LastError string
	Final     bool
}

// runner is one run's shared state.
type runner struct {
	cfg     Config
	rec     *recorder
	res     *Result
	start   time.Time
	stopped atomic.Bool // no new request may start
	// asked, sent and dropped count ticks; inflight, requests started and
	// not ended (a tick being turned into an event included).
	asked, sent, dropped, inflight atomic.Int64
	ticks                          chan Tick
	conns                          chan struct{} // nil when every request has a connection
	wg                             sync.WaitGroup
	workers                        int // open model; owned by the pacer
	runCtx                         context.Context
	stopRun                        context.CancelFunc
	reqCtx                         context.Context
	exhausted                      atomic.Bool
	failMu                         sync.Mutex
	fail                           error
}

// Run sends requests as cfg says until the schedule ends, the closed
// model's Duration passes, the events run out or ctx is done, then waits
// for the requests in flight and returns what it measured. An interrupted
// run returns its result too, marked Interrupted, with ctx's error.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, rec: newRecorder(), res: newResult(), ticks: make(chan Tick)}
	if cfg.Connections < r.capacity() {
		r.conns = make(chan struct{}, cfg.Connections)
	}
	r.runCtx, r.stopRun = context.WithCancel(ctx)
	defer r.stopRun()
	reqCtx, cancelReqs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelReqs()
	r.reqCtx = reqCtx
	go func() {
		<-r.runCtx.Done()
		r.stopped.Store(true)
	}()

	r.start = time.Now()
	col := newCollector(r)
	colDone := make(chan struct{})
	go func() { defer close(colDone); col.run() }()

	var scheduleEnd time.Time
	if cfg.Schedule != nil {
		scheduleEnd = r.pace()
		close(r.ticks)
	} else {
		r.closed()
	}
	drained := r.drain(ctx, cancelReqs)
	end := time.Now()
	col.stop()
	<-colDone
	if end.Before(scheduleEnd) {
		end = scheduleEnd
	}
	res := r.finish(end)
	err := r.failure()
	if ctx.Err() != nil {
		res.Interrupted = true
		err = errors.Join(err, ctx.Err())
	}
	if !drained {
		err = errors.Join(err, fmt.Errorf("load: %d requests still in flight after the %s drain timeout", r.inflight.Load(), cfg.DrainTimeout))
	}
	return res, err
}

// Filled returns c with the defaults Run fills in, for a caller that
// sizes its client's connections by them.
func (c Config) Filled() Config {
	_ = c.defaults()
	return c
}

// Model names the load model: closed, or open with its schedule.
func (c Config) Model() string {
	if c.Schedule == nil {
		return ModelClosed
	}
	return ModelOpen + " " + c.Schedule.String()
}

func (c *Config) defaults() error {
	var errs []error
	if c.Client == nil {
		errs = append(errs, errors.New("load: no client"))
	}
	if c.Events == nil {
		errs = append(errs, errors.New("load: no events"))
	}
	if c.Schedule == nil {
		defaults.Set(&c.Workers, DefaultClosedWorkers)
		defaults.Set(&c.Connections, c.Workers)
	} else {
		defaults.Set(&c.MaxInFlight, DefaultMaxInFlight)
		defaults.Set(&c.Workers, DefaultOpenWorkers)
		c.Workers = min(c.Workers, c.MaxInFlight)
		defaults.Set(&c.Connections, c.MaxInFlight)
	}
	defaults.Set(&c.DrainTimeout, DefaultDrainTimeout)
	return errors.Join(errs...)
}

// capacity is the most requests that can be in flight.
func (r *runner) capacity() int {
	if r.cfg.Schedule != nil {
		return r.cfg.MaxInFlight
	}
	return r.cfg.Workers
}

// pace is the open model's pacer: it hands each tick, at its intended
// time, to a free worker, and returns when the schedule is over (or when
// it was told to stop). It never waits for a worker: a tick that finds
// MaxInFlight requests in flight is dropped.
func (r *runner) pace() (scheduleEnd time.Time) {
	sch := r.cfg.Schedule
	for range r.cfg.Workers {
		r.startWorker(nil)
	}
	w := newWaiter(r.start)
	defer w.close()
	maxIn := int64(r.cfg.MaxInFlight)
	for n := int64(0); ; n++ {
		due, ok := sch.Due(n)
		if !ok {
			break
		}
		// Sleep only when ahead; when behind (the process was descheduled,
		// say), every tick already due goes out at once, each with its own
		// intended time, so the rate catches up and the lateness shows in
		// corrected latency.
		if !w.until(r.runCtx, due) {
			return time.Time{}
		}
		r.asked.Add(1)
		if r.inflight.Load() >= maxIn {
			r.dropped.Add(1)
			r.cfg.Metrics.dropped()
			continue
		}
		r.inflight.Add(1)
		r.sent.Add(1)
		t := Tick{Seq: n, Intended: r.start.Add(due)}
		select {
		case r.ticks <- t:
		default:
			if r.workers < r.cfg.MaxInFlight {
				r.startWorker(&t)
				break
			}
			// Every worker exists and fewer than MaxInFlight requests are
			// in flight, so one worker has just finished and is on its way
			// back to the channel: this send waits nanoseconds.
			r.ticks <- t
		}
	}
	if d := sch.Duration(); d > 0 {
		// Hold until the schedule's end, so that a final ramp down to 0 or a
		// quiet stage is part of the run.
		if !w.until(r.runCtx, d) {
			return time.Time{}
		}
		return r.start.Add(d)
	}
	return time.Time{}
}

// startWorker starts an open-model worker, with its first tick if given.
func (r *runner) startWorker(first *Tick) {
	id := r.workers
	r.workers++
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		gen := r.cfg.Events(id)
		var ev billing.Event
		if first != nil {
			r.do(id, gen, &ev, *first)
		}
		for t := range r.ticks {
			r.do(id, gen, &ev, t)
		}
	}()
}

// closed runs the closed model: each worker sends its next request as
// soon as the previous one is answered.
func (r *runner) closed() {
	if d := r.cfg.Duration; d > 0 {
		timer := time.AfterFunc(d, r.stopRun)
		defer timer.Stop()
	}
	for id := range r.cfg.Workers {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			gen := r.cfg.Events(id)
			var ev billing.Event
			for !r.stopped.Load() {
				seq := r.asked.Add(1) - 1 // in the closed model every ask is sent at once
				r.sent.Add(1)
				r.inflight.Add(1)
				r.do(id, gen, &ev, Tick{Seq: seq, Intended: time.Now()})
			}
		}()
	}
	<-r.runCtx.Done()
}

// do makes one request and records it. The tick is already counted as in
// flight; do ends that.
func (r *runner) do(worker int, gen Generator, ev *billing.Event, t Tick) {
	defer r.inflight.Add(-1)
	if err := gen.Next(r.runCtx, t, ev); err != nil {
		r.sent.Add(-1) // made no request
		switch {
		case errors.Is(err, io.EOF):
			r.exhausted.Store(true)
		case r.runCtx.Err() != nil:
		default:
			r.setFailure(fmt.Errorf("load: events: %w", err))
		}
		r.stopRun()
		return
	}
	if r.conns != nil {
		r.conns <- struct{}{}
	}
	started := time.Now()
	res, err := r.cfg.Client.SendEvent(r.reqCtx, *ev)
	ended := time.Now()
	if r.conns != nil {
		<-r.conns
	}
	o := outcomeOf(res, err)
	corrected, service := ended.Sub(t.Intended), ended.Sub(started)
	r.rec.record(worker, o, corrected, service)
	if err != nil {
		r.rec.recordError(err)
	}
	r.cfg.Metrics.observe(o.Class, o.Duplicate, corrected, service)
	gen.Done(ev, o)
}

func (r *runner) setFailure(err error) {
	r.failMu.Lock()
	if r.fail == nil {
		r.fail = err
	}
	r.failMu.Unlock()
}

func (r *runner) failure() error {
	r.failMu.Lock()
	defer r.failMu.Unlock()
	return r.fail
}

// drain waits for the workers. Once ctx is done, requests in flight get
// DrainTimeout to end; after it their context is cancelled and drain
// stops waiting, reporting false.
func (r *runner) drain(ctx context.Context, cancelReqs context.CancelFunc) bool {
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-ctx.Done():
	}
	timer := time.NewTimer(r.cfg.DrainTimeout)
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
		cancelReqs()
		return false
	}
}

// finish fills the result once the workers and the collector are done.
func (r *runner) finish(end time.Time) *Result {
	res := r.res
	r.rec.totals(res)
	res.RunID, res.Target = r.cfg.RunID, r.cfg.Target
	res.Shards = []string{r.cfg.Shard}
	if r.cfg.Shard == "" {
		res.Shards = []string{"0/1"}
	}
	res.Start, res.End = r.start, end
	res.Asked, res.Sent, res.Dropped = r.asked.Load(), r.sent.Load(), r.dropped.Load()
	res.Workers, res.Connections = r.cfg.Workers, r.cfg.Connections
	res.Exhausted = r.exhausted.Load()
	res.Model = ModelClosed
	if sch := r.cfg.Schedule; sch != nil {
		res.Model, res.Schedule, res.MaxInFlight = ModelOpen, sch.String(), r.cfg.MaxInFlight
		res.Workers = r.workers
		ran := end.Sub(r.start)
		if d := sch.Duration(); d > 0 {
			ran = min(ran, d)
		}
		if ran > 0 {
			res.AskedRate = sch.Hits(ran) / ran.Seconds()
		}
	}
	return res
}

// Status is a load test's status line: k6's clock ("08s/10s") and bar,
// requests per second, and what went wrong so far.
func (p Progress) Status() progress.Status {
	st := progress.Status{
		Verb: "load", Done: p.Completed, Unit: "req", Elapsed: p.Elapsed, Duration: p.Total,
		Rate: p.Rate, RateUnit: "req/s", ETA: -1, LastError: p.LastError, Final: p.Final,
		Counts: []progress.Count{{Name: "errors", N: p.Errors}, {Name: "dropped", N: p.Dropped}, {Name: "in flight", N: p.InFlight}},
	}
	if p.P99 > 0 && !p.Final {
		st.Note = "p99 " + progress.Latency(p.P99)
	}
	return st
}

// Log writes the progress as one log record, with the fields of the live
// line, for log collectors.
func (p Progress) Log(log *slog.Logger) {
	log.Info("load progress", "elapsed", p.Elapsed.Round(time.Second).String(), "total", p.Total.String(),
		"percent", p.Status().Percent(), "rate", int64(p.Rate),
		"asked_rate", int64(p.AskedRate), "inflight", p.InFlight, "p99_ms", float64(p.P99.Microseconds())/1000,
		"errors", p.Errors, "dropped", p.Dropped, "completed", p.Completed, "last_error", p.LastError)
}
