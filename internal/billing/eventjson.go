package billing

import (
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/billharness/billharness/internal/jsonscan"
	"github.com/billharness/billharness/internal/jsonstr"
)

// errProperties is returned for properties that are not one JSON object.
var errProperties = errors.New("properties: not a JSON object")

// appendEvent appends ev as the JSON body of POST /v1/events. It is the
// hot path of replay and loadgen, so it writes the bytes directly instead
// of going through encoding/json's reflection; the output is the same
// document json.Marshal would give, with the timestamp in UTC.
func appendEvent(dst []byte, ev *Event) ([]byte, error) {
	props := ev.Properties
	if len(props) > 0 && !jsonscan.Object(props) {
		// Checked so raw bytes can never smuggle extra fields into the body.
		return dst, errProperties
	}
	dst = append(dst, `{"id":`...)
	dst = jsonstr.Append(dst, ev.ID)
	dst = append(dst, `,"event_type":`...)
	dst = jsonstr.Append(dst, ev.EventType)
	dst = append(dst, `,"customer_id":`...)
	dst = jsonstr.Append(dst, ev.CustomerID)
	if ev.SubscriptionID != "" {
		dst = append(dst, `,"subscription_id":`...)
		dst = jsonstr.Append(dst, ev.SubscriptionID)
	}
	dst = append(dst, `,"timestamp":"`...)
	dst = ev.Timestamp.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	if len(props) > 0 {
		dst = append(dst, `,"properties":`...)
		dst = append(dst, props...)
	}
	return append(dst, '}'), nil
}

// decodeEventResult reads the answer of POST /v1/events. The common shapes
// ({"accepted":…,"event_id":"…","duplicate":…}, plain strings, no
// whitespace surprises) are read by hand; anything else (escapes, unknown
// fields, nesting) falls back to encoding/json, so the result is always
// what json.Unmarshal gives.
func decodeEventResult(b []byte, r *EventResult) error {
	if fastEventResult(b, r) {
		return nil
	}
	*r = EventResult{}
	return json.Unmarshal(b, r)
}

func fastEventResult(b []byte, r *EventResult) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	var out EventResult
	for {
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' && out.EventID == "" {
			return false // empty object: let encoding/json decide
		}
		key, j, ok := plainString(b, i)
		if !ok {
			return false
		}
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		switch string(key) { // compared without allocating
		case "accepted", "duplicate":
			var v bool
			switch {
			case hasPrefixAt(b, i, "true"):
				v, i = true, i+4
			case hasPrefixAt(b, i, "false"):
				i += 5
			default:
				return false
			}
			if string(key) == "accepted" {
				out.Accepted = v
			} else {
				out.Duplicate = v
			}
		case "event_id":
			s, j, ok := plainString(b, i)
			if !ok {
				return false
			}
			out.EventID, i = string(s), j
		default:
			return false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			if skipSpace(b, i+1) != len(b) {
				return false
			}
			*r = out
			return true
		}
		if b[i] != ',' {
			return false
		}
	}
}

// plainString reads a JSON string without escapes starting at b[i]: its
// bytes, within b, and the index after its closing quote.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return nil, i, false
		}
	}
	return nil, i, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func hasPrefixAt(b []byte, i int, p string) bool {
	return len(b)-i >= len(p) && string(b[i:i+len(p)]) == p
}
