package reconcile

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/billharness/billharness/internal/source"
)

// A scan over its memory limit partitions the events by id on disk and
// counts one partition at a time: the answer (rows, classes, every
// discrepancy with its sample ids) is the in-memory scan's, bit for bit,
// on Parquet and PostgreSQL, whole and sharded; and the work directory is
// left empty.
func TestSpilledEqualsInMemory(t *testing.T) {
	src, c := mixedSource(t)
	specs := map[string]source.Spec{"parquet": writeParquet(t, src), "postgres": writePostgres(t, src)}
	for _, kind := range []string{"parquet", "postgres"} {
		for _, shard := range []source.Shard{{}, {Index: 1, Count: 3}} {
			t.Run(fmt.Sprintf("%s/%s", kind, shard), func(t *testing.T) {
				cfg := Config{Client: c, Source: specs[kind], Window: october, Shard: shard, Pushdown: PushdownOff}
				mem, err := Verify(context.Background(), cfg)
				if err != nil {
					t.Fatalf("Verify in memory = %v", err)
				}
				cfg.MemoryLimit, cfg.WorkDir = 1, t.TempDir() // every event spills
				spilled, err := Verify(context.Background(), cfg)
				if err != nil {
					t.Fatalf("Verify spilled = %v", err)
				}
				if mem.Rows.SpillPartitions != 0 || spilled.Rows.SpillPartitions != maxPartitions || spilled.Rows.SpillBytes == 0 {
					t.Fatalf("spill partitions in memory %d, spilled %d (%d bytes); want 0 and %d",
						mem.Rows.SpillPartitions, spilled.Rows.SpillPartitions, spilled.Rows.SpillBytes, maxPartitions)
				}
				if shard.Count == 0 && (mem.Rows.Duplicates == 0 || mem.Rows.Conflicting == 0) {
					t.Fatalf("rows %+v: the data must hold duplicates and conflicting duplicates", mem.Rows)
				}
				ignore := cmpopts.IgnoreFields(Rows{}, "DedupBytes", "SpillPartitions", "SpillBytes")
				if diff := cmp.Diff(mem.Rows, spilled.Rows, ignore); diff != "" {
					t.Errorf("rows (-in memory +spilled):\n%s", diff)
				}
				if diff := cmp.Diff(mem.Counts, spilled.Counts); diff != "" {
					t.Errorf("classes (-in memory +spilled):\n%s", diff)
				}
				if diff := cmp.Diff(mem.Discrepancies, spilled.Discrepancies, quantities); diff != "" {
					t.Errorf("discrepancies (-in memory +spilled):\n%s", diff)
				}
				if left, _ := os.ReadDir(cfg.WorkDir); len(left) != 0 {
					t.Errorf("work directory holds %d entries after the scan, want none", len(left))
				}
			})
		}
	}
}

// A work directory that cannot be written fails the comparison, naming
// it: never a partial count.
func TestSpillUnwritableWorkDir(t *testing.T) {
	src, c := mixedSource(t)
	dir := t.TempDir() + "/missing/deeper"
	_, err := Verify(context.Background(), Config{Client: c, Source: writeParquet(t, src), Window: october, MemoryLimit: 1, WorkDir: dir})
	if err == nil || !strings.Contains(err.Error(), "work directory") {
		t.Fatalf("Verify with work directory %s = %v, want an error naming the work directory", dir, err)
	}
}

func TestPartitions(t *testing.T) {
	tests := []struct {
		expected, limit int64
		want            int
	}{
		{0, DefaultMemoryLimit, 1},
		{1_000_000, DefaultMemoryLimit, 1},
		{7_000_000, DefaultMemoryLimit, 1},    // 240 MB of ids in a 256 MB half
		{8_000_000, DefaultMemoryLimit, 3},    // 274 MB, in quarters of 128 MB
		{100_000_000, DefaultMemoryLimit, 26}, // 3.4 GB
		{1 << 40, DefaultMemoryLimit, maxPartitions},
		{10, 1, maxPartitions},
	}
	for _, tt := range tests {
		if got := partitions(tt.expected, tt.limit); got != tt.want {
			t.Errorf("partitions(%d, %d) = %d, want %d", tt.expected, tt.limit, got, tt.want)
		}
	}
}
