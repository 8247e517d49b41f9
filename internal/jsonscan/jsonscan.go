// Package jsonscan checks and reads JSON without decoding it: an
// allocation-free syntax checker that accepts what encoding/json.Valid
// accepts (a fuzz test holds it to that) up to MaxDepth levels of nesting,
// at several times its speed, and a lookup of one top-level property. Every event's
// properties go through it twice, when a source reads the record and when
// the client encodes it.
package jsonscan

import (
	"encoding/json"
	"fmt"
)

// MaxDepth bounds nesting so that hostile input cannot exhaust the stack:
// deeper JSON is refused even when it is well formed.
const MaxDepth = 1000

const maxDepth = MaxDepth

// scanner is the syntax checker's cursor.
type scanner struct {
	b       []byte
	i       int
	tooDeep bool // the scan stopped at MaxDepth
}

// Object reports whether b is one valid JSON object, surrounding
// whitespace allowed.
func Object(b []byte) bool {
	s := scanner{b: b}
	return s.object0()
}

// Reason returns "" when b is one valid JSON object, or why it is not:
// nested too deep, or malformed.
func Reason(b []byte) string {
	s := scanner{b: b}
	switch {
	case s.object0():
		return ""
	case s.tooDeep:
		return fmt.Sprintf("nested deeper than %d levels: refused, as deep nesting can exhaust a parser (the JSON may be well formed)", MaxDepth)
	}
	return "malformed JSON"
}

func (s *scanner) object0() bool {
	b := s.b
	s.space()
	if s.i >= len(b) || b[s.i] != '{' {
		return false
	}
	if !s.value(0) {
		return false
	}
	s.space()
	return s.i == len(b)
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) value(depth int) bool {
	if depth > maxDepth {
		s.tooDeep = true
		return false
	}
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(depth)
	case c == '[':
		return s.array(depth)
	case c == '"':
		return s.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

func (s *scanner) object(depth int) bool {
	s.i++ // {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return true
	}
	for {
		if s.i >= len(s.b) || s.b[s.i] != '"' || !s.str() {
			return false
		}
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.space()
		if !s.value(depth + 1) {
			return false
		}
		s.space()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.space()
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

func (s *scanner) array(depth int) bool {
	s.i++ // [
	s.space()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return true
	}
	for {
		if !s.value(depth + 1) {
			return false
		}
		s.space()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.space()
		case ']':
			s.i++
			return true
		default:
			return false
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (s *scanner) str() bool {
	s.i++ // opening quote
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) || !isHex(s.b[s.i+2]) || !isHex(s.b[s.i+3]) || !isHex(s.b[s.i+4]) || !isHex(s.b[s.i+5]) {
					return false
				}
				s.i += 6
			default:
				return false
			}
		default:
			s.i++
		}
	}
	return false
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

func (s *scanner) number() bool {
	if s.b[s.i] == '-' {
		s.i++
	}
	if s.i >= len(s.b) {
		return false
	}
	if s.b[s.i] == '0' {
		s.i++
	} else if s.digits() == 0 {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return false
		}
	}
	return true
}

// Property returns the raw JSON value of a top-level key of a properties
// object (a number as its digits, a string with its quotes), without
// allocating; ok is false when the key is absent or props is not a valid
// object. Keys are compared as written, without unescaping. Tests and
// benchmarks use it to sum meters cheaply (reconcile has rules of its own:
// the last occurrence of a key wins, keys compared unescaped).
func Property(props json.RawMessage, key string) (value json.RawMessage, ok bool) {
	s := scanner{b: props}
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return nil, false
	}
	s.i++
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		return nil, false
	}
	for {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return nil, false
		}
		k0 := s.i + 1
		if !s.str() {
			return nil, false
		}
		k := s.b[k0 : s.i-1]
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return nil, false
		}
		s.i++
		s.space()
		v0 := s.i
		if !s.value(1) {
			return nil, false
		}
		if string(k) == key {
			return props[v0:s.i:s.i], true
		}
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ',' {
			return nil, false
		}
		s.i++
		s.space()
	}
}
