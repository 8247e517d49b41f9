#!/usr/bin/env bash
# reconcile replay vs wrk, both posting events to the same sandbox on
# 127.0.0.1 in the same run: wrk (bench/event.lua) sends the bodies of the
# very events replay reads (testdata/gen -formats jsonl), each with a fresh
# id and Idempotency-Key, so the server does the same work for both and wrk
# is the raw ceiling of this machine. A second wrk run sends one small event
# to one subscription, the cheapest store path. Also each client's CPU time
# per event, and replay's peak memory at two input sizes.
# Prints a markdown section on stdout.
# Env: BENCH_RUNS (3), BENCH_EVENTS (200000), BENCH_EVENTS_LARGE (800000),
# REPLAY_CONCURRENCY (64), WRK_DURATION (10s), WRK_CONNS (64), WRK_THREADS (1).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$BENCH_DIR/lib.sh"
ensure_wrk
ensure_gnu_time
runs=${BENCH_RUNS:-3}
small=${BENCH_EVENTS:-200000}
large=${BENCH_EVENTS_LARGE:-800000}
conc=${REPLAY_CONCURRENCY:-64}

(cd "$ROOT" && go build -o "$BENCH_TMP/sandbox" ./cmd/sandbox && go build -o "$BENCH_TMP/reconcile" ./cmd/reconcile)
for n in "$small" "$large"; do
  (cd "$ROOT" && go run ./testdata/gen -events "$n" -customers 2000 -files 4 -row-group 50000 \
    -formats parquet,seed,jsonl -out "$BENCH_TMP/data-$n" >/dev/null)
done
seed="$BENCH_TMP/data-$small/seed.json"
sub=$(awk '/"subscriptions"/ {s=1} s && /"id":/ {gsub(/[",]/, "", $2); print $2; exit}' "$seed")
cust=$(awk '/"subscriptions"/ {s=1} s && /"customer_id":/ {gsub(/[",]/, "", $2); print $2; exit}' "$seed")

# replay_once N: one replay of the N-event dataset into a fresh sandbox.
# Prints "events_per_s cpu_us_per_event peak_rss_mib".
replay_once() {
  local n=$1
  rm -f "$BENCH_TMP/summary.json"
  start_server sandbox "$BENCH_TMP/sandbox" -addr 127.0.0.1:0 -seed-file "$BENCH_TMP/data-$n/seed.json" || return 1
  /usr/bin/time -f '%U %S %M' -o "$BENCH_TMP/time" env BILLING_API_URL="$sandbox_URL" BILLING_TOKEN="$token" \
    "$BENCH_TMP/reconcile" replay -source "parquet:$BENCH_TMP/data-$n" -rate 0 -concurrency "$conc" \
    -dead-letter "$BENCH_TMP/dl.jsonl" -progress off -summary "$BENCH_TMP/summary.json" >/dev/null ||
    { echo "bench: reconcile replay failed" >&2; return 1; }
  stop_servers
  local rate
  rate=$(awk -F'[:,]' '/"accepted"|"duplicate"/ {s+=$2} /"elapsed"/ {gsub(/[" ]/, "", $2); e=$2} END {
    if (e ~ /ms$/) {sub(/ms$/, "", e); e/=1000} else if (e ~ /m/) {split(e, a, "m"); sub(/s$/, "", a[2]); e=a[1]*60+a[2]} else sub(/s$/, "", e);
    printf "%.0f", s/e}' "$BENCH_TMP/summary.json")
  read -r u s m < "$BENCH_TMP/time"
  awk -v r="$rate" -v u="$u" -v s="$s" -v m="$m" -v n="$n" 'BEGIN {printf "%d %.1f %.0f\n", r, (u+s)*1e6/n, m/1024}'
}

# wrk_once EXTRA_ENV...: one wrk run into a fresh sandbox. Prints
# "events_per_s cpu_us_per_event".
wrk_once() {
  start_server sandbox "$BENCH_TMP/sandbox" -addr 127.0.0.1:0 -seed-file "$seed" || return 1
  local r
  r=$(WRK_CPU_FILE="$BENCH_TMP/wrkcpu" wrk_rps "$sandbox_URL" BENCH_TOKEN="$token" "$@") || return 1
  stop_servers
  echo "$r $(cat "$BENCH_TMP/wrkcpu")"
}

same=() same_cpu=() one=() one_cpu=() reps=() cpus=() rss_small=() rss_large=()
for i in $(seq "$runs"); do
  read -r rate cpu <<<"$(wrk_once BENCH_EVENTS_FILE="$BENCH_TMP/data-$small/events.jsonl" BENCH_RUN="r$i")"
  got "$cpu"; same+=("$rate"); same_cpu+=("$cpu")
  read -r rate cpu rss <<<"$(replay_once "$small")"
  got "$rss"; reps+=("$rate"); cpus+=("$cpu"); rss_small+=("$rss")
  read -r rate cpu <<<"$(wrk_once BENCH_CUSTOMER="$cust" BENCH_SUBSCRIPTION="$sub" BENCH_RUN="o$i")"
  got "$cpu"; one+=("$rate"); one_cpu+=("$cpu")
done
read -r _ _ rssl <<<"$(replay_once "$large")"
got "$rssl"
rss_large+=("$rssl")
w=$(median "${same[@]}"); o=$(median "${one[@]}"); r=$(median "${reps[@]}")

cat <<MD
## Replay vs wrk

\`reconcile replay -rate 0 -concurrency $conc\` of $small generated events (Parquet, 4 files, 2000 customers) into a
fresh sandbox, against \`wrk -t${WRK_THREADS:-1} -c${WRK_CONNS:-64} -d${WRK_DURATION:-10s} -s bench/event.lua\` on a fresh sandbox
of the same binary, 127.0.0.1, alternating, median of $runs. Client and sandbox share the two cores.

- **wrk, same events**: \`BENCH_EVENTS_FILE=events.jsonl\` (the same dataset written by
  \`testdata/gen -formats jsonl\`): the body replay sends for each event, in the same order, with a
  fresh id and Idempotency-Key. The sandbox does the same work per request for both clients, so
  this is the ceiling replay is measured against. Target: replay ≥ 80% of it.
- **wrk, one event**: one small event to one subscription, a fresh id each time: the sandbox's
  cheapest store path, for scale.

| | events/s (median) | runs | vs wrk (same events) | client CPU per event (median) |
|---|---:|---|---:|---:|
| wrk, same events | $w | ${same[*]} | 100% | $(fmedian "${same_cpu[@]}") µs |
| **reconcile replay** | $r | ${reps[*]} | **$(pct "$r" "$w")** | $(fmedian "${cpus[@]}") µs |
| wrk, one event | $o | ${one[*]} | $(pct "$o" "$w") | $(fmedian "${one_cpu[@]}") µs |

Client CPU is user + system time over the run divided by events sent (replay's includes reading
and decoding Parquet, checkpoints and the watermark). Replay runs: ${cpus[*]} µs.

| input | peak RSS of reconcile replay |
|---|---:|
| $small events | $(median "${rss_small[@]}") MiB |
| $large events | ${rss_large[0]} MiB |

Reproduce: \`bash bench/replay.sh\` (or \`make bench\`).
MD
