package reconcile

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/billharness/billharness/internal/pgtest"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/source"
)

// awkwardValues holds a JSON value of every class the meter rules tell
// apart: integers small and past int64, decimals, exponents in and out of
// ±64, numeric strings in every spelling the API accepts or refuses,
// escapes, booleans, null, objects and arrays.
var awkwardValues = []string{
	`1`, `0`, `-7`, `123456789012345678`, `98765432109876543210987654321`, `-0`, `1.5`, `1.50`, `0.000001`,
	`1e3`, `2E-2`, `1e70`, `-1.5e-70`, `"12"`, `"+1"`, `"-3"`, `"1."`, `".5"`, `"-.5"`, `"1e64"`, `"1e65"`,
	`"1e-64"`, `"1E+3"`, `"00012"`, `"-0"`, `" 1"`, `"1 "`, `"0x10"`, `"1_0"`, `"Inf"`, `"NaN"`, `"١"`,
	`"1/3"`, `"1.2.3"`, `"e1"`, `""`, `"\u0031\u0032"`, `"a"`, `"\u0061"`, `"a\"b"`, `"é"`, `true`, `false`,
	`null`, `{"x":1}`, `[1,2]`, `[]`, `"1,000"`, `"12_500.5"`, `" -3 "`, `"1,00"`, `"+1,234"`, `"1,234,567.89"`, `"\u0031,000"`, `"  7"`,
}

// Push-down computes in PostgreSQL exactly what streaming computes in Go,
// on random events whose properties take every awkward value class, with
// duplicates, conflicting duplicates, events without a subscription,
// foreign, unknown and invalid rows; whole and sharded.
func TestPushdownEqualsStreaming(t *testing.T) {
	t.Parallel()
	subs := []string{"a", "b", "c", "d", "e", "f"}
	_, c := startSandbox(t, sandbox.Config{Data: catalog(subs...)}) // the API has no usage: every pair shows its expected total
	rng := rand.New(rand.NewPCG(7, 13))
	pick := func() string { return awkwardValues[rng.IntN(len(awkwardValues))] }
	types := []string{"api.request", "llm.completion", "storage", "other.type"}
	var src []row
	for i := range 3000 {
		s := subs[rng.IntN(len(subs))]
		cust, sub := "cus_"+s, "sub_"+s
		switch rng.IntN(20) {
		case 0:
			sub = "" // to the customer's first subscription
		case 1:
			sub = "sub_" + subs[rng.IntN(len(subs))] // perhaps another customer's: foreign
		case 2:
			sub = "sub_ghost" // not in the API
		}
		var props string
		switch rng.IntN(10) {
		case 0:
			props = `{}`
		case 1:
			props = `[1]` // not an object: invalid
		default:
			props = fmt.Sprintf(`{"bytes":%s,"tokens":%s,"model":%s}`, pick(), pick(), pick())
		}
		id := fmt.Sprintf("e%04d", i)
		switch rng.IntN(40) {
		case 0:
			id = "e\x01bad" // a control byte: invalid
		case 1:
			cust = "" // invalid
		}
		r := event(id, types[rng.IntN(len(types))], cust, sub, at(2+rng.IntN(20), rng.IntN(24)), props)
		src = append(src, r)
		switch rng.IntN(15) {
		case 0:
			src = append(src, r) // a duplicate
		case 1:
			d := r
			d.Properties = fmt.Sprintf(`{"bytes":%s}`, pick()) // a conflicting duplicate, perhaps
			src = append(src, d)
		}
	}
	spec := writePostgres(t, src)
	for _, shard := range []source.Shard{{}, {Index: 0, Count: 2}, {Index: 1, Count: 2}} {
		t.Run(shard.String(), func(t *testing.T) {
			cfg := Config{Client: c, Source: spec, Window: october, Shard: shard, Pushdown: PushdownOff}
			stream, err := Verify(context.Background(), cfg)
			if err != nil {
				t.Fatalf("Verify streaming = %v", err)
			}
			cfg.Pushdown = PushdownOn
			push, err := Verify(context.Background(), cfg)
			if err != nil {
				t.Fatalf("Verify push-down = %v", err)
			}
			if stream.Pushdown || !push.Pushdown {
				t.Fatalf("push-down used: streaming %v, push-down %v", stream.Pushdown, push.Pushdown)
			}
			r := stream.Rows
			if shard.Count == 0 && (r.Duplicates == 0 || r.Conflicting == 0 || r.Invalid == 0 || r.Foreign == 0 || r.Unmetered == 0 || r.Counted == 0) {
				t.Fatalf("rows %+v: the data must exercise every row class", r)
			}
			if diff := cmp.Diff(stream.Rows, push.Rows, cmpopts.IgnoreFields(Rows{}, "DedupBytes")); diff != "" {
				t.Errorf("rows (-streaming +push-down):\n%s", diff)
			}
			if diff := cmp.Diff(stream.Counts, push.Counts); diff != "" {
				t.Errorf("classes (-streaming +push-down):\n%s", diff)
			}
			if diff := cmp.Diff(stream.Discrepancies, push.Discrepancies, quantities); diff != "" {
				t.Errorf("discrepancies (-streaming +push-down):\n%s", diff)
			}
			if push.SourceBytes >= stream.SourceBytes {
				t.Errorf("push-down received %d bytes, streaming %d: want fewer", push.SourceBytes, stream.SourceBytes)
			}
		})
	}
}

