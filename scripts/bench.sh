#!/usr/bin/env bash
# svcscore benchmarks: prints figures, asserts nothing.  Each section
# measures a baseline in the same run, so ratios hold on a noisy machine.
#   BENCH_DIR   where fleets are generated (default: bench-data/, ignored by git)
#   BENCH_RUNS  runs per measurement; the median is reported (default 3)
#   BENCH_BIG   1 = also the 1,000,000-vehicle memory check (default 1)
#   BENCH_ONLY  run one section: features, glm, glm-factors, score, quality, api,
#               store, report
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

if want glm-factors; then
    echo "== glm-factors: 1,000,000 rows x 20 columns, two factors of 20 levels and n1:f1 (76 design columns; issue 11 target)"
    make --no-print-directory bin/bench-glm >/dev/null
    bin/bench-glm --rows 1000000 --threads 2 --factors --csv "$DIR/glmf.csv" > "$DIR/glmf-ours.txt"
    ours=$(awk '$1 == "seconds" {print $2}' "$DIR/glmf-ours.txt")
    printf '  svcscore glm_fit (2 threads): %.3f s, %s iterations (median of 3)\n' "$ours" \
        "$(awk '$1 == "iterations" {print $2}' "$DIR/glmf-ours.txt")"
    if command -v Rscript >/dev/null; then
        Rscript scripts/bench-glm.R "$DIR/glmf.csv" factors > "$DIR/glmf-r.txt"
        r=$(awk '$1 == "seconds" {print $2}' "$DIR/glmf-r.txt")
        printf '  R %s glm(): %.3f s, %s iterations (one fit, same data)\n' \
            "$(Rscript -e 'cat(R.version$major, R.version$minor, sep=".")')" \
            "$r" "$(awk '$1 == "iterations" {print $2}' "$DIR/glmf-r.txt")"
        printf '  speed-up: %.1fx (target >= 10x)\n' "$(calc "$r / $ours")"
        # coefficients by name: R's and ours print "coef NAME VALUE"
        awk '$1 == "coef" && NR == FNR {r[$2] = $3; next}
             $1 == "coef" {n++; if (!($2 in r)) {miss++; next}
                  d = $3 - r[$2]; if (d < 0) d = -d; s = r[$2] < 0 ? -r[$2] : r[$2];
                  if (s < 1e-12) s = 1; if (d / s > mx) mx = d / s}
             END {printf "  coefficients: %d compared by name (%d missing in R), max relative difference %.2e\n", n, miss, mx}' \
            "$DIR/glmf-r.txt" "$DIR/glmf-ours.txt"
    else
        echo "  R not installed (apt-get install r-base-core): no baseline in this run"
    fi
fi

if want score; then
    echo "== score: histories -> scores CSV, against features in the same run (issue 3 target)"
    d=$(fleet 100000)
    n=$(wc -l < "$d/histories.jsonl")
    while IFS='|' read -r name s r; do
        printf '  %-24s %7.2f s %10.0f vehicles/s %7.1f MB RSS\n' "$name" "$s" "$(calc "$n / $s")" "$(calc "$r / 1024")"
        [ "$name" = "features --jobs 2" ] && f=$s
        [ "$name" = "score --jobs 2" ] && sc=$s
    done < <(
        measure "features --jobs 2" $BIN features --histories "$d/histories.jsonl" --as-of 2026-06-30 --jobs 2 --out /dev/null
        measure "score --jobs 2" $BIN score --histories "$d/histories.jsonl" --as-of 2026-06-30 --jobs 2 --out /dev/null
    )
    printf '  score throughput = %.1f%% of features throughput (target >= 90%%)\n' "$(calc "100 * $f / $sc")"

fi

