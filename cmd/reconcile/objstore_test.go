package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/objstore/objstoretest"
	"github.com/billharness/billharness/internal/report"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
)

// Replay and verify read from an S3-compatible server (versitygw, through
// the flags a job sets) give exactly what they give from the same files on
// disk: the same events stored, the same usage, the same source accounting
// and the same discrepancy report, sharded and not.
func TestObjectStoreEqualsLocalFiles(t *testing.T) {
	b := objstoretest.NewBucket(t)
	b.PutTree(filepath.Join(sample, "parquet"), "usage")
	local := "parquet:" + filepath.Join(sample, "parquet")
	remote := "parquet:" + b.URL("usage/dt=2026-*")
	env := func(sb *sandboxtest.Sandbox) map[string]string {
		return map[string]string{"BILLING_API_URL": sb.URL, "BILLING_TOKEN": sb.AdminToken,
			"RECONCILE_S3_ENDPOINT": b.Config.Endpoint, "RECONCILE_S3_PATH_STYLE": "true"}
	}
	dir := t.TempDir()
	replayInto := func(sb *sandboxtest.Sandbox, name, src string, extra ...string) {
		t.Helper()
		args := append([]string{"replay", "-source", src, "-window", checkMonth, "-rate", "0", "-progress", "off",
			"-dead-letter", filepath.Join(dir, name+".dl.jsonl"), "-summary", filepath.Join(dir, name+".json")}, extra...)
		if code, out, errOut := runReconcile(t, env(sb), args...); code != 0 {
			t.Fatalf("replay %s: exit %d\n%s%s", name, code, out, errOut)
		}
	}

	// Replay: local, remote whole, remote in four shards, each into its
	// own faithful sandbox.
	sbLocal, sbRemote, sbShards := sandboxtest.StartSample(t, sandbox.Config{}), sandboxtest.StartSample(t, sandbox.Config{}), sandboxtest.StartSample(t, sandbox.Config{})
	replayInto(sbLocal, "local", local)
	replayInto(sbRemote, "remote", remote)
	for i := range 4 {
		replayInto(sbShards, fmt.Sprintf("shard-%d", i), remote, "-shard", fmt.Sprintf("%d/4", i))
	}
	want := usageTotals(t, sbLocal)
	sameUsage(t, want, usageTotals(t, sbRemote))
	sameUsage(t, want, usageTotals(t, sbShards))
	n := sbLocal.Server.Stats().EventsStored
	if r, s := sbRemote.Server.Stats().EventsStored, sbShards.Server.Stats().EventsStored; r != n || s != n {
		t.Errorf("events stored: local %d, remote %d, remote in shards %d", n, r, s)
	}
	ls, rs := readSummary(t, filepath.Join(dir, "local.json")), readSummary(t, filepath.Join(dir, "remote.json"))
	if rs.Source.Requests == 0 || rs.Source.BytesRead == 0 {
		t.Errorf("remote replay counted no requests or bytes: %+v", rs.Source)
	}
	lsrc, rsrc := ls.Source, rs.Source
	lsrc.BytesRead, rsrc.BytesRead, rsrc.Requests, rsrc.Retries = 0, 0, 0, 0
	if lsrc != rsrc || ls.Read != rs.Read || ls.Accepted != rs.Accepted || ls.Duplicate != rs.Duplicate || ls.DeadLettered != rs.DeadLettered {
		t.Errorf("replay accounting differs:\nremote %+v\nlocal  %+v", rs, ls)
	}

	// Verify against an API that lost and doubled some events, so that
	// there are discrepancy rows to compare: local, remote, and remote in
	// two shards merged.
	lossy := sandboxtest.StartSample(t, sandbox.Config{Seed: 7, DropRate: 0.01, DoubleRate: 0.01})
	replayInto(lossy, "lossy", local)
	verify := func(name, src string, extra ...string) string {
		t.Helper()
		out := filepath.Join(dir, name)
		args := append([]string{"verify", "-source", src, "-window", checkMonth, "-out", out, "-rate", "0", "-run-id", "rc-s3"}, extra...)
		if code, stdout, stderr := runReconcile(t, env(lossy), args...); code != 3 {
			t.Fatalf("verify %s: exit %d, want 3 (the API lost events)\n%s%s", name, code, stdout, stderr)
		}
		return out
	}
	single := verify("v-local", local)
	for _, got := range []string{verify("v-remote", remote), mergeShards(t, dir, verify("v-0", remote, "-shard", "0/2"), verify("v-1", remote, "-shard", "1/2"))} {
		w, g := comparable(t, single), comparable(t, got)
		w.Source, g.Source = "", ""
		exact := cmp.Comparer(func(a, b billing.Quantity) bool { return a.Cmp(b) == 0 })
		if diff := cmp.Diff(w, g, exact); diff != "" {
			t.Errorf("%s summary.json (-local +remote):\n%s", got, diff)
		}
		for _, name := range []string{report.JSONLFile, report.CSVFile} {
			a, _ := os.ReadFile(filepath.Join(single, name))
			b, err := os.ReadFile(filepath.Join(got, name))
			if err != nil || !bytes.Equal(a, b) || len(a) == 0 {
				t.Errorf("%s/%s differs from the local run's (%v)", got, name, err)
			}
		}
	}
}

