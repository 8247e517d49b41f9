#!/usr/bin/env bash
# Usage: scripts/demo.sh
#
# Starts the sandbox billing API on 127.0.0.1 (a random free port), creates
# a customer, a product, a plan with a metered SKU and a subscription, sends
# a few usage events (one of them again, to show deduplication), prints the
# usage the API reports, and stops the sandbox. Needs curl (installed with
# apt-get when missing, as root).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "demo: $*" >&2; }
die() { say "$*"; exit 1; }

if ! command -v curl >/dev/null; then
  [ "$(id -u)" -eq 0 ] || die "curl is missing; install it"
  say "installing curl (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl ca-certificates >/dev/null
fi

mkdir -p bin
go build -o bin/sandbox ./cmd/sandbox

umask 077
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The admin token goes to the sandbox through its environment and to curl
# through a header file: never on a command line, never printed.
SANDBOX_ADMIN_TOKEN="bsk_test_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export SANDBOX_ADMIN_TOKEN
printf 'Authorization: Bearer %s\n' "$SANDBOX_ADMIN_TOKEN" >"$tmp/auth"

bin/sandbox -addr 127.0.0.1:0 >"$tmp/sandbox.log" 2>&1 &
pid=$!
url=""
deadline=$((SECONDS + 30))
until [ -n "$url" ]; do
  url=$(sed -n 's|.*sandbox listening on \(http://[^ ]*\).*|\1|p' "$tmp/sandbox.log" | head -n 1)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/sandbox.log" >&2; die "the sandbox exited"; }
  [ "$SECONDS" -lt "$deadline" ] || die "the sandbox did not say where it listens within 30s"
  sleep 0.1
done
until curl -fsS -o /dev/null "$url/health" 2>/dev/null; do
  [ "$SECONDS" -lt "$deadline" ] || die "$url/health did not answer within 30s"
  sleep 0.1
done
say "sandbox up at $url"

# api METHOD PATH [BODY [IDEMPOTENCY-KEY]]: prints the response body; fails
# on a non-2xx status, printing the body.
api() {
  local args=(-sS --fail-with-body -H "@$tmp/auth" -X "$1")
  if [ $# -ge 3 ]; then args+=(-H 'Content-Type: application/json' --data "$3"); fi
  if [ $# -ge 4 ]; then args+=(-H "Idempotency-Key: $4"); fi
  curl "${args[@]}" "$url$2" || die "$1 $2 failed"
}
# id_of: the first "id" of the JSON object on stdin.
id_of() { grep -o '"id":"[^"]*"' | head -n 1 | cut -d '"' -f 4; }

customer=$(api POST /admin/v1/customers \
  '{"display_name":"Demo Co","email":"demo@example.test","currency":"USD","account_type":"Business"}' | id_of)
product=$(api POST /admin/v1/catalog/products '{"name":"Demo API","description":"LLM completions"}' | id_of)
plan=$(api POST /admin/v1/catalog/plans \
  "{\"product_id\":\"$product\",\"name\":\"Demo\",\"description\":\"pay per token\",\"billing_cadence\":\"Monthly\",\"trial_days\":0,\"currency\":\"USD\"}" | id_of)
sku=$(api POST /admin/v1/catalog/skus \
  "{\"plan_id\":\"$plan\",\"name\":\"Input Tokens\",\"pricing_model\":\"PerUnit\",\"unit_amount_nanos\":\"2000000\",\"meter_event_type\":\"llm.completion\",\"meter_property\":\"input_tokens\",\"aggregation\":\"Sum\",\"currency\":\"USD\"}" | id_of)
sub=$(api POST /v1/subscriptions "{\"customer_id\":\"$customer\",\"plan_id\":\"$plan\",\"currency\":\"USD\",\"trial_days\":0}" | id_of)
say "customer $customer, plan $plan, SKU $sku, subscription $sub"

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
event() {
  echo "{\"id\":\"$1\",\"event_type\":\"llm.completion\",\"customer_id\":\"$customer\",\"subscription_id\":\"$sub\",\"timestamp\":\"$now\",\"properties\":{\"model\":\"demo\",\"input_tokens\":$2}}"
}
for n in 1 2 3 4 5; do
  echo "POST /v1/events demo-evt-$n -> $(api POST /v1/events "$(event "demo-evt-$n" $((n * 100)))" "demo-evt-$n")"
done
echo "again, same Idempotency-Key (the first response, replayed) -> $(api POST /v1/events "$(event demo-evt-3 300)" demo-evt-3)"
echo "again, no Idempotency-Key (a duplicate id, not counted) -> $(api POST /v1/events "$(event demo-evt-3 300)")"

echo "expected input_tokens: 1500 (100+200+300+400+500)"
echo "GET /v1/subscriptions/$sub/usage:"
usage=$(api GET "/v1/subscriptions/$sub/usage")
echo "$usage"
grep -q '"quantity":"1500"' <<<"$usage" || die "the API reports a different input_tokens total than the 1500 sent"
echo "usage matches what was sent"
