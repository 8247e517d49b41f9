package replay

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the systemic-failure breaker.
const (
	// DefaultFailFast is how long every request may fail to get through
	// (connection errors, 5xx, 429 after their retries) before the run
	// stops: long enough to ride out a restart of the target.
	DefaultFailFast = 60 * time.Second
	// DefaultFailFastRejections is how many consecutive events may be
	// refused the same way (same status, code and field) before the run
	// stops.
	DefaultFailFastRejections = 1000
)

// ErrSystemic is wrapped by the error of a run stopped because the recent
// requests all failed the same way.
var ErrSystemic = errors.New("systemic failure")

// breaker tells one bad record from a target that is down, empty or the
// wrong one. Failures are held back, not dead-lettered, while they all
// fail the same way: the first other outcome (a delivery, another kind of
// failure) dead-letters them as usual, and a streak that lasts too long
// (unavailable) or grows too long (the same rejection) stops the run with
// them left undone, for the resumed run to send again.
type breaker struct {
	maxFor  time.Duration // streak of unavailability
	maxRuns int           // streak of the same rejection
	now     func() time.Time

	active atomic.Bool // a streak is open: the delivery path must close it
	mu     sync.Mutex
	sig    string // the streak's failure, "" when none
	since  time.Time
	held   []heldFailure
	last   error // the streak's latest error, for the message
	trip   error // set once the breaker stopped the run
}

type heldFailure struct {
	seq uint64
	l   Letter
}

// signature is the way an event failed: "unavailable" for every failure
// retries could not overcome, else the rejection's status, code and field.
func signature(l Letter) string {
	if l.Kind == KindFailed {
		return "unavailable"
	}
	return fmt.Sprintf("%d %s %s", l.Status, l.Code, l.Field)
}

// fail holds a failed event. It returns the letters of the streak it
// ended, to be dead-lettered by the caller, and the error that stops the
// run when this failure trips the breaker (nil otherwise).
func (b *breaker) fail(seq uint64, l Letter, err error) (flush []heldFailure, trip error) {
	sig := signature(l)
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.trip != nil {
		return nil, nil // stopped: left undone like the rest of the streak
	}
	if sig != b.sig {
		flush, b.held = b.held, nil
		b.sig, b.since = sig, now
	}
	b.held = append(b.held, heldFailure{seq, l})
	b.last = err
	b.active.Store(true)
	return flush, b.check(now)
}

// check trips the breaker when the open streak is too long; b.mu is held.
func (b *breaker) check(now time.Time) error {
	if b.trip != nil || b.sig == "" {
		return nil
	}
	n := len(b.held)
	switch {
	case b.sig == "unavailable" && now.Sub(b.since) >= b.maxFor:
		b.trip = fmt.Errorf("%w: for %s (-fail-fast) no event got through: %d in a row failed after their retries, the last with: %v; "+
			"they are not dead-lettered but left for the resumed run", ErrSystemic, now.Sub(b.since).Round(time.Millisecond), n, b.last)
	case b.sig != "unavailable" && n >= b.maxRuns:
		b.trip = fmt.Errorf("%w: %d events in a row (-fail-fast-rejections) were refused the same way: %v; is the target the right "+
			"environment, with its catalog? They are not dead-lettered but left for the resumed run", ErrSystemic, n, b.last)
	}
	return b.trip
}

// tick checks the streak on the clock, for a run whose workers are idle.
func (b *breaker) tick() error {
	if !b.lockOpen() {
		return nil
	}
	defer b.mu.Unlock()
	return b.check(b.now())
}

// lockOpen locks b and reports true when a streak is open and has not
// tripped the breaker; otherwise it leaves b unlocked. The active flag
// spares the lock on the common path, where every event gets through.
func (b *breaker) lockOpen() bool {
	if !b.active.Load() {
		return false
	}
	b.mu.Lock()
	if b.trip != nil {
		b.mu.Unlock()
		return false
	}
	return true
}

// ok closes the open streak on a delivery and returns its letters.
func (b *breaker) ok() []heldFailure {
	if !b.lockOpen() {
		return nil
	}
	defer b.mu.Unlock()
	flush := b.held
	b.held, b.sig = nil, ""
	b.active.Store(false)
	return flush
}
