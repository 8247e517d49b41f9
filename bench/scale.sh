#!/usr/bin/env bash
# Scaling out: what one verify shard costs against the unsharded run on the
# same data, and how peak memory follows the events (it should not). Each
# row is measured in this run beside its reference:
#
#   - Parquet, 5M events: unsharded, then -shard 0/4 (CPU, peak RSS, bytes
#     read, events read);
#   - Parquet, 4x the events (20M): unsharded, against the 5M run's RSS;
#   - PostgreSQL, the same 5M rows: unsharded, then -shard 0/4 (bytes
#     received from the server: the shard and the window are in the SQL).
#
# Prints the markdown "## Scaling out" section of BENCHMARKS.md on stdout.
# Needs BILLHARNESS_TEST_PG_DSN for the PostgreSQL rows (make bench runs
# under scripts/with-postgres.sh).
#
# Env: SCALE_EVENTS (5000000), SCALE_FACTOR (4: the large run has
# SCALE_FACTOR times the events), SCALE_CUSTOMERS (38500), SCALE_DATA
# (directory for the generated data, reused when it matches; default: a
# temporary directory), SCALE_SHARDS (4).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$BENCH_DIR/lib.sh"

ensure_gnu_time
events=${SCALE_EVENTS:-5000000}
factor=${SCALE_FACTOR:-4}
customers=${SCALE_CUSTOMERS:-38500}
data=${SCALE_DATA:-$BENCH_TMP/scale}
shards=${SCALE_SHARDS:-4}
window=2026-10

(cd "$ROOT" && go build -o "$BENCH_TMP/" ./cmd/reconcile ./cmd/sandbox)

# gen DIR EVENTS FORMATS: generated data, reused when its manifest matches.
gen() {
  local dir=$1 n=$2 formats=$3
  if [ ! -f "$dir/manifest.json" ] || ! grep -q "\"events\": $n," "$dir/manifest.json" ||
    { [[ $formats == *copy* ]] && [ ! -f "$dir/usage_events.csv.gz" ]; }; then
    echo "bench: generating $n events in $dir" >&2
    (cd "$ROOT" && go run ./testdata/gen -seed 7 -events "$n" -customers "$customers" -files $((n / 1000000)) \
      -row-group 100000 -formats "$formats" -out "$dir" >&2)
  fi
}
small=$data/small large=$data/large
gen "$small" "$events" parquet,seed,copy
gen "$large" $((events * factor)) parquet

export BILLING_TOKEN=$token
start_server sandbox "$BENCH_TMP/sandbox" -addr 127.0.0.1:0 -seed-file "$small/seed.json"

field() { grep -m1 -o "\"$1\": [0-9.]*" "$BENCH_TMP/out/summary.json" | awk '{print $2}'; }

