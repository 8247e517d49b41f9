package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/replay"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
)

// letterLines reads a dead-letter file and fails unless every line is
// whole and valid JSON.
func letterLines(t *testing.T, path string) []replay.Letter {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Errorf("dead-letter file %s ends in a partial line: %q", path, b[max(0, len(b)-80):])
	}
	var out []replay.Letter
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var l replay.Letter
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("dead-letter line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

// A timestamp in year 10000 is legal in Parquet but not in RFC 3339: the
// record is invalid, with a reason, and the run finishes.
func TestReplayPoisonTimestampFinishes(t *testing.T) {
	e := newBadEnv(t)
	rows := e.good(4)
	rows[2].Timestamp = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	file := filepath.Join(t.TempDir(), "events.parquet")
	writeParquet(t, file, rows)
	o := replayBad(t, e, "parquet:"+file)
	if o.code != 1 || o.summary == nil || o.summary.Invalid != 1 || o.summary.Accepted != 3 {
		t.Fatalf("exit %d, summary %+v; want 1 with 1 invalid and 3 accepted\n%s", o.code, o.summary, o.stderr)
	}
	l, ok := o.letters["events.parquet:2"]
	if !ok || l.Kind != replay.KindInvalid || l.Field != "timestamp" || !strings.Contains(l.Reason, "year 10000") {
		t.Errorf("letter for the year-10000 row = %+v, want invalid timestamp naming the year", l)
	}
}

// Ids that a wire would alter (bytes that are not UTF-8, NUL, CR, LF) are
// invalid, with the byte offset, and never sent: three distinct ids must
// not arrive as one.
func TestReplayRefusesIdsTheWireWouldAlter(t *testing.T) {
	e := newBadEnv(t)
	rows := e.good(7)
	bad := []string{"a\xffb", "a\xfeb", "ab\xfd", "x\x00y", "x\ny", "xy\r"}
	for i, id := range bad {
		rows[i+1].ID = id
	}
	file := filepath.Join(t.TempDir(), "events.parquet")
	writeParquet(t, file, rows)
	o := replayBad(t, e, "parquet:"+file)
	if o.code != 1 || o.summary == nil || o.summary.Invalid != int64(len(bad)) || o.summary.Accepted != 1 || o.summary.Duplicate != 0 {
		t.Fatalf("exit %d, summary %+v; want %d invalid, 1 accepted, no duplicate\n%s", o.code, o.summary, len(bad), o.stderr)
	}
	wantOffset := []int{1, 1, 2, 1, 1, 2}
	for i := range bad {
		l := o.letters["events.parquet:"+strconv.Itoa(i+1)]
		if l.Kind != replay.KindInvalid || l.Field != "id" || !strings.Contains(l.Reason, "byte "+strconv.Itoa(wantOffset[i])) {
			t.Errorf("letter for id %q = %+v, want invalid id naming byte %d", bad[i], l, wantOffset[i])
		}
	}
	if n := e.sb.Server.Stats().EventsStored; n != 1 {
		t.Errorf("stored %d events, want 1", n)
	}
	// verify reads through the same validation: the same rows are invalid.
	out := t.TempDir()
	code, stdout, errOut := runReconcile(t, map[string]string{"BILLING_API_URL": e.sb.URL, "BILLING_TOKEN": e.sb.AdminToken},
		"verify", "-source", "parquet:"+file, "-window", "2026-10-01..2026-11-01", "-out", out)
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatalf("verify: exit %d, no summary: %v\n%s\n%s", code, err, stdout, errOut)
	}
	if !strings.Contains(string(b), fmt.Sprintf(`"invalid": %d`, len(bad))) {
		t.Errorf("verify's summary does not count the %d ids as invalid:\n%s", len(bad), b)
	}
}

// A record the API never answers holds the watermark: the watchdog stops
// the run and names the record instead of waiting for ever.
func TestReplayWatchdogNamesTheStuckRecord(t *testing.T) {
	e := newBadEnv(t)
	slow := sandboxtest.StartSample(t, sandbox.Config{Latency: sandbox.Latency{Min: 5 * time.Second, Max: 5 * time.Second}})
	file := filepath.Join(t.TempDir(), "events.parquet")
	writeParquet(t, file, e.good(3))
	dl := filepath.Join(t.TempDir(), "dl.jsonl")
	start := time.Now()
	code, _, errOut := runReconcile(t, map[string]string{"BILLING_API_URL": slow.URL, "BILLING_TOKEN": slow.AdminToken},
		"replay", "-source", "parquet:"+file, "-dead-letter", dl, "-progress", "off", "-stall-timeout", "300ms", "-drain-timeout", "1s")
	if code != 1 || !strings.Contains(errOut, "stuck") || !strings.Contains(errOut, "events.parquet row group 0 row 0") {
		t.Errorf("exit %d, stderr %q; want 1 naming the stuck record", code, errOut)
	}
	t.Logf("stopped after %v", time.Since(start).Round(time.Millisecond))
}

