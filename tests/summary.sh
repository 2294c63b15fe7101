#!/usr/bin/env bash
# tests/summary.sh DIR PART...: the closing lines of 'make test', from the
# logs tests/logged.sh left in DIR (PART.log, PART.rc):
#
#   make test: unit 316/316 tests (126149 asserts), ..., e2e 231/231 checks
#   total: 863 passed, 0 failed
#
# A part's log ends in a CUnit run summary (its tests count, failed suites
# count as failed tests) or in a line "[WORD: ]N passed, N failed" (its
# checks count).  A part that did not run, printed neither, or exited
# non-zero while reporting no failure counts as one failure.  Exits 1 when
# anything failed.
set -u
dir=$1
shift
passed=0
failed=0
desc=""
for part in "$@"; do
    log="$dir/$part.log"
    if [ ! -f "$log" ]; then
        failed=$((failed + 1))
        desc="$desc, $part did not run"
        continue
    fi
    rc=$(cat "$dir/$part.rc" 2>/dev/null || echo 1)
    line=$(grep -E '^([A-Za-z0-9_.-]+: )?[0-9]+ passed, [0-9]+ failed$' \
           "$log" | tail -1)
    if grep -q '^Run Summary:' "$log"; then
        read -r p f a <<<"$(awk '
            $1 == "suites" && NF == 6 { fs = $5 }
            $1 == "tests" && NF == 6 { p = $4; f = $5 }
            $1 == "asserts" && NF == 6 { a = $2 }
            END { print p + 0, f + fs, a + 0 }' "$log")"
        d="$part $p/$((p + f)) tests ($a asserts)"
    elif [ -n "$line" ]; then
        p=$(sed -E 's/^([^:]*: )?([0-9]+) passed.*/\2/' <<<"$line")
        f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$line")
        d="$part $p/$((p + f)) checks"
    else
        p=0
        f=1
        d="$part printed no summary"
    fi
    if [ "$rc" != 0 ] && [ "$f" -eq 0 ]; then
        f=1
        d="$d, exit $rc"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    desc="$desc, $d"
done
echo "make test: ${desc#, }"
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
