package source

import (
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Shard selects part Index of Count disjoint parts of the events, written
// "i/N" with 0 <= i < N, so that N jobs share one replay or one
// comparison. The zero Shard (Count 0) selects everything and reads as
// "0/1". Shard implements flag.Value.
//
// The shard key of an event is its customer_id: every event of a customer,
// with a subscription or without, falls in one shard, so a shard holds
// whole customers and compares them alone. See ShardOf for the hash.
type Shard struct {
	Index int
	Count int
}

// ShardOf returns the shard, in [0, n), that key belongs to:
//
//	the first 60 bits of the MD5 of the key's bytes, as an unsigned
//	integer, modulo n
//
// MD5 is used for its reach, not its strength: every database and
// language computes it the same way, so a shard's rows can be selected
// where they live. PostgreSQL:
//
//	('x' || left(md5(customer_id), 15))::bit(60)::bigint % n
//
// Python: int(hashlib.md5(key.encode()).hexdigest()[:15], 16) % n.
// DuckDB: ('0x' || left(md5(customer_id), 15))::UBIGINT % n. n <= 1
// gives 0.
func ShardOf(key string, n int) int {
	if n <= 1 {
		return 0
	}
	return int(hash60(key) % uint64(n))
}

// hash60 is the first 60 bits of the MD5 of key.
func hash60(key string) uint64 {
	sum := md5.Sum([]byte(key)) // no allocation: the conversion does not escape
	return binary.BigEndian.Uint64(sum[:8]) >> 4
}

// ShardSQL returns a PostgreSQL boolean expression that is true for the
// rows of s, given the SQL expression of the key column's text: the same
// split as ShardOf. NULL keys are the empty key, as the readers read them.
func (s Shard) ShardSQL(key string) string {
	if s.Count <= 1 {
		return "true"
	}
	return fmt.Sprintf("(('x' || left(md5(coalesce(%s, '')), 15))::bit(60)::bigint %% %d) = %d", key, s.Count, s.Index)
}

// Contains reports whether the event with this shard key (its
// customer_id) belongs to s.
func (s Shard) Contains(key string) bool {
	return s.Count <= 1 || ShardOf(key, s.Count) == s.Index
}

// IsZero reports whether s selects everything.
func (s Shard) IsZero() bool { return s.Count <= 1 }

// ParseShard parses "i/N", shard i (0-based) of N.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Shard{}, fmt.Errorf("invalid shard %q: want i/N, e.g. 0/4", s)
	}
	// ParseUint refuses signs and spaces; bit size 31 keeps both in an int.
	i, err := strconv.ParseUint(is, 10, 31)
	if err != nil {
		return Shard{}, fmt.Errorf("invalid shard %q: index %q is not a whole number", s, is)
	}
	n, err := strconv.ParseUint(ns, 10, 31)
	if err != nil || n == 0 {
		return Shard{}, fmt.Errorf("invalid shard %q: count %q is not a positive whole number", s, ns)
	}
	if i >= n {
		return Shard{}, fmt.Errorf("invalid shard %q: index must be below the count (0 to %d)", s, n-1)
	}
	return Shard{Index: int(i), Count: int(n)}, nil
}

// String renders s as "i/N"; the zero Shard is "0/1".
func (s Shard) String() string {
	if s.Count == 0 {
		return "0/1"
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

// shardMemo answers Contains once per distinct customer: the readers see
// many rows and few customers, and the hash costs more than a map lookup.
type shardMemo struct {
	shard Shard
	m     map[string]bool
}

func (c *shardMemo) contains(customer string) bool {
	if c.shard.IsZero() {
		return true
	}
	in, ok := c.m[customer]
	if !ok {
		if c.m == nil || len(c.m) >= maxInterned {
			c.m = make(map[string]bool)
		}
		in = c.shard.Contains(customer)
		c.m[customer] = in
	}
	return in
}
