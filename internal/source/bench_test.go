package source

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/billharness/billharness/internal/jsonscan"
)

// benchParquet is the dataset the benchmarks scan: BILLHARNESS_BENCH_PARQUET
// (scripts/bench-source.sh sets it to a generated 1M or 5M-event
// directory), else the committed sample.
func benchParquet() string {
	if p := os.Getenv("BILLHARNESS_BENCH_PARQUET"); p != "" {
		return p
	}
	return "../../testdata/sample/parquet"
}

// totals is the per-subscription aggregate the DuckDB reference computes.
type totals struct {
	events, inputTokens, outputTokens, bytes int64
}

// intProperty is an integer property, 0 when absent.
func intProperty(props json.RawMessage, key string) int64 {
	v, _, ok := jsonscan.Lookup(props, key)
	if !ok {
		return 0
	}
	n, _ := strconv.ParseInt(string(v), 10, 64)
	return n
}

// scan reads every event of spec once per benchmark iteration and reports
// events/s and allocations per event.
func scan(b *testing.B, spec Spec) {
	ctx := context.Background()
	var events int64
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	for b.Loop() {
		r, err := Open(ctx, spec)
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			events++
		}
		r.Close()
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(events), "allocs/event")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(events), "B/event")
}

// BenchmarkParquetScan reads every event of the dataset, as replay does.
func BenchmarkParquetScan(b *testing.B) {
	scan(b, Spec{Kind: KindParquet, Path: benchParquet()})
}

// BenchmarkPostgresScan reads every event of BILLHARNESS_BENCH_PG_TABLE
// (schema-qualified, loaded by scripts/bench-source.sh) from the server at
// BILLHARNESS_TEST_PG_DSN.
func BenchmarkPostgresScan(b *testing.B) {
	dsn, table := os.Getenv("BILLHARNESS_TEST_PG_DSN"), os.Getenv("BILLHARNESS_BENCH_PG_TABLE")
	if dsn == "" || table == "" {
		b.Skip("BILLHARNESS_TEST_PG_DSN and BILLHARNESS_BENCH_PG_TABLE not set")
	}
	scan(b, Spec{Kind: KindPostgres, DSN: dsn, Table: table})
}

// BenchmarkParquetAggregate reads every event and sums tokens and bytes per
// subscription, the same work as the DuckDB reference query.
func BenchmarkParquetAggregate(b *testing.B) {
	ctx := context.Background()
	var events int64
	b.ReportAllocs()
	for b.Loop() {
		r, err := Open(ctx, Spec{Kind: KindParquet, Path: benchParquet()})
		if err != nil {
			b.Fatal(err)
		}
		sums := map[string]*totals{}
		for {
			rec, err := r.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			events++
			t := sums[rec.Event.SubscriptionID]
			if t == nil {
				t = &totals{}
				sums[rec.Event.SubscriptionID] = t
			}
			t.events++
			t.inputTokens += intProperty(rec.Event.Properties, "input_tokens")
			t.outputTokens += intProperty(rec.Event.Properties, "output_tokens")
			t.bytes += intProperty(rec.Event.Properties, "bytes")
		}
		r.Close()
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
