#!/usr/bin/env bash
# History store benchmark: prints figures, asserts nothing.
#   score --store against scoring the same vehicles from the JSONL bundle,
#   the store file's size per vehicle, and (BENCH_BIG=1) a 1,000,000-vehicle
#   store imported and scored, with wall time and peak RSS.
#   BENCH_DIR   where fleets and stores go (default: bench-data/)
#   BENCH_RUNS  runs per measurement; the median is reported (default 3)
#   BENCH_BIG   1 = also the 1,000,000-vehicle store (default 1)
#   BENCH_N     vehicles of the throughput fleet (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=bin/svcscore
DIR=${BENCH_DIR:-bench-data}
RUNS=${BENCH_RUNS:-3}
BIG=${BENCH_BIG:-1}
N=${BENCH_N:-100000}
AS_OF=2026-06-30
mkdir -p "$DIR"

calc() { echo "scale=6; $1" | bc -l; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# timed CMD...: runs once, prints "seconds peak_rss_kb cpu_seconds"
timed() {
    /usr/bin/time -o "$DIR/.time" -f '%e %M %U %S' "$@" >/dev/null 2>/dev/null
    tail -1 "$DIR/.time" | awk '{print $1, $2, $3 + $4}'
}
fleet() {   # same fleets as scripts/bench.sh (seed 7)
    local d="$DIR/fleet-$1"
    if [ ! -f "$d/histories.jsonl" ]; then
        echo "  generating $1 vehicles into $d ..." >&2
        $BIN synth --vehicles "$1" --seed 7 --out "$d" 2>/dev/null
    fi
    echo "$d"
}
# store N: imports fleet N into $DIR/store-N.db once; prints its path
store() {
    local d db
    d=$(fleet "$1")
    db="$DIR/store-$1.db"
    if [ ! -f "$db.import" ]; then
        rm -f "$db" "$db-wal" "$db-shm"
        echo "  importing $1 vehicles into $db ..." >&2
        timed $BIN store import --store "$db" --histories "$d/histories.jsonl" \
            > "$db.import"
    fi
    echo "$db"
}
mb() { calc "$1 / 1048576"; }

echo "== store: score --store against the bundle (issue 9 targets)"
d=$(fleet "$N")
db=$(store "$N")
read -r is ir _ < "$db.import"
size=$(stat -c %s "$db")
bsize=$(stat -c %s "$d/histories.jsonl")
printf '  %d vehicles: import %.1f s (%.0f vehicles/s, %.1f MB RSS)\n' \
    "$N" "$is" "$(calc "$N / $is")" "$(calc "$ir / 1024")"
printf '  store file %.1f MB = %.0f bytes per vehicle (bundle: %.0f bytes per vehicle)\n' \
    "$(mb "$size")" "$(calc "$size / $N")" "$(calc "$bsize / $N")"
# a copy to record runs in, so the measured store stays as imported
cp "$db" "$DIR/store-rec.db"
rm -f "$DIR/store-rec.db-wal" "$DIR/store-rec.db-shm"
# the three runs take turns, so a noisy neighbour hits them alike
declare -A secs cpus rss
for _ in $(seq "$RUNS"); do
    for name in bundle store store-rec; do
        case $name in
        bundle)    set -- --histories "$d/histories.jsonl" ;;
        store)     set -- --store "$db" --no-record ;;
        store-rec) set -- --store "$DIR/store-rec.db" ;;
        esac
        read -r s r c <<<"$(timed $BIN score --vehicles "$d/vehicles.csv" \
            --as-of $AS_OF --jobs 2 --out /dev/null "$@")"
        secs[$name]+="$s "
        cpus[$name]+="$c "
        rss[$name]=$r
    done
done
printf '  %-28s %8s %12s %9s %8s\n' run seconds vehicles/s "CPU s" "RSS MB"
for name in bundle store store-rec; do
    m=$(printf '%s\n' ${secs[$name]} | median)
    c=$(printf '%s\n' ${cpus[$name]} | median)
    eval "med_${name//-/_}=$m"
    case $name in
    bundle)    label="score --histories BUNDLE" ;;
    store)     label="score --store --no-record" ;;
    store-rec) label="score --store (recorded)" ;;
    esac
    printf '  %-28s %8.2f %12.0f %9.2f %8.1f\n' "$label" "$m" \
        "$(calc "$N / $m")" "$c" "$(calc "${rss[$name]} / 1024")"
done
printf '  score --store throughput = %.0f%% of the bundle'"'"'s (%.0f%% recorded, with drift; target >= 80%%)\n' \
    "$(calc "100 * $med_bundle / $med_store")" "$(calc "100 * $med_bundle / $med_store_rec")"

if [ "$BIG" = 1 ]; then
    echo "== store: 1,000,000 vehicles"
    db=$(store 1000000)
    read -r is ir _ < "$db.import"
    size=$(stat -c %s "$db")
    printf '  import: %.0f s (%.0f vehicles/s), peak RSS %.1f MB; file now (recorded runs included) %.2f GB = %.0f bytes per vehicle\n' \
        "$is" "$(calc "1000000 / $is")" "$(calc "$ir / 1024")" \
        "$(calc "$size / 1073741824")" "$(calc "$size / 1000000")"
    read -r s r c <<<"$(timed $BIN score --store "$db" --no-record --as-of $AS_OF \
        --jobs 2 --out /dev/null)"
    printf '  score --store (all vehicles): %.0f s (%.0f vehicles/s), peak RSS %.1f MB\n' \
        "$s" "$(calc "1000000 / $s")" "$(calc "$r / 1024")"
fi
