package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/billharness/billharness/internal/sandbox"
)

// TestReplayProgress: the live line never outgrows the 80 columns a
// non-terminal is given (a wrapped line leaves a stale row at every
// redraw), shows N of M with a percent and ends once; the log lines carry
// the same fields, the last error's cause among them. The sandbox fails
// one request in twenty (retried), and the rate keeps the run over two
// progress intervals whatever the machine's speed.
func TestReplayProgress(t *testing.T) {
	e := newBadEnv(t)
	e.sb = sampleSandbox(t, sandbox.Config{FailRate: 0.05, Seed: 7})
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
