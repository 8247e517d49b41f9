package main

import (
	"strings"
	"testing"

	"github.com/billharness/billharness/internal/sandbox"
)

// run without -replay verifies and bills a sandbox loaded beforehand.
func TestRunCommand(t *testing.T) {
	sb, c := checkSandbox(t, sandbox.Config{})
	checkLoad(t, c, checkDay("2026-10-01"), checkDay("2026-11-01"))
	env := map[string]string{"BILLING_TOKEN": sb.AdminToken, "RECONCILE_LOG_LEVEL": "warn", "RECONCILE_RATE": "0"}
	out := t.TempDir()
	code, stdout, stderr := runReconcile(t, env, "run", "-api-url", sb.URL, "-source", checkSource, "-window", checkMonth,
		"-out", out, "-settle", "5s", "-heal", "-bill", "-finalize")
	if code != 0 {
		t.Fatalf("run against a clean sandbox: exit %d, want 0\n%s\n%s", code, stdout, stderr)
	}
	s := checkSummary(t, out)
	if s.Command != "run" || s.Status != "ok" || s.Invoices == nil || s.Invoices.Billed != 255 || s.Heal == nil || s.Heal.Subscriptions != 0 {
		t.Errorf("run summary = %+v", s)
	}
}

// -replay fails clearly until the replay step is wired, and writes a
// report saying so.
// run -replay sends the day's events into an empty sandbox, then verifies
// them: everything matches, and the summary carries the replay's counts.
func TestRunReplay(t *testing.T) {
	sb, _ := checkSandbox(t, sandbox.Config{})
	out := t.TempDir()
	code, _, stderr := runReconcile(t, map[string]string{"BILLING_TOKEN": sb.AdminToken}, "run", "-api-url", sb.URL,
		"-source", checkSource, "-window", checkDay1, "-out", out, "-replay", "-replay-rate", "0")
	if code != 0 {
		t.Fatalf("run -replay: exit %d, want 0\n%s", code, stderr)
	}
	s := checkSummary(t, out)
	if s.Status != "ok" || s.Classes["match"] == 0 || s.Classes["under"] != 0 {
		t.Errorf("run -replay summary: status %s, classes %v; want ok and only matches", s.Status, s.Classes)
	}
	if rs := s.Replay.Own(); rs == nil || rs.Accepted != int64(s.Rows.Counted) {
		t.Errorf("summary replay = %v, want accepted = the %d events counted", s.Replay, s.Rows.Counted)
	}
	if got := sb.Server.Stats().EventsStored; got != int64(s.Rows.Counted) {
		t.Errorf("sandbox stored %d events, want %d", got, s.Rows.Counted)
	}
}

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