if want score || want quality; then
    echo "== model quality: shipped model on held-out synthetic fleets (issue 3 and 8 targets)"
    # valid SEED N: generates (once) a held-out fleet and its features
    valid() {
        local v="$DIR/valid-$1-$2"
        if [ ! -f "$v/features.csv" ]; then
            $BIN synth --vehicles "$2" --seed "$1" --out "$v" 2>/dev/null
            $BIN features --vehicles "$v/vehicles.csv" --histories "$v/histories.jsonl" \
                --as-of 2026-06-30 --out "$v/features.csv" 2>/dev/null
        fi
        echo "$v"
    }
    # seed 11 large enough that every subgroup's Gini is more than noise
    v=$(valid 11 300000)
    $BIN evaluate --features "$v/features.csv" --labels "$v/claims.csv" --truth "$v/truth.csv" > "$DIR/quality-11.txt"
    awk '/^Gini  /{g=$2} /oracle\)/{o=$NF} /Gini ratio/{r=$NF} /^actual \/ predicted/{ae=$NF}
         /^subgroups/ {insub = 1; getline; next}
         insub && / fewer than / {
             for (k = 1; $k != "fewer"; k++) last = k
             name = $1; for (k = 2; k < last; k++) name = name " " $k
             line[++n] = sprintf("    %-20s %7d vehicles: below the minimum, not reported", name, $last); next}
         insub && NF >= 8 {
             name = $1; for (k = 2; k <= NF - 7; k++) name = name " " $k
             ok = ($NF >= 0.85 && $(NF-3) >= 0.90 && $(NF-3) <= 1.10) ? "met" : "NOT MET"
             line[++n] = sprintf("    %-20s %7d vehicles: ratio %.3f, A/E %.3f  %s", name, $(NF-6), $NF, $(NF-3), ok)}
         END {printf "  seed 11, 300,000 vehicles: model Gini %.4f, oracle Gini %.4f, ratio %.3f (target >= 0.90), A/E %.3f\n", g, o, r, ae
              print "  by subgroup (targets for 2,000 vehicles or more: ratio >= 0.85, A/E 0.90-1.10):"
              for (k = 1; k <= n; k++) print line[k]}' "$DIR/quality-11.txt"
    for seed in 12 13; do
        v=$(valid $seed 100000)
        $BIN evaluate --features "$v/features.csv" --labels "$v/claims.csv" --truth "$v/truth.csv" |
            awk -v s=$seed '/^Gini  /{g=$2} /oracle\)/{o=$NF} /Gini ratio/{r=$NF}
                END {printf "  seed %s, 100,000 vehicles: model Gini %.4f, oracle Gini %.4f, ratio %.3f\n", s, g, o, r}'
    done
    echo "  (models/default-validation.txt has seed 2027 with the lift table and subgroups)"
fi

