package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/replay"
	"github.com/billharness/billharness/internal/report"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
)

// jobWindow keeps the simulation quick: three days of the sample, about
// 4,500 events.
const jobWindow = "2026-10-01..2026-10-04"

// jobShards is the Indexed Job's completions.
const jobShards = 3

// pod starts the reconcile command as a pod of an Indexed Job would: the
// settings in the environment (as the manifests' ConfigMap gives them),
// JOB_COMPLETION_INDEX set as Kubernetes sets it, and no -shard flag.
func pod(t *testing.T, sb *sandboxtest.Sandbox, index int, env map[string]string, args ...string) *proc {
	t.Helper()
	vars := []string{"BILLING_API_URL=" + sb.URL, "BILLING_TOKEN=" + sb.AdminToken,
		"JOB_COMPLETION_INDEX=" + strconv.Itoa(index), "RECONCILE_SHARDS=" + strconv.Itoa(jobShards)}
	for k, v := range env {
		vars = append(vars, k+"="+v)
	}
	return startProc(t, vars, args...)
}

// backfill runs the sharded replay: shard 1 starts alone and is killed
// with SIGKILL once it has stored events and a checkpoint, then all three
// shards run to the end, shard 1 resuming from its checkpoint.
func backfill(t *testing.T, sb *sandboxtest.Sandbox, dir string) {
	t.Helper()
	env := func(i int) map[string]string {
		return map[string]string{
			"RECONCILE_SOURCE": "parquet:" + filepath.Join(sample, "parquet"), "RECONCILE_WINDOW": jobWindow,
			"RECONCILE_CHECKPOINT":       filepath.Join(dir, fmt.Sprintf("replay-%d.ckpt", i)),
			"RECONCILE_CHECKPOINT_EVERY": "50ms", "RECONCILE_PROGRESS": "off",
			"RECONCILE_DEAD_LETTER": filepath.Join(dir, fmt.Sprintf("dead-letter-%d.jsonl", i)),
			"RECONCILE_SUMMARY":     filepath.Join(dir, fmt.Sprintf("replay-%d.json", i)),
		}
	}
	first := env(1)
	first["RECONCILE_RATE"] = "2000/s" // slow enough to be killed mid-run
	p := pod(t, sb, 1, first, "replay")
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := os.Stat(first["RECONCILE_CHECKPOINT"])
		if err == nil && sb.Server.Stats().EventsStored >= 500 {
			break
		}
		if p.exited() {
			t.Fatalf("shard 1 exited (%v) before it stored 500 events and a checkpoint\n%s", p.err, p.out)
		}
		if time.Now().After(deadline) {
			t.Fatalf("shard 1 stored %d events and no checkpoint (%v) after 60s\n%s", sb.Server.Stats().EventsStored, err, p.out)
		}
		time.Sleep(5 * time.Millisecond) // polling the sandbox and the checkpoint file, with a deadline
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(); err == nil {
		t.Fatalf("shard 1 finished before it was killed: the test killed nothing\n%s", p.out)
	}
	t.Logf("shard 1 killed at %d stored events", sb.Server.Stats().EventsStored)

	var pods []*proc
	for i := range jobShards {
		pods = append(pods, pod(t, sb, i, env(i), "replay"))
	}
	for i, p := range pods {
		if err := p.wait(); err != nil {
			t.Fatalf("replay shard %d/%d: %v\n%s", i, jobShards, err, p.out)
		}
	}
	var st replay.Stats
	b, err := os.ReadFile(first["RECONCILE_SUMMARY"])
	if err == nil {
		err = json.Unmarshal(b, &st)
	}
	if err != nil || st.Source.SkippedResume == 0 {
		t.Errorf("resumed shard 1 skipped %d records before its checkpoint (%v), want some: it did not resume", st.Source.SkippedResume, err)
	}
}

// verifyShards runs one verify pod per shard, each to its own directory,
// and returns the directories.
func verifyShards(t *testing.T, sb *sandboxtest.Sandbox, dir, gateway string) []string {
	t.Helper()
	var dirs []string
	var pods []*proc
	for i := range jobShards {
		d := filepath.Join(dir, fmt.Sprintf("shard-%d", i))
		pods = append(pods, pod(t, sb, i, map[string]string{
			"RECONCILE_SOURCE": "parquet:" + filepath.Join(sample, "parquet"), "RECONCILE_WINDOW": jobWindow,
			"RECONCILE_OUT": d, "RECONCILE_RUN_ID": "rc-job", "RECONCILE_PUSHGATEWAY": gateway,
		}, "verify"))
		dirs = append(dirs, d)
	}
	for i, p := range pods {
		if err := p.wait(); err != nil && p.cmd.ProcessState.ExitCode() != 3 {
			t.Fatalf("verify shard %d/%d: %v\n%s", i, jobShards, err, p.out)
		}
	}
	return dirs
}

// comparable is what a merged report must share with the single-process
// report: everything in summary.json but the run's name, time and shard,
// and the durations.
func comparable(t *testing.T, dir string) report.Summary {
	t.Helper()
	s := checkSummary(t, dir)
	s.RunID, s.GeneratedAt, s.Shard = "", time.Time{}, ""
	s.ScanSeconds, s.FetchSeconds, s.Settle.Elapsed = 0, 0, ""
	s.Rows.DedupBytes = 0 // memory: each shard holds only its own ids
	s.SourceBytes = 0     // every Parquet shard reads the files
	return s
}

