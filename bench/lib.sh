# Shared helpers for the benchmark scripts: start a server that prints
# "listening on http://ADDR", wait for it, run wrk, take medians.
# Sourced, not run, after the script sets BENCH_DIR; sets ROOT, a BENCH_TMP
# directory removed at exit (stopping the servers first), and the sandbox
# admin token of the run.

ROOT=$(dirname "$BENCH_DIR")
BENCH_TMP=$(mktemp -d)
BENCH_PIDS=""
trap 'stop_servers; rm -rf "$BENCH_TMP"' EXIT
token="bsk_test_bench_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export SANDBOX_ADMIN_TOKEN=$token

# start_server NAME CMD... : starts CMD in the background, waits for its URL
# line, sets ${NAME}_URL and ${NAME}_PID.
start_server() {
  local name=$1; shift
  local log="$BENCH_TMP/$name.log"
  rm -f "$log" # a reused name must not leave the last run's URL to be read
  "$@" >"$log" 2>&1 &
  local pid=$!
  local deadline=$((SECONDS + 30)) url=""
  while [ -z "$url" ]; do
    url=$(grep -so 'http://127\.0\.0\.1:[0-9]*' "$log" | head -1 || true)
    if [ -n "$url" ]; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "bench: $name exited:" >&2; cat "$log" >&2; return 1; fi
    if [ $SECONDS -ge $deadline ]; then echo "bench: $name did not start in 30s" >&2; return 1; fi
    sleep 0.1
  done
  printf -v "${name}_URL" '%s' "$url"
  printf -v "${name}_PID" '%s' "$pid"
  BENCH_PIDS="$BENCH_PIDS $pid"
}

stop_servers() {
  for p in $BENCH_PIDS; do kill "$p" 2>/dev/null || true; done
  for p in $BENCH_PIDS; do wait "$p" 2>/dev/null || true; done
  BENCH_PIDS=""
}

# wrk_rps URL EXTRA_ENV... : one wrk run with bench/event.lua; prints the
# BENCH line's rps. Fails when any request errored. With WRK_CPU_FILE set,
# also writes wrk's CPU time per request (µs, user + system) to that file.
wrk_rps() {
  local url=$1; shift
  local out timer=()
  if [ -n "${WRK_CPU_FILE:-}" ]; then timer=(/usr/bin/time -f '%U %S' -o "$WRK_CPU_FILE.time"); fi
  out=$(env "$@" "${timer[@]}" wrk -t"${WRK_THREADS:-1}" -c"${WRK_CONNS:-64}" -d"${WRK_DURATION:-10s}" \
    -s "$BENCH_DIR/event.lua" "$url" 2>&1) || { echo "$out" >&2; return 1; }
  local line
  line=$(grep '^BENCH ' <<<"$out") || { echo "$out" >&2; return 1; }
  local errs status
  errs=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$line")
  status=$(sed -n 's/.* status_errors=\([0-9]*\).*/\1/p' <<<"$line")
  if [ "$errs" != 0 ] || [ "$status" != 0 ]; then
    echo "bench: wrk saw errors: $line" >&2; return 1
  fi
  if [ -n "${WRK_CPU_FILE:-}" ]; then
    local n
    n=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$line")
    cpu_us "$WRK_CPU_FILE.time" "$n" >"$WRK_CPU_FILE"
  fi
  sed -n 's/.* rps=\([0-9]*\).*/\1/p' <<<"$line"
}

# got VALUE: fails the script when a measurement printed nothing (its
# error went to stderr from a command substitution, which cannot exit).
got() { [ -n "$1" ] || { echo "bench: a measurement failed" >&2; exit 1; }; }

# cpu_us FILE COUNT: user+system µs per request from a GNU time '%U %S' file.
cpu_us() { awk -v n="$2" '{printf "%.1f\n", ($1+$2)*1e6/n}' "$1"; }

# pct A B: A as a percentage of B.
pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f%%", 100*a/b}'; }

# fmedian N...: the median of decimal numbers (the lower middle of an even count).
fmedian() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# median N...: the median of integers.
median() {
  printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%d\n", (a[NR/2]+a[NR/2+1])/2}'
}

ensure_wrk() {
  if ! command -v wrk >/dev/null; then
    echo "bench: installing wrk (apt-get)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
  fi
}

ensure_gnu_time() {
  if [ ! -x /usr/bin/time ]; then
    echo "bench: installing time (apt-get)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends time >/dev/null
  fi
}
