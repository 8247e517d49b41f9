package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestObject(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{}`, true},
		{` {"a":1} `, true},
		{`{"a":[1,2.5e-3,-0,true,false,null,{"b":"\u00e9\n"}]}`, true},
		{`[]`, false},
		{`"x"`, false},
		{`{"a":01}`, false},
		{`{"a":1,}`, false},
		{`{"a":1} x`, false},
		{`{"a":"\x"}`, false},
		{`{"a":"` + "\x01" + `"}`, false},
		{`{"a":1.}`, false},
		{`{"a":-}`, false},
		{`{"a" 1}`, false},
		{`{"a":tru}`, false},
		{`{`, false},
	}
	for _, tt := range tests {
		if got := Object([]byte(tt.in)); got != tt.want {
			t.Errorf("Object(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestLookup(t *testing.T) {
	props := json.RawMessage(`{"model":"gpt-4o", "input_tokens": 512 ,"nested":{"input_tokens":1},"output_tokens":256}`)
	tests := []struct {
		key    string
		want   string
		wantOK bool
	}{
		{"model", `"gpt-4o"`, true},
		{"input_tokens", `512`, true},
		{"output_tokens", `256`, true},
		{"nested", `{"input_tokens":1}`, true},
		{"bytes", "", false},
	}
	for _, tt := range tests {
		got, _, ok := Lookup(props, tt.key)
		if string(got) != tt.want || ok != tt.wantOK {
			t.Errorf("Lookup(%s, %q) = %s, %v, want %s, %v", props, tt.key, got, ok, tt.want, tt.wantOK)
		}
	}
	if got, _, ok := Lookup(json.RawMessage(`{"a":1`), "b"); ok {
		t.Errorf("Lookup(truncated, b) = %s, true, want false", got)
	}
	// The meter rules: the last of a repeated key wins, keys compare
	// unescaped, and the kind is the value's first byte ('0' for numbers).
	obj := []byte(`{"a": 1, "s":"x\"y", "n":null, "o":{"a":2}, "\u0062":true, "m":-2, "a" : 3 }`)
	for _, tt := range []struct {
		key, raw string
		kind     byte
	}{{"a", "3", KindNumber}, {"s", `"x\"y"`, KindString}, {"n", "null", KindNull}, {"o", `{"a":2}`, KindObject}, {"b", "true", KindTrue}, {"m", "-2", KindNumber}} {
		if raw, kind, found := Lookup(obj, tt.key); string(raw) != tt.raw || kind != tt.kind || !found {
			t.Errorf("Lookup(%q) = %q, %q, %v; want %q, %q, true", tt.key, raw, kind, found, tt.raw, tt.kind)
		}
	}
}

// FuzzValidObject holds the hand-written checker to encoding/json.
func FuzzValidObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,{"b":null}]}`, `{"a":"\ud800"}`, `{"a":1e+5}`, `{"a":-0.5E-2}`, `{"a":"` + "\xff" + `"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := json.Valid(b)
		if want {
			for _, c := range b {
				if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
					continue
				}
				want = c == '{'
				break
			}
		}
		if got := Object(b); got != want {
			t.Errorf("Object(%q) = %v, want %v", b, got, want)
		}
	})
}

// Well-formed JSON nested past MaxDepth is refused for its depth, and
// said so: it is not "malformed".
func TestReasonTellsDepthFromSyntax(t *testing.T) {
	deep := func(n int) []byte {
		return []byte(`{"a":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
	}
	if r := Reason(deep(MaxDepth - 1)); r != "" {
		t.Errorf("depth %d: %q, want valid", MaxDepth, r)
	}
	// The top-level object and MaxDepth-1 arrays make MaxDepth containers:
	// the most accepted; one more is refused, though encoding/json takes it.
	if r := Reason(deep(MaxDepth)); !strings.Contains(r, "nested deeper than 1000 levels") || !json.Valid(deep(MaxDepth)) {
		t.Errorf("%d containers: %q, want the depth named", MaxDepth+1, r)
	}
	if r := Reason(deep(5000)); !strings.Contains(r, "nested deeper than 1000 levels") || !json.Valid(deep(5000)) {
		t.Errorf("depth 5001: %q, want the depth named", r)
	}
	if r := Reason([]byte(`{"a":[1,}`)); r != "malformed JSON" {
		t.Errorf("malformed: %q", r)
	}
}
