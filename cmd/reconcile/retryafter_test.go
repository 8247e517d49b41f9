package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/billharness/billharness/internal/sandbox"
)

// A Retry-After pauses every worker: the pause and its end are logged.
// One longer than -max-retry-after is not waited for: the run stops with
// a clear error instead of freezing silently.
func TestReplayRetryAfter(t *testing.T) {
	e := newBadEnv(t)
	file := filepath.Join(t.TempDir(), "events.parquet")
	writeParquet(t, file, e.good(3))
	run := func(cfg sandbox.Config, args ...string) (int, string) {
		sb := sampleSandbox(t, cfg)
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
