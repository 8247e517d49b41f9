#!/usr/bin/env bash
# Usage: scripts/fuzz.sh [FUZZTIME]
#
# Fuzzes every Go fuzz target of the module (each func FuzzXxx in a
# _test.go file, found anew at every run) for FUZZTIME each (default 3s,
# or $FUZZTIME), one target per go test invocation as go test requires.
# Every target runs; the script fails at the end if any did. A failing
# input is left where go test writes it, testdata/fuzz/FuzzXxx/ next to
# the target, to be committed with the fix as a regression seed.
#
# Go 1.26's fuzz coordinator can fail a target with a bare "context
# deadline exceeded" as -fuzztime runs out on a busy machine, having found
# nothing (golang/go#75804, fixed in Go 1.27). Such a run, with no failing
# input written and no other failure in its output, is run again once; a
# second one fails like any other.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${1:-${FUZZTIME:-3s}}
failed=()
count=0
start=$SECONDS
# module prints the directory of the go.mod that owns directory $1.
module() {
  local d=$1
  until [ -f "$d/go.mod" ] || [ "$d" = . ]; do d=$(dirname "$d"); done
  echo "$d"
}

while IFS=: read -r file name; do
  dir=$(dirname "${file#./}")
  mod=$(module "$dir")
  pkg=./${dir#"$mod"}
  pkg=${pkg/#.\/\//./}
  count=$((count + 1))
  fuzz1() { (cd "$mod" && go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" 2>&1); }
  ok=0
  out=$(fuzz1) && ok=1
  if [ "$ok" = 0 ] && grep -q '^    context deadline exceeded$' <<<"$out" &&
    ! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' <<<"$out"; then
    printf 'fuzz %-28s %-24s the coordinator deadline race (golang/go#75804); again\n' "$dir" "$name" >&2
    out=$(fuzz1) && ok=1
  fi
  if [ "$ok" = 1 ]; then
    execs=$(grep -o 'execs: [0-9]*' <<<"$out" | tail -n 1 || true)
    printf 'fuzz %-28s %-24s ok (%s)\n' "$dir" "$name" "${execs:-no execs}"
  else
    printf 'fuzz %-28s %-24s FAIL\n%s\n' "$dir" "$name" "$out" >&2
    failed+=("$dir $name")
  fi
done < <(grep -rHo --include='*_test.go' --exclude-dir=node_modules --exclude-dir=.git '^func Fuzz[A-Za-z0-9_]*' . |
  sed 's/:func /:/' | sort)

echo "fuzz: $count targets, $fuzztime each, $((SECONDS - start))s" >&2
if [ "$count" -eq 0 ]; then
  echo "fuzz: no fuzz targets found" >&2
  exit 1
fi
if [ ${#failed[@]} -gt 0 ]; then
  printf 'fuzz: FAILED %s\n' "${failed[@]}" >&2
  exit 1
fi
