// Package jsonscan checks and reads JSON without decoding it, on the
// harness side (the sandbox has its own scanner, so that a bug here is not
// mirrored by the oracle the tests compare with):
//
//   - an allocation-free syntax checker, several times faster than
//     encoding/json.Valid. It accepts exactly what encoding/json.Valid
//     accepts (a fuzz test holds it to that), except JSON with more than
//     MaxDepth objects and arrays nested in one another, which it refuses
//     however well formed (encoding/json goes to 10000);
//   - Lookup, the value of one top-level property of a valid object, by the
//     API's meter rules: keys compared unescaped, the last of a repeated
//     key wins.
//
// Every event's properties go through the checker twice, when a source
// reads the record and when the client encodes it, and through Lookup once
// per meter when reconcile totals them.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MaxDepth is how many objects and arrays may nest in one another (the
// top-level object counts): it bounds the recursion, so that hostile input
// cannot exhaust the stack. Deeper JSON is refused even when well formed.
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

func (s *scanner) space() { s.i = skipSpace(s.b, s.i) }

// value scans one value at nesting depth (0 for the top level).
func (s *scanner) value(depth int) bool {
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

// object and array are written out apart, not as one loop with the
// closing byte as a parameter: every event's properties go through them,
// and the shared loop cost about 10% of the scan.
func (s *scanner) object(depth int) bool {
	if depth >= maxDepth {
		s.tooDeep = true
		return false
	}
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
	if depth >= maxDepth {
		s.tooDeep = true
		return false
	}
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

// Kinds of values, by their first byte ('0' for every number).
const (
	KindString = '"'
	KindNumber = '0'
	KindTrue   = 't'
	KindFalse  = 'f'
	KindNull   = 'n'
	KindObject = '{'
	KindArray  = '['
)

// Lookup returns the raw text (a string with its quotes) and kind of the
// value of key in the JSON object obj, which must be valid (Object):
// keys are compared after unescaping, and when a key repeats the last
// occurrence wins, as with encoding/json. It does not allocate unless a
// key has escapes. As obj is valid, values are skipped without being
// checked again: a third faster than the checking scan.
func Lookup(obj []byte, key string) (raw []byte, kind byte, found bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, 0, false
	}
	i++
	for {
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != '"' {
			return raw, kind, found
		}
		ks := i
		i = skipString(obj, i)
		match := keyIs(obj[ks:i], key)
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != ':' {
			return raw, kind, found
		}
		i = skipSpace(obj, i+1)
		vs := i
		var k byte
		i, k = skipValue(obj, i)
		if match {
			raw, kind, found = obj[vs:i:i], k, true
		}
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != ',' {
			return raw, kind, found
		}
		i++
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the valid string at b[i] == '"'.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the valid value at b[i], and its kind.
func skipValue(b []byte, i int) (int, byte) {
	if i >= len(b) {
		return i, 0
	}
	switch c := b[i]; c {
	case '"':
		return skipString(b, i), KindString
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case ']', '}':
				if depth--; depth == 0 {
					return i + 1, c
				}
			}
		}
		return len(b), c
	default:
		k := c
		if c == '-' || (c >= '0' && c <= '9') {
			k = KindNumber
		}
		for i < len(b) && !isDelim(b[i]) {
			i++
		}
		return i, k
	}
}

// isDelim reports whether c ends a number or a literal.
func isDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// keyIs reports whether the quoted JSON string q decodes to key.
func keyIs(q []byte, key string) bool {
	if bytes.IndexByte(q, '\\') < 0 {
		return len(q) == len(key)+2 && string(q[1:len(q)-1]) == key
	}
	return string(Unquote(q)) == key
}

// Unquote decodes the quoted JSON string q, escapes included; nil when q
// is not a valid string. Without escapes it returns q's bytes unquoted,
// without allocating.
func Unquote(q []byte) []byte {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return nil
	}
	if bytes.IndexByte(q, '\\') < 0 {
		return q[1 : len(q)-1]
	}
	var s string
	if json.Unmarshal(q, &s) != nil {
		return nil
	}
	return []byte(s)
}
