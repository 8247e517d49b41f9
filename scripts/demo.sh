#!/usr/bin/env bash
# Usage: scripts/demo.sh
#
# The month-end job end to end on the bundled data. Starts the sandbox billing
# API on 127.0.0.1 (a free port) with the sample catalog and the month-end
# scenario (testdata/demo: a tiered plan, a trial, values the API cannot
# count, an event that arrives late) and three defects switched on: it
# silently drops 0.2% of events, counts another 0.2% twice, and bills
# carelessly (-lax-billing: any period, full fees in trials). Checks it with
# `reconcile doctor`, lets a careless run bill one subscription twice, then
# runs `reconcile run`: replay October's events, verify every subscription's
# usage, bill, finalize and check the invoices. Late events then arrive and
# are replayed, and a second `reconcile run -bill` finds what that costs.
# Finally compares the subscriptions whose usage the report flags with the
# sandbox's own log of what it corrupted. Outputs go to out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "demo: $*" >&2; }
die() { say "$*"; exit 1; }

out=out/demo
mkdir -p out

# The first build compiles every dependency (the AWS and Google Cloud SDKs,
# pgx, parquet-go): several minutes on a fresh machine with 2 cores, seconds
# afterwards. Say so, and show the build's own errors if it fails.
if [ -x bin/reconcile ] && [ -x bin/sandbox ]; then
  say "building bin/ (seconds when the Go build cache is warm)"
else
  say "building bin/ for the first time: compiling every dependency takes about 5-10 minutes on 2 cores (once; later runs take seconds)"
fi
build_start=$SECONDS
make -s build >"$out.build.log" 2>&1 || { cat "$out.build.log" >&2; die "make build failed"; }
say "built in $((SECONDS - build_start))s"
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

# The month's files: the sample's and the scenario's, in one directory.
src=$out/source
mkdir -p "$src"
cp -r testdata/sample/parquet/. testdata/demo/parquet/. "$src"/

bin/sandbox -addr 127.0.0.1:0 -seed-file testdata/sample/seed.json,testdata/demo/seed.json -seed 42 \
  -drop-rate 0.002 -double-rate 0.002 -lax-billing true \
  -fault-log "$out/sandbox-faults.json" >"$out/sandbox.log" 2>&1 &
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
say "sandbox up at $url with the sample catalog and the month-end scenario (testdata/demo)"

say "reconcile doctor: does the target speak the contract?"
bin/reconcile doctor -json >"$out/doctor.json" || die "doctor found problems: see $out/doctor.json"
say "doctor: every check passed ($out/doctor.json)"

# A careless run bills days 11-21 of October again for one subscription.
# Plain HTTP over bash's /dev/tcp, with printf (a builtin): no curl needed,
# and the token never shows on a command line.
twice=0199a000-0000-7000-8000-0000000d0005
body='{"period_start":"2026-10-11T00:00:00Z","period_end":"2026-10-21T00:00:00Z"}'
hostport=${url#http://}
exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}"
printf 'POST /admin/v1/subscriptions/%s/bill HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
  "$twice" "$hostport" "$BILLING_TOKEN" "${#body}" "$body" >&3
status=$(head -n 1 <&3 | cut -d' ' -f2)
exec 3<&-
[ "$status" = 201 ] || die "the careless bill call answered $status, want 201"
say "a careless run billed $twice for October 11-21"

say "reconcile run: replay October's events, verify usage, bill and finalize (the sandbox drops and doubles 0.2% each)"
set +e
bin/reconcile run -source "parquet:$src" -window 2026-10-01..2026-11-01 \
  -replay -replay-rate 0 -bill -finalize -out "$out/closing" 2>"$out/closing.log"
code=$?
set -e
[ "$code" -eq 3 ] || die "the closing run exited $code, want 3 (discrepancies found): see $out/closing.log"
say "closing run: invoices finalized, report in $out/closing"

say "three events stamped October 30 arrive after the close; replaying them"
cp -r testdata/demo/late/. "$src"/
bin/reconcile replay -source parquet:testdata/demo/late -rate 0 -checkpoint "$out/late.checkpoint" -dead-letter "$out/late-dead-letter.jsonl" 2>"$out/late.log" ||
  die "replaying the late events failed: see $out/late.log"

say "reconcile run -bill: verify again and check the closed invoices"
set +e
bin/reconcile run -source "parquet:$src" -window 2026-10-01..2026-11-01 -bill -out "$out/report" 2>"$out/run.log"
code=$?
set -e
[ "$code" -eq 3 ] || die "reconcile run exited $code, want 3 (discrepancies found): see $out/run.log"
for class in invoice late_usage double_billed outside_term uncountable; do
  grep -q "\"$class\": [1-9]" "$out/report/summary.json" || die "the report has no $class discrepancy: see $out/report/summary.json"
done

# Stop the sandbox so it writes its log of what it corrupted, then compare.
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
# Usage pairs only (under, over, missing, unexpected): the other classes
# are the scenario's, not the sandbox's faults.
flagged=$(tail -n +2 "$out/report/discrepancies.csv" | awk -F, '$9 ~ /^(under|over|missing|unexpected)$/ {print $1}' | sort -u)
corrupted=$(grep -o '"[0-9a-f-]\{36\}": \[' "$out/sandbox-faults.json" | cut -d'"' -f2 | sort -u)
extra=$(comm -23 <(echo "$flagged") <(echo "$corrupted") | grep -c . || true)
missed=$(comm -13 <(echo "$flagged") <(echo "$corrupted") | grep -c . || true)
echo
echo "the sandbox corrupted events of $(echo "$corrupted" | grep -c .) subscriptions ($out/sandbox-faults.json);"
echo "the report flags the usage of $(echo "$flagged" | grep -c .) subscriptions, $extra of them not corrupted."
if [ "$missed" -gt 0 ]; then
  echo "$missed corrupted subscriptions are not flagged: their dropped or doubled events changed no total"
  echo "(a reading below the peak under a Max meter, a model already counted under UniqueCount;"
  echo "TestVerifySampleAgainstFaultySandbox in cmd/reconcile checks that exactly those are the ones left out)."
fi
[ "$extra" -eq 0 ] || die "the report flags subscriptions the sandbox did not corrupt"
echo
echo "report:       $out/report/report.html"
echo "summary:      $out/report/summary.json"
echo "discrepancies: $out/report/discrepancies.csv"
