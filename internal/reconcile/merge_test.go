package reconcile

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/source"
)

// quantities compares exact quantities and amounts by value.
var quantities = cmp.Options{
	cmp.Comparer(func(a, b billing.Quantity) bool { return a.Cmp(b) == 0 }),
	cmp.Comparer(func(a, b billing.Money) bool { return a.Cmp(b) == 0 }),
}

// mixedSource returns events of every kind a comparison tells apart
// (matches, under, over, missing, unexpected, duplicates, conflicting
// duplicates, unattributed, foreign, outside the window) and a sandbox
// that holds what the API counted of them.
func mixedSource(t *testing.T) ([]row, *billing.Client) {
	subs := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"}
	var src, toAPI []row
	for i, s := range subs {
		cust, sub := "cus_"+s, "sub_"+s
		rows := []row{
			event(s+"1", "api.request", cust, sub, at(2, i), `{"bytes":10}`),
			event(s+"2", "api.request", cust, "", at(3, i), `{"bytes":5}`), // counts toward sub_<s>
			event(s+"3", "llm.completion", cust, sub, at(4, i), fmt.Sprintf(`{"tokens":%d,"model":"m%d"}`, i+1, i%3)),
			event(s+"4", "storage", cust, sub, at(5, i), fmt.Sprintf(`{"bytes":%d}`, 10*i)),
			event(s+"5", "unmetered.type", cust, sub, at(6, i), `{}`),
		}
		src = append(src, rows...)
		for j, r := range rows {
			switch {
			case i%4 == 1 && j == 0: // lost by the API: under
			case i%4 == 2 && j == 2: // counted twice by the API: over
				toAPI = append(toAPI, r, event(r.ID+"-again", r.EventType, r.CustomerID, sub, r.Timestamp, r.Properties))
			default:
				toAPI = append(toAPI, r)
			}
		}
	}
	src = append(src,
		src[0], // a duplicate row
		event("old", "api.request", "cus_a", "sub_a", at(1, 0).Add(-time.Hour), `{"bytes":1}`),            // outside the window
		event("nosub", "api.request", "cus_nobody", "", at(7, 1), `{"bytes":1}`),                          // unattributed
		event("foreign", "api.request", "cus_a", "sub_b", at(7, 2), `{"bytes":1}`),                        // foreign
		event("ghost", "api.request", "cus_ghost", "sub_ghost", at(7, 3), `{"bytes":1}`),                  // missing
		event("ghost2", "llm.completion", "cus_ghost", "sub_ghost", at(7, 4), `{"tokens":1,"model":"x"}`), // missing
	)
	toAPI = append(toAPI, event("extra", "storage", "cus_m", "sub_m", at(8, 1), `{"bytes":3}`)) // unexpected
	src = append(src,
		event("a3", "llm.completion", "cus_a", "sub_a", at(4, 0), `{"tokens":999,"model":"zz"}`), // conflicting duplicate
		event("c4", "storage", "cus_c", "sub_c", at(5, 2), `{"bytes":1}`),                        // conflicting duplicate
		src[2], src[3], // duplicates of a UniqueCount and a Max event
	)
	_, c := startSandbox(t, sandbox.Config{Data: catalog(append(subs, "m")...)})
	send(t, c, toAPI)
	return src, c
}

// The merged shards of a comparison find what one unsharded comparison
// finds: rows, pairs, classes and every discrepancy.
func TestMergeEqualsUnsharded(t *testing.T) {
	src, c := mixedSource(t)
	specs := map[string]source.Spec{"parquet": writeParquet(t, src), "postgres": writePostgres(t, src)}
	for _, kind := range []string{"parquet", "postgres"} {
		t.Run(kind, func(t *testing.T) { mergeEqualsUnsharded(t, c, specs[kind]) })
	}
}

