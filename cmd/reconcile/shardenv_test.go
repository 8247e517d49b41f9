package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/replay"
	"github.com/billharness/billharness/internal/source"
)

// dryRun replays the sample without sending, with env as the environment,
// and returns the statistics it writes to -summary.
func dryRun(t *testing.T, env map[string]string, args ...string) (replay.Stats, int, string) {
	t.Helper()
	summary := filepath.Join(t.TempDir(), "summary.json")
	args = append([]string{"replay", "-source", "parquet:" + filepath.Join(sample, "parquet"), "-dry-run", "-progress", "off", "-summary", summary}, args...)
	code, _, stderr := runReconcile(t, env, args...)
	var st replay.Stats
	if code == 0 {
		b, err := os.ReadFile(summary)
		if err == nil {
			err = json.Unmarshal(b, &st)
		}
		if err != nil {
			t.Fatalf("replay -summary: %v", err)
		}
	}
	return st, code, stderr
}

// In an Indexed Job's pod, a command without -shard takes shard
// JOB_COMPLETION_INDEX/RECONCILE_SHARDS; -shard (or RECONCILE_SHARD) wins.
func TestShardFromJobIndex(t *testing.T) {
	explicit, code, stderr := dryRun(t, nil, "-shard", "1/3")
	if code != 0 || explicit.Source.SkippedShard == 0 || explicit.Valid == 0 {
		t.Fatalf("replay -shard 1/3 -dry-run: exit %d, stats %+v, %s; want a shard of the events", code, explicit.Source, stderr)
	}
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		want     int64 // valid events, -1 for the whole
		wantCode int
		wantErr  string
	}{
		{name: "from the job index", env: map[string]string{"JOB_COMPLETION_INDEX": "1", "RECONCILE_SHARDS": "3"}, want: explicit.Valid},
		{name: "flag wins", env: map[string]string{"JOB_COMPLETION_INDEX": "0", "RECONCILE_SHARDS": "2"}, args: []string{"-shard", "1/3"}, want: explicit.Valid},
		{name: "variable wins", env: map[string]string{"JOB_COMPLETION_INDEX": "0", "RECONCILE_SHARD": "1/3"}, want: explicit.Valid},
		{name: "neither: the whole", want: -1},
		{name: "index without count", env: map[string]string{"JOB_COMPLETION_INDEX": "1"}, wantCode: 2,
			wantErr: "JOB_COMPLETION_INDEX=1 is set but RECONCILE_SHARDS is not"},
		{name: "count without index", env: map[string]string{"RECONCILE_SHARDS": "3"}, wantCode: 2,
			wantErr: "RECONCILE_SHARDS=3 is set but JOB_COMPLETION_INDEX is not"},
		{name: "index beyond count", env: map[string]string{"JOB_COMPLETION_INDEX": "3", "RECONCILE_SHARDS": "3"}, wantCode: 2,
			wantErr: "JOB_COMPLETION_INDEX=3, RECONCILE_SHARDS=3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, code, stderr := dryRun(t, tt.env, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Fatalf("replay %v with %v: exit %d, stderr %q; want %d and %q", tt.args, tt.env, code, stderr, tt.wantCode, tt.wantErr)
			}
			switch {
			case code != 0:
			case tt.want < 0 && st.Source.SkippedShard != 0:
				t.Errorf("replay with %v skipped %d records of other shards, want none", tt.env, st.Source.SkippedShard)
			case tt.want >= 0 && st.Valid != tt.want:
				t.Errorf("replay with %v sent %d events, want shard 1/3's %d", tt.env, st.Valid, tt.want)
			}
		})
	}
	// verify resolves the shard the same way, before any I/O.
	code, _, stderr = runReconcile(t, map[string]string{"JOB_COMPLETION_INDEX": "2"}, "verify", "-source", "parquet:x", "-window", "last-month")
	if code != 2 || !strings.Contains(stderr, "RECONCILE_SHARDS is not") {
		t.Errorf("verify with JOB_COMPLETION_INDEX alone: exit %d, %q; want 2 naming RECONCILE_SHARDS", code, stderr)
	}
}

// The pods of a sharded backfill share one Postgres checkpoint table: each
// needs a row of its own, or a rescheduled pod would resume another's
// position. The default name derives from the fingerprint, which holds the
// shard and the window.
func TestCheckpointNamePerShard(t *testing.T) {
	names := map[string]string{}
	for _, tt := range []struct{ shard, window string }{
		{"0/3", "2026-10-01..2026-11-01"}, {"1/3", "2026-10-01..2026-11-01"}, {"2/3", "2026-10-01..2026-11-01"},
		{"0/1", "2026-10-01..2026-11-01"}, {"0/3", "2026-11-01..2026-12-01"},
	} {
		o := &replayOptions{checkpoint: "postgres://ckpt@db/ops"}
		o.src.Source = "parquet:/data"
		if err := o.src.shard.Set(tt.shard); err != nil {
			t.Fatal(err)
		}
		if err := o.src.window.Set(tt.window); err != nil {
			t.Fatal(err)
		}
		spec, err := o.src.spec(func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		job := replay.Job{Spec: spec, Checkpoint: o.checkpoint}
		store, ok := job.CheckpointStore().(replay.PostgresStore)
		if !ok {
			t.Fatalf("store for %s = %T, want a PostgresStore", o.checkpoint, job.CheckpointStore())
		}
		key := tt.shard + " " + tt.window
		for other, name := range names {
			if name == store.Name {
				t.Errorf("checkpoint name of %s = %s, the same as %s's", key, name, other)
			}
		}
		names[key] = store.Name
	}
}

// -window last-month is the previous calendar month in UTC when the
// command runs, as a month-end CronJob needs.
func TestRelativeWindowFlag(t *testing.T) {
	before, _ := source.ParseWindowAt("last-month", time.Now())
	st, code, stderr := dryRun(t, map[string]string{"RECONCILE_WINDOW": "last-month"})
	after, _ := source.ParseWindowAt("last-month", time.Now())
	if code != 0 {
		t.Fatalf("replay with RECONCILE_WINDOW=last-month: exit %d, %s", code, stderr)
	}
	o := &replayOptions{}
	if err := o.src.window.Set("last-month"); err != nil {
		t.Fatal(err)
	}
	if w := o.src.window; w != before && w != after {
		t.Errorf("-window last-month = %v, want %v", w, after)
	}
	if st.Read+st.Source.SkippedWindow != st.Source.Declared {
		t.Errorf("replay with last-month read %d and skipped %d of %d declared rows, want every row accounted for", st.Read, st.Source.SkippedWindow, st.Source.Declared)
	}
}
