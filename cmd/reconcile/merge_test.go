package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/reconcile"
	"github.com/billharness/billharness/internal/report"
	"github.com/billharness/billharness/internal/source"
)

// shardReport is the report of shard i/n of a verify over October, with
// one under pair in subscription sub_<i>.
func shardReport(i, n int) *report.Report {
	window := source.Window{From: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	p := reconcile.Pair{SubscriptionID: fmt.Sprintf("sub_%d", i), Meter: "Requests", Measure: reconcile.MeasureQuantity,
		Class: reconcile.Under, Expected: billing.QuantityFromInt64(10), Observed: billing.QuantityFromInt64(9), Delta: billing.QuantityFromInt64(-1)}
	ev := int64(100 / n) // the shards split 100 rows
	if i < 100%n {
		ev++
	}
	return &report.Report{
		RunID: "rc-job", Command: "verify", GeneratedAt: time.Date(2026, 11, 1, 6, i, 0, 0, time.UTC),
		Source: "parquet:/data", Target: "https://api.bill.sh", Tolerance: "exact", ExitStatus: 3,
		Result: &reconcile.Result{
			Window: window, Shard: source.Shard{Index: i, Count: n},
			Rows:   reconcile.Rows{Declared: 100, Read: 100, Events: ev, Counted: 10, OtherShards: 100 - ev},
			Counts: map[reconcile.Class]int{reconcile.Match: 4, reconcile.Under: 1}, Pairs: 5, Subscriptions: 1,
			Discrepancies: []reconcile.Pair{p},
		},
	}
}

// writeShards writes reports into dir/shard-<name> and returns the
// directories.
func writeShards(t *testing.T, dir string, reps map[string]*report.Report) []string {
	t.Helper()
	var dirs []string
	for name, r := range reps {
		d := filepath.Join(dir, "shard-"+name)
		if _, err := report.Write(d, r); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	return dirs
}

func TestMergeCommand(t *testing.T) {
	dir := t.TempDir()
	writeShards(t, dir, map[string]*report.Report{"0": shardReport(0, 2), "1": shardReport(1, 2)})
	out := filepath.Join(dir, "merged")
	code, stdout, stderr := runReconcile(t, nil, "merge", "-out", out, filepath.Join(dir, "shard-*"))
	if code != 3 {
		t.Fatalf("merge exit %d, want 3 (discrepancies)\n%s%s", code, stdout, stderr)
	}
	got, err := report.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if got.RunID != "rc-job" || got.Command != "verify" || !got.GeneratedAt.Equal(time.Date(2026, 11, 1, 6, 1, 0, 0, time.UTC)) {
		t.Errorf("merged run %q, command %q, generated %v; want the shards' run id and command, and the last shard's time", got.RunID, got.Command, got.GeneratedAt)
	}
	res := got.Result
	if res.Shard != (source.Shard{}) || res.Pairs != 10 || res.Counts[reconcile.Under] != 2 || len(res.Discrepancies) != 2 ||
		res.Rows.Declared != 100 || res.Rows.Counted != 20 || res.Rows.OtherShards != 0 {
		t.Errorf("merged result = %+v; want the whole, 10 pairs, 2 under, 100 rows declared once, 20 counted, none in other shards", res)
	}
	if !strings.Contains(stdout, "shard 0/1") || !strings.Contains(stdout, "under 2") {
		t.Errorf("merge stdout = %q, want the summary of the whole", stdout)
	}
}

func TestMergeCommandRefuses(t *testing.T) {
	failed := shardReport(1, 3)
	failed.ExitStatus, failed.Error = 1, "2 pairs could not be compared: the API call failed"
	early := &report.Report{RunID: "rc-job", Command: "verify", ExitStatus: 1, Error: "source read incomplete"}
	otherTolerance := shardReport(1, 2)
	otherTolerance.Tolerance = "abs=1"
	tests := []struct {
		name     string
		shards   map[string]*report.Report
		args     []string // after the directories' glob, when shards are given
		wantCode int
		wantErr  []string
	}{
		{name: "no directories", wantCode: 2, wantErr: []string{"no report directories"}},
		{name: "glob matching nothing", args: []string{"/nonexistent/shard-*"}, wantCode: 2, wantErr: []string{"/nonexistent/shard-*: matches no directory"}},
		{name: "bad pushgateway", args: []string{"-pushgateway", "gateway:9091", "x"}, wantCode: 2, wantErr: []string{`-pushgateway "gateway:9091": want an http(s):// URL`}},
		{name: "missing shard", shards: map[string]*report.Report{"0": shardReport(0, 3), "2": shardReport(2, 3)}, wantCode: 1,
			wantErr: []string{"missing shards: 1/3"}},
		{name: "shard twice", shards: map[string]*report.Report{"0": shardReport(0, 2), "1": shardReport(1, 2), "1-again": shardReport(1, 2)}, wantCode: 1,
			wantErr: []string{"shards given more than once: 1/2 (2 times)"}},
		{name: "directory repeated", shards: map[string]*report.Report{"0": shardReport(0, 3), "1": shardReport(1, 3), "2": shardReport(2, 3)},
			args: []string{"SHARD-1"}, wantCode: 2, wantErr: []string{"shard-1 is given more than once", "each shard's directory once"}},
		{name: "other tolerance", shards: map[string]*report.Report{"0": shardReport(0, 2), "1": otherTolerance}, wantCode: 1,
			wantErr: []string{`tolerance "abs=1" differs from "exact"`}},
		{name: "shard failed before comparing", shards: map[string]*report.Report{"0": shardReport(0, 2), "1": early}, wantCode: 1,
			wantErr: []string{"shard-1: the verify run rc-job failed before it compared anything: source read incomplete"}},
		// A shard that failed after comparing merges, and the merge fails too.
		{name: "shard failed", shards: map[string]*report.Report{"0": shardReport(0, 3), "1": failed, "2": shardReport(2, 3)}, wantCode: 1,
			wantErr: []string{"shard 1/3 (", "failed: 2 pairs could not be compared"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"merge", "-out", filepath.Join(dir, "merged")}
			if tt.shards != nil {
				writeShards(t, dir, tt.shards)
				args = append(args, filepath.Join(dir, "shard-*"))
			}
			for i, a := range tt.args {
				if a == "SHARD-1" {
					tt.args[i] = filepath.Join(dir, "shard-1")
				}
			}
			code, stdout, stderr := runReconcile(t, nil, append(args, tt.args...)...)
			if code != tt.wantCode {
				t.Fatalf("merge exit %d, want %d\n%s%s", code, tt.wantCode, stdout, stderr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(stderr, w) {
					t.Errorf("merge stderr = %q, want it to contain %q", stderr, w)
				}
			}
		})
	}
}

// Flags after the directories are flags, not directories: "merge A B -out
// X" writes to X.
func TestMergeFlagsAfterDirectories(t *testing.T) {
	dir := t.TempDir()
	dirs := writeShards(t, dir, map[string]*report.Report{"0": shardReport(0, 2), "1": shardReport(1, 2)})
	out := filepath.Join(dir, "merged")
	code, stdout, stderr := runReconcile(t, nil, "merge", dirs[0], dirs[1], "-out", out)
	if code != 0 && code != 3 {
		t.Fatalf("merge A B -out X = exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, report.SummaryFile)); err != nil {
		t.Errorf("merge A B -out X did not write X: %v", err)
	}
}

// The output directory cannot be one of the shards': merging would
// overwrite a shard's report with the merged one.
func TestMergeOutIsAShard(t *testing.T) {
	dir := t.TempDir()
	dirs := writeShards(t, dir, map[string]*report.Report{"0": shardReport(0, 1)})
	before, _ := os.ReadFile(filepath.Join(dirs[0], report.SummaryFile))
	code, _, stderr := runReconcile(t, nil, "merge", "-out", dirs[0]+"/", dirs[0])
	if code != 2 || !strings.Contains(stderr, "is one of the shards' directories") {
		t.Errorf("merge -out SHARD SHARD = exit %d, %q; want 2 naming the clash", code, stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(dirs[0], report.SummaryFile)); string(after) != string(before) {
		t.Errorf("merge changed the shard's summary.json")
	}
}