func mergeEqualsUnsharded(t *testing.T, c *billing.Client, spec source.Spec) {
	whole, err := Verify(context.Background(), Config{Client: c, Source: spec, Window: october})
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	for _, cl := range []Class{Under, Over, Missing, Unexpected} {
		if whole.Counts[cl] == 0 {
			t.Fatalf("the unsharded run found no %s pair: the comparison proves little; counts %v", cl, whole.Counts)
		}
	}
	for _, n := range []int{1, 3, 4, 5} {
		t.Run(fmt.Sprintf("%d shards", n), func(t *testing.T) {
			var shards []*Result
			withDiscrepancies := 0
			for i := n - 1; i >= 0; i-- { // any order
				res, err := Verify(context.Background(), Config{Client: c, Source: spec, Window: october, Shard: source.Shard{Index: i, Count: n}})
				if err != nil {
					t.Fatalf("Verify shard %d/%d = %v", i, n, err)
				}
				if len(res.Discrepancies) > 0 {
					withDiscrepancies++
				}
				shards = append(shards, res)
			}
			if n > 1 && withDiscrepancies < 2 {
				t.Fatalf("%d of %d shards have discrepancies, want at least 2 for the merge to join something", withDiscrepancies, n)
			}
			got, err := Merge(shards)
			if err != nil {
				t.Fatalf("Merge = %v", err)
			}
			if diff := cmp.Diff(whole.Rows, got.Rows); diff != "" {
				t.Errorf("Merge rows (-unsharded +merged):\n%s", diff)
			}
			if diff := cmp.Diff(whole.Counts, got.Counts); diff != "" {
				t.Errorf("Merge counts (-unsharded +merged):\n%s", diff)
			}
			if diff := cmp.Diff(whole.Discrepancies, got.Discrepancies, quantities); diff != "" {
				t.Errorf("Merge discrepancies (-unsharded +merged):\n%s", diff)
			}
			if got.Pairs != whole.Pairs || got.Subscriptions != whole.Subscriptions || got.NotYetReflected != whole.NotYetReflected {
				t.Errorf("Merge pairs, subscriptions, not yet reflected = %d, %d, %d, want %d, %d, %d",
					got.Pairs, got.Subscriptions, got.NotYetReflected, whole.Pairs, whole.Subscriptions, whole.NotYetReflected)
			}
			if got.Shard != (source.Shard{}) || !got.Window.From.Equal(october.From) || !got.Window.To.Equal(october.To) {
				t.Errorf("Merge shard, window = %v, %v; want the whole, October", got.Shard, got.Window)
			}
		})
	}
}

// shardResult is a minimal result of shard i/n over October.
func shardResult(i, n int) *Result {
	return &Result{
		Window: october, Shard: source.Shard{Index: i, Count: n},
		// Each shard reads its own 10 of the 10·n rows declared.
		Rows:   Rows{Declared: int64(10 * n), Read: int64(10 * n), Events: 9, Invalid: 1, Counted: 3, OtherShards: int64(10 * (n - 1))},
		Counts: map[Class]int{Match: 2, Under: 1}, Pairs: 3, Subscriptions: 1,
		Discrepancies: []Pair{{SubscriptionID: fmt.Sprintf("sub_%d", i), Meter: "Requests", Measure: MeasureQuantity, Class: Under}},
	}
}

