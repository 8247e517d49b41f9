package progress

import (
	"math"
	"time"
)

// ETA estimates the time left from successive (done, elapsed) samples.
//
// The rate behind it is an exponentially weighted moving average over the
// samples (each weighs Alpha; 0.1 by default, so about the last twenty
// count), started from the average since the start: a burst or a pause of
// one interval moves the estimate by a fraction, not tenfold, and a rate of 0
// for one interval is not read as "never". A run that has done nothing yet
// has no estimate.
type ETA struct {
	// Alpha is the weight of the newest interval's rate, in (0, 1].
	Alpha float64

	rate     float64 // smoothed units per second; 0 until two samples
	lastDone int64
	lastAt   time.Duration
	samples  int
}

// Update records that done units are finished after elapsed, and returns
// the estimated time until total; negative when unknown (no total, no
// progress yet, or total reached with nothing measured).
func (e *ETA) Update(done, total int64, elapsed time.Duration) time.Duration {
	alpha := e.Alpha
	if alpha <= 0 || alpha > 1 {
		alpha = 0.1
	}
	switch {
	case elapsed <= 0 || (e.samples > 0 && elapsed <= e.lastAt):
		// No time has passed: nothing to measure.
	case e.rate == 0:
		// Start from the average so far, not from zero.
		e.rate = float64(done) / elapsed.Seconds()
	default:
		r := float64(done-e.lastDone) / (elapsed - e.lastAt).Seconds()
		e.rate = alpha*r + (1-alpha)*e.rate
	}
	e.samples++
	e.lastDone, e.lastAt = done, elapsed
	left := total - done
	switch {
	case total <= 0:
		return -1
	case left <= 0:
		return 0
	case e.rate <= 0 || math.IsNaN(e.rate):
		return -1
	}
	secs := float64(left) / e.rate
	if secs > float64(math.MaxInt64/int64(time.Second)) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(secs * float64(time.Second))
}
