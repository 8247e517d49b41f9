package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/clitest"
	"github.com/billharness/billharness/internal/load"
	"github.com/billharness/billharness/internal/load/report"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
)

// sandboxEnv starts a sandbox and returns the environment that points
// loadgen at it.
func sandboxEnv(t *testing.T, cfg sandbox.Config) (*sandboxtest.Sandbox, map[string]string) {
	t.Helper()
	sb := sandboxtest.Start(t, cfg)
	return sb, map[string]string{"BILLING_API_URL": sb.URL, "BILLING_TOKEN": sb.AdminToken, "LOADGEN_PROGRESS": "off"}
}

// quick are the flags of a short, small run.
var quick = []string{"-rate", "200/s", "-duration", "1s", "-setup", "5"}

func args(extra ...string) []string { return append(append([]string{"run"}, quick...), extra...) }

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		clitest.Case
		// sent is false when nothing may reach the API: usage errors are
		// found before any request.
		sent bool
	}{
		// Thresholds here hold or fail whatever the machine's speed: a loaded
		// CI machine achieves less than the asked rate and answers slower, so
		// rate and latency gates are only asserted where the schedule decides
		// them (at most 200/s can be sent) or on recorded results
		// (internal/load's threshold tests).
		{Case: clitest.Case{Name: "thresholds hold", Args: args("-threshold", "p99<1h", "-threshold", "error_rate<1%", "-threshold", "requests>=200"),
			WantStdout: []string{"PASS  p99<1h", "PASS  requests>=200", "200.0/s asked"}}, sent: true},
		{Case: clitest.Case{Name: "a threshold fails", Args: args("-threshold", "p99<1h", "-threshold", "rate>1000/s"), WantCode: 4, WantStdout: []string{"FAIL  rate>1000/s"}, WantStderr: []string{"load thresholds failed: rate>1000/s (got "}}, sent: true},
		{Case: clitest.Case{Name: "thresholds from the environment", Args: args(), Env: map[string]string{"LOADGEN_THRESHOLDS": "p99<1h;dropped>0"},
			WantCode: 4, WantStdout: []string{"PASS  p99<1h", "FAIL  dropped>0"}}, sent: true},
		{Case: clitest.Case{Name: "unknown metric", Args: args("-threshold", "latency<250ms"), WantCode: 2,
			WantStderr: []string{`unknown metric "latency"`, "loadgen run -h"}}},
		{Case: clitest.Case{Name: "unknown metric in the environment", Args: args(), Env: map[string]string{"LOADGEN_THRESHOLDS": "p99<1s;errors<1"},
			WantCode: 2, WantStderr: []string{`invalid value "p99<1s;errors<1" for LOADGEN_THRESHOLDS`, `unknown metric "errors"`}}},
		{Case: clitest.Case{Name: "latency without unit", Args: args("-threshold", "p99<250"), WantCode: 2, WantStderr: []string{"needs a time unit"}}},
		{Case: clitest.Case{Name: "stages and rate", Args: []string{"run", "-stages", "1s@10", "-rate", "5/s"}, WantCode: 2,
			WantStderr: []string{"-stages replaces -rate and -duration"}}},
		{Case: clitest.Case{Name: "bad stages and percentiles at once", Args: []string{"run", "-stages", "1s", "-percentiles", "p0"}, WantCode: 2,
			WantStderr: []string{"-stages: stages \"1s\"", "-percentiles: percentile \"p0\""}}},
		{Case: clitest.Case{Name: "source and setup", Args: []string{"run", "-source", "parquet:x", "-setup", "5"}, WantCode: 2,
			WantStderr: []string{"-setup and -source exclude each other"}}},
		{Case: clitest.Case{Name: "verify needs setup", Args: []string{"run", "-source", "parquet:x", "-verify"}, WantCode: 2,
			WantStderr: []string{"-verify needs the synthetic events"}}},
		{Case: clitest.Case{Name: "indexed job without the shard count", Args: args(), Env: map[string]string{"JOB_COMPLETION_INDEX": "1"}, WantCode: 2,
			WantStderr: []string{"JOB_COMPLETION_INDEX=1 is set but LOADGEN_SHARDS is not"}}},
		{Case: clitest.Case{Name: "indexed job index out of range", Args: args(), Env: map[string]string{"JOB_COMPLETION_INDEX": "3", "LOADGEN_SHARDS": "3"},
			WantCode: 2, WantStderr: []string{"index must be below the count"}}},
		{Case: clitest.Case{Name: "closed model", Args: []string{"run", "-rate", "0", "-workers", "4", "-duration", "1s", "-setup", "3"}, WantStdout: []string{"closed, 4 workers, 4 connections", "closed model: as fast as answered"}}, sent: true},
		{Case: clitest.Case{Name: "max-inflight in the closed model", Args: []string{"run", "-rate", "0", "-max-inflight", "5"}, WantCode: 2,
			WantStderr: []string{"-max-inflight applies to the open model"}}},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			sb, env := sandboxEnv(t, sandbox.Config{})
			for k, v := range tt.Env {
				env[k] = v
			}
			c := tt.Case
			c.Env = env
			c.Check(t, context.Background(), "loadgen", run)
			if got := sb.Server.Stats().Requests; (got > 0) != tt.sent {
				t.Errorf("the sandbox got %d requests, want any: %v", got, tt.sent)
			}
		})
	}
}

