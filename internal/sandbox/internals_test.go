package sandbox

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/jsonscan"
)

func TestScannerAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{}`, `[]`, `""`, `0`, `-0`, `1.5e+10`, `true`, `null`, `{"a":[1,{"b":null}],"c":"\u00e9\n"}`,
		` { "a" : 1 } `, "\t[\r\n]",
		``, ` `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a"}`, `{a:1}`, `01`, `1.`, `.5`, `1e`, `+1`, `-`, `tru`, `nul`,
		`"\x"`, `"\u12"`, "\"\x01\"", `"abc`, `{"a":1}}`, `[1 2]`, `{"a":1 "b":2}`, `NaN`, `"\ud800"`,
	} {
		s := scanner{b: []byte(in)}
		_, err := s.value()
		if err == nil {
			err = s.end()
		}
		if got, want := err == nil, json.Valid([]byte(in)); got != want {
			t.Errorf("scanner valid(%q) = %v, want %v (encoding/json), err %v", in, got, want, err)
		}
	}
}

func TestParseEvent(t *testing.T) {
	body := `{"id":"e\"1","event_type":"t","customer_id":"c","subscription_id":"s","timestamp":"2026-02-01T00:00:00Z",` +
		`"properties":{"n":5},"extra":{"deep":[1,2,{"x":"y"}]},"id":"e\"2"}`
	var ev rawEvent
	fe, err := parseEvent([]byte(body), &ev)
	if err != nil || fe != nil {
		t.Fatalf("parseEvent = %v, %v; want no error", fe, err)
	}
	for f, want := range map[int]string{fID: `e"2`, fEventType: "t", fCustomerID: "c", fSubscriptionID: "s", fTimestamp: "2026-02-01T00:00:00Z"} {
		if got := string(ev.str[f]); got != want {
			t.Errorf("field %s = %q, want %q (last duplicate key wins)", eventFieldName(f), got, want)
		}
	}
	if got := string(ev.props); got != `{"n":5}` {
		t.Errorf("properties = %s, want {\"n\":5}", got)
	}
}

func TestLookup(t *testing.T) {
	obj := []byte(`{"a": 1, "s":"x\"y", "n":null, "o":{"a":2}, "\u0062":true, "a" : 3 }`)
	tests := []struct {
		key, raw string
		kind     byte
		found    bool
	}{
		{"a", "3", '0', true}, // last wins
		{"s", `"x\"y"`, '"', true},
		{"n", "null", 'n', true},
		{"o", `{"a":2}`, '{', true},
		{"b", "true", 't', true}, // escaped key
		{"missing", "", 0, false},
	}
	for _, tt := range tests {
		raw, kind, found := lookup(obj, tt.key)
		if string(raw) != tt.raw || kind != tt.kind || found != tt.found {
			t.Errorf("lookup(%q) = %q, %q, %v; want %q, %q, %v", tt.key, raw, kind, found, tt.raw, tt.kind, tt.found)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	for _, in := range []string{
		"2026-02-28T14:22:01Z", "2026-02-28T14:22:01.5Z", "2026-02-28T14:22:01.123456789Z", "2024-02-29T00:00:00Z",
		"2026-02-28T14:22:01+02:00", "2026-02-28T14:22:01.25-07:30", "1970-01-01T00:00:00Z", "2261-12-31T23:59:59Z",
		"2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-02-28T24:00:00Z", "2026-02-28T14:22:60Z",
		"2026-02-28 14:22:01Z", "2026-02-28T14:22:01", "2026-02-28T14:22:01.Z", "2026-02-28T14:22:01.1234567890Z",
		"1600-01-01T00:00:00Z", "2300-01-01T00:00:00Z", "", "x",
	} {
		got, ok := parseTimestamp([]byte(in))
		tt, err := time.Parse(time.RFC3339, in)
		wantOK := err == nil && tt.UTC().Year() >= minEventYear && tt.UTC().Year() <= maxEventYear
		if ok != wantOK || (ok && got != tt.UnixNano()) {
			t.Errorf("parseTimestamp(%q) = %d, %v; want %d, %v (time.Parse)", in, got, ok, tt.UnixNano(), wantOK)
		}
	}
}

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		pattern, path, param string
		ok                   bool
	}{
		{"/v1/events", "/v1/events", "", true},
		{"/v1/events", "/v1/events/", "", false},
		{"/v1/events", "/v1/eventsx", "", false},
		{"/v1/subscriptions/{id}", "/v1/subscriptions/abc", "abc", true},
		{"/v1/subscriptions/{id}", "/v1/subscriptions/", "", false},
		{"/v1/subscriptions/{id}", "/v1/subscriptions", "", false},
		{"/v1/subscriptions/{id}", "/v1/subscriptions/a/b", "", false},
		{"/v1/subscriptions/{id}/usage", "/v1/subscriptions/abc/usage", "abc", true},
		{"/v1/subscriptions/{id}/usage", "/v1/subscriptions//usage", "", false},
		{"/v1/subscriptions/{id}/usage", "/v1/subscriptions/abc/usagex", "", false},
	}
	for _, tt := range tests {
		param, ok := matchPattern(tt.pattern, tt.path)
		if param != tt.param || ok != tt.ok {
			t.Errorf("matchPattern(%q, %q) = %q, %v; want %q, %v", tt.pattern, tt.path, param, ok, tt.param, tt.ok)
		}
	}
}

