package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/clitest"
	"github.com/billharness/billharness/internal/report"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
)

// secretToken is a fresh, recognisable API token.
func secretToken(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "bsk_test_secret" + hex.EncodeToString(b)
}

// echoTarget is a hostile API: it refuses everything and echoes the
// request's credentials back, in a JSON error envelope for events (500, so
// they are retried and dead-lettered) and in plain text elsewhere (401).
func echoTarget(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var sawToken atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		creds := r.Header.Get("Authorization") + " " + r.Header.Get("X-API-Key")
		if strings.TrimSpace(creds) != "" {
			sawToken.Add(1)
		}
		if r.URL.Path == "/v1/events" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"error":{"code":"echo","message":"you sent `+creds+`","field":"`+creds+`"}}`)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "<html>key "+creds+" is not valid</html>")
	}))
	t.Cleanup(srv.Close)
	return srv, &sawToken
}

// runChild runs the reconcile command as a child process with only env
// (and the child marker) as its environment, and returns its exit code and
// output. With proc, it checks /proc/<pid>/cmdline right after the start:
// the run must last long enough for that (an exited child's is empty).
func runChild(t *testing.T, env []string, token string, proc bool, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append([]string{childEnv + "=1", "PATH=" + os.Getenv("PATH")}, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if proc {
		checkCmdline(t, cmd.Process.Pid, args[0], token)
	}
	_ = cmd.Wait()
	return cmd.ProcessState.ExitCode(), out.String()
}

// checkCmdline reads /proc/<pid>/cmdline until it shows the command (the
// kernel fills it in a moment after exec has closed the descriptors that
// let Start return) and fails if it holds the token.
func checkCmdline(t *testing.T, pid int, word, token string) {
	t.Helper()
	path := filepath.Join("/proc", strconv.Itoa(pid), "cmdline")
	deadline := time.Now().Add(5 * time.Second)
	for {
		cmdline, err := os.ReadFile(path)
		switch {
		case err != nil && os.IsNotExist(err):
			t.Skipf("no %s: not Linux", path)
		case err != nil:
			t.Fatalf("read the child's cmdline: %v", err)
		case bytes.Contains(cmdline, []byte(token)):
			t.Errorf("%s contains the token", path)
			return
		case bytes.Contains(cmdline, []byte(word)):
			return
		case time.Now().After(deadline):
			t.Errorf("%s = %q after 5s: never the child's", path, cmdline)
			return
		}
		time.Sleep(time.Millisecond) // polling the kernel's view, with a deadline
	}
}

// noToken fails if token is in out or in any file under dir.
func noToken(t *testing.T, token, out, dir string) {
	t.Helper()
	if strings.Contains(out, token) {
		t.Errorf("the output contains the token:\n%s", out)
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(path) == "token" {
			return err
		}
		b, err := os.ReadFile(path)
		if bytes.Contains(b, []byte(token)) {
			t.Errorf("%s contains the token", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The token never appears in output, logs at debug level, reports, dead
// letters, checkpoints or the process's command line, whether it comes
// from the environment or a file, and whatever the target sends back.
func TestTokenNeverLeaks(t *testing.T) {
	for _, target := range []string{"sandbox", "echoing target"} {
		for _, via := range []string{"env", "file"} {
			t.Run(target+"/"+via, func(t *testing.T) {
				token := secretToken(t)
				var url string
				var saw *atomic.Int64
				if target == "sandbox" {
					sb := sandboxtest.StartSample(t, sandbox.Config{AdminToken: token})
					url = sb.URL
				} else {
					var srv *httptest.Server
					srv, saw = echoTarget(t)
					url = srv.URL
				}
				e := &badEnv{sb: &sandboxtest.Sandbox{}}
				d, err := sandbox.LoadSeedFile(filepath.Join(sample, "seed.json"))
				if err != nil {
					t.Fatal(err)
				}
				e.cust, e.sub = d.Subscriptions[0].CustomerID, d.Subscriptions[0].ID
				src, out := t.TempDir(), t.TempDir()
				rows := e.good(6)
				unknown := "01944b1f-0000-7000-8000-00000000dead"
				rows[5].SubscriptionID = &unknown // rejected by the sandbox: a dead letter either way
				writeParquet(t, filepath.Join(src, "events.parquet"), rows)
				env := []string{"BILLING_API_URL=" + url}
				if via == "env" {
					env = append(env, "BILLING_TOKEN="+token)
				} else {
					tf := filepath.Join(t.TempDir(), "token")
					if err := os.WriteFile(tf, []byte(token+"\n"), 0o600); err != nil {
						t.Fatal(err)
					}
					env = append(env, "BILLING_TOKEN_FILE="+tf)
				}
				var all strings.Builder
				// -rate 30/s keeps the replay running while its cmdline is read.
				code, o := runChild(t, env, token, true, "replay", "-log-level", "debug", "-source", "parquet:"+src, "-rate", "30/s",
					"-checkpoint", filepath.Join(out, "replay.ckpt"), "-dead-letter", filepath.Join(out, "dl.jsonl"),
					"-summary", filepath.Join(out, "summary.json"), "-progress", "log")
				all.WriteString(o)
				if code != 1 {
					t.Errorf("replay: exit %d, want 1 (dead letters)\n%s", code, o)
				}
				code, o = runChild(t, env, token, false, "verify", "-log-level", "debug", "-source", "parquet:"+src,
					"-window", "2026-10-01..2026-11-01", "-out", filepath.Join(out, "report"))
				all.WriteString(o)
				if code == 0 {
					t.Errorf("verify: exit 0, want a failure or discrepancies\n%s", o)
				}
				noToken(t, token, all.String(), out)
				if saw != nil {
					dl, _ := os.ReadFile(filepath.Join(out, "dl.jsonl"))
					if saw.Load() == 0 || !bytes.Contains(dl, []byte("[REDACTED]")) {
						t.Errorf("the target saw the token %d times; dead letters %q: want the echo to arrive, scrubbed", saw.Load(), dl)
					}
				}
			})
		}
	}
}

// TLS certificates are verified unless -insecure-skip-verify (or
// BILLING_INSECURE_SKIP_VERIFY) says otherwise, and a certificate that does
// not verify stops a replay at once, naming the problem, instead of
// dead-lettering every record.
func TestTLSVerifiedByDefault(t *testing.T) {
	tests := []struct {
		clitest.Case
		stored int64 // events the API stored
	}{
		{Case: clitest.Case{Name: "verified by default", WantCode: 1}},
		{Case: clitest.Case{Name: "flag", Args: []string{"-insecure-skip-verify"}}, stored: 5},
		{Case: clitest.Case{Name: "environment", Env: map[string]string{"BILLING_INSECURE_SKIP_VERIFY": "true"}}, stored: 5},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			e := newBadEnv(t)
			srv := httptest.NewTLSServer(e.sb.Server)
			srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes refused on purpose
			defer srv.Close()
			src := t.TempDir()
			writeParquet(t, filepath.Join(src, "events.parquet"), e.good(5))
			env := map[string]string{"BILLING_API_URL": srv.URL, "BILLING_TOKEN": e.sb.AdminToken}
			for k, v := range tt.Env {
				env[k] = v
			}
			dl := filepath.Join(t.TempDir(), "dl.jsonl")
			args := append([]string{"replay", "-source", "parquet:" + src, "-dead-letter", dl, "-progress", "off", "-rate", "0"}, tt.Args...)
			code, _, stderr := runReconcile(t, env, args...)
			if code != tt.WantCode {
				t.Errorf("exit %d, want %d\n%s", code, tt.WantCode, stderr)
			}
			if got := e.sb.Server.Stats().EventsStored; got != tt.stored {
				t.Errorf("stored %d events, want %d", got, tt.stored)
			}
			if tt.WantCode == 0 {
				return
			}
			if !strings.Contains(stderr, "TLS certificate does not verify") || !strings.Contains(stderr, "x509") {
				t.Errorf("stderr = %q, want it to name the certificate problem", stderr)
			}
			if b, err := os.ReadFile(dl); err == nil && len(b) > 0 {
				t.Errorf("dead letters written for a certificate problem:\n%s", b)
			}
		})
	}
}

// A token the API refuses stops the run with the API's answer instead of
// dead-lettering every record; a customer-scope token cannot bill.
func TestRefusedTokenStops(t *testing.T) {
	e := newBadEnv(t)
	src := t.TempDir()
	writeParquet(t, filepath.Join(src, "events.parquet"), e.good(5))
	dl := filepath.Join(t.TempDir(), "dl.jsonl")
	code, _, stderr := runReconcile(t, map[string]string{"BILLING_API_URL": e.sb.URL, "BILLING_TOKEN": "bsk_test_not_the_key"},
		"replay", "-source", "parquet:"+src, "-dead-letter", dl, "-progress", "off", "-rate", "0")
	if code != 1 || !strings.Contains(stderr, "the API refused the token") || !strings.Contains(stderr, "401 unauthorized") {
		t.Errorf("replay with a wrong token: exit %d, stderr %q; want 1 and the API's 401", code, stderr)
	}
	if b, err := os.ReadFile(dl); err == nil && len(b) > 0 {
		t.Errorf("dead letters written for a refused token:\n%s", b)
	}
	// bill goes on past a refused call, as past any failed one, and puts
	// the API's answer in the report.
	out := t.TempDir()
	code, _, stderr = runReconcile(t, map[string]string{"BILLING_API_URL": e.sb.URL, "BILLING_TOKEN": e.sb.CustomerToken},
		"bill", "-source", "parquet:"+src, "-period", "2026-10-01..2026-11-01", "-out", out)
	rows, err := os.ReadFile(filepath.Join(out, report.JSONLFile))
	if code != 1 || err != nil || !bytes.Contains(rows, []byte("403 forbidden: this route needs an admin-scope key")) {
		t.Errorf("bill with a customer-scope token: exit %d, report rows %.300q (%v); want 1 and the API's 403 in the report\n%s", code, rows, err, stderr)
	}
	if n := e.sb.Server.Stats().EventsStored; n != 0 {
		t.Errorf("stored %d events with refused tokens, want 0", n)
	}
}
