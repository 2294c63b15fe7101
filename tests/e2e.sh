#!/usr/bin/env bash
# End-to-end tests of the svcscore binary.
set -u
cd "$(dirname "$0")/.."
pass=0; fail=0
ok()   { pass=$((pass + 1)); echo "  ok    $1"; }
bad()  { fail=$((fail + 1)); echo "  FAIL  $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

check "version names the libraries" bash -c 'bin/svcscore --version | grep -q "cJSON"'
check "smartcar-sim end-to-end (tests/sim_e2e.sh)" tests/sim_e2e.sh

echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
