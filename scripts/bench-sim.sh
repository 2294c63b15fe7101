#!/usr/bin/env bash
# Throughput of bin/smartcar-sim on loopback, measured with wrk (keep-alive,
# one client thread).  wrk is not a project dependency: without it this
# script says so and exits 0.
#
#   scripts/bench-sim.sh [FLEET_DIR] [SECONDS]
#
# Three runs: no latency and no faults (raw requests/s), the same asking
# for gzip (the simulator then compresses every answer), then --latency-ms 50
# with 64 connections (expected near 64 / 0.05 s = 1280 requests/s, which
# shows that waiting answers hold no server thread).  Requests go to random
# vehicles of the fleet, each with its user's token, read by wrk's Lua
# script from a file (never from the command line).
set -eu
cd "$(dirname "$0")/.."
FLEET=${1:-tests/data/sim}
SECS=${2:-10}
if ! command -v wrk > /dev/null; then
    echo "bench-sim: wrk is not installed (apt-get install wrk); skipped"
    exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/bench_sim.XXXXXX")
PID=""
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID"
    rm -rf "$T"
}
trap cleanup EXIT

# "vehicle_id access_token" pairs, at most 100,000, columns found by name
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
         NR <= 100001 && $col["access_token"] != "" {
             print $col["vehicle_id"], $col["access_token"] }' \
    "$FLEET/vehicles.csv" > "$T/pairs"
# start the clock a day before the earliest token expiry, so no token has
# expired whatever today's date is
first_expiry=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
                       $col["expires_at"] != "" { print $col["expires_at"] }' \
    "$FLEET/vehicles.csv" | sort | head -1)
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
if [ -n "$first_expiry" ]; then
    NOW=$(date -u -d "@$(( $(date -u -d "$first_expiry" +%s) - 86400 ))" \
          +%Y-%m-%dT%H:%M:%SZ)
fi
cat > "$T/bench.lua" <<'EOF'
local ids, toks = {}, {}
for line in io.lines(os.getenv("BENCH_PAIRS")) do
  local id, tok = line:match("^(%S+) (%S+)$")
  ids[#ids + 1] = id
  toks[#toks + 1] = tok
end
local n, seed = #ids, 12345
local gzip = os.getenv("BENCH_GZIP") == "1"
request = function()
  seed = (seed * 1103515245 + 12345) % 2147483648
  local k = seed % n + 1
  local h = { ["Authorization"] = "Bearer " .. toks[k] }
  if gzip then h["Accept-Encoding"] = "gzip" end
  return wrk.format("GET", "/v2.0/vehicles/" .. ids[k] ..
    "/service/history?start_date=2000-01-01", h)
end
EOF

run() {     # run LABEL GZIP SIM_ARGS...
    local label=$1 gz=$2
    shift 2
    rm -f "$T/port"
    bin/smartcar-sim --fleet "$FLEET" --port-file "$T/port" --rate-bucket 0 \
        --now "$NOW" "$@" 2> "$T/sim.err" &
    PID=$!
    for _ in $(seq 600); do
        [ -s "$T/port" ] && break
        kill -0 "$PID" 2>/dev/null || { cat "$T/sim.err"; exit 1; }
        sleep 0.05
    done
    BENCH_PAIRS=$T/pairs BENCH_GZIP=$gz wrk -t1 -c64 -d"${SECS}s" -s "$T/bench.lua" \
        "http://127.0.0.1:$(cat "$T/port")/" > "$T/wrk.out"
    kill -TERM "$PID"
    wait "$PID"
    PID=""
    printf '%-34s %s requests/s' "$label" \
        "$(awk '/Requests\/sec/ { print $2 }' "$T/wrk.out")"
    awk '/Non-2xx/ { printf "  (%s non-2xx)", $NF }' "$T/wrk.out"
    echo
}

echo "bench-sim: fleet $FLEET ($(wc -l < "$T/pairs") vehicles)," \
     "64 connections, clock at $NOW"
run "no latency, no faults" 0 --threads 2
run "same, Accept-Encoding: gzip" 1 --threads 2
run "latency 50 ms (+-50%)" 0 --threads 2 --latency-ms 50
