#!/usr/bin/env bash
# Usage: scripts/with-postgres.sh COMMAND [ARG...]
#
# Runs COMMAND with BILLHARNESS_TEST_PG_DSN pointing at a throwaway
# PostgreSQL cluster, stops the cluster however COMMAND ends, and exits with
# COMMAND's status.
#
# - BILLHARNESS_TEST_PG_DSN already set: COMMAND runs against that server and
#   nothing is started.
# - No PostgreSQL under /usr/lib/postgresql/*/bin: it is installed with
#   apt-get (as root only; otherwise the script says what to do).
# - The cluster listens on 127.0.0.1 only, port BILLHARNESS_PG_PORT (default
#   55432), trust authentication, fsync off; its data and socket directories
#   live in a fresh /tmp/billharness-pg.XXXXXX directory, removed afterwards.
#   As root, initdb and pg_ctl run as the postgres user (initdb refuses root).
# - A run killed before it could clean up leaves its directory, and maybe a
#   running cluster, behind: the next run stops and removes those whose
#   creating process is gone. If the port is still taken (by another run in
#   progress, or by anything else), the script leaves it alone and fails,
#   naming the port and, when it is one, the run using it.
set -euo pipefail
. "$(dirname "$0")/with-lib.sh"
usage_or_exec BILLHARNESS_TEST_PG_DSN "$@"

port=${BILLHARNESS_PG_PORT:-55432}
base=/tmp
say() { echo "with-postgres: $*" >&2; }
die() { say "$*"; exit 1; }

find_pg_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  done
}
pg_bin=$(find_pg_bin)
if [ -z "$pg_bin" ]; then
  [ "$(id -u)" -eq 0 ] || die "PostgreSQL not found under /usr/lib/postgresql; run 'apt-get install postgresql' as root, or set BILLHARNESS_TEST_PG_DSN"
  say "installing PostgreSQL (apt-get)"
  # Debian's policy-rc.d keeps the packaged cluster from starting: expected.
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  pg_bin=$(find_pg_bin)
  [ -n "$pg_bin" ] || die "PostgreSQL still not found under /usr/lib/postgresql after apt-get install"
fi

as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root, but there is no postgres user to run the cluster as"
  as_pg=(runuser -u postgres --)
fi
pg_ctl() { "${as_pg[@]}" "$pg_bin/pg_ctl" "$@"; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

# reclaim_stale stops and removes what runs of this script killed before
# they could clean up left behind: directories whose creating process is gone.
reclaim_stale() {
  local dir owner
  for dir in "$base"/billharness-pg.*; do
    [ -f "$dir/owner.pid" ] || continue
    owner=$(cat "$dir/owner.pid")
    if kill -0 "$owner" 2>/dev/null; then continue; fi
    if [ -f "$dir/data/postmaster.pid" ]; then
      say "stopping the cluster a killed earlier run left in $dir"
      pg_ctl -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
  done
}
# port_user names the live run of this script whose cluster is on $port.
port_user() {
  local dir
  for dir in "$base"/billharness-pg.*; do
    if [ -f "$dir/data/postmaster.pid" ] && [ "$(sed -n 4p "$dir/data/postmaster.pid")" = "$port" ]; then
      echo "the run with pid $(cat "$dir/owner.pid" 2>/dev/null || echo '?') ($dir)"
      return
    fi
  done
  echo "a process this script did not start"
}
reclaim_stale
if port_busy; then
  die "127.0.0.1:$port is already in use by $(port_user); stop it, set BILLHARNESS_PG_PORT to a free port, or set BILLHARNESS_TEST_PG_DSN"
fi

tmp=$(mktemp -d "$base/billharness-pg.XXXXXX")
data=$tmp/data
started=""
cleanup() {
  local status=$?
  if [ -n "$started" ] && pg_ctl -D "$data" status >/dev/null 2>&1; then
    pg_ctl -D "$data" -m fast -w stop >/dev/null || say "could not stop the cluster in $data"
  fi
  rm -rf "$tmp"
  exit "$status"
}
install_traps

echo $$ >"$tmp/owner.pid"
mkdir "$data" "$tmp/sock"
if [ ${#as_pg[@]} -gt 0 ]; then
  chown -R postgres: "$tmp"
fi
"${as_pg[@]}" "$pg_bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale >"$tmp/initdb.log" 2>&1 ||
  { cat "$tmp/initdb.log" >&2; die "initdb failed"; }
cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$tmp/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
started=1
pg_ctl -D "$data" -l "$tmp/postgres.log" -w -t 60 start >/dev/null ||
  { tail -n 20 "$tmp/postgres.log" >&2; die "could not start PostgreSQL on 127.0.0.1:$port"; }

export BILLHARNESS_TEST_PG_DSN="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
version=${pg_bin%/bin}
say "PostgreSQL ${version##*/} on 127.0.0.1:$port"

run_command "$@"
