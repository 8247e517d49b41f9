package sandbox

import (
	"sync"
	"time"
)

// Idempotency [doc]: the first response to a mutating request carrying
// Idempotency-Key is kept for idemTTL, keyed by method + path + key, and
// replayed to later requests with the same key.
const (
	idemTTL        = 24 * time.Hour
	idemSweepEvery = time.Minute
)

type idemState uint8

const (
	idemProceed    idemState = iota // first use: run the handler, then complete or abandon
	idemReplay                      // answer with the stored response
	idemReused                      // same key, different body: 409
	idemInProgress                  // the first request has not finished: 409
)

// idemEntry is kept small (40 bytes): a load test may leave millions of
// them for 24 h.
type idemEntry struct {
	sum     uint64 // hash of the raw request body
	expires int64  // Unix ns; meaningful once done
	body    string // the stored response body
	status  int32  // 0 while the first request is in flight
}

func (e idemEntry) done() bool { return e.status != 0 }

// idemCache is sharded by key. Expired entries are dropped lazily: a
// lookup ignores them, and each shard sweeps itself at most once per
// idemSweepEvery of the (injectable) clock, so memory stays bounded by the
// keys of the last 24 hours. A flood of unique keys within 24 hours is
// bounded too: past perShard keys, a shard drops its oldest completed
// entries, first completed first, for each new key [chosen]. That costs nothing in exactness: a
// retried event whose entry was dropped is still a duplicate by its id.
type idemCache struct {
	shards   [numShards]idemShard
	perShard int // 0: DefaultIdempotencyKeys / numShards
}

// DefaultIdempotencyKeys caps the idempotency table: about 200 MB.
const DefaultIdempotencyKeys = 1_000_000

type idemShard struct {
	mu        sync.Mutex
	m         map[string]idemEntry
	order     []string // keys in the order they completed, oldest from head
	head      int
	nextSweep int64
	_         [64]byte // keep shards on separate cache lines
}

func (c *idemCache) shard(key string) *idemShard {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return &c.shards[h%numShards]
}

// begin looks key up. On idemProceed the caller owns an in-flight marker
// and must call complete or abandon.
func (c *idemCache) begin(key string, sum uint64, now time.Time) (idemState, idemEntry) {
	t := now.UnixNano()
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if t >= sh.nextSweep {
		sh.sweep(t)
		sh.nextSweep = t + int64(idemSweepEvery)
	}
	if e, ok := sh.m[key]; ok {
		switch {
		case !e.done():
			return idemInProgress, idemEntry{}
		case e.expires > t && e.sum != sum:
			return idemReused, idemEntry{}
		case e.expires > t:
			return idemReplay, e
		}
		// Expired: the key is free again.
	}
	if sh.m == nil {
		sh.m = map[string]idemEntry{}
	}
	// At the cap, the oldest completed entries go: O(1) a key. (Expired
	// ones are swept on the clock above; sweeping here, a whole shard per
	// key, made a sandbox past its cap thirty times slower.)
	if limit := c.limit(); len(sh.m) >= limit {
		sh.evict(limit)
	}
	sh.m[key] = idemEntry{sum: sum}
	return idemProceed, idemEntry{}
}

func (c *idemCache) limit() int {
	if c.perShard > 0 {
		return c.perShard
	}
	return DefaultIdempotencyKeys / numShards
}

// complete stores the response of the request that owns key's marker.
func (c *idemCache) complete(key string, sum uint64, status int, body []byte, now time.Time) {
	sh := c.shard(key)
	e := idemEntry{sum: sum, expires: now.Add(idemTTL).UnixNano(), status: int32(status), body: string(body)}
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = map[string]idemEntry{}
	}
	sh.m[key] = e
	sh.order = append(sh.order, key)
	sh.mu.Unlock()
}

// evict drops the oldest completed entries until the shard holds fewer
// than limit; keys in flight are never dropped.
func (sh *idemShard) evict(limit int) {
	for len(sh.m) >= limit && sh.head < len(sh.order) {
		k := sh.order[sh.head]
		sh.order[sh.head] = ""
		sh.head++
		if e, ok := sh.m[k]; ok && e.done() {
			delete(sh.m, k)
		}
	}
	if sh.head > len(sh.order)/2 {
		sh.order = append(sh.order[:0], sh.order[sh.head:]...)
		sh.head = 0
	}
}

// abandon releases key's in-flight marker without recording anything.
func (c *idemCache) abandon(key string) {
	sh := c.shard(key)
	sh.mu.Lock()
	if e, ok := sh.m[key]; ok && !e.done() {
		delete(sh.m, key)
	}
	sh.mu.Unlock()
}

// sweep deletes expired entries; in-flight markers stay.
func (sh *idemShard) sweep(t int64) {
	for k, e := range sh.m {
		if e.done() && e.expires <= t {
			delete(sh.m, k)
		}
	}
	// Keys no longer in the map leave the order, so that it stays bounded.
	live := sh.order[:0]
	for _, k := range sh.order[sh.head:] {
		if _, ok := sh.m[k]; ok {
			live = append(live, k)
		}
	}
	clear(sh.order[len(live):])
	sh.order, sh.head = live, 0
}

// len counts the live entries (tests check the memory bound).
func (c *idemCache) len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
