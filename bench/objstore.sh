#!/usr/bin/env bash
# Reading from object storage: one shard of one day out of a month of
# Parquet in an S3-compatible store, read in place with ranged GETs,
# against the copy step it replaces (rclone copying the month's objects
# whole, then the same read from local disk). Both read with
# `reconcile replay -dry-run` (the source alone: no API in the way) and
# must read the same events.
#
# Prints the markdown "## Reading from object storage" section of
# BENCHMARKS.md on stdout. Needs BILLHARNESS_TEST_S3_ENDPOINT and AWS_*
# credentials (make bench runs under scripts/with-s3.sh) and rclone
# (make bench installs it).
#
# Env: OBJ_EVENTS (5000000), OBJ_CUSTOMERS (38500), OBJ_RUNS (3: the median
# wall time is reported), OBJ_SHARDS (4), OBJ_DAY (2026-10-14).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$BENCH_DIR/lib.sh"

: "${BILLHARNESS_TEST_S3_ENDPOINT:?run under scripts/with-s3.sh}"
command -v rclone >/dev/null || { echo "bench: rclone is missing (apt-get install rclone)" >&2; exit 1; }
ensure_gnu_time
events=${OBJ_EVENTS:-5000000}
customers=${OBJ_CUSTOMERS:-38500}
runs=${OBJ_RUNS:-3}
shards=${OBJ_SHARDS:-4}
day=${OBJ_DAY:-2026-10-14}
next=$(date -u -d "$day + 1 day" +%F)
ep=$BILLHARNESS_TEST_S3_ENDPOINT
bucket=bench-$$-$RANDOM

(cd "$ROOT" && go build -o "$BENCH_TMP/" ./cmd/reconcile)
data=$BENCH_TMP/data
echo "bench: generating $events events in 30 daily files" >&2
(cd "$ROOT" && go run ./testdata/gen -seed 7 -events "$events" -customers "$customers" -files 30 \
  -row-group 100000 -formats parquet -out "$data" >&2)
month_bytes=$(du -sb "$data/parquet" | cut -f1)

# rclone reads its remote from the environment. AWS_CA_BUNDLE, which some
# machines set, makes rclone 1.60 refuse its own HTTP transport: unset.
export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other RCLONE_CONFIG_BENCH_ENDPOINT=$ep \
  RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
  RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true RCLONE_CONFIG_BENCH_REGION=${AWS_REGION:-us-east-1}
rcl() { env -u AWS_CA_BUNDLE rclone -q "$@"; }
rcl mkdir "bench:$bucket"
rcl copy "$data/parquet" "bench:$bucket/usage"

wall() { awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s}' "$1"; }
jfield() { { grep -m1 -o "\"$1\": [0-9]*" "$2" || true; } | awk '{print $2}'; }

# direct SOURCE WINDOW: one replay -dry-run; sets w (wall s), fetched
# (bytes), requests, emitted.
direct() {
  /usr/bin/time -v -o "$BENCH_TMP/time.txt" "$BENCH_TMP/reconcile" replay -dry-run -source "$1" -window "$2" \
    -shard "0/$shards" -s3-endpoint "$ep" -s3-path-style -progress off -log-level warn \
    -dead-letter "$BENCH_TMP/dl.jsonl" -summary "$BENCH_TMP/sum.json" >/dev/null
  w=$(wall "$BENCH_TMP/time.txt")
  fetched=$(jfield bytes_read "$BENCH_TMP/sum.json")
  requests=$(jfield requests "$BENCH_TMP/sum.json"); requests=${requests:-0}
  emitted=$(jfield emitted "$BENCH_TMP/sum.json")
}

d_walls=() c_walls=() r_walls=() t_walls=()
for _ in $(seq "$runs"); do
  direct "parquet:s3://$bucket/usage" "$day..$next"
  d_walls+=("$w") d_fetched=$fetched d_requests=$requests d_emitted=$emitted
  rm -rf "$BENCH_TMP/copy"
  /usr/bin/time -v -o "$BENCH_TMP/copy.txt" env -u AWS_CA_BUNDLE rclone -q copy "bench:$bucket/usage" "$BENCH_TMP/copy"
  cw=$(wall "$BENCH_TMP/copy.txt")
  c_walls+=("$cw")
  direct "parquet:$BENCH_TMP/copy" "$day..$next"
  r_walls+=("$w") l_emitted=$emitted
  t_walls+=("$(awk -v a="$cw" -v b="$w" 'BEGIN {printf "%.2f", a + b}')")
done
copied=$(du -sb "$BENCH_TMP/copy" | cut -f1)
if [ "$d_emitted" != "$l_emitted" ]; then
  echo "bench: read in place gave $d_emitted events, from the copy $l_emitted: not the same read" >&2; exit 1
fi
direct "parquet:s3://$bucket/usage" 2026-10
m_wall=$w m_fetched=$fetched m_requests=$requests

d_wall=$(fmedian "${d_walls[@]}") c_wall=$(fmedian "${c_walls[@]}") r_wall=$(fmedian "${r_walls[@]}") t_wall=$(fmedian "${t_walls[@]}")
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f×", a / b}'; }

cat <<MD
## Reading from object storage

One month of usage (\`testdata/gen\`, seed 7, $events events, $customers
customers, 30 daily \`dt=…\` partitions of zstd Parquet in 100,000-row
groups, $(mib "$month_bytes") MiB) in versitygw ${VERSITYGW_VERSION:-} on 127.0.0.1. The job
reads shard 0/$shards of one day ($day): \`reconcile replay -dry-run -source
parquet:s3://…/usage -window $day..$next -shard 0/$shards\`, against the copy step
it replaces, \`rclone copy\` (rclone $(rclone version 2>/dev/null | head -n 1 | cut -d' ' -f2)) of the month's objects whole
onto local disk followed by the same read from the copy. Both read the same
$d_emitted events. Wall times are medians of $runs runs.

| run | bytes fetched | requests | wall s | vs copy + read |
|---|---:|---:|---:|---:|
| read in place, one shard of one day | $(mib "$d_fetched") MiB ($(pct "$d_fetched" "$copied")) | $d_requests | $d_wall | $(ratio "$d_wall" "$t_wall") |
| rclone copy of the month (reference) | $(mib "$copied") MiB (100%) | | $c_wall | |
| then the same read from the copy | | | $r_wall | |
| copy + read (reference) | $(mib "$copied") MiB | | $t_wall | 1.00× |
| read in place, shard 0/$shards of the whole month | $(mib "$m_fetched") MiB ($(pct "$m_fetched" "$copied")) | $m_requests | $m_wall | |

The bytes are the point: they do not depend on this machine. What is
fetched is every file's footer (once per file, plus once more for the
files whose statistics reach into the window) and the column chunks of the
row groups whose timestamp statistics overlap the day; a shard still
fetches the whole of those row groups, since these events are not stored
by customer (a shard of data sorted by customer skips the row groups
without its customers after fetching their \`customer_id\` column alone).
On 127.0.0.1 a request costs no latency; against S3, count 20–50 ms to the
first byte of each, with up to 8 in flight.

Reproduce: \`scripts/with-s3.sh bash bench/objstore.sh\` (\`OBJ_EVENTS\`, \`OBJ_RUNS\`).
MD
