#!/usr/bin/env bash
# Lints the sandbox's OpenAPI document with Redocly (recommended rules,
# strict) and Spectral (oas ruleset): both must find nothing. The linters
# are installed with npm, at the versions of scripts/openapi/package.json,
# into a cache directory reused by later runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${BILLHARNESS_LINT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/billharness/openapi-lint}

command -v npm >/dev/null 2>&1 || {
	echo "lint-openapi: installing nodejs and npm (apt-get)" >&2
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
}
mkdir -p "$cache"
if ! cmp -s "$here/openapi/package.json" "$cache/package.json" || [ ! -x "$cache/node_modules/.bin/spectral" ]; then
	cp "$here/openapi/package.json" "$cache/package.json"
	(cd "$cache" && npm install --no-audit --no-fund --silent --no-package-lock)
fi

spec=$(mktemp --suffix=.json)
trap 'rm -f "$spec"' EXIT
go run ./cmd/sandbox -openapi >"$spec"
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
rc=0
out=$("$cache/node_modules/.bin/redocly" lint --config "$here/openapi/redocly.yaml" --format=stylish "$spec" 2>&1) || rc=$?
printf '%s\n' "$out" | grep -v '[║╔╚]' || true
[ "$rc" = 0 ] || { echo "lint-openapi: redocly found problems (above)" >&2; exit 1; }
"$cache/node_modules/.bin/spectral" lint --ruleset "$here/openapi/spectral.yaml" --fail-severity=hint "$spec"
echo "lint-openapi: /openapi.json is clean under redocly (recommended, strict) and spectral (oas)"
