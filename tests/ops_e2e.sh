#!/usr/bin/env bash
# End-to-end tests of a nightly run against bin/smartcar-sim on 127.0.0.1:
# progress lines, timestamped and JSON logs, the metrics file, three
# shards run in parallel that score exactly like one run and never rotate
# each other's tokens, and a second process waiting for a token store's lock.
set -u
cd "$(dirname "$0")/.."
BIN=bin/svcscore
T=$(mktemp -d "${TMPDIR:-/tmp}/svcscore-ops.XXXXXX")
SIM_PID=
cleanup() { [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
pass=0; fail=0
ok()   { pass=$((pass + 1)); echo "  ok    $1"; }
bad()  { fail=$((fail + 1)); echo "  FAIL  $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

export SMARTCAR_CLIENT_ID=ops-client SMARTCAR_CLIENT_SECRET=ops-secret-8d41e7
$BIN synth --vehicles 300 --seed 33 --out "$T/fleet" 2>/dev/null
V=$T/fleet/vehicles.csv
N=$(( $(wc -l < "$V") - 1 ))

# sim ARGS...: (re)starts the simulator on a free port with fresh tokens
sim() {
    [ -n "$SIM_PID" ] && { kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; }
    rm -f "$T/port"
    bin/smartcar-sim --fleet "$T/fleet" --port 0 --port-file "$T/port" \
        --now 2026-07-01T00:00:00Z --rate-bucket 0 "$@" 2>>"$T/sim.err" &
    SIM_PID=$!
    for _ in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.02; done
    ORIGIN="http://127.0.0.1:$(cat "$T/port")"
    export SMARTCAR_AUTH_ORIGIN=$ORIGIN
}
TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
# stamped FILE: every line starts with an RFC 3339 UTC timestamp
stamped() { [ -s "$1" ] && ! grep -Evq "^$TS svcscore: " "$1"; }
# json_lines FILE: every line is one JSON object with ts, level and event
json_lines() {
    [ -s "$1" ] || return 1
    if command -v jq >/dev/null; then
        jq -e -s 'all(type == "object" and (.ts | test("^[0-9-]{10}T[0-9:.]{12}Z$"))
                      and has("level") and has("event"))' "$1" >/dev/null &&
        [ "$(jq -c . "$1" | wc -l)" -eq "$(wc -l < "$1")" ]
    else
        ! grep -vq '^{"ts":"[^"]*","level":"[a-z]*","event":".*}$' "$1"
    fi
}
# promtool: on the PATH, or taken from Debian's package by install-deps
PROMTOOL=$(command -v promtool || true)
if [ -z "$PROMTOOL" ] && [ -x tools/promtool ]; then
    PROMTOOL=$PWD/tools/promtool
fi
# prom_ok FILE: the text format, strictly (and promtool's check if present)
prom_ok() {
    awk '
        /^# HELP svcscore_[a-zA-Z0-9_]+ / { next }
        /^# TYPE / {
            if ($3 !~ /^svcscore_[a-zA-Z0-9_]+$/ || $4 !~ /^(counter|gauge)$/) exit 1
            if ($4 == "counter" && $3 !~ /_total$/) exit 1
            if ($3 in typed) exit 1
            typed[$3] = 1; fam = $3; next
        }
        /^#/ { exit 1 }
        {
            if ($0 !~ /^svcscore_[a-zA-Z0-9_]+(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? (-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|[+-]Inf)$/) exit 1
            name = $0; sub(/[{ ].*/, "", name)
            if (name != fam) exit 1
            n++
        }
        END { if (n == 0) exit 1 }' "$1" || return 1
    if [ -n "$PROMTOOL" ]; then
        "$PROMTOOL" check metrics < "$1" >/dev/null 2>&1 || return 1
    fi
}
value() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

echo "ops: progress, logs and metrics of one unsharded run"
sim --fault-rate 0.05 --fault-mix 500=2,502=2,409=1,429=2,reset=1 \
    --latency-ms 5 --refresh-grace-s 0 --seed 5 --log "$T/sim1.log"
$BIN score --vehicles "$V" --api "$ORIGIN" --token-store "$T/tok_all.jsonl" \
    --as-of 2026-06-30 --retry-seed 1 --concurrency 4 --out "$T/all.csv" \
    --log "$T/all.log" --metrics "$T/all.prom" --progress-every 0.2 \
    2>"$T/all.err"; rc=$?
check "the unsharded run finishes (exit 0)" [ "$rc" -eq 0 ]
check "progress lines: timestamp, done/total, rate, ETA" \
    grep -Eq "^$TS svcscore: fetch: [0-9]+/$N rows \([0-9]+%\), [0-9]+ ok, [0-9]+ errors, [0-9.]+ rows/s, [0-9.]+ requests/s, [0-9]+ token rotations, ETA " "$T/all.err"
check "one final progress line for the fetch and one for the scoring" \
    bash -c "[ \$(grep -Ec 'svcscore: fetch: $N/$N rows .*done in' '$T/all.err') -eq 1 ] && [ \$(grep -Ec 'svcscore: score: $N/$N rows .*done in' '$T/all.err') -eq 1 ]"
check "every stderr line and every --log line carries a timestamp" \
    bash -c "$(declare -f stamped); TS='$TS'; stamped '$T/all.err' && stamped '$T/all.log'"
rot=$(grep -o '[0-9]* token rotations, [0-9]* refresh failures' "$T/all.err" | cut -d' ' -f1)
check "the summary counts token rotations ($rot) and no refresh failed" \
    bash -c "[ '${rot:-0}' -gt 0 ] && grep -q ' 0 refresh failures' '$T/all.err'"
check "rotations are not logged one per pair without --verbose" \
    bash -c "! grep -q 'rotated' '$T/all.err' '$T/all.log'"
check "the metrics file passes the format check${PROMTOOL:+ and promtool check metrics}" \
    prom_ok "$T/all.prom"
check "metrics: rows by status, requests by HTTP status, retries, rotations" \
    bash -c "[ '$(value "$T/all.prom" 'svcscore_rows_total{status="error"}')' = 0 ] &&
             [ \$(( $(value "$T/all.prom" 'svcscore_rows_total{status="ok"}') + $(value "$T/all.prom" 'svcscore_rows_total{status="no_history"}') )) -eq $N ] &&
             [ '$(value "$T/all.prom" 'svcscore_http_requests_total{code="200"}')' -gt 0 ] &&
             grep -q '^svcscore_retries_total{cause=\"server\"} ' '$T/all.prom' &&
             [ '$(value "$T/all.prom" svcscore_token_rotations_total)' = '$rot' ] &&
             [ '$(value "$T/all.prom" svcscore_token_refresh_failures_total)' = 0 ] &&
             grep -q '^svcscore_last_success_timestamp_seconds [0-9]' '$T/all.prom'"
last=$(value "$T/all.prom" svcscore_last_success_timestamp_seconds)
reqs=$(grep -o 'fetch: [0-9]* requests' "$T/all.err" | cut -d' ' -f2)
sum=$(awk '/^svcscore_http_requests_total/ { s += $2 } END { print s }' "$T/all.prom")
check "requests by HTTP status add up to the requests sent ($sum, $reqs)" \
    [ "$sum" -eq "$reqs" ]

echo "ops: a failed run keeps the last success time"
sleep 1
$BIN score --vehicles "$V" --api "$ORIGIN" --token-store "$T/tok_all.jsonl" \
    --as-of 2026-06-30 --out "$T/no/such/dir/x.csv" --metrics "$T/all.prom" \
    2>"$T/fail.err"; rc=$?
check "the run fails (exit 1) and says so in one timestamped line" \
    bash -c "[ $rc -eq 1 ] && [ \$(wc -l < '$T/fail.err') -eq 1 ] && grep -Eq '^$TS svcscore: error: ' '$T/fail.err'"
check "... its metrics: exit status 1, the earlier success time kept" \
    bash -c "[ '$(value "$T/all.prom" svcscore_run_exit_status)' = 1 ] && [ '$(value "$T/all.prom" svcscore_last_success_timestamp_seconds)' = '$last' ]" 
check "... and the file still passes the format check" prom_ok "$T/all.prom"

echo "ops: three shards in parallel score exactly like one run"
sim --fault-rate 0.05 --fault-mix 500=2,502=2,409=1,429=2,reset=1 \
    --latency-ms 5 --refresh-grace-s 0 --seed 6 --log "$T/sim2.log"
pids=
for k in 0 1 2; do
    fmt=text; [ $k -eq 1 ] && fmt=json
    $BIN score --vehicles "$V" --api "$ORIGIN" --shard $k/3 \
        --token-store "$T/tok_$k.jsonl" --as-of 2026-06-30 --retry-seed 1 \
        --concurrency 4 --out "$T/s_$k.csv" --log "$T/s_$k.log" \
        --log-format $fmt --metrics "$T/s_$k.prom" 2>"$T/s_$k.err" &
    pids="$pids $!"
done
rcs=""
for p in $pids; do wait "$p"; rcs="$rcs$?"; done
check "each shard finishes (exit 0)" [ "$rcs" = 000 ]
rows() { tail -n +2 "$1"; }
check "every shard has rows, and the shards are disjoint" \
    bash -c "[ \$(tail -n +2 '$T/s_0.csv' | wc -l) -gt 0 ] && [ \$(tail -n +2 '$T/s_1.csv' | wc -l) -gt 0 ] && [ \$(tail -n +2 '$T/s_2.csv' | wc -l) -gt 0 ] && [ -z \"\$(tail -q -n +2 '$T'/s_?.csv | cut -d, -f1 | sort | uniq -d)\" ]"
check "the merged shard rows equal the unsharded run's rows" \
    cmp -s <(rows "$T/all.csv" | sort) <(for k in 0 1 2; do rows "$T/s_$k.csv"; done | sort)
check "no refresh failed in any shard" \
    bash -c "! grep -q REFRESH_FAILED '$T'/s_?.csv && [ \$(grep -c ' 0 refresh failures' '$T/s_0.err' '$T/s_2.err' | grep -c ':1') -eq 2 ] && grep -q '\"refresh_failures\":0' '$T/s_1.err'"
check "every user's token pair was refreshed by one shard only" \
    bash -c "[ \$(cat '$T'/tok_?.jsonl | grep -o '\"key\":\"[^\"]*\"' | sort | uniq -d | wc -l) -eq 0 ]"
check "the JSON shard logs one JSON object per line (stderr and --log)" \
    bash -c "$(declare -f json_lines); json_lines '$T/s_1.err' && json_lines '$T/s_1.log'"
check "shard metrics files pass the format check" \
    bash -c "$(declare -f prom_ok); prom_ok '$T/s_0.prom' && prom_ok '$T/s_1.prom' && prom_ok '$T/s_2.prom'"

echo "ops: a second process waits for the token store's lock"
head -n 21 "$V" > "$T/small.csv"
sim --latency-ms 150 --seed 7
$BIN fetch --vehicles "$T/small.csv" --api "$ORIGIN" --concurrency 1 \
    --token-store "$T/tok_lock.jsonl" --out "$T/l1.jsonl" 2>"$T/l1.err" &
first=$!
for _ in $(seq 100); do [ -s "$T/l1.jsonl.partial" ] && break; sleep 0.05; done
$BIN fetch --vehicles "$T/small.csv" --api "$ORIGIN" --lock-timeout 0.5 \
    --token-store "$T/tok_lock.jsonl" --out "$T/l2.jsonl" 2>"$T/l2.err"; rc2=$?
$BIN fetch --vehicles "$T/small.csv" --api "$ORIGIN" --lock-timeout 60 \
    --token-store "$T/tok_lock.jsonl" --out "$T/l3.jsonl" 2>"$T/l3.err"; rc3=$?
wait $first; rc1=$?
check "with --lock-timeout 0.5 it says it waits, then fails with one error line" \
    bash -c "[ $rc2 -eq 1 ] && grep -q 'waiting for the lock on token store' '$T/l2.err' && [ \$(grep -c 'error:' '$T/l2.err') -eq 1 ] && grep -q 'still in use by another process' '$T/l2.err' && [ ! -e '$T/l2.jsonl' ]"
check "with --lock-timeout 60 it waits for the first run, then fetches" \
    bash -c "[ $rc1 -eq 0 ] && [ $rc3 -eq 0 ] && grep -q 'waiting for the lock' '$T/l3.err' && [ \$(wc -l < '$T/l3.jsonl') -eq 20 ]"
$BIN fetch --vehicles "$T/small.csv" --api "$ORIGIN" --verbose \
    --token-store "$T/tok_v.jsonl" --out "$T/l4.jsonl" \
    --metrics "$T/l4.prom" 2>"$T/l4.err"
check "--verbose logs the rotation of each pair" \
    bash -c "[ \$(grep -c 'pair tk-[0-9a-f]* rotated' '$T/l4.err') -eq \$(grep -o '[0-9]* token rotations,' '$T/l4.err' | tail -1 | cut -d' ' -f1) ] && grep -q rotated '$T/l4.err'"

if command -v script >/dev/null; then
    # script(1) gives the run a terminal: one line, redrawn in place
    script -qc "$BIN fetch --vehicles '$T/small.csv' --api '$ORIGIN' \
        --concurrency 1 --token-store '$T/tok_tty.jsonl' --out '$T/l5.jsonl'" \
        /dev/null > "$T/tty.out" 2>&1
    check "on a terminal: an updating line (CR, erase), then the final line" \
        bash -c "grep -q \$'\\rfetch: [0-9]*/20 rows' '$T/tty.out' && grep -q \$'\\033\\[K' '$T/tty.out' && grep -Eq '$TS svcscore: fetch: 20/20 rows .*done in' '$T/tty.out'"
fi

check "fetch --metrics: the format holds, 20 rows by status, exit 0" \
    bash -c "$(declare -f prom_ok); prom_ok '$T/l4.prom' && [ \$(awk '/^svcscore_rows_total/ { s += \$2 } END { print s }' '$T/l4.prom') -eq 20 ] && grep -q '^svcscore_run_info{command=\"fetch\"' '$T/l4.prom' && grep -q '^svcscore_run_exit_status 0$' '$T/l4.prom'"

echo "ops: local runs report progress too"
$BIN score --histories "$T/all.csv.histories.jsonl" --as-of 2026-06-30 \
    --out "$T/local.csv" --progress-every 0 2>"$T/local.err"; rc=$?
check "score from a bundle: one final line with $N/$N rows" \
    bash -c "[ $rc -eq 0 ] && [ \$(grep -c 'rows/s' '$T/local.err') -eq 1 ] && grep -Eq '^$TS svcscore: score: $N/$N rows \(100%\)' '$T/local.err'"
$BIN features --vehicles "$V" --histories "$T/all.csv.histories.jsonl" \
    --as-of 2026-06-30 --shard 2/3 --out "$T/feat2.csv" 2>"$T/feat.err"; rc=$?
n2=$(( $(wc -l < "$T/s_2.csv") - 1 ))
check "features --shard 2/3 takes the rows of shard 2 ($n2)" \
    bash -c "[ $rc -eq 0 ] && cmp -s <(tail -n +2 '$T/feat2.csv' | cut -d, -f1) <(tail -n +2 '$T/s_2.csv' | cut -d, -f1) && grep -q 'features: $n2/$n2 rows' '$T/feat.err'"
$BIN score --histories "$T/all.csv.histories.jsonl" --shard 0/3 \
    --out "$T/x.csv" 2>"$T/x.err"; rc=$?
check "--shard without --vehicles is a usage error (exit 2)" [ "$rc" -eq 2 ]
$BIN fetch --vehicles "$V" --shard 3/3 --out "$T/x.jsonl" 2>/dev/null; rc=$?
check "--shard 3/3 is a usage error (K counts from 0)" [ "$rc" -eq 2 ]

echo "ops: the scheduler files"
S=scripts/nightly
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$T/units"
    sed "s#/usr/local/bin/svcscore#$PWD/bin/svcscore#" "$S/svcscore-nightly.service" \
        > "$T/units/svcscore-nightly.service"
    cp "$S/svcscore-nightly.timer" "$T/units/"
    check "systemd-analyze verify passes on the service and the timer" \
        systemd-analyze verify "$T/units/svcscore-nightly.service" \
            "$T/units/svcscore-nightly.timer"
else
    echo "  (systemd-analyze not installed: unit files not verified)"
fi
check "the Slurm script is valid shell" bash -n "$S/svcscore-slurm.sh"
check "the CronJob runs an Indexed Job with --shard \$JOB_COMPLETION_INDEX/N" \
    bash -c "grep -q 'completionMode: Indexed' '$S/svcscore-cronjob.yaml' && grep -q -- '--shard \"\$JOB_COMPLETION_INDEX/\$SHARDS\"' '$S/svcscore-cronjob.yaml'"
# the Slurm script's three array tasks, run here one after the other
sim --latency-ms 2 --refresh-grace-s 0 --seed 8
mkdir -p "$T/slurm"
cp "$V" "$T/slurm/book.csv"
printf 'SMARTCAR_CLIENT_ID=%s\nSMARTCAR_CLIENT_SECRET=%s\n' \
    "$SMARTCAR_CLIENT_ID" "$SMARTCAR_CLIENT_SECRET" > "$T/slurm/credentials.env"
src=0
for k in 0 1 2; do
    PATH="$PWD/bin:$PATH" SVCSCORE_STATE="$T/slurm" SLURM_ARRAY_TASK_ID=$k \
        SLURM_ARRAY_TASK_COUNT=3 SMARTCAR_API_ORIGIN="$ORIGIN" \
        bash "$S/svcscore-slurm.sh" 2>"$T/slurm_$k.err" || src=1
done
# the script scores as of today: so does the unsharded reference here
$BIN score --vehicles "$V" --histories "$T/all.csv.histories.jsonl" \
    --out "$T/today.csv" 2>/dev/null
check "the Slurm script's tasks 0-2 give the unsharded run's rows" \
    bash -c "[ $src -eq 0 ] && cmp -s <(tail -n +2 '$T/today.csv' | sort) <(tail -q -n +2 '$T'/slurm/shard-?/scores.csv | sort)"

echo "ops: no secret in any log, error or metrics file"
{ tail -n +2 "$V" | cut -d, -f8,9 | tr ',' '\n'
  cat "$T"/tok_*.jsonl | grep -o '"\(access\|refresh\)_token":"[^"]*"' | cut -d'"' -f4
  echo "$SMARTCAR_CLIENT_SECRET"; } | sort -u | grep -v '^$' > "$T/secrets"
leaks=$(cat "$T"/*.err "$T"/*.log "$T"/*.prom | grep -c -F -f "$T/secrets")
check "no token or client secret in $(ls "$T"/*.err "$T"/*.log "$T"/*.prom | wc -l) files" \
    [ "$leaks" -eq 0 ]

echo "ops: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
