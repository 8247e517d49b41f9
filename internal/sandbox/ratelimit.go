package sandbox

import (
	"math"
	"sync"
	"time"
)

// bucket is a token bucket on the server's clock: rate tokens per second,
// at most burst. It starts full.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int, now time.Time) *bucket {
	return &bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

// take spends one token if there is one. It returns the whole tokens left
// and, when refused, the whole seconds until a token is available (>= 1),
// which is what Retry-After carries.
func (b *bucket) take(now time.Time) (ok bool, remaining, retryAfter int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if el := now.Sub(b.last); el > 0 { // a clock going back refills nothing
		b.tokens = min(b.burst, b.tokens+el.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, int(b.tokens), 0
	}
	wait := math.Ceil((1 - b.tokens) / b.rate)
	return false, 0, int(max(1, min(wait, math.MaxInt32)))
}
