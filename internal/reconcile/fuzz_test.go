package reconcile

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/jsonscan"
)

// FuzzParseTolerance parses -tolerance values: whatever parses prints, with
// String, to a value that parses to the same tolerance.
func FuzzParseTolerance(f *testing.F) {
	for _, s := range []string{"exact", "abs=1,rel=0.5%", "abs=0;Input Tokens:rel=0.1%;model:abs=1", "rel=1e-3%", ";;", "a:b:abs=1", "abs=-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tol, err := ParseTolerance(s)
		if err != nil {
			return
		}
		text := tol.String()
		again, err := ParseTolerance(text)
		if err != nil {
			t.Fatalf("ParseTolerance(%q) = %s, which does not parse: %v", s, text, err)
		}
		if got := again.String(); got != text {
			t.Fatalf("ParseTolerance(%q): %q parses back to %q", s, text, got)
		}
	})
}

// FuzzParseMeters parses -meters files: every meter that parses has an
// aggregation the API knows, a property when the aggregation needs one,
// and the list parses again from its own JSON.
func FuzzParseMeters(f *testing.F) {
	f.Add([]byte(`[{"name":"Input Tokens","event_type":"llm.completion","property":"input_tokens","aggregation":"Sum"}]`))
	f.Add([]byte(`[{"event_type":"api.request"},{"event_type":"api.request","property":"bytes"}]`))
	f.Add([]byte(`[{"event_type":"a","aggregation":"Max"}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := ParseMeters(bytes.NewReader(b))
		if err != nil {
			return
		}
		for i, m := range ms {
			switch m.Aggregation {
			case billing.AggCount:
			case billing.AggSum, billing.AggMax, billing.AggUniqueCount:
				if m.Property == "" {
					t.Fatalf("meters[%d] = %+v: %s without a property", i, m, m.Aggregation)
				}
			default:
				t.Fatalf("meters[%d] = %+v: aggregation %q", i, m, m.Aggregation)
			}
		}
		out, err := json.Marshal(ms)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := ParseMeters(bytes.NewReader(out)); err != nil || len(again) != len(ms) {
			t.Fatalf("ParseMeters(%s) = %d meters, %v; want the %d it came from", out, len(again), err, len(ms))
		}
	})
}

// FuzzMeterValue holds the hand-written property lookup to encoding/json:
// for a valid JSON object, lookup finds the same value (the last of a
// repeated key), and a value numeric reads is the quantity ParseQuantity
// reads from its text.
func FuzzMeterValue(f *testing.F) {
	f.Add([]byte(`{"input_tokens":512,"model":"gpt-4o"}`), "input_tokens")
	f.Add([]byte(`{"a":"1.50","a":2}`), "a")
	f.Add([]byte(`{"\u0061":"x","b":[1,{"a":3}]}`), "a")
	f.Add([]byte(` { "n" : -1e-3 } `), "n")
	f.Fuzz(func(t *testing.T, obj []byte, key string) {
		// encoding/json turns invalid UTF-8 into U+FFFD; a meter's property
		// is a name someone typed, so such keys are out of scope.
		if !utf8.Valid(obj) || !utf8.ValidString(key) || strings.ContainsRune(key, utf8.RuneError) {
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(obj, &m) != nil || m == nil {
			return
		}
		raw, kind, found := jsonscan.Lookup(obj, key)
		want, ok := m[key]
		if found != ok {
			t.Fatalf("lookup(%s, %q) found %v, encoding/json %v", obj, key, found, ok)
		}
		if !found {
			return
		}
		var a, b bytes.Buffer
		if json.Compact(&a, raw) != nil || json.Compact(&b, want) != nil || a.String() != b.String() {
			t.Fatalf("lookup(%s, %q) = %s, encoding/json %s", obj, key, raw, want)
		}
		q, ok := numeric(raw, kind)
		if !ok {
			return
		}
		text := string(raw)
		if kind == kindString {
			_ = json.Unmarshal(raw, &text)
		}
		if p, err := billing.ParseQuantity(text); err != nil || p.Cmp(q) != 0 {
			t.Fatalf("numeric(%s) = %s, ParseQuantity(%q) = %s, %v", raw, q, text, p, err)
		}
	})
}
