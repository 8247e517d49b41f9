package sandbox

import (
	"sync"
)

// numShards splits every structure the event path writes, so concurrent
// events rarely wait on one another.
const numShards = 64

// shardOf spreads keys over the shards (FNV-1a).
func shardOf(key []byte) int {
	h := uint32(2166136261)
	for _, c := range key {
		h ^= uint32(c)
		h *= 16777619
	}
	return int(h % numShards)
}

// dedupSet remembers every accepted event id for ever, and the ids the
// sandbox dropped or doubled (the FaultLog).
type dedupSet struct {
	shards [numShards]dedupShard
}

type dedupShard struct {
	mu      sync.Mutex
	seen    map[string]struct{}
	dropped map[string]string // event id -> subscription id
	doubled map[string]string // event id -> subscription id
	_       [64]byte          // keep shards on separate cache lines
}

type admission uint8

const (
	admitNew admission = iota
	admitDuplicate
	admitDropped
)

// admit decides an event's fate atomically per id. drop and double are the
// caller's (deterministic) fault decisions for this id. A drop applies only
// to the first delivery: the id is not marked seen, so a re-send is
// admitted as new.
func (d *dedupSet) admit(id []byte, subID string, drop, double bool) admission {
	sh := &d.shards[shardOf(id)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.seen[string(id)]; ok {
		return admitDuplicate
	}
	if drop {
		if _, before := sh.dropped[string(id)]; !before {
			if sh.dropped == nil {
				sh.dropped = map[string]string{}
			}
			sh.dropped[string(id)] = subID
			return admitDropped
		}
	}
	if sh.seen == nil {
		sh.seen = map[string]struct{}{}
	}
	key := string(id)
	sh.seen[key] = struct{}{}
	if double {
		if sh.doubled == nil {
			sh.doubled = map[string]string{}
		}
		sh.doubled[key] = subID
	}
	return admitNew
}

// Event storage. A subscription's events live in blocks of at most
// blockLen records; each block has an arena holding the raw properties of
// its records. Full blocks never change, and a partial block only grows, so
// a reader that copied the slice headers under the lock can scan without
// it while writers keep appending. Event types are interned per log: a
// subscription sees a handful of them, and usage then matches meters by
// index instead of by string.
const (
	blockLen      = 4096
	maxArenaBytes = 64 << 20 // offsets are uint32; stay far below 4 GiB
)

// eventRec is one stored event: 32 bytes plus its properties in the arena.
type eventRec struct {
	ts       int64 // event timestamp, Unix ns
	visible  int64 // when it shows in usage (acceptance + UsageLag), Unix ns
	off      uint32
	propsLen uint32
	typ      uint32 // index into eventLog.types
	mult     uint32 // 1, or 2 for a doubled event
}

type block struct {
	recs  []eventRec
	arena []byte
}

// eventLog is a subscription's append-only event storage.
type eventLog struct {
	mu      sync.Mutex
	blocks  []*block
	types   []string // interned event types; append-only like the blocks
	typeIdx map[string]uint32
}

func (l *eventLog) append(ts, visible int64, eventType, props []byte, mult uint32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	typ, ok := l.typeIdx[string(eventType)]
	if !ok {
		if l.typeIdx == nil {
			l.typeIdx = map[string]uint32{}
		}
		typ = uint32(len(l.types))
		l.types = append(l.types, string(eventType))
		l.typeIdx[l.types[typ]] = typ
	}
	var b *block
	if n := len(l.blocks); n > 0 {
		b = l.blocks[n-1]
	}
	if b == nil || len(b.recs) == blockLen || len(b.arena)+len(props) > maxArenaBytes {
		if b != nil {
			// Seal the full block: drop the arena's spare capacity (up to
			// half of it after append's doubling). Readers holding the old
			// slice keep reading the old array, which never changes.
			b.arena = append([]byte(nil), b.arena...)
		}
		b = &block{recs: make([]eventRec, 0, 16), arena: make([]byte, 0, 1024)}
		l.blocks = append(l.blocks, b)
	}
	off := len(b.arena)
	b.arena = append(b.arena, props...)
	b.recs = append(b.recs, eventRec{
		ts: ts, visible: visible,
		off: uint32(off), propsLen: uint32(len(props)),
		typ: typ, mult: mult,
	})
}

// snapshot returns the events stored so far and the interned event types;
// see the invariant above.
func (l *eventLog) snapshot() ([]block, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]block, len(l.blocks))
	for i, b := range l.blocks {
		out[i] = *b
	}
	return out, l.types
}

func (b *block) props(r *eventRec) []byte {
	return b.arena[r.off : r.off+r.propsLen]
}
