# Sourced by with-postgres.sh and with-s3.sh: how they run COMMAND beside
# the server they start. The caller defines cleanup (stop the server,
# remove its directory) before install_traps, and it runs however the
# script ends.

child=""

# usage_or_exec VAR COMMAND...: without COMMAND, print the usage (lines 2
# and 3 of the script) and exit 2; with VAR already set, the server is
# someone else's: run COMMAND against it, starting nothing.
usage_or_exec() {
  local var=$1
  shift
  if [ $# -eq 0 ]; then
    sed -n '2,3s/^# \{0,1\}//p' "$0" >&2
    exit 2
  fi
  if [ -n "${!var:-}" ]; then
    exec "$@"
  fi
}

# on_signal ends COMMAND, which runs in its own process group (setsid),
# all of it, then exits with status $1: the EXIT trap stops the server.
on_signal() {
  trap - INT TERM
  if [ -n "$child" ]; then
    kill -TERM -- "-$child" 2>/dev/null || kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  exit "$1"
}

install_traps() {
  trap cleanup EXIT
  trap 'on_signal 130' INT
  trap 'on_signal 143' TERM
}

# run_command runs COMMAND and exits with its status. It runs in the
# background so that a signal reaches the traps at once, not after COMMAND
# ends; "<&0" keeps stdin, which a background job would lose.
run_command() {
  setsid -w "$@" <&0 &
  child=$!
  set +e
  wait "$child"
  local status=$?
  set -e
  child=""
  exit "$status"
}
