package reconcile

import (
	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/jsonscan"
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
	kindString = jsonscan.KindString
	kindNumber = jsonscan.KindNumber
	kindTrue   = jsonscan.KindTrue
	kindFalse  = jsonscan.KindFalse
)

// numeric reads a JSON number or a numeric string as an exact quantity.
func numeric(raw []byte, kind byte) (billing.Quantity, bool) {
	switch kind {
	case kindNumber:
	case kindString:
		raw = jsonscan.Unquote(raw)
	default:
		return billing.Quantity{}, false
	}
	q, err := billing.ParseQuantityBytes(raw)
	return q, err == nil
}

// distinctKey appends to dst[:0] the identity of a value for UniqueCount,
// and reports false for values UniqueCount ignores.
func distinctKey(dst, raw []byte, kind byte) ([]byte, bool) {
	switch kind {
	case kindString:
		return append(append(dst[:0], 's'), jsonscan.Unquote(raw)...), true
	case kindNumber, kindTrue, kindFalse:
		return append(append(dst[:0], 'n'), raw...), true
	}
	return dst, false
}
