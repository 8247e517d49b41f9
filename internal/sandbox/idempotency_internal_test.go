package sandbox

import (
	"fmt"
	"testing"
	"time"
)

func TestIdemCacheStates(t *testing.T) {
	var c idemCache
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		name string
		do   func() idemState
		want idemState
	}{
		{"first use", func() idemState { s, _ := c.begin("k", 1, now); return s }, idemProceed},
		{"while in flight", func() idemState { s, _ := c.begin("k", 1, now); return s }, idemInProgress},
		{"in flight, other body", func() idemState { s, _ := c.begin("k", 2, now); return s }, idemInProgress},
		{"after abandon", func() idemState { c.abandon("k"); s, _ := c.begin("k", 2, now); return s }, idemProceed},
		{"after complete", func() idemState {
			c.complete("k", 2, 201, []byte("body"), now)
			s, _ := c.begin("k", 2, now)
			return s
		}, idemReplay},
		{"other body", func() idemState { s, _ := c.begin("k", 3, now); return s }, idemReused},
		{"abandon leaves a completed entry", func() idemState { c.abandon("k"); s, _ := c.begin("k", 2, now); return s }, idemReplay},
		{"expired", func() idemState { s, _ := c.begin("k", 3, now.Add(idemTTL)); return s }, idemProceed},
	}
	for _, st := range steps {
		if got := st.do(); got != st.want {
			t.Fatalf("%s: state = %d, want %d", st.name, got, st.want)
		}
	}
	_, e := func() (idemState, idemEntry) { c.complete("r", 9, 422, []byte("x"), now); return c.begin("r", 9, now) }()
	if e.status != 422 || e.body != "x" {
		t.Errorf("replayed entry = %d %q, want 422 %q", e.status, e.body, "x")
	}
}

func TestIdemCacheSweepsExpired(t *testing.T) {
	var c idemCache
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5000 {
		k := fmt.Sprint("key-", i)
		c.begin(k, 1, now)
		c.complete(k, 1, 202, []byte("{}"), now)
	}
	if got := c.len(); got != 5000 {
		t.Fatalf("len after 5000 keys = %d, want 5000", got)
	}
	later := now.Add(idemTTL + idemSweepEvery)
	for i := range 2000 { // touches every shard, each sweeps once
		c.begin(fmt.Sprint("new-", i), 1, later)
	}
	if got := c.len(); got != 2000 {
		t.Errorf("len after expiry = %d, want 2000 (only the new in-flight keys)", got)
	}
}

func TestRecordable(t *testing.T) {
	for status, want := range map[int]bool{200: true, 201: true, 202: true, 400: true, 404: true, 409: true, 422: true,
		401: false, 403: false, 429: false, 500: false, 503: false} {
		if got := recordable(response{status: status}); got != want {
			t.Errorf("recordable(%d) = %v, want %v", status, got, want)
		}
	}
	if recordable(response{status: 202, noTrace: true}) {
		t.Errorf("recordable(dropped 202) = true, want false")
	}
}

// A flood of unique keys within 24 h does not grow the table past its cap;
// keys in flight are never dropped, and expired ones go first.
func TestIdemCacheCapped(t *testing.T) {
	c := idemCache{perShard: 4}
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10_000 {
		k := fmt.Sprintf("key-%d", i)
		if s, _ := c.begin(k, 1, now); s != idemProceed {
			t.Fatalf("begin(%s) = %d", k, s)
		}
		c.complete(k, 1, 202, []byte("ok"), now)
	}
	if n := c.len(); n > 4*numShards {
		t.Errorf("%d entries after 10,000 unique keys, want at most %d", n, 4*numShards)
	}
	if s, _ := c.begin("key-9999", 1, now); s != idemReplay {
		t.Errorf("the newest key was dropped: state %d", s)
	}
}
