// Package backoff is the one home of the waits between retries: a capped
// exponential ceiling, full jitter under it, and a sleep that ends with its
// context. The billing client, verify's settle loop and the object store
// share it.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Ceiling is the capped exponential wait for attempt n (1-based):
// min(hi, lo·2^(n-1)).
func Ceiling(lo, hi time.Duration, n int) time.Duration {
	d := lo
	for i := 1; i < n; i++ {
		d *= 2
		if d >= hi || d <= 0 {
			return hi
		}
	}
	return min(d, hi)
}

// FullJitter picks a wait uniformly in [0, d]: retries of many callers that
// failed together spread out instead of returning in lock-step.
func FullJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}

// Sleep waits d or until ctx is done, whichever comes first, and returns
// ctx's error in the second case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
