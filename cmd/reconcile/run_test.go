package main

import (
	"strings"
	"testing"

	"github.com/billharness/billharness/internal/sandbox"
)

// run without -replay verifies and bills a sandbox loaded beforehand.
func TestRunCommand(t *testing.T) {
	sb, c := checkSandbox(t, sandbox.Config{})
	checkLoad(t, c, checkDay("2026-10-05"), checkDay("2026-10-06"))
	env := map[string]string{"BILLING_TOKEN": sb.AdminToken, "RECONCILE_LOG_LEVEL": "warn", "RECONCILE_RATE": "0"}
	out := t.TempDir()
	code, stdout, stderr := runReconcile(t, env, "run", "-api-url", sb.URL, "-source", checkSource, "-window", checkDay1,
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
func TestRunReplayUnavailable(t *testing.T) {
	sb, _ := checkSandbox(t, sandbox.Config{})
	out := t.TempDir()
	code, _, stderr := runReconcile(t, map[string]string{"BILLING_TOKEN": sb.AdminToken}, "run", "-api-url", sb.URL,
		"-source", checkSource, "-window", checkDay1, "-out", out, "-replay")
	if code != 1 || !strings.Contains(stderr, "-replay is not available yet") {
		t.Errorf("run -replay: exit %d, stderr %q; want 1 and a message", code, stderr)
	}
	if s := checkSummary(t, out); s.Status != "failed" || !strings.Contains(s.Error, "replay") {
		t.Errorf("run -replay summary = %+v, want failed with the replay error", s)
	}
}
