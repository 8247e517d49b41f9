package sandbox

import (
	"hash/maphash"

	"github.com/billharness/billharness/internal/dice"
)

// canonicalHash hashes a request body by its meaning, not its bytes
// [chosen]: the same JSON re-serialized (members in another order, other
// whitespace, escapes for the same characters) hashes alike, so that a
// client that re-encodes a retried request under its Idempotency-Key gets
// the first answer replayed rather than a 409. Numbers are compared by
// their text ("1.0" and "1" differ), as JSON does not say they are equal.
// A body that is not JSON is hashed as bytes.
func canonicalHash(seed maphash.Seed, body []byte) uint64 {
	s := scanner{b: body}
	h, err := s.canonical(seed)
	if err == nil {
		err = s.end()
	}
	if err != nil {
		return mix(maphash.Bytes(seed, body), 'r')
	}
	return h
}

// canonical hashes the next value: objects as an order-free sum of their
// members' hashes, arrays in order, strings by their decoded text.
func (s *scanner) canonical(seed maphash.Seed) (uint64, error) {
	switch c := s.peek(); {
	case c == '{':
		if err := s.enter(); err != nil {
			return 0, err
		}
		s.i++
		var sum uint64
		n := 0
		for ; ; n++ {
			key, ok, err := s.member(n)
			if err != nil {
				return 0, err
			}
			if !ok {
				break
			}
			k := maphash.Bytes(seed, s.text(key))
			v, err := s.canonical(seed)
			if err != nil {
				return 0, err
			}
			sum += mix(k, v)
		}
		return mix(mix(sum, uint64(n)), '{'), nil
	case c == '[':
		if err := s.enter(); err != nil {
			return 0, err
		}
		s.i++
		h := uint64('[')
		n := 0
		for ; ; n++ {
			ok, err := s.element(n)
			if err != nil {
				return 0, err
			}
			if !ok {
				break
			}
			v, err := s.canonical(seed)
			if err != nil {
				return 0, err
			}
			h = mix(h, v)
		}
		return mix(h, uint64(n)), nil
	case c == '"':
		sp, err := s.str()
		if err != nil {
			return 0, err
		}
		return mix(maphash.Bytes(seed, s.text(sp)), '"'), nil
	default:
		start := s.peekStart()
		if _, err := s.value(); err != nil {
			return 0, err
		}
		return mix(maphash.Bytes(seed, s.b[start:s.i]), '0'), nil
	}
}

// peekStart returns the offset of the next value, after whitespace.
func (s *scanner) peekStart() int {
	s.ws()
	return s.i
}

// mix combines two 64-bit values through mix64, so that members and
// elements do not cancel out.
func mix(a, b uint64) uint64 {
	return dice.Mix64(a ^ (b + 0x9e3779b97f4a7c15 + (a << 6) + (a >> 2)))
}
