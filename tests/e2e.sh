#!/usr/bin/env bash
# End-to-end tests of the svcscore binary.
set -u
cd "$(dirname "$0")/.."
pass=0; fail=0
ok()   { pass=$((pass + 1)); echo "  ok    $1"; }
bad()  { fail=$((fail + 1)); echo "  FAIL  $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

check "version names the libraries" bash -c 'bin/svcscore --version | grep -q "cJSON"'

# --- synth ---
synth_tmp=$(mktemp -d)
trap 'rm -rf "$synth_tmp"' EXIT
check "synth --help describes the command" bash -c 'bin/svcscore synth --help | grep -q -- "--vehicles N"'
check "synth without --out is a usage error" bash -c 'bin/svcscore synth --vehicles 3 2>/dev/null; [ $? -eq 2 ]'
check "synth with a bad seed is a usage error" bash -c 'bin/svcscore synth --vehicles 3 --seed x --out "$1" 2>/dev/null; [ $? -eq 2 ]' _ "$synth_tmp/x"
check "synth with a bad date is a usage error" bash -c 'bin/svcscore synth --vehicles 3 --as-of 2026-02-30 --out "$1" 2>/dev/null; [ $? -eq 2 ]' _ "$synth_tmp/x"
check "synth into a file fails with exit 1" bash -c 'touch "$1/file"; bin/svcscore synth --vehicles 3 --out "$1/file" 2>/dev/null; [ $? -eq 1 ]' _ "$synth_tmp"
check "synth writes the same bytes twice" bash -c '
  bin/svcscore synth --vehicles 200 --seed 9 --out "$1/a" 2>/dev/null &&
  bin/svcscore synth --vehicles 200 --seed 9 --out "$1/b" 2>/dev/null &&
  diff -r "$1/a" "$1/b" >/dev/null && [ $(wc -l < "$1/a/vehicles.csv") -eq 201 ]' _ "$synth_tmp"
check "the committed sample matches scripts/make-sample.sh" bash -c '
  bin/svcscore synth --vehicles 1000 --seed 42 --out "$1/sample" 2>/dev/null &&
  diff -r "$1/sample" data/sample >/dev/null' _ "$synth_tmp"

echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