// pushRecorder records the bodies a Pushgateway is sent, by method and
// group: "POST command=verify,job=billharness_reconcile,shard=0/3".
type pushRecorder struct {
	mu     sync.Mutex
	groups map[string][]byte
}

func (p *pushRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	// /metrics/job/<job>{/<label>[@base64]/<value>}, labels in any order.
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/metrics/"), "/")
	var labels []string
	for i := 0; i+1 < len(parts); i += 2 {
		name, value := parts[i], parts[i+1]
		if n, ok := strings.CutSuffix(name, "@base64"); ok {
			v, _ := base64.RawURLEncoding.DecodeString(strings.TrimRight(value, "="))
			name, value = n, string(v)
		}
		labels = append(labels, name+"="+value)
	}
	slices.Sort(labels)
	p.mu.Lock()
	p.groups[r.Method+" "+strings.Join(labels, ",")] = b
	p.mu.Unlock()
}

// An Indexed Job simulated with processes: three replay pods with
// JOB_COMPLETION_INDEX 0 to 2 (one killed mid-run and started again), then
// three verify pods, then reconcile merge. The merged report must equal
// the report of one verify process over the same API: the same discrepancy
// rows (byte for byte), classes, pairs, subscriptions and row accounting;
// only the run id, time, shard and durations may differ.
func TestIndexedJobSimulation(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  sandbox.Config
	}{
		// A faithful API: killed and resumed, the backfill is exact, so
		// every pair matches.
		{name: "faithful API", cfg: sandbox.Config{}},
		// An API that loses and doubles events: there are discrepancy
		// rows to compare, in every shard.
		{name: "lossy API", cfg: sandbox.Config{Seed: 7, DropRate: 0.01, DoubleRate: 0.01}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sb := sandboxtest.StartSample(t, tt.cfg)
			dir := t.TempDir()
			rec := &pushRecorder{groups: map[string][]byte{}}
			gw := httptest.NewServer(rec)
			t.Cleanup(gw.Close)

			backfill(t, sb, dir)
			dirs := verifyShards(t, sb, dir, gw.URL)
			merged := filepath.Join(dir, "merged")
			code, stdout, stderr := runReconcile(t, nil, append([]string{"merge", "-out", merged, "-pushgateway", gw.URL}, filepath.Join(dir, "shard-*"))...)
			single := filepath.Join(dir, "single")
			wantCode, _, serr := runReconcile(t, map[string]string{"BILLING_API_URL": sb.URL, "BILLING_TOKEN": sb.AdminToken},
				"verify", "-source", "parquet:"+filepath.Join(sample, "parquet"), "-window", jobWindow, "-out", single)
			if code != wantCode {
				t.Errorf("merge exit %d, single verify %d; want the same\n%s%s\n%s", code, wantCode, stdout, stderr, serr)
			}
			want, got := comparable(t, single), comparable(t, merged)
			exact := cmp.Comparer(func(a, b billing.Quantity) bool { return a.Cmp(b) == 0 })
			if diff := cmp.Diff(want, got, exact); diff != "" {
				t.Errorf("merged summary.json (-single +merged):\n%s", diff)
			}
			for _, name := range []string{report.JSONLFile, report.CSVFile} {
				a, _ := os.ReadFile(filepath.Join(single, name))
				b, err := os.ReadFile(filepath.Join(merged, name))
				if err != nil || !bytes.Equal(a, b) {
					t.Errorf("merged %s differs from the single run's (%v):\n%s\nwant:\n%s", name, err, b, a)
				}
			}
			if !want.RowsComplete || want.Rows.Counted == 0 {
				t.Errorf("single run rows %+v: want a complete read with events counted", want.Rows)
			}
			mismatches := want.Pairs - want.Classes["match"]
			switch tt.name {
			case "faithful API":
				if wantCode != 0 || mismatches != 0 {
					t.Errorf("after a killed and resumed backfill, verify exit %d with %d pairs not matching, want 0 and 0", wantCode, mismatches)
				}
			default:
				withRows := 0
				for _, d := range dirs {
					if s := checkSummary(t, d); s.SubscriptionsWithDiscrepancies > 0 {
						withRows++
					}
				}
				if wantCode != 3 || want.Classes["under"] == 0 || want.Classes["over"] == 0 || withRows < 2 {
					t.Errorf("lossy API: verify exit %d, classes %v, %d shards with discrepancies; want 3, under and over pairs, in at least 2 shards",
						wantCode, want.Classes, withRows)
				}
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			for _, shard := range []string{"0/3", "1/3", "2/3", "0/1"} { // 0/1: the merge
				group := "POST command=verify,job=billharness_reconcile,shard=" + shard
				if !bytes.Contains(rec.groups[group], []byte("billharness_reconcile_discrepancies")) {
					t.Errorf("Pushgateway got no discrepancies for %s; got %v", group, slices.Collect(maps.Keys(rec.groups)))
				}
			}
		})
	}
}