func TestMergeRefuses(t *testing.T) {
	tests := []struct {
		name    string
		shards  func() []*Result
		wantErr []string
	}{
		{name: "none", shards: func() []*Result { return nil }, wantErr: []string{"no results"}},
		{name: "missing", shards: func() []*Result { return []*Result{shardResult(0, 4), shardResult(2, 4)} },
			wantErr: []string{"missing shards: 1/4, 3/4"}},
		{name: "twice", shards: func() []*Result { return []*Result{shardResult(0, 2), shardResult(1, 2), shardResult(1, 2)} },
			wantErr: []string{"shards given more than once: 1/2 (2 times)"}},
		{name: "two splits", shards: func() []*Result { return []*Result{shardResult(0, 2), shardResult(1, 3)} },
			wantErr: []string{"shard 1/3 is one of 3, shard 0/2 one of 2"}},
		{name: "bad index", shards: func() []*Result { return []*Result{shardResult(0, 2), {Shard: source.Shard{Index: 5, Count: 2}}} },
			wantErr: []string{"shard 5/2: the index must be below the count"}},
		{name: "other window", shards: func() []*Result {
			r := shardResult(1, 2)
			r.Window.To = r.Window.To.Add(time.Hour)
			return []*Result{shardResult(0, 2), r}
		}, wantErr: []string{"shard 1/2 compared 2026-10-01T00:00:00Z..2026-11-01T01:00:00Z"}},
		{name: "source changed", shards: func() []*Result {
			r := shardResult(1, 2)
			r.Rows.Declared, r.Rows.Read = 21, 21
			return []*Result{shardResult(0, 2), r}
		}, wantErr: []string{"shard 1/2 declares 21 rows (0 pruned), shard 0/2 20", "the source changed"}},
		{name: "a row read twice", shards: func() []*Result {
			r := shardResult(1, 2)
			r.Rows.Events, r.Rows.OtherShards = 10, 9
			return []*Result{shardResult(0, 2), r}
		}, wantErr: []string{"the shards read 21 rows between them", "declares 20"}},
		{name: "a row read by none", shards: func() []*Result {
			r := shardResult(1, 2)
			r.Rows.Events, r.Rows.OtherShards = 8, 11
			return []*Result{shardResult(0, 2), r}
		}, wantErr: []string{"the shards read 19 rows between them", "declares 20"}},
		{name: "some billed", shards: func() []*Result {
			r := shardResult(1, 2)
			r.Bill = &BillStats{Billed: 1}
			return []*Result{shardResult(0, 2), r}
		}, wantErr: []string{"1 of 2 shards billed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Merge(tt.shards())
			if err == nil {
				t.Fatalf("Merge = %+v, nil; want an error", got)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Merge error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// Statistics other than pairs merge as documented: settle and billing
// counts add up, durations are the longest shard's.
func TestMergeStatistics(t *testing.T) {
	a, b := shardResult(0, 2), shardResult(1, 2)
	period := billing.Period{Start: october.From, End: october.To}
	a.Settle = SettleStats{Budget: time.Minute, Polls: 2, Settled: 1, Elapsed: 10 * time.Second}
	b.Settle = SettleStats{Budget: time.Minute, Polls: 3, Settled: 0, Elapsed: 20 * time.Second}
	a.ScanTime, b.ScanTime = 2*time.Second, time.Second
	a.Heal = &HealStats{Subscriptions: 1, Resent: 5, Accepted: 2, Before: 1, After: 0}
	a.Bill = &BillStats{Period: period, Billed: 1, Created: 1, Finalized: 1, Totals: map[string]billing.Money{"USD": billing.MustMoney("170141183460469231731687303715884105727")}}
	b.Bill = &BillStats{Period: period, Billed: 2, Found: 2, Mismatched: 1, Totals: map[string]billing.Money{"USD": billing.MustMoney("5"), "EUR": billing.MustMoney("7")}}
	a.Invoices = []Invoice{{SubscriptionID: "sub_b"}}
	b.Invoices = []Invoice{{SubscriptionID: "sub_a"}}
	if _, err := Merge([]*Result{a, b}); err == nil || !strings.Contains(err.Error(), "overflows 128 bits") {
		t.Errorf("Merge of totals beyond 128 bits = %v, want an overflow error", err)
	}
	a.Bill.Totals["USD"] = billing.MustMoney("1000000000000")
	got, err := Merge([]*Result{a, b})
	if err != nil {
		t.Fatalf("Merge = %v", err)
	}
	want := &Result{
		Window: october, Counts: map[Class]int{Match: 4, Under: 2}, Pairs: 6, Subscriptions: 2,
		Rows: Rows{Declared: 20, Read: 20, Events: 18, Invalid: 2, Counted: 6},
		Discrepancies: []Pair{
			{SubscriptionID: "sub_0", Meter: "Requests", Measure: MeasureQuantity, Class: Under},
			{SubscriptionID: "sub_1", Meter: "Requests", Measure: MeasureQuantity, Class: Under},
		},
		Settle:   SettleStats{Budget: time.Minute, Polls: 5, Settled: 1, Elapsed: 20 * time.Second},
		ScanTime: 2 * time.Second,
		Heal:     &HealStats{Subscriptions: 1, Resent: 5, Accepted: 2, Before: 1, After: 0},
		Bill: &BillStats{Period: period, Billed: 3, Created: 1, Found: 2, Finalized: 1, Mismatched: 1,
			Totals: map[string]billing.Money{"USD": billing.MustMoney("1000000000005"), "EUR": billing.MustMoney("7")}},
		Invoices: []Invoice{{SubscriptionID: "sub_a"}, {SubscriptionID: "sub_b"}},
	}
	if diff := cmp.Diff(want, got, quantities, cmp.AllowUnexported(Result{})); diff != "" {
		t.Errorf("Merge (-want +got):\n%s", diff)
	}
}