// TestShardsAndReport: two shards of an Indexed Job (one from -shard, one
// from JOB_COMPLETION_INDEX) each take half the rate and ids of their own;
// loadgen report merges their results exactly and gates on the merge.
func TestShardsAndReport(t *testing.T) {
	sb, env := sandboxEnv(t, sandbox.Config{})
	dir := t.TempDir()
	env["LOADGEN_RUN_ID"] = "lg-test"
	out := [2]string{filepath.Join(dir, "0"), filepath.Join(dir, "1")}
	var wg sync.WaitGroup
	var stdouts [2]string
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := map[string]string{}
			for k, v := range env {
				e[k] = v
			}
			a := args("-rate", "400/s", "-out", out[i])
			if i == 0 {
				a = append(a, "-shard", "0/2")
			} else {
				e["JOB_COMPLETION_INDEX"], e["LOADGEN_SHARDS"] = "1", "2"
			}
			code, stdout, stderr := runLoadgen(t, e, a...)
			if code != 0 {
				t.Errorf("shard %d: exit %d\n%s\n%s", i, code, stdout, stderr)
			}
			stdouts[i] = stdout
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for i, want := range []string{"shard 0/2", "shard 1/2"} {
		if !strings.Contains(stdouts[i], want) || !strings.Contains(stdouts[i], "200.0/s asked") {
			t.Errorf("shard %d stdout =\n%s\nwant %q at 200/s (half of 400/s)", i, stdouts[i], want)
		}
	}
	if got := sb.Server.Stats(); got.EventsStored != 400 || got.Duplicates != 0 {
		t.Errorf("sandbox stored %d events, %d duplicates; want 400, 0: shards must not share ids", got.EventsStored, got.Duplicates)
	}

	merged := filepath.Join(dir, "all")
	code, stdout, stderr := runLoadgen(t, nil, "report", "-threshold", "requests>=400", "-threshold", "p99<1h", "-out", merged, out[0], out[1])
	if code != 0 {
		t.Fatalf("report: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, w := range []string{"loadgen lg-test, shard 0/2 1/2", "completed 400", "PASS  requests>=400"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("report stdout =\n%s\nwant it to contain %q", stdout, w)
		}
	}
	res, s, err := report.Load(merged)
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := report.Load(out[0])
	b, _, _ := report.Load(out[1])
	for c := range load.NumClasses {
		if got, want := res.Corrected[c].TotalCount(), a.Corrected[c].TotalCount()+b.Corrected[c].TotalCount(); got != want {
			t.Errorf("merged %s histogram holds %d, want %d", c, got, want)
		}
	}
	if s.Completed != 400 || len(s.Shards) != 2 {
		t.Errorf("merged summary: completed %d, shards %v; want 400, two", s.Completed, s.Shards)
	}
	code, _, stderr = runLoadgen(t, nil, "report", "-threshold", "requests>400", out[0], out[1])
	if code != cli.ExitThresholds || !strings.Contains(stderr, "requests>400 (got 400)") {
		t.Errorf("report with a failing threshold: exit %d, stderr %q; want 4", code, stderr)
	}
}

