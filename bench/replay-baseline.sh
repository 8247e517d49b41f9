#!/usr/bin/env bash
# Usage: bench/replay-baseline.sh BASE_REV
#
# What replay's exactness machinery costs: reconcile replay built from this
# tree against the same command built from BASE_REV, in one run, taking
# turns (base, this, base, this…) on the same generated events into a fresh
# sandbox each time, both with a file checkpoint and a dead-letter file (the
# way jobs run it). This tree also takes the checkpoint and dead-letter
# locks, records each file's identity in the checkpoint, orders copies of
# an id and watches for stalls and systemic failures.
# Prints a markdown section on stdout.
# Env: BENCH_RUNS (5), BENCH_EVENTS (200000), REPLAY_CONCURRENCY (64).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$BENCH_DIR/lib.sh"
base=${1:?usage: bench/replay-baseline.sh BASE_REV}
runs=${BENCH_RUNS:-5}
n=${BENCH_EVENTS:-200000}
conc=${REPLAY_CONCURRENCY:-64}
base_sha=$(cd "$ROOT" && git rev-parse --short "$base")
head_sha=$(cd "$ROOT" && git describe --always --dirty)

(cd "$ROOT" && go build -o "$BENCH_TMP/sandbox" ./cmd/sandbox && go build -o "$BENCH_TMP/reconcile-head" ./cmd/reconcile)
(cd "$ROOT" && git worktree add -q --detach "$BENCH_TMP/base" "$base")
(cd "$BENCH_TMP/base" && go build -o "$BENCH_TMP/reconcile-base" ./cmd/reconcile)
(cd "$ROOT" && git worktree remove --force "$BENCH_TMP/base")
(cd "$ROOT" && go run ./testdata/gen -events "$n" -customers 2000 -files 4 -row-group 50000 \
  -formats parquet,seed -out "$BENCH_TMP/data" >/dev/null)

# once BIN: one replay into a fresh sandbox; prints events/s.
once() {
  rm -f "$BENCH_TMP/summary.json" "$BENCH_TMP/replay.ckpt" "$BENCH_TMP/dl.jsonl"
  start_server sandbox "$BENCH_TMP/sandbox" -addr 127.0.0.1:0 -seed-file "$BENCH_TMP/data/seed.json" || return 1
  env BILLING_API_URL="$sandbox_URL" BILLING_TOKEN="$token" "$BENCH_TMP/$1" replay -source "parquet:$BENCH_TMP/data" \
    -rate 0 -concurrency "$conc" -checkpoint "$BENCH_TMP/replay.ckpt" -dead-letter "$BENCH_TMP/dl.jsonl" -progress off \
    -summary "$BENCH_TMP/summary.json" >/dev/null || { echo "bench: $1 replay failed" >&2; return 1; }
  stop_servers
  awk -F'[:,]' '/"accepted"|"duplicate"/ {s+=$2} /"elapsed"/ {gsub(/[" ]/, "", $2); e=$2} END {
    if (e ~ /ms$/) {sub(/ms$/, "", e); e/=1000} else if (e ~ /m/) {split(e, a, "m"); sub(/s$/, "", a[2]); e=a[1]*60+a[2]} else sub(/s$/, "", e);
    printf "%.0f\n", s/e}' "$BENCH_TMP/summary.json"
}

b=() h=()
for _ in $(seq "$runs"); do
  r=$(once reconcile-base); got "$r"; b+=("$r")
  r=$(once reconcile-head); got "$r"; h+=("$r")
done
mb=$(median "${b[@]}") mh=$(median "${h[@]}")

cat <<MD
## Replay's exactness machinery vs the replay before it

\`reconcile replay -rate 0 -concurrency $conc -checkpoint FILE -dead-letter FILE\` of $n generated
events (Parquet, 4 files, 2000 customers) into a fresh sandbox per run, $runs runs each, taking
turns. The reference is the same command built from $base_sha; this tree ($head_sha) also locks
the checkpoint and dead-letter files, records each file's identity and the rows covered in the
checkpoint, sends copies of an id in order, writes each dead letter whole, and runs the stall
and systemic-failure watchdogs.

| build | events/s (median) | runs | vs reference |
|---|---:|---|---:|
| $base_sha (reference) | $mb | ${b[*]} | 100% |
| **$head_sha** | $mh | ${h[*]} | **$(pct "$mh" "$mb")** |

Reproduce: \`bash bench/replay-baseline.sh $base_sha\`.
MD
