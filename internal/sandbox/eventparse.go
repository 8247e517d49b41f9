package sandbox

import (
	"time"
)

// Event fields, in the order validation reports them.
const (
	fID = iota
	fEventType
	fCustomerID
	fSubscriptionID
	fTimestamp
	fProperties
	numEventFields
)

// eventFieldName returns the wire name of event field f (fID…).
func eventFieldName(f int) string {
	switch f {
	case fID:
		return "id"
	case fEventType:
		return "event_type"
	case fCustomerID:
		return "customer_id"
	case fSubscriptionID:
		return "subscription_id"
	case fTimestamp:
		return "timestamp"
	}
	return "properties"
}

// rawEvent is a POST /v1/events body, sliced out of the request buffer (or
// decoded copies when a string had escapes). Nothing in it outlives the
// request unless copied.
type rawEvent struct {
	str     [fTimestamp + 1][]byte // string fields, by fID…fTimestamp
	props   []byte                 // raw JSON object; nil when absent or null
	present uint8                  // bit per field: seen with a usable type
	badType uint8                  // bit per field: seen with the wrong JSON type
}

// fieldError is a 422 validation_failed naming the offending field.
type fieldError struct {
	field, msg string
}

// parseEvent scans body into ev. It returns an error wrapping errSyntax for
// malformed JSON (400) and a *fieldError for well-formed JSON of the wrong
// shape (422). Syntax is checked for the whole body before any field error
// is reported, so a malformed body is always a 400.
func parseEvent(body []byte, ev *rawEvent) (*fieldError, error) {
	s := scanner{b: body}
	if s.peek() != '{' {
		if _, err := s.value(); err != nil {
			return nil, err
		}
		if err := s.end(); err != nil {
			return nil, err
		}
		return &fieldError{msg: "the body must be a JSON object"}, nil
	}
	s.i++
	s.depth = 1
	for n := 0; ; n++ {
		k, ok, err := s.member(n)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		f := -1
		key := body[k.start:k.end]
		if k.esc {
			key = s.text(k)
		}
		switch string(key) {
		case "id":
			f = fID
		case "event_type":
			f = fEventType
		case "customer_id":
			f = fCustomerID
		case "subscription_id":
			f = fSubscriptionID
		case "timestamp":
			f = fTimestamp
		case "properties":
			f = fProperties
		}
		c := s.peek()
		switch {
		case f < 0:
			if _, err := s.value(); err != nil {
				return nil, err
			}
		case c == 'n' && (f == fSubscriptionID || f == fProperties):
			// null means absent for the optional fields.
			if err := s.lit("null"); err != nil {
				return nil, err
			}
			ev.present &^= 1 << f
			if f == fProperties {
				ev.props = nil
			} else {
				ev.str[f] = nil
			}
		case f == fProperties && c == '{':
			start := s.i
			if _, err := s.value(); err != nil {
				return nil, err
			}
			ev.props = body[start:s.i]
			ev.present |= 1 << f
		case f != fProperties && c == '"':
			sp, err := s.str()
			if err != nil {
				return nil, err
			}
			ev.str[f] = s.text(sp)
			ev.present |= 1 << f
		default:
			if _, err := s.value(); err != nil {
				return nil, err
			}
			ev.badType |= 1 << f
		}
	}
	if err := s.end(); err != nil {
		return nil, err
	}
	return ev.check(), nil
}

// check applies the type and presence rules in field order.
func (ev *rawEvent) check() *fieldError {
	for f := 0; f < numEventFields; f++ {
		name := eventFieldName(f)
		if ev.badType&(1<<f) != 0 {
			if f == fProperties {
				return &fieldError{field: name, msg: "properties must be a JSON object"}
			}
			return &fieldError{field: name, msg: name + " must be a string"}
		}
		if f == fSubscriptionID || f == fProperties {
			if f == fSubscriptionID && ev.present&(1<<f) != 0 && len(ev.str[f]) == 0 {
				return &fieldError{field: name, msg: "subscription_id must not be empty when present"}
			}
			continue
		}
		if len(ev.str[f]) == 0 {
			return &fieldError{field: name, msg: name + " is required"}
		}
	}
	return nil
}

// Years whose every instant fits in int64 Unix nanoseconds.
const minEventYear, maxEventYear = 1678, 2261

// parseTimestamp parses an RFC 3339 timestamp into Unix nanoseconds. The
// common UTC form "2026-02-28T14:22:01[.123]Z" is parsed without allocating;
// anything else goes through time.Parse.
func parseTimestamp(b []byte) (int64, bool) {
	if ns, ok := parseUTCStamp(b); ok {
		return ns, true
	}
	t, err := time.Parse(time.RFC3339, string(b))
	if y := t.UTC().Year(); err != nil || y < minEventYear || y > maxEventYear {
		return 0, false
	}
	return t.UnixNano(), true
}

// parseUTCStamp handles "YYYY-MM-DDTHH:MM:SS[.fraction]Z". ok is false for
// anything else, including valid forms it does not cover, so the caller
// falls back to time.Parse.
func parseUTCStamp(b []byte) (int64, bool) {
	if len(b) < 20 || b[len(b)-1] != 'Z' || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	hour, ok4 := num(11, 2)
	minute, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, false
	}
	nsec := 0
	rest := b[19 : len(b)-1]
	if len(rest) > 0 {
		if rest[0] != '.' || len(rest) < 2 || len(rest) > 10 {
			return 0, false
		}
		frac, ok := num(20, len(rest)-1)
		if !ok {
			return 0, false
		}
		for range 10 - len(rest) {
			frac *= 10
		}
		nsec = frac
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	if year < minEventYear || year > maxEventYear {
		return 0, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC).UnixNano(), true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
