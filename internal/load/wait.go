package load

import (
	"context"
	"runtime"
	"time"
)

// coarseMargin is how much of a wait is left to the fine sleep. Go's
// timers wake up to about a millisecond late when the process is idle
// (the runtime's poller sleeps in whole milliseconds), which would show in
// every corrected latency of a modest-rate run; the last stretch is slept
// with a precise system call instead.
const coarseMargin = 1500 * time.Microsecond

// waiter sleeps the pacer until each tick's intended time. It locks the
// pacer to its OS thread, so that the thread's timer slack can be set
// (Linux: from 50 µs to 1 ns), and must be closed on the same goroutine.
type waiter struct {
	start   time.Time
	timer   *time.Timer
	restore func()
}

func newWaiter(start time.Time) *waiter {
	runtime.LockOSThread()
	return &waiter{start: start, timer: time.NewTimer(time.Hour), restore: preciseThread()}
}

// until sleeps until offset at from the start and reports false if ctx
// was done first.
func (w *waiter) until(ctx context.Context, at time.Duration) bool {
	wait := at - time.Since(w.start)
	if wait > 2*coarseMargin {
		w.timer.Reset(wait - coarseMargin)
		select {
		case <-ctx.Done():
			return false
		case <-w.timer.C:
		}
		wait = at - time.Since(w.start)
	}
	if wait > 0 {
		fineSleep(wait)
	}
	return ctx.Err() == nil
}

func (w *waiter) close() {
	w.timer.Stop()
	w.restore()
	runtime.UnlockOSThread()
}
