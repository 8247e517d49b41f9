#!/usr/bin/env bash
# Usage: scripts/with-s3.sh COMMAND [ARG...]
#
# Runs COMMAND with BILLHARNESS_TEST_S3_ENDPOINT pointing at a throwaway
# S3-compatible server, stops the server however COMMAND ends, and exits
# with COMMAND's status.
#
# - BILLHARNESS_TEST_S3_ENDPOINT already set: COMMAND runs against that
#   server (with the AWS_* credentials already in the environment) and
#   nothing is started.
# - The server is versitygw (github.com/versity/versitygw, an S3 gateway
#   over a POSIX directory, Apache-2.0), version VERSITYGW_VERSION. It is
#   built once with 'go install' from the Go module proxy into
#   ~/.cache/billharness/bin (about two minutes the first time).
# - It listens on 127.0.0.1 only, port BILLHARNESS_S3_PORT (default
#   57070), verifies AWS Signature V4 with one access key, and keeps its
#   objects in a fresh /tmp/billharness-s3.XXXXXX directory, removed
#   afterwards. COMMAND gets the key as AWS_ACCESS_KEY_ID and
#   AWS_SECRET_ACCESS_KEY (test-only values), AWS_REGION, and
#   AWS_EC2_METADATA_DISABLED (no instance metadata lookups on a laptop).
# - A server left by a run killed before it could clean up is stopped at
#   the next run; a port taken by anything else makes the script fail,
#   naming the port.
set -euo pipefail
. "$(dirname "$0")/with-lib.sh"
usage_or_exec BILLHARNESS_TEST_S3_ENDPOINT "$@"

VERSITYGW_VERSION=${VERSITYGW_VERSION:-v1.8.0}
port=${BILLHARNESS_S3_PORT:-57070}
say() { echo "with-s3: $*" >&2; }
die() { say "$*"; exit 1; }

bindir=${XDG_CACHE_HOME:-$HOME/.cache}/billharness/bin
gw=$bindir/versitygw-$VERSITYGW_VERSION
if [ ! -x "$gw" ]; then
  say "building versitygw $VERSITYGW_VERSION from the Go module proxy (once; about two minutes)"
  mkdir -p "$bindir"
  build=$(mktemp -d)
  # Outside this module, so that its go.mod does not constrain the build.
  (cd "$build" && GOBIN="$build" GOFLAGS=-mod=mod go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION") ||
    { rm -rf "$build"; die "could not build versitygw $VERSITYGW_VERSION"; }
  mv "$build/versitygw" "$gw"
  rm -rf "$build"
fi

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

# A run killed before it could clean up leaves its directory and maybe its
# server: stop and remove those whose creating process is gone.
for dir in /tmp/billharness-s3.*; do
  [ -f "$dir/owner.pid" ] || continue
  kill -0 "$(cat "$dir/owner.pid")" 2>/dev/null && continue
  if [ -f "$dir/server.pid" ]; then
    pid=$(cat "$dir/server.pid")
    if grep -q versitygw "/proc/$pid/cmdline" 2>/dev/null; then
      say "stopping the server a killed earlier run left in $dir"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
  rm -rf "$dir"
done
if port_busy; then
  die "127.0.0.1:$port is already in use; stop what uses it, set BILLHARNESS_S3_PORT to a free port, or set BILLHARNESS_TEST_S3_ENDPOINT"
fi

tmp=$(mktemp -d /tmp/billharness-s3.XXXXXX)
mkdir "$tmp/data"
echo $$ >"$tmp/owner.pid"
server=""
cleanup() {
  local status=$?
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$tmp"
  exit "$status"
}
install_traps

export AWS_ACCESS_KEY_ID=billharness-test
export AWS_SECRET_ACCESS_KEY=billharness-test-secret
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
"$gw" --access "$AWS_ACCESS_KEY_ID" --secret "$AWS_SECRET_ACCESS_KEY" --port "127.0.0.1:$port" \
  posix "$tmp/data" >"$tmp/server.log" 2>&1 &
server=$!
echo "$server" >"$tmp/server.pid"
for _ in $(seq 1 300); do
  port_busy && break
  kill -0 "$server" 2>/dev/null || { cat "$tmp/server.log" >&2; die "versitygw exited"; }
  sleep 0.1
done
port_busy || { cat "$tmp/server.log" >&2; die "versitygw did not listen on 127.0.0.1:$port within 30 s"; }

export BILLHARNESS_TEST_S3_ENDPOINT="http://127.0.0.1:$port" VERSITYGW_VERSION
say "versitygw $VERSITYGW_VERSION on 127.0.0.1:$port"

run_command "$@"