func TestUUIDv7(t *testing.T) {
	var g uuidGen
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	prev := ""
	for i := range 5000 { // more than 4096: the counter carries into the millisecond
		id := g.next(now)
		if len(id) != 36 || id[14] != '7' || (id[19] != '8' && id[19] != '9' && id[19] != 'a' && id[19] != 'b') {
			t.Fatalf("id %d = %q, want a UUIDv7", i, id)
		}
		if id <= prev {
			t.Fatalf("id %d = %q, not above the previous %q", i, id, prev)
		}
		prev = id
	}
	if back := g.next(now.Add(-time.Hour)); back <= prev {
		t.Errorf("id after the clock went back = %q, not above %q", back, prev)
	}
}

// FuzzScannersAgree holds the sandbox's JSON scanner and lookup to
// encoding/json and to the harness's (internal/jsonscan). They are written
// apart on purpose, so that a bug in the harness's is not mirrored by the
// oracle the tests compare it with; this test is what keeps them in step.
func FuzzScannersAgree(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":"2"}`, `{"\u0061":[1,{"a":3}],"b":-0.5e3}`, `{"a":"x\"y"}`, `[1]`, `{"a":tru}`, `{}`, ` {"a" : {"b":null} } `} {
		f.Add([]byte(s), "a")
	}
	f.Fuzz(func(t *testing.T, b []byte, key string) {
		s := scanner{b: b}
		kind, err := s.value()
		if err == nil {
			err = s.end()
		}
		if valid := err == nil; valid != json.Valid(b) {
			t.Fatalf("sandbox scanner valid(%q) = %v, encoding/json %v", b, valid, !valid)
		}
		if err != nil || kind != '{' || nesting(b) > jsonscan.MaxDepth {
			return
		}
		if !jsonscan.Object(b) {
			t.Fatalf("jsonscan.Object(%q) = false; the sandbox and encoding/json take it", b)
		}
		raw, k, found := lookup(b, key)
		hraw, hk, hfound := jsonscan.Lookup(b, key)
		if string(raw) != string(hraw) || k != hk || found != hfound {
			t.Fatalf("lookup(%q, %q): sandbox %q %q %v, jsonscan %q %q %v", b, key, raw, k, found, hraw, hk, hfound)
		}
	})
}

// nesting is how deeply b's objects and arrays nest, strings aside.
func nesting(b []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}