// TestVerifyExit: -verify passes on a faithful API and exits 4 when the
// API loses events.
func TestVerifyExit(t *testing.T) {
	_, env := sandboxEnv(t, sandbox.Config{UsageLag: 200 * time.Millisecond})
	code, stdout, stderr := runLoadgen(t, env, args("-verify", "-verify-timeout", "10s")...)
	if code != 0 || !strings.Contains(stdout, "verify PASS: the usage of all 5 subscriptions") {
		t.Errorf("verify on a faithful sandbox: exit %d\n%s\n%s", code, stdout, stderr)
	}
	_, env = sandboxEnv(t, sandbox.Config{DropRate: 0.1, Seed: 2})
	code, stdout, stderr = runLoadgen(t, env, args("-verify", "-verify-timeout", "300ms")...)
	if code != cli.ExitThresholds || !strings.Contains(stdout, "verify FAIL") || !strings.Contains(stderr, "verify (") {
		t.Errorf("verify on a lossy sandbox: exit %d, want 4\n%s\n%s", code, stdout, stderr)
	}
}

// TestMetricsEndpoint scrapes -metrics-addr while a run is going.
func TestMetricsEndpoint(t *testing.T) {
	_, env := sandboxEnv(t, sandbox.Config{})
	var stdout, stderr clitest.SyncBuffer
	done := make(chan error, 1)
	go func() {
		a := []string{"run", "-rate", "200/s", "-duration", "3s", "-setup", "3", "-metrics-addr", "127.0.0.1:0", "-run-id", "lg-scrape"}
		done <- run(context.Background(), a, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	}()
	url := ""
	re := regexp.MustCompile(`http://127\.0\.0\.1:\d+/metrics`)
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); {
		url = re.FindString(stderr.String())
		if url == "" {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if url == "" {
		t.Fatalf("no metrics URL logged:\n%s", stderr.String())
	}
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		if strings.Contains(body, `loadgen_requests_total{status_class="2xx"}`) {
			break
		}
	}
	for _, w := range []string{`loadgen_requests_total{status_class="2xx"}`,
		"loadgen_latency_seconds_bucket", "loadgen_inflight", "loadgen_dropped_ticks_total", "go_goroutines"} {
		if !strings.Contains(body, w) {
			t.Errorf("scrape lacks %q:\n%.2000s", w, body)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
}

// TestPushgateway: the final metrics are pushed once, grouped by run id
// and shard, to a server speaking the Pushgateway protocol.
func TestPushgateway(t *testing.T) {
	var mu sync.Mutex
	var paths, bodies []string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		paths, bodies = append(paths, r.Method+" "+r.URL.Path), append(bodies, string(b))
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer gw.Close()
	_, env := sandboxEnv(t, sandbox.Config{})
	code, stdout, stderr := runLoadgen(t, env, args("-pushgateway", gw.URL, "-run-id", "lg-push", "-shard", "1/3")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	// The client writes the grouping labels in map order.
	if len(paths) != 1 || !strings.HasPrefix(paths[0], "PUT /metrics/job/loadgen/") ||
		!strings.Contains(paths[0], "/run_id/lg-push") || !strings.Contains(paths[0], "/shard@base64/MS8z") {
		t.Fatalf("pushes = %q, want one PUT grouped by run_id and shard (1/3 in base64)", paths)
	}
	// The body is the protobuf exposition format: metric names appear as
	// plain strings in it.
	for _, w := range []string{"loadgen_requests_total", "loadgen_latency_seconds", "loadgen_dropped_ticks_total"} {
		if !strings.Contains(bodies[0], w) {
			t.Errorf("pushed body lacks %s", w)
		}
	}
	_, env = sandboxEnv(t, sandbox.Config{})
	code, _, stderr = runLoadgen(t, env, args("-pushgateway", "http://127.0.0.1:1")...)
	if code != 1 || !strings.Contains(stderr, "push metrics to http://127.0.0.1:1") {
		t.Errorf("push to a closed port: exit %d, stderr %q; want 1 and the error", code, stderr)
	}
}

// TestInterrupted: a run stopped by a signal (ctx cancelled) still prints
// and writes its summary, and exits 1.
func TestInterrupted(t *testing.T) {
	sb, env := sandboxEnv(t, sandbox.Config{})
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr clitest.SyncBuffer
	done := make(chan error, 1)
	go func() {
		a := []string{"run", "-rate", "100/s", "-duration", "1m", "-setup", "3", "-out", out}
		done <- run(ctx, a, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	}()
	// Cancelled once some events went out, so the summary has some to show.
	for deadline := time.Now().Add(10 * time.Second); sb.Server.Stats().EventsStored < 10 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond) // polling the sandbox's counter, with a deadline
	}
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop after its context was cancelled")
	}
	if cli.ExitCode(err) != 1 || !strings.Contains(stdout.String(), "interrupted before the end") {
		t.Errorf("interrupted run: exit %d (%v)\n%s", cli.ExitCode(err), err, stdout.String())
	}
	b, rerr := os.ReadFile(filepath.Join(out, report.SummaryFile))
	if rerr != nil {
		t.Fatal(rerr)
	}
	var s load.Summary
	if err := json.Unmarshal(b, &s); err != nil || !s.Interrupted || s.Completed == 0 || s.Completed != s.Sent {
		t.Errorf("summary.json: interrupted %v, completed %d of %d sent (%v)", s.Interrupted, s.Completed, s.Sent, err)
	}
}

// TestLiveProgress: the live line shows k6's clock and bar within 80
// columns, and the final line is drawn once.
func TestLiveProgress(t *testing.T) {
	_, env := sandboxEnv(t, sandbox.Config{})
	env["LOADGEN_PROGRESS"] = "live"
	code, stdout, stderr := runLoadgen(t, env, "run", "-rate", "100/s", "-duration", "2s", "-setup", "3")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	var draws []string
	for _, seg := range strings.Split(stderr, "\r\x1b[2K")[1:] {
		line, _, _ := strings.Cut(seg, "\n")
		draws = append(draws, line)
		if n := len([]rune(line)); n > 79 {
			t.Errorf("live line of %d columns, want <= 79: %q", n, line)
		}
		if !strings.HasPrefix(line, "load [") || !strings.Contains(line, "/02s") {
			t.Errorf("live line %q: want the bar and the clock out of 02s", line)
		}
	}
	if len(draws) == 0 {
		t.Fatalf("no live line in %q", stderr)
	}
	last := draws[len(draws)-1]
	if !strings.Contains(last, "100%") || !strings.Contains(last, "done in") || strings.Count(stderr, last) != 1 {
		t.Errorf("final line %q (drawn %d times): want 100%%, done in, once", last, strings.Count(stderr, last))
	}
}

// TestDefaultGate: without -threshold, a run in which every request failed
// (here a closed port, with events from a source so that no setup call
// fails first) exits 4 naming the default gate; a run with some errors
// passes with a warning.
func TestDefaultGate(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	env := map[string]string{"BILLING_API_URL": closed, "BILLING_TOKEN": "bsk_test_x", "LOADGEN_PROGRESS": "off"}
	code, stdout, stderr := runLoadgen(t, env, "run", "-source", "parquet:../../testdata/sample/parquet", "-rate", "50", "-duration", "1s")
	if code != 4 || !strings.Contains(stderr, "error_rate<100%") || !strings.Contains(stdout, "FAIL  error_rate<100%") {
		t.Errorf("closed port, no threshold: exit %d, want 4 naming error_rate<100%%\n%s\n%s", code, stdout, stderr)
	}

	_, env = sandboxEnv(t, sandbox.Config{FailRate: 0.3, Seed: 3})
	code, stdout, stderr = runLoadgen(t, env, args()...)
	if code != 0 || !strings.Contains(stderr, "WARNING: ") || !strings.Contains(stderr, "no -threshold gates the error rate") {
		t.Errorf("30%% errors, no threshold: exit %d, want 0 with a warning\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr = runLoadgen(t, env, args("-threshold", "error_rate<50%")...)
	if code != 0 || strings.Contains(stderr, "WARNING") {
		t.Errorf("30%% errors gated by error_rate<50%%: exit %d, want 0 and no warning\n%s", code, stderr)
	}
}
