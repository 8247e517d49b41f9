package reconcile

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/sandbox"
)

// Values the API counts as zero, and negative values, agree on both sides:
// only the uncountable pair shows the revenue they lose, and bill prices it.
func TestUncountableValuesAreReportedAndPriced(t *testing.T) {
	t.Parallel()
	// "1e999" is past the API's exponent range (a JSON number would be
	// too, but jsonb expands it to digits, which PostgreSQL sources then
	// send as a number the API counts).
	values := []string{`"1,000"`, `"abc"`, `null`, `{"a":1}`, `"NaN"`, `" 42 "`, `"1e999"`, `-5`, `10`, `"12_500.5"`}
	var src []row
	for i, v := range values {
		src = append(src, event(fmt.Sprintf("q%02d", i), "llm.completion", "cus_a", "sub_a", at(2, i), fmt.Sprintf(`{"tokens":%s}`, v)))
	}
	_, c := startSandbox(t, sandbox.Config{Data: catalog("a")})
	send(t, c, src)
	for _, spec := range []struct {
		name string
		mode string
	}{{"parquet", PushdownOff}, {"postgres push-down", PushdownOn}} {
		t.Run(spec.name, func(t *testing.T) {
			cfg := Config{Client: c, Source: writeParquet(t, src), Window: october, Pushdown: spec.mode}
			if spec.mode == PushdownOn {
				cfg.Source = writePostgres(t, src)
			}
			res, err := Verify(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := Bill(context.Background(), res, BillConfig{Client: c, Period: octoberPeriod}); err != nil {
				t.Fatal(err)
			}
			var got []Pair
			for _, p := range res.Discrepancies {
				if p.Class != Uncountable {
					t.Errorf("unexpected %s pair %+v: API and source agree", p.Class, p)
					continue
				}
				got = append(got, p)
			}
			if len(got) != 1 || res.Counts[Uncountable] != 1 {
				t.Fatalf("uncountable pairs %+v, want one (Tokens)", got)
			}
			p := got[0]
			// 8 not numbers (3 readable: 1000 + 42 + 12500.5), 1 negative (-5).
			want := Pair{Meter: "Tokens", Expected: qty("5"), Delta: qty("13547.5"), Events: 9}
			if p.Meter != want.Meter || p.Expected.Cmp(want.Expected) != 0 || p.Delta.Cmp(want.Delta) != 0 || p.Events != want.Events {
				t.Errorf("pair = %+v, want Tokens: expected 5, worth 13547.5, 9 events", p)
			}
			if !slices.Equal(p.SampleEventIDs, []string{"q00", "q01", "q02"}) {
				t.Errorf("samples = %v, want the three smallest ids", p.SampleEventIDs)
			}
			// Tokens cost 3,000,000 pico-units each: 13547.5 of them.
			if p.Money.String() != "40642500000" || p.Currency != "USD" {
				t.Errorf("money = %s %s, want 40642500000 USD", p.Money, p.Currency)
			}
		})
	}
}

func qty(s string) billing.Quantity {
	q, err := billing.ParseQuantity(s)
	if err != nil {
		panic(err)
	}
	return q
}
