#!/usr/bin/env bash
# Usage: scripts/with-busy-cpus.sh COMMAND [ARG...]
#
# Runs COMMAND while one busy loop per CPU (nproc, or BUSY_CPUS) keeps
# every core at 100%, stops the loops however COMMAND ends, and exits
# with COMMAND's status. 'make test-busy' runs 'make test' this way: the
# suite must pass on a machine that is slower than the one it was written
# on, as CI's shared runners are.
set -euo pipefail

if [ $# -eq 0 ]; then
  sed -n '2,3s/^# \{0,1\}//p' "$0" >&2
  exit 2
fi
n=${BUSY_CPUS:-$(nproc)}
pids=()
stop() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true; }
trap stop EXIT
for _ in $(seq "$n"); do
  # A shell loop that never sleeps: plain CPU, no memory or I/O.
  bash -c 'while :; do :; done' &
  pids+=($!)
done
echo "with-busy-cpus: $n busy loops running (pids ${pids[*]})" >&2
status=0
"$@" || status=$?
exit $status
