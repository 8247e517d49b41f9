package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/billharness/billharness/internal/pgtest"
)

// Two replays on one checkpoint or one dead-letter file: the second is
// refused at once with exit 2, naming the run that holds it, and the
// first is undisturbed. Checked for a file checkpoint, a PostgreSQL
// checkpoint (advisory lock) and a dead-letter file alone.
func TestReplayRefusesOverlappingRuns(t *testing.T) {
	e := newBadEnv(t)
	file := filepath.Join(t.TempDir(), "events.parquet")
	writeParquet(t, file, e.good(2000))
	src := "parquet:" + file
	dir := t.TempDir()
	tests := []struct {
		name        string
		first, next []string // checkpoint and dead-letter flags of each run
		wantHolder  string
	}{
		{"file checkpoint",
			[]string{"-checkpoint", filepath.Join(dir, "a.ckpt"), "-dead-letter", filepath.Join(dir, "a1.jsonl")},
			[]string{"-checkpoint", filepath.Join(dir, "a.ckpt"), "-dead-letter", filepath.Join(dir, "a2.jsonl")}, "pid %d"},
		{"dead-letter file",
			[]string{"-dead-letter", filepath.Join(dir, "b.jsonl")},
			[]string{"-dead-letter", filepath.Join(dir, "b.jsonl")}, "pid %d"},
		{"postgres checkpoint",
			[]string{"-checkpoint", "PG", "-checkpoint-name", "overlap", "-dead-letter", filepath.Join(dir, "c1.jsonl")},
			[]string{"-checkpoint", "PG", "-checkpoint-name", "overlap", "-dead-letter", filepath.Join(dir, "c2.jsonl")}, "billharness replay pid %d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, args := range [][]string{tt.first, tt.next} {
				for i, a := range args {
					if a == "PG" {
						args[i] = pgtest.DSN(t)
					}
				}
			}
			before := e.sb.Server.Stats().EventsStored
			p := child(t, e.sb, append([]string{"replay", "-source", src, "-rate", "20/s", "-concurrency", "1", "-progress", "off", "-restart"}, tt.first...)...)
			t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.wait() })
			waitStored(t, e.sb, before+1, p) // the first run holds its locks by now
			o := replayBad(t, e, src, tt.next...)
			holder := fmt.Sprintf(tt.wantHolder, p.cmd.Process.Pid)
			if o.code != 2 || !strings.Contains(o.stderr, "in use by another run") || !strings.Contains(o.stderr, holder) {
				t.Errorf("second run: exit %d, stderr %q; want 2 naming %q", o.code, o.stderr, holder)
			}
			if o.summary != nil {
				t.Errorf("the refused run replayed: %+v", o.summary)
			}
			if p.exited() {
				t.Errorf("the first run exited: %s", p.out.String())
			}
		})
	}
}
