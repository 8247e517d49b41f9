package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
