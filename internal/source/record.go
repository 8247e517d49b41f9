package source

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/billharness/billharness/internal/jsonscan"
)

// RecordError is a record that failed validation. It is not fatal: the
// reader continues with the next record on the following call.
type RecordError struct {
	// Pos is where the record sits: file, row group and row for Parquet,
	// the table key for PostgreSQL.
	Pos Position
	// Field is the first offending field (FieldID, FieldTimestamp, …).
	Field string
	// Reason says what is wrong with it: "missing", "unparsable …",
	// "not a JSON object".
	Reason string
	// Raw is the record as read, a JSON object with the event's field names
	// and the source's values rendered as text, for a dead-letter file.
	Raw json.RawMessage
}

// Error renders the position, field and reason.
func (e *RecordError) Error() string {
	return fmt.Sprintf("source: %s: %s: %s", e.Pos, e.Field, e.Reason)
}

// row is one record as decoded from a source, before validation. Text
// fields are empty when the source value is NULL or empty; tsErr and
// propsErr carry a decoding failure of those fields, raw* the source
// text for a dead-letter Raw.
type row struct {
	id, eventType, customerID, subscriptionID string
	ts                                        time.Time
	tsErr                                     string
	tsRaw                                     string
	props                                     []byte
	propsErr                                  string
}

// check validates r, returning the offending field and reason, or "" when
// the record is valid.
func (r *row) check() (field, reason string) {
	switch {
	case r.id == "":
		return FieldID, "missing"
	case r.eventType == "":
		return FieldEventType, "missing"
	case r.customerID == "":
		return FieldCustomerID, "missing"
	case r.tsErr != "":
		return FieldTimestamp, r.tsErr
	case r.propsErr != "":
		return FieldProperties, r.propsErr
	}
	for _, f := range [...]struct{ name, v string }{
		{FieldID, r.id}, {FieldEventType, r.eventType}, {FieldCustomerID, r.customerID}, {FieldSubscriptionID, r.subscriptionID},
	} {
		if reason := textReason(f.v); reason != "" {
			return f.name, reason
		}
	}
	if y := r.ts.Year(); y < minYear || y > maxYear {
		return FieldTimestamp, fmt.Sprintf("year %d is outside RFC 3339's %04d–%04d, the API's range", y, minYear, maxYear)
	}
	if len(r.props) > 0 {
		if reason := checkObject(r.props); reason != "" {
			return FieldProperties, reason
		}
	}
	return "", ""
}

// The years an event timestamp may have: RFC 3339's four digits, without
// year 0, which Go's encoder refuses and no usage happened in.
const minYear, maxYear = 1, 9999

// textReason returns why s cannot go on the wire unaltered, or "": bytes
// that are not UTF-8 would become U+FFFD in JSON (distinct ids would arrive
// as one), and control bytes (NUL, CR, LF, …) cannot travel in an HTTP
// header such as Idempotency-Key. Offsets count bytes from 0.
func textReason(s string) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return fmt.Sprintf("control byte 0x%02X at byte %d: it cannot be sent unaltered (JSON text and the Idempotency-Key header)", c, i)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return fmt.Sprintf("not valid UTF-8 at byte %d: it would arrive altered (as U+FFFD)", i)
		}
		i += n
	}
	return ""
}

// recordError builds the RecordError for an invalid r.
func (r *row) recordError(pos Position, field, reason string) *RecordError {
	raw := map[string]string{
		FieldID:             r.id,
		FieldEventType:      r.eventType,
		FieldCustomerID:     r.customerID,
		FieldSubscriptionID: r.subscriptionID,
		FieldTimestamp:      r.tsRaw,
		FieldProperties:     string(r.props),
	}
	if r.tsRaw == "" && r.tsErr == "" {
		raw[FieldTimestamp] = r.ts.Format(time.RFC3339Nano)
	}
	// JSON would turn bytes that are not UTF-8 into U+FFFD: such a value
	// also travels in hex, exactly.
	for k, v := range raw {
		if !utf8.ValidString(v) {
			raw[k+"_hex"] = hex.EncodeToString([]byte(v))
		}
	}
	b, _ := json.Marshal(raw) // a map of strings always marshals
	return &RecordError{Pos: pos, Field: field, Reason: reason, Raw: b}
}

// event returns the valid r as an Event.
func (r *row) event() Event {
	return Event{
		ID:             r.id,
		EventType:      r.eventType,
		CustomerID:     r.customerID,
		SubscriptionID: r.subscriptionID,
		Timestamp:      r.ts,
		Properties:     r.props,
	}
}

// checkObject returns why b is not a JSON object, or "".
func checkObject(b []byte) string {
	t := bytes.TrimLeft(b, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return "not a JSON object"
	}
	return jsonscan.Reason(t)
}

// parseTimestampText parses an RFC 3339 timestamp held as text.
func parseTimestampText(s string) (time.Time, string) {
	if s == "" {
		return time.Time{}, "missing"
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Sprintf("unparsable %q: want RFC 3339", s)
	}
	return t.UTC(), ""
}
