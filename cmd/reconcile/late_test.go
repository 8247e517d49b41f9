package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billharness/billharness/internal/clitest"
	"github.com/billharness/billharness/internal/replay"
)

// lateRows are n valid events of e's subscription with ids prefix-0…,
// timestamps from at on, minute by minute.
func (e *badEnv) lateRows(prefix string, n int, at time.Time) []eventRow {
	rows := e.good(n)
	for i := range rows {
		rows[i].ID = fmt.Sprintf("%s-%d", prefix, i)
		rows[i].Timestamp = at.Add(time.Duration(i) * time.Minute)
	}
	return rows
}

func readCheckpoint(t *testing.T, path string) replay.Checkpoint {
	t.Helper()
	return clitest.ReadJSON[replay.Checkpoint](t, path)
}

// checkResumeAccounting asserts the summary's resume accounting: rows
// read plus rows skipped as done make up every row in the window, and the
// rows skipped as done are exactly those the checkpoint says it covered.
func checkResumeAccounting(t *testing.T, o replayOutcome, cp replay.Checkpoint) {
	t.Helper()
	s := o.summary
	if s == nil {
		t.Fatalf("no summary; exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	if s.Source.SkippedResume != cp.Coverage.Rows {
		t.Errorf("skipped as done before the checkpoint: %d rows; the checkpoint covered %d", s.Source.SkippedResume, cp.Coverage.Rows)
	}
	outcomes := s.Accepted + s.Duplicate + s.Rejected + s.Failed + s.Invalid + s.TooOld + s.Abandoned
	if s.Read != outcomes {
		t.Errorf("read %d records, outcomes add up to %d", s.Read, outcomes)
	}
	if got := s.Read + s.Source.SkippedResume + s.Source.SkippedWindow + s.Source.SkippedShard; got != s.Source.Declared {
		t.Errorf("read %d + skipped %d/%d/%d = %d, declared %d", s.Read, s.Source.SkippedResume, s.Source.SkippedWindow, s.Source.SkippedShard, got, s.Source.Declared)
	}
}

// A file added to an earlier hive partition after a finished replay is sent
// on resume; a file rewritten under the checkpoint is refused until
// -restart.
func TestReplayResumeSendsLateParquetFiles(t *testing.T) {
	e := newBadEnv(t)
	dir := t.TempDir()
	for _, d := range []string{"dt=2026-10-01", "dt=2026-10-02", "dt=2026-10-03"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	first := filepath.Join(dir, "dt=2026-10-01", "part-0.parquet")
	writeParquet(t, first, e.lateRows("day1", 10, badInputDay))
	writeParquet(t, filepath.Join(dir, "dt=2026-10-03", "part-0.parquet"), e.lateRows("day3", 10, badInputDay.Add(48*time.Hour)))
	cpPath := filepath.Join(t.TempDir(), "replay.ckpt")
	src := "parquet:" + dir

	o := replayBad(t, e, src, "-checkpoint", cpPath)
	if o.code != 0 || o.summary.Accepted != 20 {
		t.Fatalf("first run: exit %d, summary %+v\n%s", o.code, o.summary, o.stderr)
	}
	cp := readCheckpoint(t, cpPath)

	// The late file sorts before the checkpoint's position.
	writeParquet(t, filepath.Join(dir, "dt=2026-10-02", "part-late.parquet"), e.lateRows("late", 5, badInputDay.Add(24*time.Hour)))
	o = replayBad(t, e, src, "-checkpoint", cpPath)
	if o.code != 0 {
		t.Fatalf("resume with a late file: exit %d\n%s", o.code, o.stderr)
	}
	if o.summary.Accepted != 5 || o.summary.Source.Late != 5 {
		t.Errorf("resume with a late file: accepted %d, late %d; want the late file's 5 rows sent", o.summary.Accepted, o.summary.Source.Late)
	}
	if n := e.sb.Server.Stats().EventsStored; n != 25 {
		t.Errorf("stored %d events, want 25", n)
	}
	checkResumeAccounting(t, o, cp)

	// A file the checkpoint covered is rewritten with one more row.
	writeParquet(t, first, e.lateRows("day1", 11, badInputDay))
	o = replayBad(t, e, src, "-checkpoint", cpPath)
	if o.code != 2 || !strings.Contains(o.stderr, first) || !strings.Contains(o.stderr, "-restart") {
		t.Errorf("resume over a rewritten file: exit %d, stderr %q; want 2 naming the file and -restart", o.code, o.stderr)
	}
	if n := e.sb.Server.Stats().EventsStored; n != 25 {
		t.Errorf("a refused resume stored %d events, want 25", n)
	}
	o = replayBad(t, e, src, "-checkpoint", cpPath, "-restart")
	if o.code != 0 || o.summary.Accepted != 1 || o.summary.Duplicate != 25 {
		t.Errorf("-restart: exit %d, summary %+v; want 1 accepted and 25 duplicates", o.code, o.summary)
	}
}

// A replay stopped inside a file, then resumed after a late file appeared
// in an earlier partition: the rest of the interrupted file and the whole
// late file are sent, nothing else twice.
func TestReplayResumeAfterInterruptWithLateFile(t *testing.T) {
	e := newBadEnv(t)
	dir := t.TempDir()
	for _, d := range []string{"dt=2026-10-01", "dt=2026-10-03"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	const total = 400
	writeParquet(t, filepath.Join(dir, "dt=2026-10-03", "part-0.parquet"), e.lateRows("day3", total, badInputDay.Add(48*time.Hour)))
	cpPath := filepath.Join(t.TempDir(), "replay.ckpt")
	dl := filepath.Join(t.TempDir(), "dl.jsonl")
	src := "parquet:" + dir

	p := child(t, e.sb, "replay", "-source", src, "-checkpoint", cpPath, "-checkpoint-every", "50ms", "-dead-letter", dl,
		"-rate", "100/s", "-concurrency", "4", "-progress", "off")
	waitStored(t, e.sb, 60, p)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = p.wait()
	if code := p.cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("interrupted run: exit %d, want 1\n%s", code, p.out.String())
	}
	cp := readCheckpoint(t, cpPath)
	if cp.Coverage.Rows <= 0 || cp.Coverage.Rows >= total {
		t.Fatalf("interrupted run's checkpoint covers %d rows; want some of %d", cp.Coverage.Rows, total)
	}

	writeParquet(t, filepath.Join(dir, "dt=2026-10-01", "part-late.parquet"), e.lateRows("late", 7, badInputDay))
	o := replayBad(t, e, src, "-checkpoint", cpPath)
	if o.code != 0 {
		t.Fatalf("resume: exit %d\n%s", o.code, o.stderr)
	}
	checkResumeAccounting(t, o, cp)
	if o.summary.Read != total-cp.Coverage.Rows+7 {
		t.Errorf("resume read %d records, want the %d not covered plus the late file's 7", o.summary.Read, total-cp.Coverage.Rows)
	}
	if n := e.sb.Server.Stats().EventsStored; n != total+7 {
		t.Errorf("stored %d events, want %d", n, total+7)
	}
}

// Rows inserted into PostgreSQL below the checkpoint's position after a
// replay are found and sent on resume; rows deleted below it are refused.
func TestReplayResumeSendsLatePostgresRows(t *testing.T) {
	e := newBadEnv(t)
	const full = `(id text, event_type text, customer_id text, subscription_id text, "timestamp" timestamptz, properties jsonb)`
	dsn, table := badTable(t, full, e.goodValues(20))
	cpPath := filepath.Join(t.TempDir(), "replay.ckpt")
	src := dsn
	args := []string{"-checkpoint", cpPath, "-table", table}

	o := replayBad(t, e, src, args...)
	if o.code != 0 || o.summary.Accepted != 20 {
		t.Fatalf("first run: exit %d, summary %+v\n%s", o.code, o.summary, o.stderr)
	}
	cp := readCheckpoint(t, cpPath)
	if cp.Coverage.Rows != 20 {
		t.Fatalf("checkpoint covers %d rows, want 20", cp.Coverage.Rows)
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// Three late rows, timestamped before every row already sent.
	for i := range 3 {
		_, err := conn.Exec(ctx, "INSERT INTO "+table+` VALUES ($1, 'api.request', $2, $3, $4, '{"bytes":10}')`,
			fmt.Sprintf("pg-late-%d", i), e.cust, e.sub, badInputDay.Add(-time.Duration(i+1)*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
	}
	o = replayBad(t, e, src, args...)
	if o.code != 0 || o.summary.Accepted != 3 || o.summary.Duplicate != 20 || o.summary.Source.Late != 3 {
		t.Fatalf("resume with late rows: exit %d, summary %+v; want 3 accepted, 20 duplicates, 3 late\n%s", o.code, o.summary, o.stderr)
	}
	if n := e.sb.Server.Stats().EventsStored; n != 23 {
		t.Errorf("stored %d events, want 23", n)
	}

	// After a full pass, deleting a covered row changes the source under
	// the checkpoint.
	if _, err := conn.Exec(ctx, "DELETE FROM "+table+" WHERE id = 'good-3'"); err != nil {
		t.Fatal(err)
	}
	o = replayBad(t, e, src, args...)
	if o.code != 2 || !strings.Contains(o.stderr, "-restart") {
		t.Errorf("resume after a delete: exit %d, stderr %q; want 2 and -restart", o.code, o.stderr)
	}
}
