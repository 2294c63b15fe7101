#!/usr/bin/env bash
# End-to-end tests of the incremental fetch (fetch --store, score --api
# --store) against bin/smartcar-sim: two nights, the second serving one new
# record for 3% of the vehicles; the windows asked (the simulator's request
# log), the merged records, scores byte-identical to a full pull;
# --refresh-after; kill -9 during a store fetch; the retry rules of
# transient and permanent failures, in the store and in a resumed journal.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
BIN=bin/svcscore
lib_init svcscore-incr

export SMARTCAR_CLIENT_ID=e2e-client SMARTCAR_CLIENT_SECRET=e2e-secret-7b2d
N=400
$BIN synth --vehicles $N --seed 33 --out "$T/f1" 2>/dev/null
# tokens valid past the test, so each night's simulator (a new process)
# accepts them without a refresh
sed -i -E 's/,2026-06-30T00:00:00Z(,[^,]*)?$/,2030-01-01T00:00:00Z\1/' \
    "$T/f1/vehicles.csv"
mkdir -p "$T/f2"
cp "$T/f1/vehicles.csv" "$T/f2/"
# night 2: every 33rd vehicle with a history has one more record, dated
# the day after night 1, 1,000 km after its last one
awk 'NR % 33 == 0 && !/"history":\[\]/ {
        n = split($0, a, /"odometerDistance":/)
        split(a[n], b, /[,}]/)
        rec = sprintf("{\"serviceId\":\"night2-%d\",\"odometerDistance\":" \
              "%.2f,\"serviceDate\":\"2026-07-01\",\"serviceTasks\":" \
              "[{\"taskId\":\"3000\",\"taskDescription\":\"Oil and " \
              "filter change\"}],\"serviceDetails\":[{\"type\":\"source\"," \
              "\"value\":\"dealer\"}],\"serviceCost\":{\"totalCost\":" \
              "99.00,\"currency\":\"USD\"}}", NR, b[1] + 1000)
        sub(/\]\}$/, "," rec "]}")
     } { print }' "$T/f1/histories.jsonl" > "$T/f2/histories.jsonl"
added=$(grep -c night2- "$T/f2/histories.jsonl")
V="$T/f1/vehicles.csv"

# sim FLEET LOG ARGS...: (re)starts the simulator; sets ORIGIN
sim() {
    local fleet=$1 log=$2
    shift 2
    sim_stop
    sim_start "$T/$fleet" --now 2026-07-01T00:00:00Z --rate-bucket 0 \
        --log "$T/$log" "$@"
    ORIGIN=$SIM_ORIGIN
    export SMARTCAR_AUTH_ORIGIN=$ORIGIN
}
fetch() {     # fetch STORE ARGS...
    local db=$1
    shift
    $BIN fetch --vehicles "$V" --api "$ORIGIN" --token-store "$T/tok.jsonl" \
        --store "$db" --retry-seed 1 "$@"
}
score() {     # score STORE OUT
    $BIN score --vehicles "$V" --store "$1" --no-record --as-of 2026-07-02 \
        --out "$2" 2>/dev/null
}
histories() { grep -c 'route=history' "$1"; }
# VIN and record count of each vehicle with records, sorted
fleet_counts() {
    jq -r 'select((.history | length) > 0) | "\(.vin)|\(.history | length)"' \
        "$1" | sort
}
store_counts() {
    sqlite3 "$1" "SELECT v.vin, count(*) FROM record r JOIN vehicle v
                  ON v.id = r.vehicle GROUP BY v.vin ORDER BY v.vin"
}

echo "incr: night 1 fills the store"
sim f1 night1.log
fetch "$T/s.db" 2>"$T/err1"; rc=$?
check "first store fetch exits 0" [ $rc -eq 0 ]
expect "a history request per vehicle" "[ $(histories "$T/night1.log") = $N ]"
expect "new vehicles get the whole window" \
    "[ \"\$(grep route=history '$T/night1.log' | grep -vc 'window=1990-01-01\.\.')\" = 0 ]"
expect "every record stored once" \
    "cmp -s <(fleet_counts '$T/f1/histories.jsonl') <(store_counts '$T/s.db')"

