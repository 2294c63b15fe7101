#!/usr/bin/env bash
# End-to-end tests of 'svcscore fetch' and 'score --api' against
# bin/smartcar-sim on 127.0.0.1: every row accounted for under faults, no
# secret anywhere, a killed fetch resumes without losing rows or tokens.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
BIN=bin/svcscore
lib_init svcscore-api

export SMARTCAR_CLIENT_ID=e2e-client SMARTCAR_CLIENT_SECRET=e2e-secret-5f3a9c
$BIN synth --vehicles 300 --seed 21 --out "$T/fleet" 2>/dev/null

# sim ARGS...: (re)starts the simulator on the fleet; sets ORIGIN
sim() {
    sim_stop
    sim_start "$T/fleet" --now 2026-07-01T00:00:00Z --rate-bucket 0 "$@"
    ORIGIN=$SIM_ORIGIN
    export SMARTCAR_AUTH_ORIGIN=$ORIGIN
}
rows_in() { echo $(( $(wc -l < "$1") - 1 )); }

echo "api: every row accounted for under 10% faults"
sim --fault-rate 0.10 --latency-ms 2 --seed 3 --log "$T/sim1.log"
$BIN score --vehicles "$T/fleet/vehicles.csv" --api "$ORIGIN" \
    --token-store "$T/tok1.jsonl" --as-of 2026-06-30 --retry-seed 1 \
    --out "$T/s1.csv" --log "$T/run1.log" 2>"$T/err1"; rc=$?
check "score --api finishes (exit 0 or 3)" bash -c "[ $rc -eq 0 ] || [ $rc -eq 3 ]"
check "one score row per vehicle-list row" \
    bash -c "[ $(rows_in "$T/s1.csv") -eq $(rows_in "$T/fleet/vehicles.csv") ]"
check "rows keep input order" \
    bash -c "cmp -s <(tail -n +2 '$T/s1.csv' | cut -d, -f1) <(tail -n +2 '$T/fleet/vehicles.csv' | cut -d, -f1)"
check "faults were injected and retried" grep -q "retries (rate" "$T/err1"
check "the pulled bundle is kept beside the scores" \
    bash -c "[ $(wc -l < "$T/s1.csv.histories.jsonl") -eq $(rows_in "$T/fleet/vehicles.csv") ]"

echo "api: no secret in any output"
secrets="$T/secrets"
{ tail -n +2 "$T/fleet/vehicles.csv" | cut -d, -f8,9 | tr ',' '\n'
  grep -o '"\(access\|refresh\)_token":"[^"]*"' "$T/tok1.jsonl" | cut -d'"' -f4
  echo "$SMARTCAR_CLIENT_SECRET"; } | sort -u | grep -v '^$' > "$secrets"
check "the token store holds rotated tokens" \
    bash -c "[ \$(grep -c refresh_token '$T/tok1.jsonl') -gt 0 ]"
leaks=$(cat "$T/err1" "$T/run1.log" "$T/s1.csv" "$T/s1.csv.histories.jsonl" \
        "$T/sim1.log" "$T/sim.err" | grep -c -F -f "$secrets")
check "no token or client secret in stderr, logs, scores, bundle or server log" [ "$leaks" -eq 0 ]
check "the token store is private (mode 600)" \
    bash -c "[ \$(stat -c %a '$T/tok1.jsonl') = 600 ]"

echo "api: a killed fetch resumes, loses no row and no token"
# A refresh in flight when the process dies is answered by the server but
# never stored: the server's grace period (60 s here, as the API's) lets
# the next run replay it.  Every rotation that was stored must be used, not
# refreshed again: run 1's stored rotations + run 2's refreshes stay within
# the number of token pairs plus the refreshes that can be in flight.
sim --latency-ms 60 --refresh-grace-s 60 --seed 4 --log "$T/sim2.log"
$BIN fetch --vehicles "$T/fleet/vehicles.csv" --api "$ORIGIN" \
    --token-store "$T/tok2.jsonl" --concurrency 4 --out "$T/b2.jsonl" \
    --log "$T/run2.log" 2>"$T/err2" &
f=$!
sleep 1.2
kill -9 $f 2>/dev/null; wait $f 2>/dev/null
done1=$(wc -l < "$T/b2.jsonl.partial" 2>/dev/null || echo 0)
check "killed mid-fetch: no output file, a journal with some rows" \
    bash -c "[ ! -e '$T/b2.jsonl' ] && [ $done1 -gt 0 ] && [ $done1 -lt 300 ]"
check "no temporary output left behind" bash -c "! ls '$T' | grep -q 'b2.jsonl.tmp'"
h1=$(grep -c 'path=/v2.0/vehicles/[^ ]*/service/history' "$T/sim2.log")
r1=$(grep -c refresh_token "$T/tok2.jsonl" 2>/dev/null || echo 0)
pairs=$(tail -n +2 "$T/fleet/vehicles.csv" | cut -d, -f9 | sort -u | wc -l)
$BIN fetch --vehicles "$T/fleet/vehicles.csv" --api "$ORIGIN" \
    --token-store "$T/tok2.jsonl" --concurrency 4 --out "$T/b2.jsonl" \
    --log "$T/run2.log" 2>"$T/err3"; rc=$?
