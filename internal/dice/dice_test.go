package dice

import (
	"fmt"
	"testing"
)

// Decisions repeat for a seed, change with it, hit each rate, and each
// salt has a stream of its own.
func TestDiceSeeded(t *testing.T) {
	const n, rate = 100000, 0.05
	a, b, c := New(1, 2), New(1, 2), New(2, 2)
	hits, same, diff := 0, 0, 0
	for i := range uint64(n) {
		x := a.ByN(0, i)
		if x < 0 || x >= 1 {
			t.Fatalf("ByN(0, %d) = %v, want in [0, 1)", i, x)
		}
		if x < rate {
			hits++
		}
		if x == b.ByN(0, i) {
			same++
		}
		if x != c.ByN(0, i) {
			diff++
		}
		if x == a.ByN(1, i) {
			t.Fatalf("ByN(0, %d) == ByN(1, %d): the kinds share a stream", i, i)
		}
	}
	if same != n || diff < n-10 {
		t.Errorf("same seed agreed on %d of %d decisions, another seed differed on %d; want all and nearly all", same, n, diff)
	}
	if got := float64(hits) / n; got < rate*0.9 || got > rate*1.1 {
		t.Errorf("share under %v = %v, want within 10%% of it", rate, got)
	}
}

// An id's decision does not depend on when it is asked: the same ids are
// picked at any concurrency, and different ids spread evenly.
func TestByID(t *testing.T) {
	d := New(7, 1)
	hits := 0
	for i := range 100000 {
		id := []byte(fmt.Sprintf("evt-%d", i))
		x := d.ByID(0, id)
		if x != d.ByID(0, id) || x < 0 || x >= 1 {
			t.Fatalf("ByID(%s) = %v, then %v", id, x, d.ByID(0, id))
		}
		if x < 0.05 {
			hits++
		}
	}
	if hits < 4500 || hits > 5500 {
		t.Errorf("ids under 0.05: %d of 100000, want about 5000", hits)
	}
}
