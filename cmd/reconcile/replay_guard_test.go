package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/billharness/billharness/internal/pgtest"
	"github.com/billharness/billharness/internal/replay"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
)

// A Retry-After pauses every worker: the pause and its end are logged.
// One longer than -max-retry-after is not waited for: the run stops with
// a clear error instead of freezing silently.
func TestReplayRetryAfter(t *testing.T) {
	e := newBadEnv(t)
	file := filepath.Join(t.TempDir(), "events.parquet")
	writeParquet(t, file, e.good(3))
	run := func(cfg sandbox.Config, args ...string) (int, string) {
		sb := sandboxtest.StartSample(t, cfg)
		code, _, errOut := runReconcile(t, map[string]string{"BILLING_API_URL": sb.URL, "BILLING_TOKEN": sb.AdminToken},
			append([]string{"replay", "-source", "parquet:" + file, "-dead-letter", filepath.Join(t.TempDir(), "dl.jsonl"),
				"-progress", "log", "-concurrency", "1", "-rate", "0"}, args...)...)
		return code, errOut
	}

	// One request every 2 s: each later event meets a 2 s Retry-After.
	code, errOut := run(sandbox.Config{RateLimit: 0.5, RateBurst: 1})
	if code != 0 || !strings.Contains(errOut, "asked every request to wait") || !strings.Contains(errOut, "pause is over") {
		t.Errorf("short pauses: exit %d; want 0 with the pause and its end logged\n%s", code, errOut)
	}

	// One request every 1000 s.
	code, errOut = run(sandbox.Config{RateLimit: 0.001, RateBurst: 1}, "-max-retry-after", "5s")
	if code != 1 || !strings.Contains(errOut, "asked to retry after") || !strings.Contains(errOut, "-max-retry-after") {
		t.Errorf("a long Retry-After: exit %d; want 1 naming it and -max-retry-after\n%s", code, errOut)
	}
}

// A path the run cannot write is found before the first request, not
// after the whole replay: exit 2, naming the flag, nothing sent.
func TestReplayChecksOutputPathsFirst(t *testing.T) {
	e := newBadEnv(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "events.parquet")
	writeParquet(t, file, e.good(5))
	missing := filepath.Join(dir, "no", "such", "dir")
	aDir := filepath.Join(dir, "a-directory")
	if err := os.Mkdir(aDir, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		flag string
		args []string
	}{
		{"-summary", []string{"-summary", filepath.Join(missing, "summary.json")}},
		{"-summary", []string{"-summary", aDir}},
		{"-checkpoint", []string{"-checkpoint", filepath.Join(missing, "replay.ckpt")}},
		{"-dead-letter", []string{"-dead-letter", filepath.Join(missing, "dl.jsonl")}},
	}
	for _, tt := range tests {
		args := append([]string{"replay", "-source", "parquet:" + file, "-progress", "off", "-dead-letter", filepath.Join(dir, "dl.jsonl")}, tt.args...)
		code, _, errOut := runReconcile(t, map[string]string{"BILLING_API_URL": e.sb.URL, "BILLING_TOKEN": e.sb.AdminToken}, args...)
		if code != 2 || !strings.Contains(errOut, tt.flag) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %s", tt.args, code, errOut, tt.flag)
		}
	}
	if n := e.sb.Server.Stats().EventsStored; n != 0 {
		t.Errorf("%d events sent by runs that could not write their outputs", n)
	}
}

