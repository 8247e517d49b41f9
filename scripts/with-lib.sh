# Sourced by with-postgres.sh and with-s3.sh: how they run COMMAND beside
# the server they start. The caller defines cleanup (stop the server,
# remove its directory), which runs however the script ends.

child=""

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