h2=$(( $(grep -c 'path=/v2.0/vehicles/[^ ]*/service/history' "$T/sim2.log") - h1 ))
check "the second run finishes the bundle" \
    bash -c "[ $rc -eq 0 ] && [ $(wc -l < "$T/b2.jsonl") -eq 300 ] && [ ! -e '$T/b2.jsonl.partial' ]"
check "it says what it found from the earlier run" grep -q "from an earlier run" "$T/err3"
check "it does not fetch again what the journal holds ($h2 history requests for $((300 - done1)) rows)" \
    [ "$h2" -le $((300 - done1)) ]
r2=$(grep -o '[0-9]* token refreshes' "$T/err3" | cut -d' ' -f1)
check "no refresh failed after the kill" \
    bash -c "grep -q ' 0 refresh failures' '$T/err3' && ! grep -q 'error:AUTHENTICATION' '$T/b2.jsonl'"
check "stored rotations were used, not refreshed again ($r1 stored + $r2 new, $pairs pairs)" \
    bash -c "[ $r1 -gt 0 ] && [ $((r1 + r2)) -le $((pairs + 4)) ]"
check "every row ok or no_history" \
    bash -c "[ \$(grep -c '\"status\":\"\(ok\|no_history\)\"' '$T/b2.jsonl') -eq 300 ]"
check "the resumed bundle holds each row once, in input order" \
    bash -c "sed 's/^{\"index\":\([0-9]*\),.*/\1/' '$T/b2.jsonl' | cmp -s - <(seq 0 299)"

echo "api: fetch writes gzip when the name ends in .gz"
sim --seed 7
$BIN fetch --vehicles "$T/fleet/vehicles.csv" --api "$ORIGIN" \
    --token-store "$T/tok6.jsonl" --out "$T/bgz.jsonl.gz" 2>"$T/err7"; rc=$?
check "fetch --out B.jsonl.gz: a gzip file of one line per row" \
    bash -c "[ $rc -eq 0 ] && [ \"\$(head -c 2 '$T/bgz.jsonl.gz' | od -An -tx1 | tr -d ' ')\" = 1f8b ] &&
             [ \$(gzip -dc '$T/bgz.jsonl.gz' | wc -l) -eq 300 ] && [ ! -e '$T/bgz.jsonl.gz.partial' ]"
gzip -dc "$T/bgz.jsonl.gz" > "$T/bgz.jsonl"
for b in bgz.jsonl bgz.jsonl.gz; do
    $BIN score --vehicles "$T/fleet/vehicles.csv" --histories "$T/$b" \
        --as-of 2026-06-30 --out "$T/$b.csv" 2>/dev/null
done
check "scores from the fetched .gz bundle are byte-identical to the plain one's" \
    bash -c "[ -s '$T/bgz.jsonl.csv' ] && cmp -s '$T/bgz.jsonl.csv' '$T/bgz.jsonl.gz.csv'"

echo "api: stopping and error rates"
sim --latency-ms 200 --seed 5
$BIN fetch --vehicles "$T/fleet/vehicles.csv" --api "$ORIGIN" \
    --token-store "$T/tok3.jsonl" --concurrency 2 --out "$T/b3.jsonl" \
    2>"$T/err4" &
f=$!
sleep 1
kill -TERM $f; wait $f; rc=$?
check "SIGTERM stops the fetch (exit 1), keeps the journal, says how to resume" \
    bash -c "[ $rc -eq 1 ] && [ -s '$T/b3.jsonl.partial' ] && [ ! -e '$T/b3.jsonl' ] && grep -q 'run again' '$T/err4'"
sim --permanent-fault-rate 0.3 --seed 6
$BIN score --vehicles "$T/fleet/vehicles.csv" --api "$ORIGIN" \
    --token-store "$T/tok4.jsonl" --as-of 2026-06-30 --out "$T/s4.csv" \
    2>"$T/err5"; rc=$?
check "permanent 430/501 faults are rows, not retries: exit 3 over --max-error-rate" \
    bash -c "[ $rc -eq 3 ] && grep -q 'error:BILLING:VEHICLE_REQUEST_LIMIT\|error:COMPATIBILITY' '$T/s4.csv'"
$BIN score --vehicles "$T/fleet/vehicles.csv" --api "$ORIGIN" \
    --token-store "$T/tok4.jsonl" --as-of 2026-06-30 --out "$T/s5.csv" \
    --max-error-rate 0.9 2>/dev/null; rc=$?
check "the same run under --max-error-rate 0.9 exits 0" [ "$rc" -eq 0 ]
$BIN fetch --vehicles "$T/fleet/vehicles.csv" --api "$ORIGIN" \
    --token-store "$T/tok4.jsonl" --out "$T/b4.jsonl" 2>"$T/err7"; rc=$?
