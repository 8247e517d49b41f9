#!/usr/bin/env bash
# reconcile verify of 5 million events across ~50,000 subscriptions: wall
# time, the time of its two phases (source scan, usage fetches) and peak
# RSS of the command, against a sandbox on 127.0.0.1 seeded with the same
# subscriptions. Two states of the API: empty (every pair with events is
# "under": the largest report) and loaded with every event by
# `reconcile replay` first (every pair matches). Prints the markdown
# "## Verify" section of BENCHMARKS.md on stdout.
#
# Env: BENCH_EVENTS (5000000), BENCH_CUSTOMERS (38500, about 50,000
# subscriptions), BENCH_DATA (directory for the generated data, reused when
# it matches; default: a temporary directory), BENCH_LOAD (1: also measure
# against the loaded API; the replay takes a few minutes; default 0), BENCH_CONCURRENCY
# (32).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$BENCH_DIR/lib.sh"

ensure_gnu_time
events=${BENCH_EVENTS:-5000000}
customers=${BENCH_CUSTOMERS:-38500}
data=${BENCH_DATA:-$BENCH_TMP/data}
load=${BENCH_LOAD:-0}
conc=${BENCH_CONCURRENCY:-32}
window=2026-10-01..2026-11-01

(cd "$ROOT" && go build -o "$BENCH_TMP/" ./cmd/reconcile ./cmd/sandbox)
manifest_field() { sed -n "s/^  \"$1\": \([0-9]*\),*$/\1/p" "$data/manifest.json"; }
if [ ! -f "$data/manifest.json" ] || [ "$(manifest_field events)" != "$events" ] || [ "$(manifest_field customers)" != "$customers" ]; then
  echo "bench: generating $events events for $customers customers in $data" >&2
  (cd "$ROOT" && go run ./testdata/gen -seed 7 -events "$events" -customers "$customers" -files 5 \
    -row-group 100000 -formats parquet,seed,copy -out "$data" >&2)
fi
subs=$(manifest_field subscriptions)
mib=$(du -sm "$data/parquet" | cut -f1)

export BILLING_TOKEN=$token
start_server sandbox "$BENCH_TMP/sandbox" -addr 127.0.0.1:0 -seed-file "$data/seed.json"

# summary_field NAME: a number from the last run's summary.json.
summary_field() { grep -m1 -o "\"$1\": [0-9.]*" "$BENCH_TMP/out/summary.json" | awk '{print $2}'; }

# measure LABEL: one verify under /usr/bin/time; prints a table row.
measure() {
  local code=0
  /usr/bin/time -v -o "$BENCH_TMP/time.txt" "$BENCH_TMP/reconcile" verify -api-url "$sandbox_URL" \
    -source "parquet:$data/parquet" -window "$window" -rate 0 -concurrency "$conc" \
    -out "$BENCH_TMP/out" -run-id bench -log-level warn >"$BENCH_TMP/stdout.txt" 2>"$BENCH_TMP/stderr.txt" || code=$?
  if [ "$code" != 0 ] && [ "$code" != 3 ]; then
    echo "bench: verify exited $code" >&2; cat "$BENCH_TMP/stdout.txt" "$BENCH_TMP/stderr.txt" >&2; return 1
  fi
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.1f", s}' "$BENCH_TMP/time.txt")
  rss=$(awk '/Maximum resident set size/ {printf "%d", $NF / 1024}' "$BENCH_TMP/time.txt")
  local pairs disc dedup
  pairs=$(summary_field pairs)
  disc=$(( pairs - $(summary_field match) ))
  dedup=$(awk -v b="$(summary_field dedup_bytes)" 'BEGIN {printf "%.0f", b / 1048576}')
  printf '| %s | %s | %s | %s | %s | %s | %.1f | %.1f | %s | %s |\n' "$1" "$(summary_field declared)" "$(summary_field subscriptions)" \
    "$pairs" "$disc" "$wall" "$(summary_field scan_seconds)" "$(summary_field fetch_seconds)" "$rss" "$dedup"
}

rows=("$(measure "empty (every pair under)")")
replay_s=""
if [ "$load" = 1 ]; then
  echo "bench: replaying $events events into the sandbox" >&2
  start=$SECONDS
  "$BENCH_TMP/reconcile" replay -api-url "$sandbox_URL" -source "parquet:$data/parquet" -rate 0 -concurrency 64 \
    -progress off -dead-letter "$BENCH_TMP/dead.jsonl" -log-level warn >&2
  replay_s=$((SECONDS - start))
  rows+=("$(measure "loaded (every pair matches)")")
fi

cat <<MD
## Verify

\`reconcile verify\` over $events generated events (\`testdata/gen\`, seed 7,
$customers customers, $subs subscriptions, 5 zstd Parquet files, $mib MiB,
100,000-row groups) for the window $window, against the sandbox on
127.0.0.1 seeded with the same subscriptions; \`-rate 0 -concurrency $conc\`.
Wall time and peak RSS of the verify process (\`/usr/bin/time -v\`); the
scan (read, deduplicate, aggregate every event) and fetch (one usage call
per subscription) phases from summary.json. The sandbox and the command
share the two cores.

| API | events | subscriptions | pairs | not match | wall s | scan s | fetch s | peak RSS MiB | dedup set MiB |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
$(printf '%s\n' "${rows[@]}")

MD
if [ -n "$replay_s" ]; then
  echo "Loading the API for the second row (\`reconcile replay -rate 0 -concurrency 64\`) took ${replay_s} s."
  echo
fi
echo "Reproduce: \`bash bench/verify.sh\` (\`BENCH_LOAD=1\` adds a row against the API loaded by a replay first)."