// The same id twice with different payloads: replay sends the copies in
// source order, never at once, so the API keeps the first; the later one
// is a conflicting duplicate in the dead letters and in verify's report,
// never an over or under. A third copy equal to the first is a plain
// duplicate. The sandbox's random latency would reorder racing copies.
func TestConflictingDuplicatesKeepTheFirstCopy(t *testing.T) {
	e := newBadEnv(t)
	e.sb = sandboxtest.StartSample(t, sandbox.Config{Latency: sandbox.Latency{Min: 0, Max: 3 * time.Millisecond}, Seed: 5})
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

// A target that fails every event the same way is not a source of bad
// events: the run stops with the cause on stderr, writes no dead letter
// for those events, and a resumed run against a healthy target sends them.
func TestReplayStopsOnSystemicFailure(t *testing.T) {
	e := newBadEnv(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "events.parquet")
	writeParquet(t, file, e.good(300))

	// A closed port: listen, note the address, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	// A target that restarted empty: no customers, so every event is 422.
	empty := sandboxtest.Start(t, sandbox.Config{})

	tests := []struct {
		name, url, token string
		args             []string
		want             []string
	}{
		{"closed port", closed, "bsk_test_x", []string{"-fail-fast", "300ms"}, []string{"systemic failure", "no event got through", "connection refused"}},
		{"empty catalog", empty.URL, empty.AdminToken, []string{"-fail-fast-rejections", "40"}, []string{"systemic failure", "40 events in a row", "customer_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dl, ckpt := filepath.Join(t.TempDir(), "dl.jsonl"), filepath.Join(t.TempDir(), "replay.ckpt")
			args := append([]string{"replay", "-source", "parquet:" + file, "-dead-letter", dl, "-checkpoint", ckpt, "-rate", "0",
				"-progress", "live"}, tt.args...)
			code, _, errOut := runReconcile(t, map[string]string{"BILLING_API_URL": tt.url, "BILLING_TOKEN": tt.token}, args...)
			if code != 1 {
				t.Errorf("exit %d, want 1\n%s", code, errOut)
			}
			for _, w := range append(tt.want, "STOPPED: systemic failure") { // the status line says it too
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if b, _ := os.ReadFile(dl); len(b) > 0 {
				t.Errorf("events were dead-lettered for a systemic failure:\n%.400s", b)
			}
			// The same checkpoint against the healthy target sends all.
			before := e.sb.Server.Stats().EventsStored
			code, _, errOut = runReconcile(t, map[string]string{"BILLING_API_URL": e.sb.URL, "BILLING_TOKEN": e.sb.AdminToken}, args...)
			if stored := e.sb.Server.Stats().EventsStored; code != 0 || stored != 300 {
				t.Errorf("resumed against a healthy target: exit %d, stored %d (had %d), want 0 and all 300\n%s", code, stored, before, errOut)
			}
		})
	}
}

// TestReplayProgress: the live line never outgrows the 80 columns a
// non-terminal is given (a wrapped line leaves a stale row at every
// redraw), shows N of M with a percent and ends once; the log lines carry
// the same fields, the last error's cause among them. The sandbox fails
// one request in twenty (retried), and the rate keeps the run over two
// progress intervals whatever the machine's speed.
func TestReplayProgress(t *testing.T) {
	e := newBadEnv(t)
	e.sb = sandboxtest.StartSample(t, sandbox.Config{FailRate: 0.05, Seed: 7})
	dir := t.TempDir()
	src := filepath.Join(dir, "events.parquet")
	writeParquet(t, src, e.good(500))
	env := map[string]string{"BILLING_API_URL": e.sb.URL, "BILLING_TOKEN": e.sb.AdminToken}
	run := func(t *testing.T, mode string) string {
		code, stdout, stderr := runReconcile(t, env, "replay", "-source", "parquet:"+src, "-rate", "100/s", "-concurrency", "4",
			"-progress", mode, "-dead-letter", filepath.Join(t.TempDir(), "dl.jsonl"))
		if code != 0 {
			t.Fatalf("replay -progress %s: exit %d\n%s%s", mode, code, stdout, stderr)
		}
		return stderr
	}

	t.Run("live", func(t *testing.T) {
		t.Parallel()
		out := run(t, "live")
		var draws []string
		for _, seg := range strings.Split(out, "\r\x1b[2K")[1:] {
			line, _, _ := strings.Cut(seg, "\n")
			draws = append(draws, line)
			if n := utf8.RuneCountInString(line); n > 79 {
				t.Errorf("live line of %d columns, want <= 79: %q", n, line)
			}
		}
		if len(draws) < 2 {
			t.Fatalf("live progress drew %d lines, want at least 2:\n%q", len(draws), out)
		}
		last := draws[len(draws)-1]
		for _, want := range []string{"replay [====================] 100%", "500 of 500 rows", "done in"} {
			if !strings.Contains(last, want) {
				t.Errorf("final line %q lacks %q", last, want)
			}
		}
		if strings.Count(out, last) != 1 {
			t.Errorf("final line drawn %d times", strings.Count(out, last))
		}
		for _, d := range draws[:len(draws)-1] {
			if !strings.Contains(d, " of 500 rows") || !strings.Contains(d, "%") {
				t.Errorf("interim line %q: want N of 500 rows and a percent", d)
			}
		}
	})
	t.Run("log", func(t *testing.T) {
		t.Parallel()
		out := run(t, "log")
		var lines, withError int
		for _, l := range strings.Split(out, "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(l), &rec) != nil || rec["msg"] != "replay progress" {
				continue
			}
			lines++
			for _, k := range []string{"done", "total", "percent", "rate", "eta", "elapsed", "accepted", "dead_lettered", "last_error"} {
				if _, ok := rec[k]; !ok {
					t.Errorf("progress record lacks %q: %s", k, l)
				}
			}
			if rec["total"] != 500.0 {
				t.Errorf("progress total = %v, want 500: %s", rec["total"], l)
			}
			if s, _ := rec["last_error"].(string); strings.Contains(s, "500") {
				t.Logf("last_error: %s", s)
				withError++
			}
		}
		if lines == 0 || withError == 0 {
			t.Errorf("%d progress records, %d naming the 500s; want both > 0:\n%s", lines, withError, out)
		}
	})
}
