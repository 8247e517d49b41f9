#!/usr/bin/env bash
# loadgen vs wrk and vegeta at maximum throughput, each against a fresh
# sandbox (same binary, same seed catalog) on 127.0.0.1, in the same run,
# alternating, with the same event body: bench/event.lua's, with a fresh id
# and Idempotency-Key per request. Then the memory of a long loadgen run.
# Prints a markdown section on stdout.
# Env: BENCH_RUNS (3), BENCH_DURATION (10s), BENCH_CONNS (64),
# BENCH_VEGETA_TARGETS (400000), BENCH_MEMORY_DURATION (3m; 0 skips),
# BENCH_MEMORY_RATE (2000/s).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$BENCH_DIR/lib.sh"
ensure_wrk
ensure_gnu_time
runs=${BENCH_RUNS:-3}
dur=${BENCH_DURATION:-10s}
conns=${BENCH_CONNS:-64}
ntargets=${BENCH_VEGETA_TARGETS:-400000}
memdur=${BENCH_MEMORY_DURATION:-3m}
memrate=${BENCH_MEMORY_RATE:-2000/s}

vegeta=$(command -v vegeta || echo "$(cd "$ROOT" && go env GOPATH)/bin/vegeta")
if [ ! -x "$vegeta" ]; then
  echo "bench: installing vegeta (go install)" >&2
  (cd "$BENCH_TMP" && GOFLAGS= go install github.com/tsenart/vegeta/v12@latest)
fi
vegeta_version=$(go version -m "$vegeta" | awk '$1 == "mod" {print $3; exit}')

(cd "$ROOT" && go build -o "$BENCH_TMP/sandbox" ./cmd/sandbox && go build -o "$BENCH_TMP/loadgen" ./cmd/loadgen)
cust=01944b1f-0000-7000-8000-000000000001
sub=01944b1f-0000-7000-8000-000000000003
body_tail='"event_type":"llm.completion","customer_id":"'$cust'","subscription_id":"'$sub'","timestamp":"2026-10-15T12:00:00Z","properties":{"model":"gpt-4-turbo","input_tokens":512,"output_tokens":256}}'

# loadgen reads event.lua's body from a Parquet source (it adds its run id
# in front of each id). The generator is compiled in the module, which has
# parquet-go.
cat > "$BENCH_TMP/gen.go" <<'GO'
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
)

type row struct {
	ID             string    `parquet:"id"`
	EventType      string    `parquet:"event_type"`
	CustomerID     string    `parquet:"customer_id"`
	SubscriptionID string    `parquet:"subscription_id"`
	Timestamp      time.Time `parquet:"timestamp,timestamp(microsecond:utc)"`
	Properties     string    `parquet:"properties,json"`
}

func main() {
	n, _ := strconv.Atoi(os.Args[2])
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	w := parquet.NewGenericWriter[row](f, parquet.MaxRowsPerRowGroup(100_000))
	ts := time.Date(2026, 10, 15, 12, 0, 0, 0, time.UTC)
	batch := make([]row, 0, 10_000)
	for i := 0; i < n; i++ {
		batch = append(batch, row{ID: fmt.Sprintf("src-%d", i), EventType: "llm.completion", CustomerID: os.Args[3],
			SubscriptionID: os.Args[4], Timestamp: ts, Properties: `{"model":"gpt-4-turbo","input_tokens":512,"output_tokens":256}`})
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := w.Write(batch); err != nil {
				panic(err)
			}
			batch = batch[:0]
		}
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	if err := f.Close(); err != nil {
		panic(err)
	}
}
GO
(cd "$ROOT" && go run "$BENCH_TMP/gen.go" "$BENCH_TMP/events.parquet" 1000000 "$cust" "$sub")

