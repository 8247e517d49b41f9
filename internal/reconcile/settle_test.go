package reconcile

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/billharness/billharness/internal/sandbox"
)

// rowsOf returns n api.request events of one subscription.
func rowsOf(sub string, n int, day int) []row {
	var rs []row
	for i, id := range ids(sub, n) {
		rs = append(rs, event(id, "api.request", "cus_"+sub, "sub_"+sub, at(day, 0).Add(time.Duration(i)*time.Minute), `{"bytes":2}`))
	}
	return rs
}

// The sandbox shows events only after a lag; settling re-polls until they
// show. Both clocks are one fake clock that settling's waits move.
func TestVerifySettle(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	_, c := startSandbox(t, sandbox.Config{Data: catalog("a", "b"), UsageLag: 2 * time.Minute, Now: clock.Now})
	src := append(rowsOf("a", 3, 2), rowsOf("b", 2, 3)...)
	send(t, c, src)
	spec := writeParquet(t, src)

	tests := []struct {
		name      string
		settle    time.Duration
		want      map[Class]int
		wantPolls int
	}{
		{"no settle: not visible yet", 0, map[Class]int{Match: 6, Under: 4}, 0},
		{"too short", time.Minute, map[Class]int{Match: 6, Under: 4}, 2},
		{"long enough", 5 * time.Minute, map[Class]int{Match: 10}, 4},
	}
	start := clock.Now()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.ns.Store(start.UnixNano())
			res, err := Verify(context.Background(), Config{Client: c, Source: spec, Window: october,
				Settle: tt.settle, SettleEvery: 30 * time.Second, Now: clock.Now, Sleep: clock.Sleep})
			if err != nil {
				t.Fatalf("Verify = %v", err)
			}
			if diff := cmp.Diff(tt.want, res.Counts); diff != "" {
				t.Errorf("Verify with settle %s counts (-want +got):\n%s", tt.settle, diff)
			}
			if res.Settle.Polls != tt.wantPolls || res.NotYetReflected != 0 {
				t.Errorf("Verify with settle %s: %d polls, %d not yet reflected; want %d, 0", tt.settle, res.Settle.Polls, res.NotYetReflected, tt.wantPolls)
			}
		})
	}
}

// When settling runs out while usage is still rising, the report says the
// usage is not yet reflected; usage that never moved is plainly under.
func TestVerifyNotYetReflected(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	_, c := startSandbox(t, sandbox.Config{Data: catalog("a", "b"), UsageLag: 10 * time.Minute, Now: clock.Now})
	early, late := rowsOf("a", 2, 2), append(rowsOf("a", 1, 3), rowsOf("b", 2, 3)...)
	late[0].ID = "a-late"
	send(t, c, early) // visible at +10m
	clock.Advance(5 * time.Minute)
	send(t, c, late) // visible at +15m
	clock.Advance(time.Minute)

	res, err := Verify(context.Background(), Config{Client: c, Source: writeParquet(t, append(early, late...)), Window: october,
		Settle: 6 * time.Minute, SettleEvery: time.Minute, Now: clock.Now, Sleep: clock.Sleep})
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	got := pairsBy(res)
	for _, w := range []struct {
		key      string
		observed string
		notYet   bool
	}{
		{"sub_a/Requests", "2", true},  // rose from 0 to 2 of 3 while settling
		{"sub_b/Requests", "0", false}, // never moved
	} {
		p := got[w.key]
		if p.Class != Under || p.Observed.String() != w.observed || p.NotYetReflected != w.notYet {
			t.Errorf("%s = %s observed %s not yet reflected %v, want under observed %s, %v", w.key, p.Class, p.Observed, p.NotYetReflected, w.observed, w.notYet)
		}
	}
	if res.NotYetReflected != 2 { // sub_a's Requests and Bytes
		t.Errorf("NotYetReflected = %d, want 2", res.NotYetReflected)
	}
}

// Heal re-sends the events the API lost: under becomes match, and an over
// pair stays as it is.
func TestVerifyHeal(t *testing.T) {
	t.Parallel()
	var src []row
	for _, s := range []string{"a", "b", "c", "d"} {
		src = append(src, rowsOf(s, 40, 2)...)
	}
	sb, c := startSandbox(t, sandbox.Config{Data: catalog("a", "b", "c", "d"), DropRate: 0.2, Seed: 7})
	send(t, c, src)
	send(t, c, []row{event("d-extra", "api.request", "cus_d", "sub_d", at(4, 0), `{"bytes":2}`)})
	dropped := 0
	for _, ids := range sb.Server.Faults().Dropped {
		dropped += len(ids)
	}
	if dropped == 0 {
		t.Fatal("the sandbox dropped nothing; pick another seed")
	}
	spec := writeParquet(t, src)

	res, err := Verify(context.Background(), Config{Client: c, Source: spec, Window: october, Heal: true})
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	h := res.Heal
	if h == nil || h.Accepted != int64(dropped) || h.After != 0 || h.Before == 0 || h.Failed != 0 {
		t.Fatalf("Heal = %+v, want %d accepted and no under left", h, dropped)
	}
	if h.Resent != h.Accepted+h.Duplicates {
		t.Errorf("Heal resent %d = accepted %d + duplicates %d, want equal", h.Resent, h.Accepted, h.Duplicates)
	}
	// sub_d kept its extra event: over, untouched. Whether the drops hit it
	// too decides if it is still over or under-and-over cancelled out.
	for _, p := range res.Discrepancies {
		if p.SubscriptionID != "sub_d" || p.Class != Over {
			t.Errorf("after heal: %s %s is %s, want only sub_d over", p.SubscriptionID, p.Meter, p.Class)
		}
	}
	if res.Counts[Over] != 2 {
		t.Errorf("after heal: %d over pairs, want 2 (sub_d Requests and Bytes)", res.Counts[Over])
	}

	// A second verify finds nothing left to heal.
	res, err = Verify(context.Background(), Config{Client: c, Source: spec, Window: october, Heal: true})
	if err != nil || res.Heal.Subscriptions != 0 || res.Counts[Under] != 0 {
		t.Errorf("second Verify = %v, heal %+v, %d under; want nothing to heal", err, res.Heal, res.Counts[Under])
	}
}
