#!/usr/bin/env bash
# Sandbox event path vs a trivial net/http handler answering 202, both under
# wrk on 127.0.0.1 in the same run. Prints a markdown section on stdout.
# Env: BENCH_RUNS (default 3), WRK_DURATION (10s), WRK_CONNS (64), WRK_THREADS (1).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$BENCH_DIR/lib.sh"
ensure_wrk
runs=${BENCH_RUNS:-3}

(cd "$ROOT" && go build -o "$BENCH_TMP/sandbox" ./cmd/sandbox && go build -o "$BENCH_TMP/trivial" ./bench/trivial)
start_server trivial "$BENCH_TMP/trivial" -addr 127.0.0.1:0
start_server sandbox "$BENCH_TMP/sandbox" -addr 127.0.0.1:0 -seed-file "$BENCH_DIR/seed.json"

ev=(BENCH_TOKEN="$token" BENCH_CUSTOMER=01944b1f-0000-7000-8000-000000000001 BENCH_SUBSCRIPTION=01944b1f-0000-7000-8000-000000000003)
triv=() fresh=() fixed=()
for i in $(seq "$runs"); do
  triv+=("$(wrk_rps "$trivial_URL" "${ev[@]}" BENCH_RUN="t$i")")
  fresh+=("$(wrk_rps "$sandbox_URL" "${ev[@]}" BENCH_RUN="s$i")")
  fixed+=("$(wrk_rps "$sandbox_URL" "${ev[@]}" BENCH_FIXED=1)")
done
t=$(median "${triv[@]}"); s=$(median "${fresh[@]}"); d=$(median "${fixed[@]}")

cat <<MD
## Sandbox event path vs a trivial handler

\`wrk -t${WRK_THREADS:-1} -c${WRK_CONNS:-64} -d${WRK_DURATION:-10s} -s bench/event.lua\`, POST /v1/events
on 127.0.0.1, median of $runs alternating runs. Target: sandbox ≥ 70% of the trivial handler.

| server | requests/s (median) | runs | vs trivial |
|---|---:|---|---:|
| trivial net/http handler answering 202 | $t | ${triv[*]} | 100% |
| sandbox, fresh id and Idempotency-Key per request (validate, dedup, idempotency record, store) | $s | ${fresh[*]} | $(pct "$s" "$t") |
| sandbox, one fixed event body and key (idempotent replay path) | $d | ${fixed[*]} | $(pct "$d" "$t") |

Reproduce: \`bash bench/sandbox.sh\` (or \`make bench\`).
MD
