package reconcile

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/billharness/billharness/internal/jsonscan"
	"github.com/billharness/billharness/internal/sandbox"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		obj, key  string
		raw       string
		kind      byte
		wantFound bool
	}{
		{`{"a":1}`, "a", "1", kindNumber, true},
		{` { "a" : "x" , "b" : 2 } `, "b", "2", kindNumber, true},
		{`{"a":{"b":1},"b":[1,"]"]}`, "b", `[1,"]"]`, '[', true},
		{`{"a":1,"a":2}`, "a", "2", kindNumber, true},
		{`{"\u0061":3}`, "a", "3", kindNumber, true},
		{`{"a\"b":true}`, `a"b`, "true", kindTrue, true},
		{`{"a":null}`, "a", "null", 'n', true},
		{`{"a":"s\"}"}`, "a", `"s\"}"`, kindString, true},
		{`{"ab":1}`, "a", "", 0, false},
		{`{}`, "a", "", 0, false},
		{``, "a", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.obj, func(t *testing.T) {
			raw, kind, found := jsonscan.Lookup([]byte(tt.obj), tt.key)
			if string(raw) != tt.raw || kind != tt.kind || found != tt.wantFound {
				t.Errorf("lookup(%s, %q) = %q, %q, %v; want %q, %q, %v", tt.obj, tt.key, raw, kind, found, tt.raw, tt.kind, tt.wantFound)
			}
		})
	}
}

func TestNumericAndDistinct(t *testing.T) {
	tests := []struct {
		raw      string
		num      string // "" when not numeric
		distinct string // "" when ignored by UniqueCount
	}{
		{`12`, "12", "n12"},
		{`-3.25`, "-3.25", "n-3.25"},
		{`1e3`, "1000", "n1e3"},
		{`1E400`, "", "n1E400"},
		{`"42"`, "42", "s42"},
		{`"\u0034\u0032"`, "42", "s42"},
		{`" 42"`, "", "s 42"},
		{`"0x10"`, "", "s0x10"},
		{`"1/2"`, "", "s1/2"},
		{`""`, "", "s"},
		{`123456789012345678901234567890`, "123456789012345678901234567890", "n123456789012345678901234567890"},
		{`true`, "", "ntrue"},
		{`null`, "", ""},
		{`{"a":1}`, "", ""},
		{`[1]`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, kind, _ := jsonscan.Lookup([]byte(`{"v":`+tt.raw+`}`), "v")
			q, ok := numeric([]byte(tt.raw), kind)
			got := ""
			if ok {
				got = q.String()
			}
			if got != tt.num {
				t.Errorf("numeric(%s) = %q, want %q", tt.raw, got, tt.num)
			}
			d, ok := distinctKey(nil, []byte(tt.raw), kind)
			if !ok {
				d = nil
			}
			if string(d) != tt.distinct {
				t.Errorf("distinctKey(%s) = %q, want %q", tt.raw, d, tt.distinct)
			}
		})
	}
}

// The sandbox is the reference for the meter rules: every odd value the
// source may hold aggregates to what the API computes.
func TestTotalsAgreeWithSandbox(t *testing.T) {
	t.Parallel()
	values := []string{`12`, `-3.25`, `1e3`, `1E400`, `"42"`, `"\u0034\u0032"`, `" 42"`, `"0x10"`, `""`, `true`, `false`,
		`null`, `{"a":1}`, `[1,2]`, `123456789012345678901234567890`, `0.1`, `"0.2"`, `-0`, `"-7"`, `"gpt"`, `"\u0067pt"`, `7.0`, `7`}
	var src []row
	for i, v := range values {
		for j, key := range []string{"bytes", "\\u0062ytes"} {
			props := fmt.Sprintf(`{"%s":%s,"model":%s,"tokens":%s}`, key, v, v, v)
			typ := []string{"api.request", "llm.completion", "storage"}[(i+j)%3]
			src = append(src, event(fmt.Sprintf("v%d-%d", i, j), typ, "cus_a", "sub_a", at(2+i, j), props))
		}
	}
	src = append(src, event("dupkey", "storage", "cus_a", "sub_a", at(30, 0), `{"bytes":1e9,"bytes":2}`))
	_, c := startSandbox(t, sandbox.Config{Data: catalog("a")})
	send(t, c, src)
	res, err := Verify(context.Background(), Config{Client: c, Source: writeParquet(t, src), Window: october})
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	// Bytes, Tokens and Peak hold values the API counts as nothing: both
	// sides agree, and the pairs say so.
	if res.Mismatches() != res.Counts[Uncountable] || res.Counts[Match] != 5 || res.Counts[Uncountable] != 3 {
		var b strings.Builder
		for _, p := range res.Discrepancies {
			if p.Class == Uncountable {
				continue
			}
			fmt.Fprintf(&b, "\n  %s: source %s, API %s", p.Meter, p.Expected, p.Observed)
		}
		t.Errorf("totals of odd values differ from the sandbox's:%s", b.String())
	}
}