// With the dead-letter file on a full disk (here: a file size limit), the
// first failed write stops the run, no partial line is left, the summary
// counts only the letters written, and the checkpoint covers no record
// whose letter is missing. The next run, with room, finishes the rest.
func TestReplayDeadLetterDiskFull(t *testing.T) {
	e := newBadEnv(t)
	rows := e.good(3000)
	for i := range rows {
		rows[i].EventType = "" // invalid: every record is dead-lettered
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "events.parquet")
	writeParquet(t, file, rows)
	dl, ckpt, sum := filepath.Join(dir, "dl.jsonl"), filepath.Join(dir, "replay.ckpt"), filepath.Join(dir, "summary.json")
	args := []string{"replay", "-source", "parquet:" + file, "-dead-letter", dl, "-checkpoint", ckpt, "-checkpoint-every", "10ms",
		"-progress", "off", "-summary", sum}
	// bash's ulimit -f counts 1024-byte blocks: the letters need ~1 MB.
	cmd := exec.Command("bash", append([]string{"-c", `ulimit -f 96 && exec "$0" "$@"`, os.Args[0]}, args...)...)
	cmd.Env = append(os.Environ(), childEnv+"=1", "BILLING_API_URL="+e.sb.URL, "BILLING_TOKEN="+e.sb.AdminToken)
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), dl) || !strings.Contains(string(out), "file too large") {
		t.Fatalf("exit %d; want 1 naming %s and the error\n%s", code, dl, out)
	}
	letters := letterLines(t, dl)
	st := readSummary(t, sum)
	if st.Invalid != int64(len(letters)) || st.DeadLettered != st.Invalid || len(letters) == 0 || len(letters) >= len(rows) {
		t.Errorf("summary counts %d invalid, %d dead-lettered; the file holds %d letters of %d records", st.Invalid, st.DeadLettered, len(letters), len(rows))
	}
	if st.Read != st.Invalid+st.Abandoned {
		t.Errorf("read %d = invalid %d + abandoned %d does not hold", st.Read, st.Invalid, st.Abandoned)
	}
	if cp := readCheckpoint(t, ckpt); cp.Coverage.Rows > int64(len(letters)) {
		t.Errorf("checkpoint covers %d rows; only %d letters were written", cp.Coverage.Rows, len(letters))
	}

	code, _, errOut := runReconcile(t, map[string]string{"BILLING_API_URL": e.sb.URL, "BILLING_TOKEN": e.sb.AdminToken}, args...)
	if code != 1 {
		t.Fatalf("second run: exit %d\n%s", code, errOut)
	}
	seen := map[int64]bool{}
	for _, l := range letterLines(t, dl) {
		seen[l.Position.Row] = true
	}
	if len(seen) != len(rows) {
		t.Errorf("after the second run, letters name %d distinct records, want all %d", len(seen), len(rows))
	}
}

// A torn last line left by a crash is cut off when the file is opened
// again, and the next letters start on a line of their own.
func TestReplayRepairsTornDeadLetter(t *testing.T) {
	e := newBadEnv(t)
	rows := e.good(2)
	rows[1].EventType = ""
	dir := t.TempDir()
	file := filepath.Join(dir, "events.parquet")
	writeParquet(t, file, rows)
	dl := filepath.Join(dir, "dl.jsonl")
	if err := os.WriteFile(dl, []byte(`{"kind":"invalid","reason":"whole"}`+"\n"+`{"kind":"inva`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runReconcile(t, map[string]string{"BILLING_API_URL": e.sb.URL, "BILLING_TOKEN": e.sb.AdminToken},
		"replay", "-source", "parquet:"+file, "-dead-letter", dl, "-progress", "off")
	if code != 1 || !strings.Contains(errOut, "torn") {
		t.Errorf("exit %d, stderr %q; want 1 and a word on the torn line", code, errOut)
	}
	if letters := letterLines(t, dl); len(letters) != 2 || letters[0].Reason != "whole" || letters[1].Kind != replay.KindInvalid {
		t.Errorf("letters %+v; want the whole old one and the new one", letters)
	}
}
