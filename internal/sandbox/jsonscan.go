package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
)

// maxJSONDepth bounds nesting so a body of a million '[' cannot drive the
// recursive scanner into a huge stack. It is encoding/json's limit, so both
// agree on what is malformed.
const maxJSONDepth = 10000

// errSyntax marks malformed JSON: the caller answers 400 invalid_json.
var errSyntax = errors.New("invalid JSON")

// span locates a JSON string's content (between the quotes) in the scanned
// buffer; esc reports backslash escapes, which need decoding before use.
type span struct {
	start, end int
	esc        bool
}

// scanner validates and walks JSON text in place, without building values.
// It accepts exactly the grammar of RFC 8259 (as encoding/json does) and
// reports every violation as an error wrapping errSyntax. It exists because
// the event path must not pay for reflection-based decoding.
type scanner struct {
	b     []byte
	i     int
	depth int
}

func (s *scanner) fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", errSyntax, what, s.i)
}

// ws skips insignificant whitespace.
func (s *scanner) ws() {
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
}

// isSpace reports JSON's insignificant whitespace.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// peek returns the next significant byte, or 0 at the end of input. A NUL
// byte in the input also reads as 0: use atEnd to tell them apart.
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// atEnd reports whether only whitespace is left.
func (s *scanner) atEnd() bool {
	s.ws()
	return s.i >= len(s.b)
}

// end checks that only whitespace follows the top-level value.
func (s *scanner) end() error {
	if !s.atEnd() {
		return s.fail("data after the top-level value")
	}
	return nil
}

// value skips one JSON value of any kind and returns its first byte
// ('{', '[', '"', 't', 'f', 'n' or '0' for a number).
func (s *scanner) value() (byte, error) {
	switch c := s.peek(); {
	case c == '{':
		return c, s.object()
	case c == '[':
		return c, s.array()
	case c == '"':
		_, err := s.str()
		return c, err
	case c == 't':
		return c, s.lit("true")
	case c == 'f':
		return c, s.lit("false")
	case c == 'n':
		return c, s.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return '0', s.number()
	case s.i >= len(s.b):
		return 0, s.fail("unexpected end of input")
	default:
		return 0, s.fail(fmt.Sprintf("unexpected character %q", c))
	}
}

func (s *scanner) lit(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.fail("invalid literal")
	}
	s.i += len(word)
	return nil
}

// number scans a number: an integer part without leading zeros, then an
// optional fraction and exponent, each with at least one digit.
func (s *scanner) number() error {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	ok := true
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i, _ = digits(b, i)
	default:
		ok = false
	}
	if ok && i < len(b) && b[i] == '.' {
		i, ok = digits(b, i+1)
	}
	if ok && i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		i, ok = digits(b, i)
	}
	s.i = i
	if !ok {
		return s.fail("invalid number")
	}
	return nil
}

// digits returns the index after the decimal digits at b[i:], and whether
// there was at least one.
func digits(b []byte, i int) (end int, some bool) {
	end = i
	for end < len(b) && b[end] >= '0' && b[end] <= '9' {
		end++
	}
	return end, end > i
}

// str scans a string whose opening quote is at s.i.
func (s *scanner) str() (span, error) {
	b := s.b
	i := s.i + 1
	esc := false
	for i < len(b) {
		// Fast path: plain bytes, the common case for ids and names.
		for i < len(b) && b[i] != '"' && b[i] != '\\' && b[i] >= 0x20 {
			i++
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			sp := span{start: s.i + 1, end: i, esc: esc}
			s.i = i + 1
			return sp, nil
		case c == '\\':
			esc = true
			i++
			if i >= len(b) {
				break
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if len(b)-i < 5 || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					s.i = i
					return span{}, s.fail("invalid \\u escape")
				}
				i += 5
			default:
				s.i = i
				return span{}, s.fail("invalid escape")
			}
		case c < 0x20:
			s.i = i
			return span{}, s.fail("control character in string")
		default:
			i++
		}
	}
	s.i = i
	return span{}, s.fail("unterminated string")
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > maxJSONDepth {
		return s.fail("nesting too deep")
	}
	return nil
}

func (s *scanner) array() error {
	if err := s.enter(); err != nil {
		return err
	}
	s.i++ // '['
	for n := 0; ; n++ {
		ok, err := s.element(n)
		if err != nil || !ok {
			return err
		}
		if _, err := s.value(); err != nil {
			return err
		}
	}
}

// element readies the n-th (0-based) element of an array whose '[' was
// consumed, past the ',' before it; ok is false when the array ends
// instead. The caller then consumes the element.
func (s *scanner) element(n int) (ok bool, err error) {
	c := s.peek()
	if c == ']' {
		s.i++
		s.depth--
		return false, nil
	}
	if n > 0 {
		if c != ',' {
			return false, s.fail("expected ',' or ']'")
		}
		s.i++
	}
	return true, nil
}

func (s *scanner) object() error {
	if err := s.enter(); err != nil {
		return err
	}
	s.i++ // '{'
	for n := 0; ; n++ {
		_, ok, err := s.member(n)
		if err != nil || !ok {
			return err
		}
		if _, err := s.value(); err != nil {
			return err
		}
	}
}

// member reads the n-th (0-based) key of an object whose '{' was consumed,
// and the ':' after it; ok is false when the object ends instead. The
// caller then consumes the member's value.
func (s *scanner) member(n int) (key span, ok bool, err error) {
	c := s.peek()
	if c == '}' {
		s.i++
		s.depth--
		return span{}, false, nil
	}
	if n > 0 {
		if c != ',' {
			return span{}, false, s.fail("expected ',' or '}'")
		}
		s.i++
		c = s.peek()
	}
	if c != '"' {
		return span{}, false, s.fail("expected a string key")
	}
	if key, err = s.str(); err != nil {
		return span{}, false, err
	}
	if s.peek() != ':' {
		return span{}, false, s.fail("expected ':'")
	}
	s.i++
	return key, true, nil
}

// text returns the bytes of a string span, decoding escapes when present.
// Undecoded spans alias the buffer.
func (s *scanner) text(sp span) []byte {
	return spanText(s.b, sp)
}

func spanText(b []byte, sp span) []byte {
	if !sp.esc {
		return b[sp.start:sp.end]
	}
	var out string
	// The span was validated by str, so this cannot fail.
	_ = json.Unmarshal(b[sp.start-1:sp.end+1], &out)
	return []byte(out)
}

// lookup finds the value of key in the JSON object obj (already validated)
// and returns its raw text and kind (see value). When the key repeats, the
// last occurrence wins, as with encoding/json.
func lookup(obj []byte, key string) (raw []byte, kind byte, found bool) {
	s := scanner{b: obj}
	if s.peek() != '{' {
		return nil, 0, false
	}
	s.i++
	for n := 0; ; n++ {
		k, ok, err := s.member(n)
		if err != nil || !ok {
			return raw, kind, found
		}
		match := false
		if k.esc {
			match = string(spanText(obj, k)) == key
		} else {
			match = string(obj[k.start:k.end]) == key
		}
		start := s.i
		c, err := s.value()
		if err != nil {
			return raw, kind, found
		}
		if match {
			s2 := scanner{b: obj, i: start}
			s2.ws()
			raw, kind, found = obj[s2.i:s.i], c, true
		}
	}
}