if want api; then
    echo "== api: svcscore fetch against smartcar-sim on 127.0.0.1 (issue 4 targets)"
    d=$(fleet 20000)
    export SMARTCAR_CLIENT_ID=bench SMARTCAR_CLIENT_SECRET=bench-secret
    # Access tokens still valid (as within two hours of a refresh), so the
    # figures are about the histories; refreshes are measured by the tests.
    awk -F, -v OFS=, 'NR > 1 {$10 = "2099-01-01T00:00:00Z"} {print}' \
        "$d/vehicles.csv" > "$DIR/vehicles-valid.csv"
    sim_start() {   # sim args...; sets ORIGIN and SIM
        rm -f "$DIR/sim.port" "$DIR/sim.log"
        awk -F, -v OFS=, 'NR > 1 {$10 = "2099-01-01T00:00:00Z"} {print}' \
            "$d/vehicles.csv" > "$DIR/fleet-valid.csv"
        mkdir -p "$DIR/simfleet"
        cp "$DIR/fleet-valid.csv" "$DIR/simfleet/vehicles.csv"
        ln -sf "$(cd "$d" && pwd)/histories.jsonl" "$DIR/simfleet/histories.jsonl"
        bin/smartcar-sim --fleet "$DIR/simfleet" --port 0 --port-file "$DIR/sim.port" \
            --log "$DIR/sim.log" "$@" 2>/dev/null &
        SIM=$!
        for _ in $(seq 600); do [ -s "$DIR/sim.port" ] && break; sleep 0.05; done
        ORIGIN="http://127.0.0.1:$(cat "$DIR/sim.port")"
        export SMARTCAR_AUTH_ORIGIN=$ORIGIN
    }
    sim_stop() { kill "$SIM"; wait "$SIM" 2>/dev/null || true; }
    fetch_run() {   # out, extra args...; prints wall seconds
        local out=$1; shift
        rm -f "$out" "$out.partial" "$DIR/tok.jsonl"
        local t0 t1
        t0=$(date +%s.%N)
        $BIN fetch --vehicles "$DIR/vehicles-valid.csv" --api "$ORIGIN" \
            --token-store "$DIR/tok.jsonl" --out "$out" "$@" 2>"$DIR/fetch.err" >/dev/null
        t1=$(date +%s.%N)
        calc "$t1 - $t0"
    }
    n=$(( $(wc -l < "$d/vehicles.csv") - 1 ))
    [ -f "$DIR/simfleet/vehicles.csv" ] || true
    sim_start --latency-ms 50 --rate-bucket 0
    walls=()
    for _ in $(seq "$RUNS"); do
        before=$(wc -l < "$DIR/sim.log")
        walls+=("$(fetch_run "$DIR/api.jsonl" --concurrency 64)")
    done
    sim_stop
    tail -n +$((before + 1)) "$DIR/sim.log" > "$DIR/sim-last.log"
    w=$(printf '%s\n' "${walls[@]}" | median)
    ideal=$(calc "$n * 0.050 / 64")
    hist=$(grep -c 'path=/v2.0/vehicles/[^ ]*/service/history' "$DIR/sim-last.log")
    allv=$(grep -c 'path=/v2.0/vehicles' "$DIR/sim-last.log")
    printf '  %d vehicles, 50 ms latency, --concurrency 64: %.2f s (median of %d; ideal %.2f s) = %.3fx ideal (target <= 1.15x)\n' \
        "$n" "$w" "$RUNS" "$ideal" "$(calc "$w / $ideal")"
    printf '  requests per vehicle (last run): %.4f history, %.4f all vehicle endpoints (target <= 1.01)\n' \
        "$(calc "$hist / $n")" "$(calc "$allv / $n")"
    R=200
    sim_start --rate-bucket 20 --rate-refill-per-min $((R * 60 * 105 / 100))
    m=3000
    head -n $((m + 1)) "$DIR/vehicles-valid.csv" > "$DIR/vehicles-rate.csv"
    t0=$(date +%s.%N)
    $BIN fetch --vehicles "$DIR/vehicles-rate.csv" --api "$ORIGIN" --rate $R \
        --concurrency 64 --token-store "$DIR/tok.jsonl" --out "$DIR/rate.jsonl" 2>/dev/null
    t1=$(date +%s.%N)
    sim_stop
    reqs=$(grep -c 'path=/v2.0/vehicles' "$DIR/sim.log")
    r429=$(grep -c 'status=429' "$DIR/sim.log" || true)
    s=$(calc "$t1 - $t0")
    span=$(awk '/path=\/v2.0\/vehicles/ {t = substr($1, 6); if (f == "") f = t; l = t}
                END {printf "%.3f", (l - f) / 1000}' "$DIR/sim.log")
    printf '  --rate %d under a bucket refilled at %d/s: %d requests, %d answers 429\n' \
        "$R" $((R * 105 / 100)) "$reqs" "$r429"
    printf '    achieved, first to last request (server clock): %.1f/s = %.3f of R (target >= 0.95)\n' \
        "$(calc "($reqs - 1) / $span")" "$(calc "($reqs - 1) / $span / $R")"
    printf '    whole command incl. start-up and writing the bundle: %.2f s = %.1f/s\n' \
        "$s" "$(calc "$reqs / $s")"
fi

if want store; then BENCH_DIR=$DIR BENCH_RUNS=$RUNS BENCH_BIG=$BIG scripts/bench-store.sh; fi
if want report; then scripts/bench-report.sh; fi
# the client at book scale (issue 9), BENCH_ONLY=client: scripts/bench-client.sh
if want client; then BENCH_DIR="$DIR" BENCH_RUNS="$RUNS" scripts/bench-client.sh; fi
if want incr; then BENCH_DIR=$DIR scripts/bench-incr.sh; fi