# vegeta_targets FILE RUN: ntargets JSON targets, each with its own id.
vegeta_targets() {
  perl -MMIME::Base64 -e '
    my ($n, $url, $tok, $tail, $run) = @ARGV;
    for my $i (1..$n) {
      my $id = "veg-$run-$i";
      my $b = encode_base64(qq({"id":"$id",$tail), "");
      print qq({"method":"POST","url":"$url/v1/events","header":{"Content-Type":["application/json"],"Authorization":["Bearer $tok"],"Idempotency-Key":["$id"]},"body":"$b"}\n);
    }' "$ntargets" "$sandbox_URL" "$token" "$body_tail" "$2" > "$1"
}


# json_num FILE KEY: a top-level number of an indented JSON file.
json_num() { sed -n "s/^  \"$2\": \([0-9.e+-]*\),\{0,1\}$/\1/p" "$1" | head -1; }

wrk_once() {
  local r
  r=$(WRK_THREADS=1 WRK_CONNS="$conns" WRK_DURATION="$dur" WRK_CPU_FILE="$BENCH_TMP/wrkcpu" wrk_rps "$sandbox_URL" \
    BENCH_TOKEN="$token" BENCH_CUSTOMER="$cust" BENCH_SUBSCRIPTION="$sub" BENCH_RUN="w$1") || return 1
  echo "$r $(cat "$BENCH_TMP/wrkcpu")"
}

vegeta_once() {
  vegeta_targets "$BENCH_TMP/targets.jsonl" "v$1"
  /usr/bin/time -f '%U %S' -o "$BENCH_TMP/time" "$vegeta" attack -format=json -lazy -targets "$BENCH_TMP/targets.jsonl" \
    -rate 0 -max-workers "$conns" -duration "$dur" > "$BENCH_TMP/results.bin"
  "$vegeta" report -type=json "$BENCH_TMP/results.bin" > "$BENCH_TMP/vegeta.json"
  rm -f "$BENCH_TMP/targets.jsonl" "$BENCH_TMP/results.bin"
  local n ok tput
  n=$(grep -o '"requests":[0-9]*' "$BENCH_TMP/vegeta.json" | cut -d: -f2)
  ok=$(grep -o '"success":[0-9.]*' "$BENCH_TMP/vegeta.json" | cut -d: -f2)
  tput=$(grep -o '"throughput":[0-9.]*' "$BENCH_TMP/vegeta.json" | cut -d: -f2)
  if [ "$ok" != 1 ]; then echo "bench: vegeta saw errors: $(cat "$BENCH_TMP/vegeta.json")" >&2; exit 1; fi
  echo "$(printf '%.0f' "$tput") $(cpu_us "$BENCH_TMP/time" "$n")"
}

# loadgen_once RUN ARGS...: one closed-model loadgen run.
loadgen_once() {
  local run=$1; shift
  rm -rf "$BENCH_TMP/lg"
  /usr/bin/time -f '%U %S' -o "$BENCH_TMP/time" env BILLING_API_URL="$sandbox_URL" BILLING_TOKEN="$token" \
    "$BENCH_TMP/loadgen" run -rate 0 -workers "$conns" -duration "$dur" -progress off -run-id "lg$run" -out "$BENCH_TMP/lg" "$@" \
    >/dev/null 2>"$BENCH_TMP/loadgen.log" || { cat "$BENCH_TMP/loadgen.log" >&2; exit 1; }
  local s="$BENCH_TMP/lg/summary.json" n ok rate
  n=$(json_num "$s" completed)
  ok=$(sed -n 's/^    "2xx": \([0-9]*\),$/\1/p' "$s")
  rate=$(json_num "$s" rate)
  if [ "$n" != "$ok" ]; then echo "bench: loadgen saw errors: $n completed, $ok 2xx" >&2; exit 1; fi
  # Setup requests are few (a catalog and 10 customers) next to the run's.
  echo "$(printf '%.0f' "$rate") $(cpu_us "$BENCH_TMP/time" "$n")"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
w=() v=() l=() s=() wc=() vc=() lc=() sc=() rl=() rs=() rv=()
# fresh_sandbox: a new sandbox for the next measurement.
fresh_sandbox() {
  stop_servers
  start_server sandbox "$BENCH_TMP/sandbox" -addr 127.0.0.1:0 -seed-file "$BENCH_DIR/seed.json"
}
measure() {
  fresh_sandbox
  case $1 in
    wrk) read -r r c <<<"$(wrk_once "$2")"; got "$r"; w+=("$r"); wc+=("$c") ;;
    vegeta) read -r r c <<<"$(vegeta_once "$2")"; got "$r"; v+=("$r"); vc+=("$c") ;;
    source) read -r r c <<<"$(loadgen_once "s$2" -source "parquet:$BENCH_TMP/events.parquet")"; got "$r"; l+=("$r"); lc+=("$c") ;;
    synthetic) read -r r c <<<"$(loadgen_once "y$2" -setup 10)"; got "$r"; s+=("$r"); sc+=("$c") ;;
  esac
}
# Rounds alternate the order, so a change in the machine's load during a
# round weighs on every client in turn; each round's ratios to wrk are
# taken within the round.
for i in $(seq "$runs"); do
  order="wrk vegeta source synthetic"
  [ $((i % 2)) = 0 ] && order="synthetic source vegeta wrk"
  for tool in $order; do measure "$tool" "$i"; done
  rl+=("$(awk -v a="${l[$((i-1))]}" -v b="${w[$((i-1))]}" 'BEGIN {printf "%.0f", 100*a/b}')")
  rs+=("$(awk -v a="${s[$((i-1))]}" -v b="${w[$((i-1))]}" 'BEGIN {printf "%.0f", 100*a/b}')")
  rv+=("$(awk -v a="${v[$((i-1))]}" -v b="${w[$((i-1))]}" 'BEGIN {printf "%.0f", 100*a/b}')")
