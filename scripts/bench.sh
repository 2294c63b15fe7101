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

if want glm; then
    echo "== glm: Poisson GLM with offset, 1,000,000 rows x 20 columns (issue 3 target)"
    make --no-print-directory bin/bench-glm >/dev/null
    bin/bench-glm --rows 1000000 --threads 2 --csv "$DIR/glm.csv" > "$DIR/glm-ours.txt"
    ours=$(awk '$1 == "seconds" {print $2}' "$DIR/glm-ours.txt")
    iters=$(awk '$1 == "iterations" {print $2}' "$DIR/glm-ours.txt")
    printf '  svcscore glm_fit (2 threads): %.3f s, %s iterations (median of 3)\n' "$ours" "$iters"
    if command -v Rscript >/dev/null; then
        Rscript scripts/bench-glm.R "$DIR/glm.csv" > "$DIR/glm-r.txt"
        r=$(awk '$1 == "seconds" {print $2}' "$DIR/glm-r.txt")
        printf '  R %s glm(): %.3f s, %s iterations (median of 3, same data)\n' \
            "$(Rscript -e 'cat(R.version$major, R.version$minor, sep=".")')" \
            "$r" "$(awk '$1 == "iterations" {print $2}' "$DIR/glm-r.txt")"
        printf '  speed-up: %.1fx (target >= 10x)\n' "$(calc "$r / $ours")"
        # coefficients in the same order: ours from the table, R's "coef" lines
        awk 'NR == FNR && $1 == "coef" {r[++n] = $3; next}
             FNR > 1 && $1 ~ /^[a-z_0-9]+$/ && NF == 4 && $2 ~ /^-?[0-9.]+$/ {o[++m] = $3}
             END {mx = 0; for (i = 1; i <= n; i++) {d = o[i] - r[i]; if (d < 0) d = -d;
                  s = r[i] < 0 ? -r[i] : r[i]; if (s < 1e-12) s = 1; if (d / s > mx) mx = d / s}
                  printf "  coefficients: %d of %d compared, max relative difference %.2e\n", m < n ? m : n, n, mx}' \
            "$DIR/glm-r.txt" "$DIR/glm-ours.txt"
    else
        echo "  R not installed (apt-get install r-base-core): no baseline in this run"
    fi
fi
