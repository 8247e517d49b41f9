package reconcile

import (
	"bytes"
	"encoding/json"

	"github.com/billharness/billharness/internal/billing"
)

// The functions in this file decide what one event contributes to a meter.
// They follow the API's [chosen] meter rules exactly as the sandbox
// implements them (internal/sandbox/usage.go): a difference here would show
// up as a discrepancy that is not one.
//
//   - The property is a top-level key of the properties object, compared
//     after unescaping; when a key repeats, the last occurrence wins (as
//     with encoding/json).
//   - Sum and Max take a JSON number or a numeric string, exactly; any
//     other value contributes nothing.
//   - UniqueCount counts distinct values by their JSON text, strings by
//     their decoded value ("a" and "\u0061" are one value, the number 1 and
//     the string "1" are two); null, objects and arrays contribute nothing.

// Value kinds, by the first byte of the JSON value ('0' for numbers).
const (
	kindString = '"'
	kindNumber = '0'
	kindTrue   = 't'
	kindFalse  = 'f'
)

// lookup returns the raw text and kind of the value of key in the JSON
// object obj, which the source has already validated.
func lookup(obj []byte, key string) (raw []byte, kind byte, found bool) {
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
			raw, kind, found = obj[vs:i], k, true
		}
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != ',' {
			return raw, kind, found
		}
		i++
	}
}

// keyIs reports whether the quoted JSON string q decodes to key.
func keyIs(q []byte, key string) bool {
	if bytes.IndexByte(q, '\\') < 0 {
		return len(q) == len(key)+2 && string(q[1:len(q)-1]) == key
	}
	return string(unquote(q)) == key
}

// unquote decodes the quoted JSON string q (escapes included).
func unquote(q []byte) []byte {
	if bytes.IndexByte(q, '\\') < 0 {
		return q[1 : len(q)-1]
	}
	var s string
	if json.Unmarshal(q, &s) != nil {
		return nil
	}
	return []byte(s)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
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

// skipValue returns the index after the value at b[i] and its kind.
func skipValue(b []byte, i int) (int, byte) {
	if i >= len(b) {
		return i, 0
	}
	switch c := b[i]; c {
	case '"':
		return skipString(b, i), kindString
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
			k = kindNumber
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

// numeric reads a JSON number or a numeric string as an exact quantity.
func numeric(raw []byte, kind byte) (billing.Quantity, bool) {
	switch kind {
	case kindNumber:
	case kindString:
		raw = unquote(raw)
	default:
		return billing.Quantity{}, false
	}
	if n, ok := smallInt(raw); ok {
		return billing.QuantityFromInt64(n), true
	}
	if len(raw) == 0 {
		return billing.Quantity{}, false
	}
	q, err := billing.ParseQuantity(string(raw))
	return q, err == nil
}

// smallInt parses [-]digits of at most 18 digits without allocating.
func smallInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// distinctKey appends to dst[:0] the identity of a value for UniqueCount,
// and reports false for values UniqueCount ignores.
func distinctKey(dst, raw []byte, kind byte) ([]byte, bool) {
	switch kind {
	case kindString:
		return append(append(dst[:0], 's'), unquote(raw)...), true
	case kindNumber, kindTrue, kindFalse:
		return append(append(dst[:0], 'n'), raw...), true
	}
	return dst, false
}
