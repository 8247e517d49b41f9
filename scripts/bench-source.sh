#!/usr/bin/env bash
# Benchmarks internal/source on generated datasets of 1M and 5M events and
# prints the markdown table of BENCHMARKS.md's "## Sources" section:
# Parquet events/s and allocations per event (full scan), peak RSS of a
# full scan (should stay flat as the file grows), Go scan-and-aggregate
# against DuckDB on one core, and PostgreSQL events/s against psql copying
# the same rows out, when BILLHARNESS_TEST_PG_DSN points at a server.
#
#   scripts/bench-source.sh            # needs go, node, npm, /usr/bin/time, taskset
#   SIZES="1000000" scripts/bench-source.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
sizes=${SIZES:-"1000000 5000000"}
pg_size=${PG_SIZE:-5000000}
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-source.XXXXXX")
trap 'rm -rf "$work"' EXIT

[ -x /usr/bin/time ] || { echo "bench-source: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
(cd "$root/testdata/fixtures/node" && [ -d node_modules ] || npm install --no-audit --no-fund >&2)

cd "$root"
go test -c -o "$work/source.test" ./internal/source >&2
one_core="taskset -c 0"

# field NAME LINE: the value before unit NAME in a benchmark line.
field() { awk -v u="$1" '{for (i = 2; i <= NF; i++) if ($i == u) print $(i-1)}' <<<"$2"; }

echo "| events | file MiB | scan events/s | allocs/event | B/event | peak RSS MiB | Go aggregate s | DuckDB s | ratio |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in $sizes; do
  dir="$work/d$n"
  formats=parquet
  [ "$n" = "$pg_size" ] && [ -n "${BILLHARNESS_TEST_PG_DSN:-}" ] && formats=parquet,copy
  go run ./testdata/gen -seed 7 -events "$n" -customers 5000 -files 1 -row-group 100000 -formats "$formats" -out "$dir" >&2
  file=$(ls "$dir"/parquet/*/*.parquet)
  mib=$(( $(stat -c %s "$file") / 1048576 ))
  export BILLHARNESS_BENCH_PARQUET="$dir/parquet"

  /usr/bin/time -v -o "$work/time.txt" $one_core "$work/source.test" -test.run '^$' \
    -test.bench '^BenchmarkParquetScan$' -test.benchtime 1x -test.cpu 1 >"$work/scan.txt"
  scan=$(grep '^BenchmarkParquetScan' "$work/scan.txt")
  rss=$(awk '/Maximum resident set size/ {printf "%d", $NF / 1024}' "$work/time.txt")

  $one_core "$work/source.test" -test.run '^$' -test.bench '^BenchmarkParquetAggregate$' \
    -test.benchtime 3x -test.cpu 1 >"$work/agg.txt"
  agg=$(grep '^BenchmarkParquetAggregate' "$work/agg.txt")
  agg_s=$(awk '{printf "%.2f", $3 / 1e9}' <<<"$agg")

  duck=$($one_core node testdata/fixtures/node/duckdb-bench.mjs "$dir/parquet/*/*.parquet" 1)
  duck_s=$(node -e 'console.log(JSON.parse(process.argv[1]).seconds.toFixed(2))' "$duck")
  ratio=$(awk -v a="$agg_s" -v d="$duck_s" 'BEGIN {printf "%.2f", a / d}')

  printf '| %s | %s | %.0f | %s | %.0f | %s | %s | %s | %s× |\n' "$n" "$mib" "$(field events/s "$scan")" \
    "$(field allocs/event "$scan")" "$(field B/event "$scan")" "$rss" "$agg_s" "$duck_s" "$ratio"

  if [[ "$formats" == *copy* ]]; then
    schema="bench_source_$$"
    psql=${PSQL:-$(command -v psql || ls /usr/lib/postgresql/*/bin/psql | sort -V | tail -n 1)}
    "$psql" -q "$BILLHARNESS_TEST_PG_DSN" -c "CREATE SCHEMA $schema" >&2
    PGOPTIONS="-c search_path=$schema" "$psql" -q "$BILLHARNESS_TEST_PG_DSN" -f "$dir/schema.sql" >&2
    load_start=$(date +%s.%N)
    gzip -dc "$dir/usage_events.csv.gz" | PGOPTIONS="-c search_path=$schema" "$psql" -q "$BILLHARNESS_TEST_PG_DSN" \
      -c "\copy usage_events FROM STDIN (FORMAT csv, HEADER true)" >&2
    PGOPTIONS="-c search_path=$schema" "$psql" -q "$BILLHARNESS_TEST_PG_DSN" -c "ANALYZE usage_events" >&2
    load_s=$(awk -v s="$load_start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}')
    BILLHARNESS_BENCH_PG_TABLE="$schema.usage_events" "$work/source.test" -test.run '^$' \
      -test.bench '^BenchmarkPostgresScan$' -test.benchtime 1x -test.cpu 2 >"$work/pg.txt" || true
    # The reference: psql copying the same rows, in the reader's order, out
    # to /dev/null; the server's read, sort and text output with next to
    # no client work.
    copy_start=$(date +%s.%N)
    PGOPTIONS="-c search_path=$schema" "$psql" -q "$BILLHARNESS_TEST_PG_DSN" -c "\copy (SELECT id, event_type, customer_id, subscription_id, \"timestamp\", properties FROM usage_events ORDER BY \"timestamp\", id COLLATE \"C\") TO '/dev/null'" >&2
    copy_rate=$(awk -v s="$copy_start" -v e="$(date +%s.%N)" -v n="$n" 'BEGIN {printf "%.0f", n / (e - s)}')
    "$psql" -q "$BILLHARNESS_TEST_PG_DSN" -c "DROP SCHEMA $schema CASCADE" >&2
    pg=$(grep '^BenchmarkPostgresScan' "$work/pg.txt" || echo "")
    pg_rate=$(printf '%.0f' "$(field events/s "$pg")")
    pg_line=$(printf '| PostgreSQL source (pgx, keyset pages in (timestamp, id) order, decoded to events) | %s | %s | %s |\n| reference: `psql -c "\\copy (SELECT … ORDER BY timestamp, id) TO /dev/null"` | %s | 100%% | |' \
      "$pg_rate" "$(awk -v a="$pg_rate" -v b="$copy_rate" 'BEGIN {printf "%.0f%%", 100 * a / b}')" "$(field allocs/event "$pg")" "$copy_rate")
    pg_ver=$("$psql" -qAt "$BILLHARNESS_TEST_PG_DSN" -c 'SHOW server_version' | cut -d' ' -f1)
    pg_head="PostgreSQL $pg_ver, $n events (COPY load and index: ${load_s}s); client and server share the 2 cores."
  fi
done
echo
if [ -n "${pg_line:-}" ]; then
  echo "$pg_head"
  echo
  echo "| reader | events/s | vs psql COPY | allocs/event |"
  echo "|---|---:|---:|---:|"
  echo "$pg_line"
else
  echo "PostgreSQL: not measured (BILLHARNESS_TEST_PG_DSN unset)"
fi
