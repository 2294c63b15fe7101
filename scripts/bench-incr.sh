#!/usr/bin/env bash
# Incremental fetch benchmark: prints figures, asserts nothing.
#   Night 1 pulls a fleet into a history store through bin/smartcar-sim;
#   night 2 serves the same fleet with one new record for 3% of the
#   vehicles and runs 'fetch --store --refresh-after 0' (every vehicle due).
#   Reported beside a full pull of night 2 into a fresh store: history
#   requests per vehicle due, bytes received (answer bodies decoded, and
#   as received: headers and gzip bodies), wall time.
#   BENCH_DIR      where fleets and stores go (default: bench-data/)
#   BENCH_INCR_N   vehicles (default 20000)
#   BENCH_LATENCY  simulator latency in ms (default 5)
#   BENCH_CONC     client concurrency (default 64)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=bin/svcscore
SIM=bin/smartcar-sim
DIR=${BENCH_DIR:-bench-data}
N=${BENCH_INCR_N:-20000}
LAT=${BENCH_LATENCY:-5}
CONC=${BENCH_CONC:-64}
W="$DIR/incr-$N"
mkdir -p "$W"
export SMARTCAR_CLIENT_ID=bench-client SMARTCAR_CLIENT_SECRET=bench-secret

calc() { echo "scale=6; $1" | bc -l; }
metric() { awk -v m="$1" '$1 == m {print $2}' "$2"; }

if [ ! -f "$W/f2/histories.jsonl" ]; then
    echo "  generating $N vehicles into $W ..." >&2
    $BIN synth --vehicles "$N" --seed 7 --out "$W/f1" 2>/dev/null
    # tokens valid past the run: each night's simulator accepts them as is
    sed -i -E 's/,2026-06-30T00:00:00Z(,[^,]*)?$/,2030-01-01T00:00:00Z\1/' \
        "$W/f1/vehicles.csv"
    mkdir -p "$W/f2"
    cp "$W/f1/vehicles.csv" "$W/f2/"
    # every 33rd vehicle with a history gets one more record (3%)
    awk 'NR % 33 == 0 && !/"history":\[\]/ {
            n = split($0, a, /"odometerDistance":/)
            split(a[n], b, /[,}]/)
            rec = sprintf("{\"serviceId\":\"night2-%d\",\"odometerDistance\"" \
                  ":%.2f,\"serviceDate\":\"2026-07-01\",\"serviceTasks\":" \
                  "[{\"taskId\":\"3000\",\"taskDescription\":\"Oil and " \
                  "filter change\"}],\"serviceDetails\":[{\"type\":" \
                  "\"source\",\"value\":\"dealer\"}],\"serviceCost\":" \
                  "{\"totalCost\":99.00,\"currency\":\"USD\"}}", NR, b[1] + 1000)
            sub(/\]\}$/, "," rec "]}")
         } { print }' "$W/f1/histories.jsonl" > "$W/f2/histories.jsonl"
fi
V="$W/f1/vehicles.csv"
new=$(grep -c night2- "$W/f2/histories.jsonl" || true)

SIM_PID=""
stop_sim() {
    if [ -n "$SIM_PID" ]; then kill -TERM "$SIM_PID"; wait "$SIM_PID" || true; fi
    SIM_PID=""
}
trap stop_sim EXIT
start_sim() {   # start_sim FLEET LOG
    stop_sim
    rm -f "$W/port"
    # the simulator on the other core when there are two
    taskset -c 1 $SIM --fleet "$1" --port 0 --port-file "$W/port" \
        --now 2026-07-01T00:00:00Z --rate-bucket 0 --latency-ms "$LAT" \
        --threads 2 --log "$2" 2>/dev/null &
    SIM_PID=$!
    for _ in $(seq 200); do [ -s "$W/port" ] && break; sleep 0.05; done
    ORIGIN="http://127.0.0.1:$(cat "$W/port")"
    export SMARTCAR_AUTH_ORIGIN=$ORIGIN
}
# pull NAME STORE ARGS...: one store fetch; prints "seconds"
pull() {
    local name=$1 db=$2
    shift 2
    local t0 t1
    t0=$(date +%s.%N)
    taskset -c 0 $BIN fetch --vehicles "$V" --api "$ORIGIN" \
        --token-store "$W/tok.jsonl" --store "$db" --concurrency "$CONC" \
        --metrics "$W/$name.prom" "$@" >/dev/null 2>"$W/$name.err"
    t1=$(date +%s.%N)
    calc "$t1 - $t0"
}

rm -f "$W"/*.db "$W"/*.db-* "$W/tok.jsonl"
echo "== incr: incremental fetch, $N vehicles, simulator at $LAT ms, concurrency $CONC"
start_sim "$W/f1" "$W/night1.log"
s1=$(pull night1 "$W/s.db")
start_sim "$W/f2" "$W/night2.log"
s2=$(pull night2 "$W/s.db" --refresh-after 0)
start_sim "$W/f2" "$W/full.log"
sf=$(pull full "$W/full.db")
stop_sim

h2=$(grep -c route=history "$W/night2.log")
hf=$(grep -c route=history "$W/full.log")
b2=$(metric svcscore_response_bytes_total "$W/night2.prom")
bf=$(metric svcscore_response_bytes_total "$W/full.prom")
w2=$(metric svcscore_received_bytes_total "$W/night2.prom")
wf=$(metric svcscore_received_bytes_total "$W/full.prom")
r2=$(sqlite3 "$W/s.db" "SELECT count(*) FROM record")
rf=$(sqlite3 "$W/full.db" "SELECT count(*) FROM record")
printf '  night 2: %d vehicles due (all, --refresh-after 0), %d of them with a new record\n' "$N" "$new"
printf '  %-26s %10s %14s %14s %10s\n' run "histories" "body bytes" "wire bytes" seconds
printf '  %-26s %10d %14.0f %14.0f %10.2f\n' "night 1 (full, new store)" \
    "$(grep -c route=history "$W/night1.log")" \
    "$(metric svcscore_response_bytes_total "$W/night1.prom")" \
    "$(metric svcscore_received_bytes_total "$W/night1.prom")" "$s1"
printf '  %-26s %10d %14.0f %14.0f %10.2f\n' "night 2 (incremental)" "$h2" "$b2" "$w2" "$s2"
printf '  %-26s %10d %14.0f %14.0f %10.2f\n' "night 2 (full, new store)" "$hf" "$bf" "$wf" "$sf"
printf '  history requests per vehicle due: %.4f (target <= 1.01)\n' "$(calc "$h2 / $N")"
printf '  bytes received vs a full pull: %.1f%% of the bodies (decoded), %.1f%% on the wire (headers, gzip) (target <= 10%%)\n' \
    "$(calc "100 * $b2 / $bf")" "$(calc "100 * $w2 / $wf")"
# what bounds it: the window always holds the vehicle's latest record
rw=$(sqlite3 "$W/s.db" "SELECT count(*) FROM vehicle" 2>/dev/null || echo 0)
if [ "$rw" -gt 0 ]; then
    printf '  records a full history holds: %.2f a vehicle; the window of night 2 asks for %.2f (its latest record and those 90 days before it)\n' \
        "$(calc "$rf / $rw")" \
        "$(awk -F'records=' 'NF > 1 && /route=history/ {split($2, a, " "); n += a[1]; k++} END {printf "%.4f", k ? n / k : 0}' "$W/night2.log")"
fi
printf '  wall time vs a full pull: %.2f s vs %.2f s (%.2fx)\n' "$s2" "$sf" "$(calc "$s2 / $sf")"
printf '  records: incremental store %d, full pull %d\n' "$r2" "$rf"
