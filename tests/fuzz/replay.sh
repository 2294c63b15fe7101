#!/usr/bin/env bash
# tests/fuzz/replay.sh TARGET...: every committed corpus file of each target
# through bin/fuzz-replay-TARGET (the sanitizer build).  A target that fails
# on an input stops there: it counts its inputs as passed and one failure.
# Ends with the line "fuzz: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
pass=0
fail=0
for t in "$@"; do
    n=$(find "tests/fuzz/corpus/$t" -type f | wc -l)
    if ASAN_OPTIONS=detect_leaks=1 \
       UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
       "bin/fuzz-replay-$t" "tests/fuzz/corpus/$t" >"build/fuzz-replay-$t.log" 2>&1
    then
        pass=$((pass + n))
        echo "  ok    $t: $n inputs"
    else
        fail=$((fail + 1))
        echo "  FAIL  $t (see build/fuzz-replay-$t.log)"
        tail -20 "build/fuzz-replay-$t.log"
    fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
