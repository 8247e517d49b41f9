package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/billharness/billharness/internal/billing"
)

func TestRunDeterministic(t *testing.T) {
	args := func(out string) []string {
		return []string{"-seed", "42", "-events", "3000", "-customers", "20", "-files", "2", "-row-group", "500", "-out", out}
	}
	a, b := t.TempDir(), t.TempDir()
	var stdout bytes.Buffer
	if err := run(args(a), &stdout); err != nil {
		t.Fatalf("run() = %v", err)
	}
	if err := run(args(b), &stdout); err != nil {
		t.Fatalf("run() = %v", err)
	}
	files := 0
	filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		x, _ := os.ReadFile(p)
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same seed", rel)
		}
		files++
		return nil
	})
	// 2 Parquet files, the COPY file, schema.sql, seed.json, manifest.json.
	if files != 6 {
		t.Errorf("run wrote %d files, want 6", files)
	}

	var m summary
	raw, _ := os.ReadFile(filepath.Join(a, "manifest.json"))
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.Events != 3000 || m.UniqueIDs+m.Duplicates != 3000 || len(m.Files) != 2 {
		t.Errorf("manifest = %+v, want 3000 events in 2 files", m)
	}
	// Shares: ~1% outside the month, ~0.5% duplicates, all three types.
	if m.OutsideMonth < 10 || m.OutsideMonth > 60 || m.Duplicates < 3 || m.Duplicates > 35 || len(m.ByType) != 3 {
		t.Errorf("manifest = %+v, want ~30 outside the month, ~15 duplicates, 3 event types", m)
	}

	var seed seedFile
	raw, _ = os.ReadFile(filepath.Join(a, "seed.json"))
	if err := json.Unmarshal(raw, &seed); err != nil {
		t.Fatal(err)
	}
	if len(seed.Customers) != 20 || len(seed.Subscriptions) < 20 || len(seed.Subscriptions) > 40 || len(seed.SKUs) != 6 {
		t.Errorf("seed has %d customers, %d subscriptions, %d SKUs; want 20, 20-40, 6",
			len(seed.Customers), len(seed.Subscriptions), len(seed.SKUs))
	}
	aggs := map[string]bool{}
	for _, s := range seed.SKUs {
		aggs[s.Aggregation] = true
	}
	for _, want := range []string{"Sum", "Count", "Max", "UniqueCount"} {
		if !aggs[want] {
			t.Errorf("seed SKUs lack aggregation %s", want)
		}
	}
}

func TestRunSeedChangesData(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	var stdout bytes.Buffer
	run([]string{"-seed", "1", "-events", "100", "-formats", "seed", "-out", a}, &stdout)
	run([]string{"-seed", "2", "-events", "100", "-formats", "seed", "-out", b}, &stdout)
	x, _ := os.ReadFile(filepath.Join(a, "seed.json"))
	y, _ := os.ReadFile(filepath.Join(b, "seed.json"))
	if len(x) == 0 || bytes.Equal(x, y) {
		t.Errorf("seeds 1 and 2 gave the same seed.json (%d bytes), want different data", len(x))
	}
}

func TestFlagErrors(t *testing.T) {
	var stderr bytes.Buffer
	err := run([]string{"-events", "0", "-month", "2026-13", "-formats", "parquet,xml", "-compression", "lz0"}, &stderr)
	if err == nil {
		t.Fatal("run(bad flags) = nil, want an error")
	}
	for _, want := range []string{"-events", "-month", `unknown "xml"`, "-compression"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("run(bad flags) = %v, want it to report %s", err, want)
		}
	}
}

// events.jsonl holds one POST /v1/events body per event, in canonical
// form (what billing.Event encodes to), so wrk can send what replay sends.
func TestJSONLBodies(t *testing.T) {
	out := t.TempDir()
	var stdout bytes.Buffer
	if err := run([]string{"-seed", "3", "-events", "500", "-customers", "5", "-files", "1", "-formats", "jsonl", "-out", out}, &stdout); err != nil {
		t.Fatalf("run() = %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != 500 {
		t.Fatalf("events.jsonl has %d lines, want 500", len(lines))
	}
	for i, line := range lines {
		var ev billing.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		again, _ := json.Marshal(ev)
		if string(again) != line || ev.ID == "" || ev.SubscriptionID == "" || len(ev.Properties) == 0 {
			t.Fatalf("line %d = %s, want a complete event in canonical form (%s)", i+1, line, again)
		}
	}
}