// mergeShards merges shard report directories into dir/merged.
func mergeShards(t *testing.T, dir string, shards ...string) string {
	t.Helper()
	out := filepath.Join(dir, "merged")
	if code, stdout, stderr := runReconcile(t, nil, append([]string{"merge", "-out", out}, shards...)...); code != 3 {
		t.Fatalf("merge: exit %d, want 3\n%s%s", code, stdout, stderr)
	}
	return out
}

// A checkpointed replay from object storage resumes as one from disk: an
// object that appeared in an earlier partition is sent whole, and an
// object the checkpoint covered, rewritten since, is refused by name.
func TestReplayResumeSendsLateObjects(t *testing.T) {
	e := newBadEnv(t)
	b := objstoretest.NewBucket(t)
	put := func(key string, rows []eventRow) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "f.parquet")
		writeParquet(t, path, rows)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b.Put(key, data)
	}
	put("usage/dt=2026-10-01/part-0.parquet", e.lateRows("day1", 10, badInputDay))
	put("usage/dt=2026-10-03/part-0.parquet", e.lateRows("day3", 10, badInputDay.Add(48*time.Hour)))
	cpPath := filepath.Join(t.TempDir(), "replay.ckpt")
	src := "parquet:" + b.URL("usage/")
	s3 := []string{"-checkpoint", cpPath, "-s3-endpoint", b.Config.Endpoint, "-s3-path-style"}

	o := replayBad(t, e, src, s3...)
	if o.code != 0 || o.summary.Accepted != 20 || o.summary.Source.Requests == 0 {
		t.Fatalf("first run: exit %d, summary %+v\n%s", o.code, o.summary, o.stderr)
	}
	cp := readCheckpoint(t, cpPath)
	if len(cp.Coverage.Files) == 0 && cp.Coverage.Partial == nil {
		t.Fatalf("checkpoint %+v covers no object", cp.Coverage)
	}
	for _, m := range append(cp.Coverage.Files, *cp.Coverage.Partial) {
		if m.Version == "" {
			t.Errorf("checkpoint file mark %+v has no object version", m)
		}
	}

	put("usage/dt=2026-10-02/part-late.parquet", e.lateRows("late", 5, badInputDay.Add(24*time.Hour)))
	o = replayBad(t, e, src, s3...)
	if o.code != 0 || o.summary.Accepted != 5 || o.summary.Source.Late != 5 {
		t.Errorf("resume with a late object: exit %d, accepted %d, late %d; want the late object's 5 rows sent\n%s",
			o.code, o.summary.Accepted, o.summary.Source.Late, o.stderr)
	}
	if n := e.sb.Server.Stats().EventsStored; n != 25 {
		t.Errorf("stored %d events, want 25", n)
	}
	checkResumeAccounting(t, o, cp)

	put("usage/dt=2026-10-01/part-0.parquet", e.lateRows("day1", 11, badInputDay))
	o = replayBad(t, e, src, s3...)
	if first := b.URL("usage/dt=2026-10-01/part-0.parquet"); o.code != 2 || !strings.Contains(o.stderr, first) || !strings.Contains(o.stderr, "-restart") {
		t.Errorf("resume over a rewritten object: exit %d, stderr %q; want 2 naming %s and -restart", o.code, o.stderr, first)
	}
	o = replayBad(t, e, src, append(s3, "-restart")...)
	if o.code != 0 || o.summary.Accepted != 1 || o.summary.Duplicate != 25 {
		t.Errorf("-restart: exit %d, summary %+v; want 1 accepted and 25 duplicates", o.code, o.summary)
	}
}
