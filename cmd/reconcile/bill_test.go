package main

import (
	"strings"
	"testing"

	"github.com/billharness/billharness/internal/sandbox"
)

// bill bills every subscription once per period and finds the lines a
// doubled event inflated; a second run gets the same invoices.
func TestBillCommand(t *testing.T) {
	sb, c := checkSandbox(t, sandbox.Config{DoubleRate: 0.05, Seed: 9})
	checkLoad(t, c, checkDay("2026-10-01"), checkDay("2026-11-01"))
	if len(sb.Server.Faults().Doubled) == 0 {
		t.Fatal("the sandbox doubled nothing; pick another seed")
	}
	env := map[string]string{"BILLING_TOKEN": sb.AdminToken, "RECONCILE_LOG_LEVEL": "warn"}
	out := t.TempDir()
	args := []string{"bill", "-api-url", sb.URL, "-source", checkSource, "-period", checkMonth, "-out", out, "-rate", "0", "-finalize"}
	code, stdout, stderr := runReconcile(t, env, args...)
	if code != 3 {
		t.Fatalf("bill against a sandbox that doubles events: exit %d, want 3\n%s\n%s", code, stdout, stderr)
	}
	s := checkSummary(t, out)
	inv := s.Invoices
	if inv == nil || inv.Billed != 255 || inv.Finalized != 255 || inv.Failed != 0 || inv.Mismatched == 0 || s.Classes["invoice"] == 0 {
		t.Fatalf("bill summary = %+v, invoices %+v; want 255 billed and finalized, some misbilled", s, inv)
	}
	over := map[string]bool{}
	for sub, classes := range checkFlagged(t, out) {
		for _, c := range classes {
			if c == "over" {
				over[sub] = true
			}
		}
		if strings.Contains(strings.Join(classes, ","), "invoice") && !over[sub] {
			t.Errorf("%s has a misbilled line but no over pair: %v", sub, classes)
		}
	}
	if !strings.Contains(stdout, "invoices: 255 billed (255 finalized, 0 skipped, 0 failed)") {
		t.Errorf("stdout lacks the invoice line:\n%s", stdout)
	}

	// Only the subscriptions that matched, again: the same invoices, and
	// the mismatched ones skipped.
	code, stdout, stderr = runReconcile(t, env, append(args, "-only-matched")...)
	s = checkSummary(t, out)
	if code != 3 || s.Invoices.Skipped != s.SubscriptionsWithDiscrepancies || s.Invoices.Billed+s.Invoices.Skipped != 255 || s.Classes["invoice"] != 0 {
		t.Errorf("bill -only-matched: exit %d, invoices %+v, %d subscriptions with discrepancies\n%s\n%s", code, s.Invoices, s.SubscriptionsWithDiscrepancies, stdout, stderr)
	}
}
