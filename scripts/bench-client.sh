#!/usr/bin/env bash
# The fetch client at book scale: svcscore fetch against bin/smartcar-sim
# at 50 ms latency (uniform +-50%), for concurrency 64, 256 and 1024.
#
#   scripts/bench-client.sh [SECONDS]      (default 10; a fraction is fine:
#                                           0.977 is 20,000 vehicles at 1024)
#
# Each concurrency fetches as many vehicles as it would in SECONDS at the
# ideal rate (concurrency / latency: 12,800 at 64, 204,800 at 1024 for 10
# s), the first rows of one fleet, so that the start (reading the list,
# opening connections) and the end (the bundle written and synced) weigh
# the same in every ratio, as they do little in a night over a book.
#
# The simulator runs on core 1 and the client on core 0 (taskset), so that
# neither steals the other's CPU.  Access tokens are valid (no refreshes),
# so each vehicle costs one history request, and the ideal wall time is
# vehicles x requests per vehicle x latency / concurrency.  Each figure is
# the median of BENCH_RUNS runs (default 3).  Prints, per concurrency: the
# wall time, the ideal, their ratio, requests per second, the client's CPU
# (user + system over wall) and the simulator's, the CPU microseconds
# each side spent per request (client + simulator), and the client's peak
# resident memory.
#   BENCH_DIR   where the fleet is generated (default bench-data/)
#   BENCH_CONC  concurrencies to run (default "64 256 1024")
#   BENCH_SVCSCORE, BENCH_SIM  the binaries (default bin/svcscore and
#               bin/smartcar-sim), to compare builds
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BENCH_SVCSCORE:-bin/svcscore}
SIM=${BENCH_SIM:-bin/smartcar-sim}
DIR=${BENCH_DIR:-bench-data}
RUNS=${BENCH_RUNS:-3}
SECS=${1:-10}
CONC=${BENCH_CONC:-64 256 1024}
LAT=50
MAXC=$(echo "$CONC" | tr ' ' '\n' | sort -g | tail -1)
# vehicles a concurrency fetches in SECS (which may be a fraction) at ideal
vehicles_for() { awk -v s="$SECS" -v c="$1" -v l="$LAT" 'BEGIN { printf "%d", s * 1000 * c / l + 0.5 }'; }
N=$(vehicles_for "$MAXC")
mkdir -p "$DIR"
calc() { echo "scale=6; $1" | bc -l; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
PIN0="" PIN1=""
if command -v taskset > /dev/null; then PIN0="taskset -c 0" PIN1="taskset -c 1"; fi
# jiffies of user + system time a process has used so far
jiffies() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

# 1024 connections need as many descriptors, in the client and the server
need=$(( $(echo "$CONC" | tr ' ' '\n' | sort -g | tail -1) + 256 ))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
    ulimit -n "$need" 2>/dev/null || {
        echo "bench-client: ulimit -n is $(ulimit -n), below $need" >&2
        exit 1
    }
fi

F="$DIR/client-fleet-$N"
if [ ! -f "$F/histories.jsonl" ]; then
    echo "  generating $N vehicles into $F ..." >&2
    $BIN synth --vehicles "$N" --seed 7 --out "$F" 2>/dev/null
    # tokens still valid: the figures are about the histories
    awk -F, -v OFS=, 'NR == 1 {for (i = 1; i <= NF; i++) c[$i] = i; print; next}
                      {$c["expires_at"] = "2099-01-01T00:00:00Z"; print}' \
        "$F/vehicles.csv" > "$F/v.tmp" && mv "$F/v.tmp" "$F/vehicles.csv"
fi
export SMARTCAR_CLIENT_ID=bench SMARTCAR_CLIENT_SECRET=bench-secret

rm -f "$DIR/csim.port"
$PIN1 $SIM --fleet "$F" --port 0 --port-file "$DIR/csim.port" \
    --latency-ms $LAT --rate-bucket 0 2> "$DIR/csim.err" &
SPID=$!
trap 'kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null || true' EXIT
for _ in $(seq 600); do [ -s "$DIR/csim.port" ] && break; sleep 0.05; done
ORIGIN="http://127.0.0.1:$(cat "$DIR/csim.port")"
export SMARTCAR_AUTH_ORIGIN=$ORIGIN

# one run: prints "wall client_cpu% requests sim_cpu% client_us sim_us
# client_rss_mb", client_us and sim_us being CPU microseconds per request
run() {
    local c=$1 out="$DIR/client.jsonl"
    head -n $(( 1 + $(vehicles_for "$c") )) "$F/vehicles.csv" > "$DIR/client-list.csv"
    rm -f "$out" "$out.partial" "$DIR/client-tok.jsonl"
    local s0 s1
    s0=$(jiffies "$SPID")
    $PIN0 /usr/bin/time -o "$DIR/client.time" -f '%e %U %S %M' \
        $BIN fetch --vehicles "$DIR/client-list.csv" --api "$ORIGIN" \
        --token-store "$DIR/client-tok.jsonl" --out "$out" \
        --concurrency "$c" 2> "$DIR/client.err" > /dev/null
    s1=$(jiffies "$SPID")
    local reqs
    reqs=$(sed -n 's/.*fetch: \([0-9]*\) requests.*/\1/p' "$DIR/client.err")
    read -r e u s m < <(tail -1 "$DIR/client.time")
    echo "$e $(calc "100 * ($u + $s) / $e") $reqs" \
         "$(calc "100 * ($s1 - $s0) / $HZ / $e")" \
         "$(calc "1000000 * ($u + $s) / $reqs")" \
         "$(calc "1000000 * ($s1 - $s0) / $HZ / $reqs")" "$(calc "$m / 1024")"
}

printf 'bench-client: %d ms latency, %s s of ideal time per run (vehicles = %s x concurrency), median of %d runs\n' \
    "$LAT" "$SECS" "$(awk -v s="$SECS" -v l="$LAT" 'BEGIN { print s * 1000 / l }')" "$RUNS"
printf '  load average before: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %11s %8s %8s %8s %7s %10s %11s %8s %14s %11s\n' concurrency vehicles wall ideal ratio \
    requests/s "client CPU" "sim CPU" "CPU us/req c+s" "client RSS"
for c in $CONC; do
    walls=() cpus=() simc=() cus=() sus=() rss=() reqs=0
    for _ in $(seq "$RUNS"); do
        read -r w p q sp cu su mb < <(run "$c")
        walls+=("$w") cpus+=("$p") simc+=("$sp") cus+=("$cu") sus+=("$su")
        rss+=("$mb")
        reqs=$q
    done
    mb=$(printf '%s\n' "${rss[@]}" | median)
    w=$(printf '%s\n' "${walls[@]}" | median)
    p=$(printf '%s\n' "${cpus[@]}" | median)
    sp=$(printf '%s\n' "${simc[@]}" | median)
    cu=$(printf '%s\n' "${cus[@]}" | median)
    su=$(printf '%s\n' "${sus[@]}" | median)
    ideal=$(calc "$reqs * $LAT / 1000 / $c")
    printf '  %11d %8d %7.2fs %7.2fs %6.2fx %10.0f %10.0f%% %7.0f%% %7.0f+%-6.0f %8.0f MB\n' \
        "$c" "$reqs" "$w" "$ideal" "$(calc "$w / $ideal")" "$(calc "$reqs / $w")" \
        "$p" "$sp" "$cu" "$su" "$mb"
done
printf '  load average after:  %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