// A properties column that is text keeps number spellings SQL reads
// differently: push-down is refused when asked for, and auto streams.
func TestPushdownNeedsJSONB(t *testing.T) {
	t.Parallel()
	_, c := startSandbox(t, sandbox.Config{Data: catalog("a")})
	spec := writePostgres(t, []row{event("e1", "api.request", "cus_a", "sub_a", at(2, 0), `{"bytes":1e3}`)})
	conn := pgtest.Connect(t)
	if _, err := conn.Exec(context.Background(), "ALTER TABLE "+spec.Table+" ALTER COLUMN properties TYPE text"); err != nil {
		t.Fatal(err)
	}
	_, err := Verify(context.Background(), Config{Client: c, Source: spec, Window: october, Pushdown: PushdownOn})
	if err == nil || !strings.Contains(err.Error(), "not jsonb") {
		t.Fatalf("Verify -pushdown on over a text column = %v, want an error saying it is not jsonb", err)
	}
	res, err := Verify(context.Background(), Config{Client: c, Source: spec, Window: october})
	if err != nil || res.Pushdown || res.Rows.Counted != 1 {
		t.Fatalf("Verify auto = %v, pushdown %v; want a streamed result", err, res != nil && res.Pushdown)
	}
}

// jsonb accepts properties nested deeper than the reader does: push-down
// cannot tell them apart, so auto streams (the row is invalid, as in a
// Parquet source) and on refuses.
func TestPushdownDeepProperties(t *testing.T) {
	t.Parallel()
	_, c := startSandbox(t, sandbox.Config{Data: catalog("a")})
	deep := `{"x":` + strings.Repeat("[", 1001) + strings.Repeat("]", 1001) + `}`
	spec := writePostgres(t, []row{
		event("e1", "api.request", "cus_a", "sub_a", at(2, 0), `{"bytes":1}`),
		event("e2", "api.request", "cus_a", "sub_a", at(2, 1), deep),
	})
	_, err := Verify(context.Background(), Config{Client: c, Source: spec, Window: october, Pushdown: PushdownOn})
	if err == nil || !strings.Contains(err.Error(), "brackets") {
		t.Fatalf("Verify -pushdown on with deep properties = %v, want a refusal", err)
	}
	res, err := Verify(context.Background(), Config{Client: c, Source: spec, Window: october})
	if err != nil || res.Pushdown || res.Rows.Invalid != 1 || res.Rows.Counted != 1 {
		t.Fatalf("Verify auto = %v; want a streamed result with the deep row invalid (rows %+v)", err, res.Rows)
	}
}