echo "incr: --refresh-after right after a fetch"
before=$(histories "$T/night1.log")
fetch "$T/s.db" --refresh-after 1 2>"$T/err2"; rc=$?
check "exits 0" [ $rc -eq 0 ]
expect "no history request" "[ $(histories "$T/night1.log") = $before ]"
expect "every row reported not due" "grep -q '$N not due' '$T/err2'"
expect "the store is unchanged" \
    "cmp -s <(fleet_counts '$T/f1/histories.jsonl') <(store_counts '$T/s.db')"

echo "incr: night 2 asks each stored vehicle for its recent window"
# expected start per vehicle id: latest record less 90 days, else 1990
sqlite3 "$T/s.db" "SELECT v.vehicle_id, CASE WHEN max(r.day) IS NULL
    THEN '1990-01-01' ELSE date((max(r.day) - 90) * 86400, 'unixepoch')
    END FROM vehicle v LEFT JOIN record r ON r.vehicle = v.id
    GROUP BY v.id ORDER BY 1" | tr '|' ' ' > "$T/want_start"
cp "$T/s.db" "$T/s3.db"
sim f2 night2.log
fetch "$T/s.db" --refresh-after 0 2>"$T/err3"; rc=$?
check "second night exits 0" [ $rc -eq 0 ]
expect "one history request per vehicle due" \
    "[ $(histories "$T/night2.log") = $N ]"
grep route=history "$T/night2.log" |
    sed -E 's/.*vehicle=([^ ]*) .*window=([0-9-]*)\.\..*/\1 \2/' |
    sort > "$T/got_start"
expect "each window starts at the latest stored record less 90 days" \
    "cmp -s '$T/want_start' '$T/got_start'"
expect "some windows are not the whole history" \
    "[ \$(grep -vc ' 1990-01-01$' '$T/got_start') -gt $((N / 2)) ]"
expect "the new records are merged, none twice ($added new)" \
    "cmp -s <(fleet_counts '$T/f2/histories.jsonl') <(store_counts '$T/s.db')"
expect "record identities are unique" \
    "[ \"\$(sqlite3 '$T/s.db' 'SELECT count(*) - count(DISTINCT vehicle || ident) FROM record')\" = 0 ]"
sim f2 full.log
fetch "$T/full.db" 2>/dev/null
score "$T/s.db" "$T/incr.csv"
score "$T/full.db" "$T/full.csv"
expect "scores of the incremental store equal a full pull's" \
    "[ -s '$T/full.csv' ] && cmp -s '$T/incr.csv' '$T/full.csv'"
expect "the full pull received more bytes" \
    "[ \$(sqlite3 '$T/full.db' 'SELECT sum(bytes) FROM fetch') -gt \
       \$(sqlite3 '$T/s.db' 'SELECT sum(bytes) FROM fetch WHERE id > $N') ]"
$BIN score --vehicles "$V" --api "$ORIGIN" --token-store "$T/tok.jsonl" \
    --store "$T/s3.db" --retry-seed 1 --as-of 2026-07-02 --no-record \
    --out "$T/api.csv" 2>"$T/err4"; rc=$?
check "score --api --store exits 0" [ $rc -eq 0 ]
expect "score --api --store equals the full pull's scores" \
    "cmp -s '$T/api.csv' '$T/full.csv'"

echo "incr: kill -9 during a store fetch, then completion"
sim f2 kill.log --latency-ms 40
killed=0
for i in 1 2 3; do
    # exec: $! is svcscore itself, not a subshell that would outlive it
    (exec $BIN fetch --vehicles "$V" --api "$ORIGIN" \
        --token-store "$T/tok.jsonl" --store "$T/k.db" --retry-seed 1 \
        --concurrency 4 2>/dev/null) &
    pid=$!
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
    wait "$pid" 2>/dev/null
done
expect "the fetch was killed mid-way ($killed times)" \
    "[ $killed -ge 1 ] && ! pgrep -f -- '--store $T/k.db' >/dev/null"
expect "a killed store is consistent" \
    "[ \"\$(sqlite3 '$T/k.db' 'PRAGMA integrity_check')\" = ok ]"
