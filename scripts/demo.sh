#!/usr/bin/env bash
# Usage: scripts/demo.sh
#
# The main job end to end on the bundled data: starts the sandbox billing API
# on 127.0.0.1 (a free port) with the sample catalog, checks it with
# `reconcile doctor`, replays the 50,000 sample events from Parquet with
# `reconcile replay`, and stops the sandbox. Outputs go to out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "demo: $*" >&2; }
die() { say "$*"; exit 1; }

make -s build >/dev/null
out=out/demo
rm -rf "$out"
mkdir -p "$out"

umask 077
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The token reaches both processes through their environment: never on a
# command line, never printed.
SANDBOX_ADMIN_TOKEN="bsk_test_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export SANDBOX_ADMIN_TOKEN BILLING_TOKEN=$SANDBOX_ADMIN_TOKEN

bin/sandbox -addr 127.0.0.1:0 -seed-file testdata/sample/seed.json >"$out/sandbox.log" 2>&1 &
pid=$!
url=""
deadline=$((SECONDS + 30))
until [ -n "$url" ]; do
  url=$(sed -n 's|.*sandbox listening on \(http://[^ ]*\).*|\1|p' "$out/sandbox.log" | head -n 1)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$out/sandbox.log" >&2; die "the sandbox exited"; }
  [ "$SECONDS" -lt "$deadline" ] || die "the sandbox did not say where it listens within 30s"
  sleep 0.1
done
export BILLING_API_URL=$url
say "sandbox up at $url with the sample catalog (testdata/sample/seed.json)"

say "reconcile doctor: does the target speak the contract?"
bin/reconcile doctor -json >"$out/doctor.json" || die "doctor found problems: see $out/doctor.json"
say "doctor: every check passed ($out/doctor.json)"

say "reconcile replay: 50,000 sample events from testdata/sample/parquet"
bin/reconcile replay -source parquet:testdata/sample/parquet -rate 0 -concurrency 32 \
  -checkpoint "$out/replay.ckpt" -dead-letter "$out/dead-letter.jsonl" \
  -summary "$out/replay-summary.json" -progress log 2>"$out/replay.log"

echo
echo "replay summary: $out/replay-summary.json"
echo "checkpoint:     $out/replay.ckpt"
echo "dead letters:   $out/dead-letter.jsonl ($(wc -l <"$out/dead-letter.jsonl") lines)"
