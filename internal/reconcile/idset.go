package reconcile

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"

	"github.com/billharness/billharness/internal/source"
)

// idSet remembers the event ids seen so far, to count a repeated id once as
// the API does. Exact deduplication needs memory per distinct id: idSet
// keeps a 128-bit fingerprint of each id (two 64-bit hashes under
// independent random seeds, not the id) in an open-addressing table,
// linear probing, at most maxLoad full.
//
// Two different ids share a 128-bit fingerprint with probability about
// n²/2^129: 1.5·10⁻²¹ for a billion ids per run, far below the odds of a
// machine fault. (A 64-bit fingerprint would be 2.7% at a billion.) The
// seeds are random per set, so such a collision does not repeat from run
// to run.
//
// Beside each id it keeps a 64-bit hash of the event's payload, so that a
// later copy of an id with another payload (a conflicting duplicate) is
// told apart from a true repeat: 24 bytes a slot, about 34 bytes per
// distinct id at the highest load.
//
// Sized up front for the rows the source declares (up to maxPresize), it
// never grows or rehashes below that; past it, the table doubles as ids
// arrive, so memory follows the events read.
type idSet struct {
	seed1, seed2 maphash.Seed
	slots        []slot
	n            int
}

// slot is one id: its fingerprint (hi == 0 && lo == 0 marks an empty
// slot) and the hash of its first copy's payload.
type slot struct{ hi, lo, pay uint64 }

const (
	maxLoad    = 0.7
	maxPresize = 8 << 20 // ids: a 288 MB table
)

func newIDSet(expected int64) *idSet {
	s := &idSet{seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed()}
	s.alloc(max(1024, int(float64(min(expected, maxPresize))/maxLoad)+1))
	return s
}

func (s *idSet) alloc(n int) {
	s.slots = make([]slot, n)
	s.n = 0
}

// fingerprint returns the id's 128-bit fingerprint, never all zero.
func (s *idSet) fingerprint(id string) (hi, lo uint64) {
	hi, lo = maphash.String(s.seed1, id), maphash.String(s.seed2, id)
	if hi == 0 && lo == 0 {
		lo = 1
	}
	return hi, lo
}

// add records id with the hash of its payload and reports whether it was
// new and, when it was not, whether its first copy had the same payload.
func (s *idSet) add(id string, payload uint64) (fresh, same bool) {
	hi, lo := s.fingerprint(id)
	if float64(s.n+1) > maxLoad*float64(len(s.slots)) {
		s.grow()
	}
	return s.insert(slot{hi, lo, payload})
}

func (s *idSet) insert(e slot) (fresh, same bool) {
	// hi(h·len) maps h onto [0, len) without a power-of-two size.
	i, _ := bits.Mul64(e.hi, uint64(len(s.slots)))
	for {
		c := &s.slots[i]
		switch {
		case c.hi == 0 && c.lo == 0:
			*c = e
			s.n++
			return true, false
		case c.hi == e.hi && c.lo == e.lo:
			return false, c.pay == e.pay
		}
		if i++; i == uint64(len(s.slots)) {
			i = 0
		}
	}
}

func (s *idSet) grow() {
	old := s.slots
	s.alloc(2 * len(old))
	for _, e := range old {
		if e.hi != 0 || e.lo != 0 {
			s.insert(e)
		}
	}
}

// len returns the number of distinct ids added.
func (s *idSet) len() int { return s.n }

// bytes returns the memory the table holds.
func (s *idSet) bytes() int64 { return int64(len(s.slots)) * 24 }

// payloadHash hashes what an event says besides its id, as the source
// renders it: a copy of the id that says something else is a conflict.
func (s *idSet) payloadHash(ev *source.Event) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed1)
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
