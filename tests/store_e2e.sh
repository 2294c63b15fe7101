#!/usr/bin/env bash
# End-to-end tests of the history store: import, export, merge, score
# --store with drift, and a kill -9 in the middle of an import.
# Each check prints "ok" or "FAIL"; the last line counts them.
set -u
cd "$(dirname "$0")/.."
BIN=bin/svcscore
T=$(mktemp -d "${TMPDIR:-/tmp}/svcscore-store.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
pass=0; fail=0
ok()   { pass=$((pass + 1)); echo "  ok    $1"; }
bad()  { fail=$((fail + 1)); echo "  FAIL  $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
S=data/sample
AS_OF=2026-06-30
score() { $BIN score --as-of $AS_OF --jobs 2 "$@"; }
q() { sqlite3 "$1" "$2"; }
# the store's content, ids included (runs left out: they carry times)
content() {
    sqlite3 "$1" "SELECT * FROM vehicle ORDER BY id;
                  SELECT * FROM fetch ORDER BY id;
                  SELECT * FROM record ORDER BY id;" | sha256sum
}

echo "e2e: store import and export keep the JSONL path"
$BIN store import --store "$T/s.db" --histories $S/histories.jsonl 2>"$T/err"
check "import reads every line" grep -q "1000 lines, 1000 vehicles" "$T/err"
check "store is WAL with the current schema" \
    bash -c "[ \"\$(sqlite3 '$T/s.db' 'PRAGMA journal_mode')\" = wal ] &&
             [ \"\$(sqlite3 '$T/s.db' 'PRAGMA user_version')\" = 2 ]"
score --vehicles $S/vehicles.csv --histories $S/histories.jsonl \
    --out "$T/bundle.csv" 2>/dev/null
score --vehicles $S/vehicles.csv --store "$T/s.db" --out "$T/store.csv" \
    2>"$T/first.err"
check "score --store is byte-identical to the bundle" \
    cmp -s "$T/bundle.csv" "$T/store.csv"
# the sample's counts by status, from the scores themselves
n_ok=$(awk -F, 'NR > 1 && $4 == "ok"' "$T/bundle.csv" | wc -l)
n_nohist=$(awk -F, 'NR > 1 && $4 == "no_history"' "$T/bundle.csv" | wc -l)
$BIN store export --store "$T/s.db" --out "$T/export.jsonl" 2>/dev/null
score --vehicles $S/vehicles.csv --histories "$T/export.jsonl" \
    --out "$T/export.csv" 2>/dev/null
check "an exported bundle scores as the store and the original" \
    cmp -s "$T/bundle.csv" "$T/export.csv"
score --histories $S/histories.jsonl --out "$T/b-only.csv" 2>/dev/null
score --store "$T/s.db" --out "$T/s-only.csv" --no-record 2>/dev/null
check "without a list: every stored vehicle, as the bundle alone" \
    cmp -s "$T/b-only.csv" "$T/s-only.csv"
score --store "$T/nosuch.db" --out "$T/none.csv" 2>"$T/err"; rc=$?
check "score --store never creates a store" \
    bash -c "[ $rc = 1 ] && [ ! -e '$T/nosuch.db' ] && grep -q \"cannot open store\" '$T/err'"
n_rec=$(q "$T/s.db" "SELECT count(*) FROM record")
$BIN store import --store "$T/s.db" --histories $S/histories.jsonl 2>"$T/err"
check "a second import adds nothing" \
    bash -c "[ $(q "$T/s.db" "SELECT count(*) FROM record") = $n_rec ] &&
             grep -q '(0 new), 1000 fetches already imported' '$T/err'"
head -3 $S/vehicles.csv > "$T/few.csv"
echo "1HGCM82633A004352,nosuch,P-X" >> "$T/few.csv"
$BIN store export --store "$T/s.db" --out "$T/few.jsonl" \
    --vehicles "$T/few.csv" 2>"$T/err"
check "export --vehicles writes the listed vehicles found" \
    bash -c "[ \$(wc -l < '$T/few.jsonl') = 2 ] &&
             grep -q '1 listed but not in the store' '$T/err'"

echo "e2e: vehicles the bundle lacks or could not fetch"
V=1HGCM82633A004352
V1=$(sed -n 2p $S/vehicles.csv | cut -d, -f1)
V2=$(sed -n 3p $S/vehicles.csv | cut -d, -f1)
V3=$(sed -n 4p $S/vehicles.csv | cut -d, -f1)
{
    head -4 $S/vehicles.csv | cut -d, -f1-3
    echo "$V,veh-new,P-NEW"
} > "$T/odd.csv"
{
    printf '{"vin":"%s","vehicle_id":"veh-fail","status":"error:SERVER","history":[]}\n' $V1
    printf '{"vin":"%s","vehicle_id":"veh-bad","history":[{"serviceDate":}\n' $V2
    printf '{"vin":"%s","history":[{"serviceDate":"2024-01-01"},"x",{"odometerDistance":-5}],"status":"ok"}\n' $V3
} > "$T/odd.jsonl"
$BIN store import --store "$T/odd.db" --histories "$T/odd.jsonl" 2>/dev/null
score --vehicles "$T/odd.csv" --histories "$T/odd.jsonl" \
    --out "$T/odd-b.csv" 2>/dev/null
score --vehicles "$T/odd.csv" --store "$T/odd.db" --out "$T/odd-s.csv" \
    2>/dev/null
check "absent, failed, broken lines score as from the bundle" \
    cmp -s "$T/odd-b.csv" "$T/odd-s.csv"
check "an absent vehicle is error:INPUT:NOT_IN_BUNDLE" \
    grep -q "^$V,veh-new,P-NEW,error:INPUT:NOT_IN_BUNDLE," "$T/odd-s.csv"
check "the statuses are those of the lines" \
    bash -c "grep -q '^$V1,.*,error:SERVER,' '$T/odd-s.csv' &&
             grep -q '^$V2,.*,error:PARSE,' '$T/odd-s.csv' &&
             grep -q '^$V3,.*,ok,' '$T/odd-s.csv'"
check "a broken line is stored as an error:PARSE fetch" \
    bash -c "[ \"\$(sqlite3 '$T/odd.db' \"SELECT status FROM fetch f JOIN
              vehicle v ON v.id = f.vehicle WHERE vin = '$V2'\")\" = error:PARSE ]"

echo "e2e: runs, scores and drift"
check "the first run is recorded with its scores" \
    bash -c "[ \"\$(sqlite3 '$T/s.db' 'SELECT count(*) FROM score WHERE run = 1')\" = 1000 ] &&
             [ \"\$(sqlite3 '$T/s.db' 'SELECT ok || \",\" || exit_code FROM run WHERE id = 1')\" = $n_ok,0 ]"
check "the first run has no drift baseline" \
    grep -q "drift: no earlier run in this store" "$T/first.err"
$BIN score --as-of 2026-12-31 --jobs 2 --vehicles $S/vehicles.csv \
    --store "$T/s.db" --out "$T/later.csv" 2>"$T/err"
check "a later run reports drift since run 1" \
    grep -q "drift since run 1 (" "$T/err"
# the band matrix: the stored scores of both runs, counted by SQL
moved_sql=$(q "$T/s.db" "SELECT count(*) FROM score a JOIN score b
    ON a.vin = b.vin AND a.run = 1 AND b.run = 2 WHERE a.band <> b.band")
check "drift's band moves match the recorded scores ($moved_sql)" \
    grep -q "scored in both, $moved_sql changed band" "$T/err"
check "the run's manifest holds the drift" \
    bash -c "[ \"\$(sqlite3 '$T/s.db' \"SELECT json_extract(drift, '\$.moved') FROM run WHERE id = 2\")\" = $moved_sql ]"
check "scores in the store equal the CSV" \
    bash -c "[ \"\$(sqlite3 -csv '$T/s.db' 'SELECT vin, score, band FROM score WHERE run = 2 ORDER BY row' | md5sum)\" = \"\$(tail -n +2 '$T/later.csv' | cut -d, -f1,5,6 | md5sum)\" ]"
head -501 $S/vehicles.csv > "$T/half.csv"
score --vehicles "$T/half.csv" --store "$T/s.db" --out "$T/half-s.csv" \
    --no-record 2>"$T/err"
check "--no-record: drift shown, run not recorded" \
    bash -c "grep -q 'drift since run 2 (' '$T/err' &&
             ! grep -q 'recorded as run' '$T/err' &&
             [ \"\$(sqlite3 '$T/s.db' 'SELECT count(*) FROM run')\" = 2 ]"
$BIN store runs --store "$T/s.db" > "$T/runs.csv"
check "store runs lists both runs" \
    bash -c "[ \$(wc -l < '$T/runs.csv') = 3 ] && grep -q \"^2,.*,1000,$n_ok,$n_nohist,0,0\$\" '$T/runs.csv'"

echo "e2e: merge of shard stores"
head -400 $S/histories.jsonl > "$T/a.jsonl"
tail -n +300 $S/histories.jsonl > "$T/b.jsonl"     # 100 lines in both
$BIN store import --store "$T/a.db" --histories "$T/a.jsonl" 2>/dev/null
$BIN store import --store "$T/b.db" --histories "$T/b.jsonl" 2>/dev/null
$BIN store merge --store "$T/m.db" "$T/a.db" "$T/b.db" 2>"$T/err"
score --vehicles $S/vehicles.csv --store "$T/m.db" --out "$T/merged.csv" \
    2>/dev/null
check "merged shards score as the whole bundle" \
    cmp -s "$T/bundle.csv" "$T/merged.csv"
check "merged store has each record once" \
    bash -c "[ \"\$(sqlite3 '$T/m.db' 'SELECT count(*) FROM record')\" = $n_rec ] &&
             [ \"\$(sqlite3 '$T/m.db' 'SELECT count(*) FROM fetch')\" = 1000 ]"

echo "e2e: kill -9 during an import"
$BIN synth --vehicles 20000 --seed 3 --out "$T/big" >/dev/null 2>&1
$BIN store import --store "$T/whole.db" --histories "$T/big/histories.jsonl" \
    2>/dev/null
whole=$(content "$T/whole.db")
killed_mid=0
for attempt in 1 2 3; do
    rm -f "$T/k.db" "$T/k.db-wal" "$T/k.db-shm"
    $BIN store import --store "$T/k.db" \
        --histories "$T/big/histories.jsonl" 2>/dev/null &
    pid=$!
    # wait for the first committed batches, then kill at once
    for _ in $(seq 1 400); do
        n=$(sqlite3 "$T/k.db" "SELECT count(*) FROM vehicle" 2>/dev/null ||
            echo 0)
        [ "${n:-0}" -gt 0 ] && break
        sleep 0.01
    done
    sleep 0.0$((RANDOM % 9))
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    got=$(sqlite3 "$T/k.db" "SELECT count(*) FROM vehicle" 2>/dev/null ||
          echo 0)
    if [ "${got:-0}" -gt 0 ] && [ "${got:-0}" -lt 20000 ]; then
        killed_mid=1
        break
    fi
done
check "the import was killed mid-way ($got of 20000 vehicles kept)" \
    [ $killed_mid = 1 ]
check "a killed store is consistent (whole batches, integrity ok)" \
    bash -c "[ \"\$(sqlite3 '$T/k.db' 'PRAGMA integrity_check')\" = ok ] &&
             [ \$(( \$(sqlite3 '$T/k.db' 'SELECT count(*) FROM vehicle') % 500 )) = 0 ]"
$BIN store import --store "$T/k.db" --histories "$T/big/histories.jsonl" \
    2>/dev/null
check "re-running it gives the store of an uninterrupted import" \
    [ "$(content "$T/k.db")" = "$whole" ]
check "and no record twice" \
    bash -c "[ \"\$(sqlite3 '$T/k.db' 'SELECT count(*) FROM (SELECT vehicle, ident FROM record GROUP BY 1, 2 HAVING count(*) > 1)')\" = 0 ]"

# the run report draws the drift: a later as-of moves scores
cp "$T/s.db" "$T/r.db"
$BIN score --vehicles $S/vehicles.csv --store "$T/r.db" --as-of 2026-06-30 \
    --out "$T/r1.csv" 2>/dev/null
$BIN score --vehicles $S/vehicles.csv --store "$T/r.db" --as-of 2027-06-30 \
    --out "$T/r2.csv" --report "$T/r2.html" 2>/dev/null
moved=$(join -t, <(cut -d, -f1,5 "$T/r1.csv" | sort) \
             <(cut -d, -f1,5 "$T/r2.csv" | sort) |
        awk -F, '$2 != "" && $3 != "" && $2 != $3 {
                     d = $3 - $2; print (d < 0 ? -d : d) "," $1 }' |
        sort -t, -k1,1nr -k2,2 | head -1 | cut -d, -f2)
check "the run report shows the band migration and the largest score move ($moved)" \
    bash -c "grep -q 'Band migration' '$T/r2.html' && [ -n '$moved' ] &&
             grep -q 'largest score moves' '$T/r2.html' && grep -q '$moved' '$T/r2.html'"

echo "store e2e: $pass passed, $fail failed"
[ $fail -eq 0 ]
