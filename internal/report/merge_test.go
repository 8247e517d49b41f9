package report

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/reconcile"
)

// writeRows writes pairs as a report directory's discrepancies.jsonl.
func writeRows(t *testing.T, pairs []reconcile.Pair) string {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, JSONLFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := WriteJSONL(f, &Report{Result: &reconcile.Result{Discrepancies: pairs}}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func pairFor(sub, meter string) reconcile.Pair {
	return reconcile.Pair{SubscriptionID: sub, Meter: meter, Measure: reconcile.MeasureQuantity, Class: reconcile.Under,
		Expected: billing.QuantityFromInt64(2), Observed: billing.QuantityFromInt64(1), Delta: billing.QuantityFromInt64(-1)}
}

// The k-way merge of sorted shard files is the sorted union, whatever
// the split; empty shards included.
func TestMergedPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var all []reconcile.Pair
	shards := make([][]reconcile.Pair, 5) // shard 4 stays empty
	for i := range 2000 {
		p := pairFor(fmt.Sprintf("sub_%05d", rng.IntN(1_000_000)), fmt.Sprintf("m%d", i%3))
		if slices.ContainsFunc(all, func(q reconcile.Pair) bool { return reconcile.ComparePairs(p, q) == 0 }) {
			continue
		}
		all = append(all, p)
		k := rng.IntN(4)
		shards[k] = append(shards[k], p)
	}
	var dirs []string
	for _, s := range shards {
		slices.SortFunc(s, reconcile.ComparePairs)
		dirs = append(dirs, writeRows(t, s))
	}
	slices.SortFunc(all, reconcile.ComparePairs)
	var got []reconcile.Pair
	if err := MergedPairs(dirs)(func(p *reconcile.Pair) error { got = append(got, *p); return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(all, got, cmp.Comparer(func(a, b billing.Quantity) bool { return a.Cmp(b) == 0 })); diff != "" {
		t.Errorf("merged (-sorted union +got):\n%s", diff)
	}
}

func TestMergedPairsRefuses(t *testing.T) {
	a, b, c := pairFor("sub_a", "m"), pairFor("sub_b", "m"), pairFor("sub_c", "m")
	tests := []struct {
		name    string
		shards  [][]reconcile.Pair
		wantErr string
	}{
		{"out of order", [][]reconcile.Pair{{a, c, b}}, "row 3: out of order"},
		{"in two shards", [][]reconcile.Pair{{a, b}, {b, c}}, "also in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dirs []string
			for _, s := range tt.shards {
				dirs = append(dirs, writeRows(t, s))
			}
			err := MergedPairs(dirs)(func(*reconcile.Pair) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("MergedPairs = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
