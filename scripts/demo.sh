#!/usr/bin/env bash
# The main job on the bundled sample fleet (data/sample, 1,000 synthetic
# vehicles), end to end: a local Smartcar API simulator serves the fleet
# with a little latency and a few faults, 'svcscore score --api' pulls every
# history and scores it, and a summary is printed.  Everything stays on
# 127.0.0.1; the simulator is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=bin/svcscore
OUT=${DEMO_OUT:-out}
AS_OF=2026-06-30
mkdir -p "$OUT"
rm -f "$OUT/scores.csv" "$OUT/scores.csv.histories.jsonl" "$OUT/tokens.jsonl" \
    "$OUT/report.html" "$OUT/scores.csv.manifest.json"

# The simulator's clock starts the day after the sample's tokens expired,
# so the run shows the token refresh (one per user, not per vehicle).
port_file="$OUT/sim.port"
rm -f "$port_file"
SMARTCAR_CLIENT_ID=demo-client SMARTCAR_CLIENT_SECRET=demo-secret \
bin/smartcar-sim --fleet data/sample --port 0 --port-file "$port_file" \
    --now 2026-07-01T00:00:00Z --latency-ms 20 --fault-rate 0.05 \
    --rate-bucket 0 --seed 7 --log "$OUT/sim.log" 2>"$OUT/sim.err" &
sim=$!
trap 'kill $sim 2>/dev/null || true; wait $sim 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    [ -s "$port_file" ] && break
    sleep 0.05
done
[ -s "$port_file" ] || { echo "demo: the simulator did not start" >&2; cat "$OUT/sim.err" >&2; exit 1; }
origin="http://127.0.0.1:$(cat "$port_file")"
echo "== smartcar-sim serving data/sample at $origin (20 ms latency, 5% faults)"

echo "== svcscore score --api -> $OUT/scores.csv"
SMARTCAR_CLIENT_ID=demo-client SMARTCAR_CLIENT_SECRET=demo-secret \
SMARTCAR_AUTH_ORIGIN="$origin" \
$BIN score --vehicles data/sample/vehicles.csv --api "$origin" \
    --token-store "$OUT/tokens.jsonl" --concurrency 32 --as-of $AS_OF \
    --out "$OUT/scores.csv" --log "$OUT/run.log" --report "$OUT/report.html"

echo
echo "== summary"
echo "  rows by status:"
tail -n +2 "$OUT/scores.csv" | cut -d, -f4 | sort | uniq -c |
    awk '{printf "    %-34s %6d\n", $2, $1}'
echo "  score by band (A best .. E):"
tail -n +2 "$OUT/scores.csv" | awk -F, '$6 != "" {n[$6]++; s[$6] += $5}
    END {for (b in n) printf "    %s %5d vehicles, mean score %.0f\n", b, n[b], s[b] / n[b]}' | sort
echo "  most frequent reasons:"
tail -n +2 "$OUT/scores.csv" | cut -d, -f8-11 | tr ',' '\n' | grep -v '^$' |
    cut -d' ' -f1 | sort | uniq -c | sort -rn | head -5 |
    while read -r n code; do
        text=$(grep -m1 -o "$code [^,]*" "$OUT/scores.csv" | head -1)
        printf '    %-4s %5d vehicles  e.g. "%s"\n' "$code" "$n" "$text"
    done
echo "  API traffic (from the simulator's log):"
awk '{for (i = 1; i <= NF; i++) if ($i ~ /^status=/) s[substr($i, 8)]++}
     END {for (k in s) printf "    HTTP %s: %d\n", k, s[k]}' "$OUT/sim.log" | sort
echo
echo "Files: $OUT/scores.csv (scores), $OUT/scores.csv.histories.jsonl (the pulled"
echo "histories), $OUT/run.log (per-vehicle log), $OUT/tokens.jsonl (rotated tokens)."
echo "One vehicle in detail: bin/svcscore explain --vin $(sed -n 2p "$OUT/scores.csv" | cut -d, -f1) --histories $OUT/scores.csv.histories.jsonl --as-of $AS_OF"
echo
echo "Run report (one page, opens offline in any browser): $(cd "$OUT" && pwd)/report.html"
echo "The run in machine form: $OUT/scores.csv.manifest.json"