check "fetch honours --max-error-rate too: exit 3, the bundle written" \
    bash -c "[ $rc -eq 3 ] && [ \$(wc -l < '$T/b4.jsonl') -eq 300 ] && grep -q 'above --max-error-rate' '$T/err7'"
$BIN fetch --vehicles "$T/fleet/vehicles.csv" --api "$ORIGIN" \
    --token-store "$T/tok4.jsonl" --out "$T/b5.jsonl" --max-error-rate 0.9 \
    2>/dev/null; rc=$?
check "fetch under --max-error-rate 0.9 exits 0" [ "$rc" -eq 0 ]

echo "api: configuration errors stop before the first request"
# one_line FILE: stderr is exactly one '<timestamp> svcscore: error: ' line
one_line() { [ "$(wc -l < "$1")" -eq 1 ] && grep -Eq '^[0-9T:.Z-]+ svcscore: error: ' "$1"; }
sim --seed 7 --log "$T/sim_cfg.log"
: > "$T/sim_cfg.log"
unset SMARTCAR_CLIENT_SECRET
$BIN fetch --vehicles "$T/fleet/vehicles.csv" --api "$ORIGIN" \
    --token-store "$T/tok5.jsonl" --out "$T/b6.jsonl" 2>"$T/err6"; rc=$?
check "expired tokens and no client secret: exit 1, one line naming a row" \
    bash -c "[ $rc -eq 1 ] && grep -q 'needs a token refresh' '$T/err6'" && one_line "$T/err6"
check "... and no journal, no bundle" \
    bash -c "[ ! -e '$T/b6.jsonl' ] && [ ! -e '$T/b6.jsonl.partial' ]"
$BIN score --vehicles "$T/fleet/vehicles.csv" --api "$ORIGIN" \
    --token-store "$T/tok5.jsonl" --as-of 2026-06-30 --out "$T/s6.csv" \
    --max-error-rate 1 2>"$T/err8"; rc=$?
check "score --api the same: exit 1, one line, no scores" \
    bash -c "[ $rc -eq 1 ] && [ ! -e '$T/s6.csv' ]" && one_line "$T/err8"
export SMARTCAR_CLIENT_SECRET=e2e-secret-5f3a9c
$BIN fetch --vehicles "$T/fleet/vehicles.csv" --api "ftp://$ORIGIN" \
    --token-store "$T/tok5.jsonl" --out "$T/b7.jsonl" 2>"$T/err9"; rc=$?
check "an origin that is not http(s): exit 1, one line" \
    bash -c "[ $rc -eq 1 ]" && one_line "$T/err9"
SMARTCAR_AUTH_ORIGIN="$ORIGIN/a b" $BIN fetch --vehicles "$T/fleet/vehicles.csv" \
    --api "$ORIGIN" --token-store "$T/tok5.jsonl" --out "$T/b7.jsonl" \
    2>"$T/err10"; rc=$?
check "an auth origin with a blank: exit 1, one line" \
    bash -c "[ $rc -eq 1 ]" && one_line "$T/err10"
$BIN fetch --vehicles "$T/fleet/vehicles.csv" --api "$ORIGIN" \
    --token-store "$T/tok5.jsonl" --out "$T/no/such/dir/b.jsonl" \
    2>"$T/err11"; rc=$?
check "an output folder that does not exist: exit 1, one line" \
    bash -c "[ $rc -eq 1 ]" && one_line "$T/err11"
$BIN fetch --vehicles "$T/fleet/vehicles.csv" --api "$ORIGIN" \
    --token-store "$T/no/such/dir/tok.jsonl" --out "$T/b8.jsonl" \
    2>"$T/err12"; rc=$?
check "a token store that cannot be made: exit 1, one line" \
    bash -c "[ $rc -eq 1 ]" && one_line "$T/err12"
check "none of them sent a request" bash -c "[ ! -s '$T/sim_cfg.log' ]"
$BIN fetch --vehicles "$T/fleet/vehicles.csv" --api "$ORIGIN" \
    --token-store "$T/tok5.jsonl" --out "$T/b8.jsonl" --max-retry-wait -1 \
    2>/dev/null; rc=$?
check "--max-retry-wait takes no negative wait (exit 2)" [ "$rc" -eq 2 ]

echo "api: no core dumps unless asked"
sim --latency-ms 300 --seed 8
# core_limit ARGS...: the core-size limit of a running fetch
core_limit() {
    (ulimit -c unlimited
     exec $BIN "$@" fetch --vehicles "$T/fleet/vehicles.csv" --api "$ORIGIN" \
         --token-store "$T/tok6.jsonl" --concurrency 1 \
         --out "$T/b9.jsonl" 2>/dev/null) &
    local f=$!
    sleep 0.5
    grep '^Max core file size' "/proc/$f/limits" | awk '{print $5}'
    kill -TERM $f 2>/dev/null; wait $f 2>/dev/null
    rm -f "$T/b9.jsonl.partial"
}
check "a fetch runs with a core-size limit of 0" \
    [ "$(core_limit)" = 0 ]
check "--allow-core-dumps keeps the shell's limit" \
    [ "$(core_limit --allow-core-dumps)" = unlimited ]

lib_summary api
