package load

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/source"
	"github.com/billharness/billharness/internal/source/sourcetest"
)

// parquetRow is a usage event row in the layout the sources read.
// TestSourceEvents replays a Parquet file at a set rate: every valid event
// is sent once with a run-unique id, invalid rows are skipped and counted,
// and the run ends when the source runs out.
func TestSourceEvents(t *testing.T) {
	sb, syn := syntheticOnSandbox(t, 2)
	acct := syn.Catalog.Accounts[0]
	var rows []sourcetest.Row
	for i := range 150 {
		r := sourcetest.Event(fmt.Sprintf("evt-%d", i), EventLLMCompletion, acct.CustomerID, acct.SubscriptionID,
			time.Date(2026, 10, 1, 0, 0, i, 0, time.UTC), `{"input_tokens":10,"output_tokens":5}`)
		if i%50 == 49 {
			r.EventType = "" // invalid: skipped
		}
		rows = append(rows, r)
	}
	dir := t.TempDir()
	sourcetest.WriteFile(t, filepath.Join(dir, "events.parquet"), rows)

	ctx := context.Background()
	rd, err := source.Open(ctx, source.Spec{Kind: source.KindParquet, Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	src := StartSource(ctx, rd, "run1-0-")
	defer src.Stop()
	sch, err := Constant(500, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, Config{Client: testClient(t, sb, 100), Events: src.Worker, Schedule: sch})
	if !res.Exhausted || res.Elapsed() > 5*time.Second {
		t.Errorf("exhausted = %v after %v, want the run to end when the source runs out", res.Exhausted, res.Elapsed())
	}
	if res.Sent != 147 || res.Counts[Class2xx] != 147 || res.Duplicates != 0 {
		t.Errorf("sent %d, 2xx %d, duplicates %d; want 147, 147, 0", res.Sent, res.Counts[Class2xx], res.Duplicates)
	}
	if src.Invalid() != 3 {
		t.Errorf("invalid = %d, want 3", src.Invalid())
	}
	u, err := adminClient(t, sb).Usage(ctx, acct.SubscriptionID, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range u.Meters {
		if m.Property == "input_tokens" {
			found = true
			if m.Quantity.String() != "1470" {
				t.Errorf("input tokens = %s, want 1470", m.Quantity)
			}
		}
	}
	if !found {
		t.Errorf("usage has no input_tokens meter: %+v", u.Meters)
	}
	// A second run of the same source with another prefix is new to the API.
	rd2, err := source.Open(ctx, source.Spec{Kind: source.KindParquet, Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer rd2.Close()
	src2 := StartSource(ctx, rd2, "run2-0-")
	defer src2.Stop()
	res2 := run(t, Config{Client: testClient(t, sb, 100), Events: src2.Worker, Schedule: sch})
	if res2.Duplicates != 0 || res2.Counts[Class2xx] != 147 {
		t.Errorf("second run: 2xx %d, duplicates %d; want 147, 0", res2.Counts[Class2xx], res2.Duplicates)
	}
}
