package source

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard selects shard Index of Count (0 <= Index < Count). The zero Shard
// (Count == 0) selects everything.
type Shard struct {
	Index int
	Count int
}

// ShardOf returns the shard, in [0, n), that key belongs to:
//
//	FNV-1a 64-bit hash of the key's bytes, modulo n (as unsigned integers)
//
// The key of an event is its subscription_id, or its customer_id when the
// subscription is empty, or its id when both are, so that all events of one
// subscription go to one shard and every record, valid or not, goes to
// exactly one. Any tool can compute the same split: for example, in Python
// int.from_bytes(fnv1a_64(key.encode()), "big") % n. n <= 1 gives 0.
func ShardOf(key string, n int) int {
	if n <= 1 {
		return 0
	}
	// Inline FNV-1a (hash/fnv allocates through its interface).
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= prime64
	}
	return int(h % uint64(n))
}

// shardKey is the key ShardOf is applied to for one record.
func shardKey(subscriptionID, customerID, id string) string {
	switch {
	case subscriptionID != "":
		return subscriptionID
	case customerID != "":
		return customerID
	}
	return id
}

// Contains reports whether the record with this shard key belongs to s.
func (s Shard) Contains(key string) bool {
	return s.Count <= 1 || ShardOf(key, s.Count) == s.Index
}

// ParseShard parses "i/N", shard i (0-based) of N.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard %q: want i/N, e.g. 0/4", s)
	}
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	switch {
	case err1 != nil || err2 != nil:
		return Shard{}, fmt.Errorf("shard %q: want integers i/N, e.g. 0/4", s)
	case n < 1:
		return Shard{}, fmt.Errorf("shard %q: N must be at least 1", s)
	case i < 0 || i >= n:
		return Shard{}, fmt.Errorf("shard %q: i must be in [0, %d)", s, n)
	}
	return Shard{Index: i, Count: n}, nil
}

// String renders s as "i/N", or "" for the zero Shard.
func (s *Shard) String() string {
	if s == nil || s.Count == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Set parses "i/N" into s, for use as a flag.Value.
func (s *Shard) Set(v string) error {
	p, err := ParseShard(v)
	if err != nil {
		return err
	}
	*s = p
	return nil
}
