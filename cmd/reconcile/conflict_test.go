package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/replay"
	"github.com/billharness/billharness/internal/sandbox"
)

// The same id twice with different payloads: replay sends the copies in
// source order, never at once, so the API keeps the first; the later one
// is a conflicting duplicate in the dead letters and in verify's report,
// never an over or under. A third copy equal to the first is a plain
// duplicate. The sandbox's random latency would reorder racing copies.
func TestConflictingDuplicatesKeepTheFirstCopy(t *testing.T) {
	e := newBadEnv(t)
	e.sb = sampleSandbox(t, sandbox.Config{Latency: sandbox.Latency{Min: 0, Max: 3 * time.Millisecond}, Seed: 5})
	const ids = 150
	var rows []eventRow
	for i := range ids {
		first := e.lateRows(fmt.Sprintf("conflict-%d", i), 1, badInputDay.Add(time.Duration(i)*time.Second))[0]
		first.ID = fmt.Sprintf("conflict-%d", i)
		second, third := first, first
		second.Properties = `{"bytes":99}`
		rows = append(rows, first, second, third)
	}
	file := filepath.Join(t.TempDir(), "events.parquet")
	writeParquet(t, file, rows)
	o := replayBad(t, e, "parquet:"+file, "-concurrency", "32")
	if o.code != 1 || o.summary == nil || o.summary.Accepted != ids || o.summary.Conflicting != ids || o.summary.Duplicate != ids ||
		o.summary.Rejected != 0 {
		t.Fatalf("replay: exit %d, summary %+v; want %d accepted, %d conflicting, %d duplicate, none rejected\n%s", o.code, o.summary, ids, ids, ids, o.stderr)
	}
	for k, l := range o.letters {
		if l.Kind != replay.KindConflict || l.Event == nil || string(l.Event.Properties) != `{"bytes":99}` {
			t.Errorf("letter %s = %+v, want the second copy as a conflicting duplicate", k, l)
		}
	}
	code, out, errOut := runReconcile(t, map[string]string{"BILLING_API_URL": e.sb.URL, "BILLING_TOKEN": e.sb.AdminToken},
		"verify", "-source", "parquet:"+file, "-window", "2026-10-01..2026-11-01", "-out", t.TempDir())
	if code != 0 || !strings.Contains(out+errOut, fmt.Sprintf("conflicting duplicates: %d", ids)) {
		t.Errorf("verify: exit %d, want 0 naming %d conflicting duplicates\n%s\n%s", code, ids, out, errOut)
	}
}
