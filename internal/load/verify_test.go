package load

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
)

// verifyRun runs 1 s of synthetic load at 300/s against a sandbox with
// cfg, then verifies usage.
func verifyRun(t *testing.T, cfg sandbox.Config, timeout time.Duration) (*Verification, *Result) {
	t.Helper()
	sb := sandboxtest.Start(t, cfg)
	syn := synthetic(t, sb, 8)
	sch, err := Constant(300, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, Config{Client: testClient(t, sb, 100), Events: syn.Worker, Schedule: sch})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := Verify(ctx, adminClient(t, sb), syn.Catalog, syn.Ledger, VerifyConfig{
		From: res.Start.Add(-time.Second), To: res.End.Add(time.Second), Timeout: timeout, Poll: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return v, res
}

func TestVerify(t *testing.T) {
	t.Run("lagging usage settles", func(t *testing.T) {
		v, res := verifyRun(t, sandbox.Config{UsageLag: 300 * time.Millisecond}, 10*time.Second)
		if !v.Pass || v.Matched != 8 || v.Rounds < 1 {
			t.Errorf("Verify = %+v, want a pass over 8 subscriptions", v)
		}
		if res.Counts[Class2xx] != 300 {
			t.Errorf("2xx = %d, want 300", res.Counts[Class2xx])
		}
	})
	t.Run("lost events fail", func(t *testing.T) {
		v, _ := verifyRun(t, sandbox.Config{DropRate: 0.2, Seed: 5}, 300*time.Millisecond)
		if v.Pass || v.Mismatched == 0 || len(v.Mismatches) == 0 {
			t.Fatalf("Verify = %+v, want mismatches: the sandbox lost 20%% of the events", v)
		}
		m := v.Mismatches[0]
		if m.Reported == "" || m.Accepted == 0 {
			t.Errorf("mismatch = %+v, want accepted and reported values", m)
		}
	})
	t.Run("unanswered events are allowed for", func(t *testing.T) {
		// Resets close the connection after storing: the event counts
		// although the client got no answer.
		v, res := verifyRun(t, sandbox.Config{ResetRate: 0.2, Seed: 6}, 10*time.Second)
		if res.Counts[ClassError] == 0 {
			t.Fatalf("no transport errors: the test needs resets")
		}
		if !v.Pass {
			t.Errorf("Verify = %+v, want a pass: unanswered events may or may not count", v)
		}
	})
}

func TestVerifyReportsUsageErrors(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Config{})
	cat := &Catalog{Meters: nil, Accounts: []Account{{CustomerID: "c", SubscriptionID: "sub_missing"}}}
	v, err := Verify(context.Background(), adminClient(t, sb), cat, NewLedger(1), VerifyConfig{Timeout: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if v.Pass || len(v.Mismatches) != 1 || !strings.Contains(v.Mismatches[0].Error, "404") {
		t.Errorf("Verify of an unknown subscription = %+v, want one mismatch with the 404", v)
	}
}
