#!/usr/bin/env bash
# Installs what is missing, builds everything, runs every test, and prints
# one summary line: `tests: N passed, M failed` (N, M count test targets).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh || exit 1

log="$(mktemp)"
bazel test //... --test_output=errors --keep_going "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

passed=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log" || true)
failed=$(grep -cE '^//[^ ]+ +(FAILED|TIMEOUT|NO STATUS|INCOMPLETE|FLAKY)' "$log" || true)
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build itself failed: count that as a failure so CI never reads 0/0 as green.
  failed=1
fi
rm -f "$log"
echo "tests: ${passed} passed, ${failed} failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
