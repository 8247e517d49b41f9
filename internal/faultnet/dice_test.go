package faultnet

import "testing"

// Decisions repeat for a seed, change with it, and hit each rate.
func TestDiceSeeded(t *testing.T) {
	const n, rate = 100000, 0.05
	a, b, c := newDice(1), newDice(1), newDice(2)
	hits, same, diff := 0, 0, 0
	for i := range uint64(n) {
		x := a.at(saltDrop, i)
		if x < 0 || x >= 1 {
			t.Fatalf("at(drop, %d) = %v, want in [0, 1)", i, x)
		}
		if x < rate {
			hits++
		}
		if x == b.at(saltDrop, i) {
			same++
		}
		if x != c.at(saltDrop, i) {
			diff++
		}
		if x == a.at(saltCut, i) {
			t.Fatalf("at(drop, %d) == at(cut, %d): the kinds share a stream", i, i)
		}
	}
	if same != n || diff < n-10 {
		t.Errorf("same seed agreed on %d of %d decisions, another seed differed on %d; want all and nearly all", same, n, diff)
	}
	if got := float64(hits) / n; got < rate*0.9 || got > rate*1.1 {
		t.Errorf("share under %v = %v, want within 10%% of it", rate, got)
	}
}
