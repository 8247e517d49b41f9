package reconcile

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"

	"github.com/billharness/billharness/internal/source"
)

// idSet remembers the event ids seen so far, to count a repeated id once as
// the API does. Exact deduplication needs memory per distinct id: idSet
// keeps a 64-bit hash of each id (not the id) in an open-addressing table of
// uint64 slots, linear probing, at most maxLoad full.
//
// Sized up front for the rows the source declares (up to maxPresize), it
// takes 8 bytes / maxLoad ≈ 11.4 bytes per declared row (57 MB for 5
// million) and never grows or rehashes. The cap matters for a table that
// holds years of events of which the window selects a month: past it, the
// table doubles as ids arrive, so memory follows the events read.
//
// Two different ids share a 64-bit hash with probability about n²/2^65
// (7·10⁻⁷ for 5 million ids per run): the second would be taken for a
// duplicate and its usage left out of the expected totals. The seed is
// random per set, so such a collision does not repeat from run to run.
//
// Beside each id it keeps a 64-bit hash of the event's payload, so that a
// later copy of an id with another payload (a conflicting duplicate) is
// told apart from a true repeat: 16 bytes a slot in all.
type idSet struct {
	seed  maphash.Seed
	slots []uint64 // 0 is an empty slot
	pay   []uint64 // the payload hash of the first copy of slots[i]
	n     int
}

const (
	maxLoad    = 0.7
	maxPresize = 8 << 20 // ids: a 92 MB table
)

func newIDSet(expected int64) *idSet {
	s := &idSet{seed: maphash.MakeSeed()}
	s.alloc(max(1024, int(float64(min(expected, maxPresize))/maxLoad)+1))
	return s
}

func (s *idSet) alloc(n int) {
	s.slots = make([]uint64, n)
	s.pay = make([]uint64, n)
	s.n = 0
}

// add records id with the hash of its payload and reports whether it was
// new and, when it was not, whether its first copy had the same payload.
func (s *idSet) add(id string, payload uint64) (fresh, same bool) {
	h := maphash.String(s.seed, id)
	if h == 0 {
		h = 1 // 0 marks an empty slot
	}
	if float64(s.n+1) > maxLoad*float64(len(s.slots)) {
		s.grow()
	}
	return s.insert(h, payload)
}

func (s *idSet) insert(h, payload uint64) (fresh, same bool) {
	// hi(h·len) maps h onto [0, len) without a power-of-two size.
	i, _ := bits.Mul64(h, uint64(len(s.slots)))
	for {
		switch s.slots[i] {
		case 0:
			s.slots[i], s.pay[i] = h, payload
			s.n++
			return true, false
		case h:
			return false, s.pay[i] == payload
		}
		if i++; i == uint64(len(s.slots)) {
			i = 0
		}
	}
}

func (s *idSet) grow() {
	old, pay := s.slots, s.pay
	s.alloc(2 * len(old))
	for i, h := range old {
		if h != 0 {
			s.insert(h, pay[i])
		}
	}
}

// len returns the number of distinct ids added.
func (s *idSet) len() int { return s.n }

// bytes returns the memory the table holds.
func (s *idSet) bytes() int64 { return int64(len(s.slots)) * 16 }

// payloadHash hashes what an event says besides its id, as the source
// renders it: a copy of the id that says something else is a conflict.
func (s *idSet) payloadHash(ev *source.Event) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	for _, f := range [...]string{ev.EventType, ev.CustomerID, ev.SubscriptionID} {
		h.WriteString(f)
		h.WriteByte(0)
	}
	var ts [8]byte
	binary.LittleEndian.PutUint64(ts[:], uint64(ev.Timestamp.UnixNano()))
	h.Write(ts[:])
	h.Write(ev.Properties)
	return h.Sum64()
}
