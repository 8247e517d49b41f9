package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/billharness/billharness/internal/replay"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
)

// Dead letters are not a dead end: -source deadletter:FILE re-sends the
// records that failed, keeps the letters that would fail again, and leaves
// in FILE exactly what is still undelivered, the old file beside it. A run
// whose dead-letter file holds letters of earlier runs exits 1 naming them
// until they are re-driven or accepted.
func TestReplayRedrivesDeadLetters(t *testing.T) {
	e, down, dir, file, rows := redriveSetup(t)
	dl := filepath.Join(dir, "dl.jsonl")
	env := func(url, token string) map[string]string {
		return map[string]string{"BILLING_API_URL": url, "BILLING_TOKEN": token}
	}
	healthy := env(e.sb.URL, e.sb.AdminToken)

	// Against a target that fails everything: 21 failed, 1 invalid.
	code, _, errOut := runReconcile(t, env(down.URL, down.AdminToken), "replay", "-source", "parquet:"+file, "-dead-letter", dl,
		"-rate", "0", "-progress", "off")
	if letters := letterLines(t, dl); code != 1 || len(letters) != 22 {
		t.Fatalf("against a failing target: exit %d, %d letters; want 1 and 22\n%s", code, len(letters), errOut)
	}

	// The re-drive delivers the 20, gets the unknown customer rejected,
	// keeps the invalid one.
	code, out, errOut := runReconcile(t, healthy, "replay", "-source", "deadletter:"+dl, "-rate", "0", "-progress", "off")
	if code != 1 || !strings.Contains(errOut, "2 letters remain in "+dl) {
		t.Errorf("re-drive: exit %d, stderr %q; want 1 and 2 letters remaining", code, errOut)
	}
	if n := e.sb.Server.Stats().EventsStored; n != 20 {
		t.Errorf("re-drive stored %d events, want 20\n%s", n, out)
	}
	kinds := map[string]int{}
	for _, l := range letterLines(t, dl) {
		kinds[l.Kind]++
		if l.Kind == replay.KindRejected && (l.Event == nil || l.Event.ID != "unknown-customer") {
			t.Errorf("rejected letter %+v, want the unknown customer's", l)
		}
	}
	if len(kinds) != 2 || kinds[replay.KindRejected] != 1 || kinds[replay.KindInvalid] != 1 {
		t.Errorf("after the re-drive the file holds %v; want the rejected and the invalid letter", kinds)
	}
	old, _ := filepath.Glob(dl + ".redriven-*")
	if len(old) != 1 || len(letterLines(t, old[0])) != 22 {
		t.Errorf("old file kept as %v, want one file with the 22 letters", old)
	}
	if _, err := os.Stat(replay.AgainPath(dl)); !os.IsNotExist(err) {
		t.Errorf("the re-drive's scratch file is left behind: %v", err)
	}

	// Nothing left to re-send; the two letters accepted as they are.
	if code, _, errOut := runReconcile(t, healthy, "replay", "-source", "deadletter:"+dl, "-progress", "off", "-accept-dead-letters"); code != 0 {
		t.Errorf("re-drive with -accept-dead-letters: exit %d\n%s", code, errOut)
	}

	// A run that delivers everything, on a file holding earlier letters.
	good := filepath.Join(dir, "good.parquet")
	writeParquet(t, good, rows)
	code, _, errOut = runReconcile(t, healthy, "replay", "-source", "parquet:"+good, "-dead-letter", dl, "-progress", "off")
	if code != 1 || !strings.Contains(errOut, "2 dead letters of earlier runs") || !strings.Contains(errOut, "deadletter:"+dl) {
		t.Errorf("run on a file with earlier letters: exit %d, stderr %q; want 1 naming them and the re-drive", code, errOut)
	}
	if code, _, errOut := runReconcile(t, healthy, "replay", "-source", "parquet:"+good, "-dead-letter", dl, "-progress", "off",
		"-accept-dead-letters"); code != 0 {
		t.Errorf("with -accept-dead-letters: exit %d\n%s", code, errOut)
	}
}

// redriveSetup is a sandbox with the sample catalog, one that fails every
// request, and a Parquet file of 20 good events, one of an unknown customer
// and one invalid (no event type).
func redriveSetup(t *testing.T) (e *badEnv, down *sandboxtest.Sandbox, dir, file string, good []eventRow) {
	t.Helper()
	e = newBadEnv(t)
	down = sandboxtest.StartSample(t, sandbox.Config{FailRate: 1})
	good = e.good(20)
	unknown := e.good(1)[0]
	unknown.ID, unknown.CustomerID = "unknown-customer", "01944b1f-0000-7000-8000-0000000dead0"
	invalid := e.good(1)[0]
	invalid.ID, invalid.EventType = "no-type", ""
	dir = t.TempDir()
	file = filepath.Join(dir, "events.parquet")
	writeParquet(t, file, append(slices.Clone(good), unknown, invalid))
	return e, down, dir, file, good
}