# measure SOURCE [ARGS…]: one verify under /usr/bin/time; sets cpu (s),
# rss (MiB), read (events read), bytes (MiB from the source), spill.
measure() {
  local src=$1; shift
  local code=0
  /usr/bin/time -v -o "$BENCH_TMP/time.txt" "$BENCH_TMP/reconcile" verify -api-url "$sandbox_URL" \
    -source "$src" -window "$window" -rate 0 -concurrency 32 -out "$BENCH_TMP/out" -run-id bench \
    -log-level warn "$@" >"$BENCH_TMP/stdout.txt" 2>"$BENCH_TMP/stderr.txt" || code=$?
  if [ "$code" != 0 ] && [ "$code" != 3 ]; then
    echo "bench: verify exited $code" >&2; cat "$BENCH_TMP/stdout.txt" "$BENCH_TMP/stderr.txt" >&2; return 1
  fi
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$BENCH_TMP/time.txt")
  rss=$(awk '/Maximum resident set size/ {printf "%d", $NF / 1024}' "$BENCH_TMP/time.txt")
  read=$(field events)
  bytes=$(awk -v b="$(field source_bytes)" 'BEGIN {printf "%.0f", b / 1048576}')
  bytes_kib=$(awk -v b="$(field source_bytes)" 'BEGIN {printf "%.0f", b / 1024}')
  scan=$(awk -v s="$(field scan_seconds)" 'BEGIN {printf "%.1f", s}')
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.1f", s}' "$BENCH_TMP/time.txt")
  spill=$(field spill_partitions || true); spill=${spill:-0}
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f%%", 100 * a / b}'; }

rows=()
measure "parquet:$small/parquet"
p_cpu=$cpu p_rss=$rss p_read=$read p_bytes=$bytes
rows+=("| Parquet $events, unsharded (reference) | $p_read | $p_cpu | 100% | $p_bytes | $p_rss | $spill |")
measure "parquet:$small/parquet" -shard "0/$shards"
rows+=("| Parquet $events, \`-shard 0/$shards\` | $read ($(pct "$read" "$p_read")) | $cpu | $(pct "$cpu" "$p_cpu") | $bytes ($(pct "$bytes" "$p_bytes")) | $rss | $spill |")
measure "parquet:$large/parquet"
rows+=("| Parquet $((events * factor)), unsharded | $read | $cpu | $(pct "$cpu" "$p_cpu") | $bytes | $rss ($(pct "$rss" "$p_rss") of the $events run) | $spill |")

if [ -n "${BILLHARNESS_TEST_PG_DSN:-}" ]; then
  psql=${PSQL:-$(command -v psql || ls /usr/lib/postgresql/*/bin/psql | sort -V | tail -n 1)}
  schema=bench_scale_$$
  "$psql" -q "$BILLHARNESS_TEST_PG_DSN" -c "CREATE SCHEMA $schema" >&2
  trap '"$psql" -q "$BILLHARNESS_TEST_PG_DSN" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >&2 || true; stop_servers; rm -rf "$BENCH_TMP"' EXIT
  PGOPTIONS="-c search_path=$schema" "$psql" -q "$BILLHARNESS_TEST_PG_DSN" -f "$small/schema.sql" >&2
  gzip -dc "$small/usage_events.csv.gz" | PGOPTIONS="-c search_path=$schema" "$psql" -q "$BILLHARNESS_TEST_PG_DSN" \
    -c "\\copy usage_events FROM STDIN (FORMAT csv, HEADER true)" >&2
  PGOPTIONS="-c search_path=$schema" "$psql" -q "$BILLHARNESS_TEST_PG_DSN" -c "ANALYZE usage_events" >&2
  shares=$(PGOPTIONS="-c search_path=$schema" "$psql" -qtA "$BILLHARNESS_TEST_PG_DSN" -c \
    "SELECT string_agg(round(100.0 * n / t, 1) || '%', ' / ' ORDER BY s) FROM (SELECT s, n, sum(n) OVER () AS t FROM (SELECT ('x' || left(md5(customer_id), 15))::bit(60)::bigint % $shards AS s, count(*) AS n FROM usage_events GROUP BY 1) x) y" 2>/dev/null || true)
  pg="$BILLHARNESS_TEST_PG_DSN"
  measure "$pg" -table "$schema.usage_events" -pushdown off
  g_cpu=$cpu g_read=$read g_bytes=$bytes g_wall=$wall g_scan=$scan
  rows+=("| PostgreSQL $events, unsharded, streaming (reference) | $g_read | $g_cpu | 100% | $g_bytes | $rss | $spill |")
  measure "$pg" -table "$schema.usage_events" -pushdown off -shard "0/$shards"
  rows+=("| PostgreSQL $events, streaming, \`-shard 0/$shards\` | $read ($(pct "$read" "$g_read")) | $cpu | $(pct "$cpu" "$g_cpu") | $bytes ($(pct "$bytes" "$g_bytes")) | $rss | $spill |")
  measure "$pg" -table "$schema.usage_events" -pushdown on
  rows+=("| PostgreSQL $events, unsharded, \`-pushdown on\` | $read | $cpu | $(pct "$cpu" "$g_cpu") | $bytes_kib KiB ($(pct "$bytes" "$g_bytes")) | $rss | $spill |")
  pushline="Push-down against streaming on the same table, unsharded: scan $scan s against $g_scan s (wall $wall s against $g_wall s, the fetch of usage included); the database does the work the verify process did."
fi

cat <<MD
## Scaling out

\`reconcile verify\` of one month (\`testdata/gen\`, seed 7, $customers
customers, zstd Parquet in 100,000-row groups; the same rows in
PostgreSQL) against the sandbox on 127.0.0.1, \`-rate 0 -concurrency 32\`,
default \`-memory-limit\` (512MiB). CPU is user + system seconds of the
verify process, peak RSS from \`/usr/bin/time -v\`; events and source bytes
from summary.json. A shard holds whole customers (\`customer_id\`), so its
share follows how the events fall across customers, not 1/$shards exactly${shares:+ (here, shards 0 to $((shards - 1)): $shares of the rows)}.

| run | events read | CPU s | CPU vs reference | source MiB | peak RSS MiB | spill partitions |
|---|---:|---:|---:|---:|---:|---:|
$(printf '%s\n' "${rows[@]}")

${pushline:-}

Reproduce: \`BILLHARNESS_TEST_PG_DSN=… bash bench/scale.sh\` (\`SCALE_EVENTS\`, \`SCALE_FACTOR\`).
MD
