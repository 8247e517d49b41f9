package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
)

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