kept=$(sqlite3 "$T/k.db" "SELECT count(*) FROM record" 2>/dev/null || echo 0)
fetch "$T/k.db" --concurrency 4 2>"$T/err5"; rc=$?
check "the next run completes" [ $rc -eq 0 ]
expect "nothing lost or doubled ($kept records kept before)" \
    "cmp -s <(fleet_counts '$T/f2/histories.jsonl') <(store_counts '$T/k.db')"
score "$T/k.db" "$T/kill.csv"
expect "its scores equal an uninterrupted run's" \
    "cmp -s '$T/kill.csv' '$T/full.csv'"

echo "incr: transient failures are retried, permanent ones kept"
# status kinds after a run: transient / permanent / ok
kinds() {
    sqlite3 "$1" "SELECT last_status FROM vehicle" | awk '
        /^error:(NETWORK|TIMEOUT|SERVER|UPSTREAM|RATE_LIMIT|VEHICLE_STATE)/ \
            { t++; next } /^error/ { p++; next } { o++ }
        END { printf "%d %d %d\n", t, p, o }'
}
sim f1 err1.log --permanent-fault-rate 0.05 --fault-rate 0.15 \
    --fault-mix 500=1,502=1 --seed 7
fetch "$T/e.db" --retries 0 2>/dev/null
read -r t1 p1 o1 <<< "$(kinds "$T/e.db")"
expect "the faults gave both kinds ($t1 transient, $p1 permanent)" \
    "[ $t1 -gt 0 ] && [ $p1 -gt 0 ] && [ $((t1 + p1 + o1)) = $N ]"
sim f1 err2.log
fetch "$T/e.db" --refresh-after 1 2>/dev/null
read -r t2 p2 o2 <<< "$(kinds "$T/e.db")"
expect "the next run asks only the transient failures ($t1)" \
    "[ $(histories "$T/err2.log") = $t1 ]"
expect "they are ok now, the permanent ones keep their status" \
    "[ $t2 = 0 ] && [ $p2 = $p1 ] && [ $o2 = $((o1 + t1)) ]"
fetch "$T/e.db" --refresh-after 1 2>/dev/null
expect "a run after it asks nothing" "[ $(histories "$T/err2.log") = $t1 ]"
fetch "$T/e.db" --refresh-after 1 --retry-errors 2>/dev/null
expect "--retry-errors asks the permanent failures ($p1)" \
    "[ $(histories "$T/err2.log") = $((t1 + p1)) ]"
read -r t3 p3 o3 <<< "$(kinds "$T/e.db")"
expect "and they are ok now" "[ $p3 = 0 ] && [ $o3 = $N ]"

echo "incr: a resumed bundle fetch retries the journal's transient rows"
sim f1 j1.log --permanent-fault-rate 0.05 --fault-rate 0.15 \
    --fault-mix 500=1,502=1 --seed 7 --latency-ms 40
$BIN fetch --vehicles "$V" --api "$ORIGIN" --token-store "$T/tok.jsonl" \
    --out "$T/b.jsonl" --retries 0 --concurrency 4 2>/dev/null &
pid=$!
sleep 2
kill -TERM "$pid"
wait "$pid"
J="$T/b.jsonl.partial"
jt=$(jq -r .status "$J" | grep -cE '^error:(SERVER|UPSTREAM)')
jp=$(jq -r .status "$J" | grep -E '^error' | grep -cvE '^error:(SERVER|UPSTREAM)')
jn=$(wc -l < "$J")
expect "the stopped run left both kinds in its journal ($jt, $jp of $jn)" \
    "[ $jt -gt 0 ] && [ $jp -gt 0 ] && [ $jn -lt $N ]"
sim f1 j2.log
$BIN fetch --vehicles "$V" --api "$ORIGIN" --token-store "$T/tok.jsonl" \
    --out "$T/b.jsonl" 2>/dev/null; rc=$?
check "the resumed run finishes" [ $rc -eq 0 ]
expect "it asks the rows not journalled and the transient ones" \
    "[ $(histories "$T/j2.log") = $((N - jn + jt)) ]"
expect "the bundle keeps the permanent failures, no transient one" \
    "[ \$(jq -r .status '$T/b.jsonl' | grep -c '^error') = $jp ]"

lib_summary incr