done
stop_servers
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
mw=$(median "${w[@]}"); mv=$(median "${v[@]}"); ml=$(median "${l[@]}"); ms=$(median "${s[@]}")
verdict() { awk -v l="$(median "${rl[@]}")" -v v="$(median "${rv[@]}")" 'BEGIN {
  a = (l >= v) ? "met" : "missed"; b = (l >= 80) ? "met" : "missed"
  printf "loadgen ≥ vegeta: %s; loadgen ≥ 80%% of wrk: %s (median of the rounds'"'"' ratios: %d%%)", a, b, l}'; }

cat <<MD
## Loadgen vs wrk and vegeta

Maximum throughput of three clients posting the same event to POST /v1/events: bench/event.lua's
body (llm.completion, 512/256 tokens) with a fresh id and Idempotency-Key per request, so the
sandbox takes its store path every time. Each measurement gets a fresh sandbox (same binary, seed
catalog bench/seed.json) on 127.0.0.1; client and sandbox share the two cores. $runs rounds of
wrk, vegeta and loadgen, the order reversed every other round, $dur each, $conns connections;
medians. "vs wrk" is the median of each round's ratio to that round's wrk. Load average
(1/5/15 min) before: $load_before; after: $load_after.

- $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2): \`wrk -t1 -c$conns -d$dur -s bench/event.lua\`
- vegeta $vegeta_version: \`vegeta attack -format=json -lazy -rate 0 -max-workers $conns -duration $dur\`, a
  targets file of $ntargets JSON targets each with its own id (generated before the clock starts)
- loadgen, same body: \`loadgen run -rate 0 -workers $conns -duration $dur -source parquet:…\`, a Parquet
  file of event.lua's event (loadgen puts its run id in front of each id)
- loadgen, synthetic: \`loadgen run -rate 0 -workers $conns -duration $dur -setup 10\`, its default mix
  of Zipf-skewed customers and three event types on a plan with five meters (bodies of a similar
  size; the sandbox's work per event differs)

| client | requests/s (median) | runs | vs wrk (per round) | client CPU per request (median) |
|---|---:|---|---:|---:|
| wrk | $mw | ${w[*]} | 100% | $(fmedian "${wc[@]}") µs |
| vegeta | $mv | ${v[*]} | $(median "${rv[@]}")% (${rv[*]}) | $(fmedian "${vc[@]}") µs |
| loadgen, same body | $ml | ${l[*]} | $(median "${rl[@]}")% (${rl[*]}) | $(fmedian "${lc[@]}") µs |
| loadgen, synthetic events | $ms | ${s[*]} | $(median "${rs[@]}")% (${rs[*]}) | $(fmedian "${sc[@]}") µs |

Targets: $(verdict).

Requests/s are answers over the measured time: wrk's and loadgen's completed
requests, vegeta's throughput (successful requests over attack plus wait time); every run had
only 2xx answers. loadgen records every request twice in HDR histograms (corrected and service
time) and in the per-second series while it runs; wrk records latency in its own histogram;
vegeta writes each result to its output.
MD

[ "$memdur" = 0 ] && exit 0
fresh_sandbox
env BILLING_API_URL="$sandbox_URL" BILLING_TOKEN="$token" "$BENCH_TMP/loadgen" run -rate "$memrate" -duration "$memdur" \
  -setup 100 -progress off -run-id lgmem -out "$BENCH_TMP/mem" -metrics-addr 127.0.0.1:0 >/dev/null 2>"$BENCH_TMP/mem.log" &
lg=$!
began=$SECONDS samples="" metrics=""
while kill -0 "$lg" 2>/dev/null; do
  [ -z "$metrics" ] && metrics=$(grep -so 'http://127\.0\.0\.1:[0-9]*/metrics' "$BENCH_TMP/mem.log" | head -1 || true)
  rss=$(awk '/^VmRSS:/ {printf "%.1f", $2/1024}' "/proc/$lg/status" 2>/dev/null || true)
  heap="" gor=""
  if [ -n "$metrics" ] && m=$(curl -sf "$metrics" 2>/dev/null); then
    heap=$(awk '$1 == "go_memstats_heap_inuse_bytes" {printf "%.1f", $2/1048576}' <<<"$m")
    gor=$(awk '$1 == "go_goroutines" {print $2}' <<<"$m")
  fi
  [ -n "$rss" ] && samples="$samples $((SECONDS - began)):$rss:${heap:--}:${gor:--}"
  sleep 5
done
wait "$lg" || { cat "$BENCH_TMP/mem.log" >&2; exit 1; }
stop_servers
ms_=$BENCH_TMP/mem/summary.json
# at SECONDS FIELD: field FIELD (2 RSS, 3 heap, 4 goroutines) of the last
# sample taken at or before that time.
at() { tr ' ' '\n' <<<"$samples" | awk -F: -v t="$1" -v f="$2" '$1 != "" && $1 <= t {v=$f} END {print v}'; }
peak() { tr ' ' '\n' <<<"$samples" | awk -F: -v f="$1" '$f != "-" && $f+0 > p {p=$f+0} END {print p}'; }
end=$((SECONDS - began))
q1=$((end / 4)) q2=$((end / 2)) q3=$((end * 3 / 4)) # a quarter, half and three quarters in

cat <<MD

Memory of a long run: \`loadgen run -rate $memrate -duration $memdur -setup 100\` (synthetic events,
open model) against a fresh sandbox, sampled every 5 s: resident set size from /proc, and the Go
heap in use and goroutines (one per worker, plus a few) from its \`-metrics-addr\`.
$(json_num "$ms_" completed) requests completed at $(printf '%.1f' "$(json_num "$ms_" rate)")/s, $(json_num "$ms_" dropped) dropped.

| elapsed | $q1 s | $q2 s | $q3 s | end ($end s) | peak |
|---|---:|---:|---:|---:|---:|
| RSS MiB | $(at "$q1" 2) | $(at "$q2" 2) | $(at "$q3" 2) | $(at "$end" 2) | $(peak 2) |
| Go heap in use MiB | $(at "$q1" 3) | $(at "$q2" 3) | $(at "$q3" 3) | $(at "$end" 3) | $(peak 3) |
| goroutines | $(at "$q1" 4) | $(at "$q2" 4) | $(at "$q3" 4) | $(at "$end" 4) | $(peak 4) |

Reproduce: \`bash bench/loadgen.sh\` (or \`make bench\`).
MD
