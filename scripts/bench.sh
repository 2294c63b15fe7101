#!/usr/bin/env bash
# svcscore benchmarks: prints figures, asserts nothing.  Each section
# measures a baseline in the same run, so ratios hold on a noisy machine.
#   BENCH_DIR   where fleets are generated (default: bench-data/, ignored by git)
#   BENCH_RUNS  runs per measurement; the median is reported (default 3)
#   BENCH_BIG   1 = also the 1,000,000-vehicle memory check (default 1)
#   BENCH_ONLY  run one section: features, glm, score, api
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=bin/svcscore
DIR=${BENCH_DIR:-bench-data}
RUNS=${BENCH_RUNS:-3}
BIG=${BENCH_BIG:-1}
ONLY=${BENCH_ONLY:-}
mkdir -p "$DIR"
TIME=/usr/bin/time

want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }

# fleet N: generates (once) a synthetic fleet of N vehicles, seed 7
fleet() {
    local d="$DIR/fleet-$1"
    if [ ! -f "$d/histories.jsonl" ]; then
        echo "  generating $1 vehicles into $d ..." >&2
        $BIN synth --vehicles "$1" --seed 7 --out "$d" 2>/dev/null
    fi
    echo "$d"
}

# timed CMD...: runs once, prints "seconds peak_rss_kb"
timed() {
    $TIME -o "$DIR/.time" -f '%e %M' "$@" >/dev/null 2>/dev/null
    tail -1 "$DIR/.time"
}

# calc EXPR: floating-point arithmetic
calc() { echo "scale=6; $1" | bc -l; }

# median of the numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure NAME CMD...: median seconds and peak RSS over RUNS runs
measure() {
    local name=$1; shift
    local secs=() rss=()
    for _ in $(seq "$RUNS"); do
        read -r s r <<<"$(timed "$@")"
        secs+=("$s"); rss+=("$r")
    done
    local ms mr
    ms=$(printf '%s\n' "${secs[@]}" | median)
    mr=$(printf '%s\n' "${rss[@]}" | sort -g | tail -1)
    echo "$name|$ms|$mr"
}

if want features; then
    echo "== features: histories -> features CSV (issue 2 targets)"
    d=$(fleet 100000)
    bytes=$(stat -c %s "$d/histories.jsonl")
    n=$(wc -l < "$d/histories.jsonl")
    printf '  fleet: %d vehicles, %.1f MB of JSONL\n' "$n" "$(calc "$bytes / 1000000")"
    printf '  %-28s %9s %10s %12s %9s\n' run seconds MB/s vehicles/s "RSS MB"
    base=""
    while IFS='|' read -r name s r; do
        mbs=$(calc "$bytes / 1000000 / $s")
        vps=$(calc "$n / $s")
        printf '  %-28s %9.2f %10.1f %12.0f %9.1f\n' "$name" "$s" "$mbs" "$vps" "$(calc "$r / 1024")"
        [ -n "$base" ] || base=$s
        [ "$name" != "features --jobs 2" ] || j2=$s
    done < <(
        measure "parse-only (cJSON, 1 thread)" bin/bench-parse "$d/histories.jsonl"
        measure "features --jobs 1" $BIN features --histories "$d/histories.jsonl" --as-of 2026-06-30 --jobs 1 --out /dev/null
        measure "features --jobs 2" $BIN features --histories "$d/histories.jsonl" --as-of 2026-06-30 --jobs 2 --out /dev/null
    )
    printf '  features --jobs 2 vs parse-only: %.2fx the throughput (target >= 1.6x)\n' "$(calc "$base / $j2")"
    if [ "$BIG" = 1 ]; then
        D=$(fleet 1000000)
        read -r s r <<<"$(timed $BIN features --histories "$D/histories.jsonl" --as-of 2026-06-30 --jobs 2 --out /dev/null)"
        read -r s1 r1 <<<"$(timed $BIN features --histories "$d/histories.jsonl" --as-of 2026-06-30 --jobs 2 --out /dev/null)"
        printf '  peak RSS, --jobs 2: %.1f MB for 100,000 vehicles, %.1f MB for 1,000,000 (%.0f s)\n' \
            "$(calc "$r1 / 1024")" "$(calc "$r / 1024")" "$s"
    fi
fi
