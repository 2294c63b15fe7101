#!/usr/bin/env bash
# End-to-end cases an underwriter would check, on hand-written histories
# (tests/data/cases, described in its README): new and used cars kept well
# and badly, electric cars with and without a powertrain column, an
# electric car of a make that also builds combustion cars, a hybrid.
# The score relations depend on the shipped model (models/default.json):
# they hold for any sensibly fitted model, not for one set of figures.
set -u
cd "$(dirname "$0")/.."
BIN=bin/svcscore
D=tests/data/cases
T=$(mktemp -d "${TMPDIR:-/tmp}/svcscore-cases.XXXXXX")
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok()   { pass=$((pass + 1)); echo "  ok    $1"; }
bad()  { fail=$((fail + 1)); echo "  FAIL  $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

run() { $BIN "$1" --histories $D/histories.jsonl --vehicles "${2:-$D/vehicles.csv}" \
            --as-of 2026-06-30 --out "$3" 2>/dev/null; }
run features "" "$T/f.csv"
run score "" "$T/s.csv"

# col FILE ID NAME: the value of column NAME in the row whose vehicle_id is ID
col() {
    awk -F, -v id="$2" -v name="$3" '
        NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $2 == id { print $(c[name]); exit }' "$1"
}
score() { col "$T/s.csv" "$1" score; }
reasons() { grep "^[^,]*,$1," "$T/s.csv" | cut -d, -f8-11; }

echo "e2e cases: good above bad"
for pair in honda_new honda_used tesla; do
    g=$(score ${pair}_good); b=$(score ${pair}_bad)
    check "$pair: well kept ($g) at least 40 points above badly kept ($b)" \
        test "${g:-0}" -ge $(( ${b:-999} + 40 ))
done
n=$(score honda_new_good); u=$(score honda_used_good)
check "a well-kept used 2012 Honda ($u) scores within 15 of a well-kept new one ($n)" \
    test -n "$n" -a -n "$u" -a $((u > n ? u - n : n - u)) -le 15
for v in tesla_good mache_good toyota_hev_good; do
    s=$(score $v); b=$(score honda_new_bad)
    check "$v ($s) scores above the badly kept Honda ($b)" test "${s:-0}" -gt "${b:-999}"
done
t=$(score tesla_good); h=$(score honda_new_good)
check "a diligent Tesla ($t) scores within 40 of an equally diligent Honda ($h)" \
    [ $((t > h ? t - h : h - t)) -le 40 ]

echo "e2e cases: powertrain and its source"
expect_pt() {   # id, powertrain, source
    local p s; p=$(col "$T/f.csv" "$1" powertrain); s=$(col "$T/f.csv" "$1" powertrain_source)
    check "$1 is '$2' from '$3'" [ "$p,$s" = "$2,$3" ]
}
expect_pt tesla_good BEV wmi
expect_pt tesla_list BEV list
expect_pt mache_good BEV list
expect_pt mache_api BEV api
expect_pt toyota_hev_good HEV list
expect_pt honda_used_bad ICE list
expect_pt honda_new_good "" ""
# the list's column wins over the bundle's value
sed 's/^\(3FMTK3SU8NM000110,.*\),$/\1,gas/' $D/vehicles.csv > "$T/v_gas.csv"
run features "$T/v_gas.csv" "$T/f_gas.csv"
check "the list's powertrain wins over the bundle's" \
    [ "$(col "$T/f_gas.csv" mache_api powertrain),$(col "$T/f_gas.csv" mache_api powertrain_source)" = ICE,list ]
# without any source a Mach-E is not guessed electric from its history
cut -d, -f1-5 $D/vehicles.csv > "$T/v_none.csv"
sed -i '/000110/d' "$T/v_none.csv"
run features "$T/v_none.csv" "$T/f_none.csv"
check "a Mach-E without a powertrain column is not inferred electric (oil_changes 0)" \
    [ "$(col "$T/f_none.csv" mache_good powertrain),$(col "$T/f_none.csv" mache_good oil_changes)" = ",0" ]
check "a Tesla without a powertrain column is BEV by its WMI" \
    [ "$(col "$T/f_none.csv" tesla_list powertrain)" = BEV ]

echo "e2e cases: electric cars have no oil"
for v in tesla_good tesla_bad tesla_list mache_good mache_api; do
    vals=""
    for c in oil_changes oil_interval_km_median oil_interval_days_median \
             oil_in_schedule_share overdue_oil_change; do
        vals="$vals$(col "$T/f.csv" $v $c)"
    done
    check "$v: every oil feature is empty" [ -z "$vals" ]
    r=$(reasons $v)
    check "$v: no oil reason" test -z "$(grep -iE 'R05|R06|R19|oil' <<<"$r")"
done
check "a diligent Tesla has no routine item overdue" \
    [ "$(col "$T/f.csv" tesla_good routine_items_overdue)" = 0 ]
check "a neglected Tesla has its cabin filter overdue" \
    [ "$(col "$T/f.csv" tesla_bad routine_items_overdue)" = 1 ]
check "routine items do not apply to a combustion car" \
    [ -z "$(col "$T/f.csv" honda_new_good routine_items_overdue)" ]
check "the hybrid keeps its oil features" \
    [ "$(col "$T/f.csv" toyota_hev_good oil_changes)" = 4 ]

echo "e2e cases: the observed window"
check "the new Honda's history starts near new" [ "$(col "$T/f.csv" honda_new_good history_from_new)" = 1 ]
check "the used Honda's history starts mid-life" [ "$(col "$T/f.csv" honda_used_good history_from_new)" = 0 ]
check "the used Honda has no first-service feature" [ -z "$(col "$T/f.csv" honda_used_good first_service_ratio)" ]
check "no reason about the first service of a used car" \
    bash -c "! grep -E '^[^,]*,honda_used_(good|bad),' '$T/s.csv' | grep -q R31"

echo "e2e cases: reasons an underwriter can weigh"
n_reasons=$(awk -F, 'NR > 1 { for (i = 8; i <= 11; i++) if ($i != "") n++ } END { print n + 0 }' "$T/s.csv")
check "the cases give reasons ($n_reasons)" [ "$n_reasons" -ge 8 ]
check "every reason names a benchmark (typical or due every)" \
    awk -F, 'NR > 1 { for (i = 8; i <= 11; i++)
                          if ($i != "" && $i !~ /typical|due every/) bad = 1 }
             END { exit bad }' "$T/s.csv"
check "no reason for a well-kept new car" [ -z "$(reasons honda_new_good | tr -d ,)" ]
check "a dealer share is a reason only below typical" \
    awk -F, 'NR > 1 { for (i = 8; i <= 11; i++) if ($i ~ /^R33/) {
                 split($i, a, " "); v = a[2] + 0; match($i, /typical [0-9]+/);
                 t = substr($i, RSTART + 8, RLENGTH - 8) + 0; if (v >= t) bad = 1 } }
             END { exit bad }' "$T/s.csv"

echo "e2e cases: explain"
$BIN explain --vin 5YJ3E1EA5MF000105 --histories $D/histories.jsonl \
    --vehicles $D/vehicles.csv --as-of 2026-06-30 > "$T/x.txt" 2>/dev/null
check "explain names the powertrain and its source" grep -q "^Powertrain: BEV (from the maker's VIN code)" "$T/x.txt"
check "explain gives the observed window and that it starts near new" \
    grep -q "^Observed window: 2021-11-20 to .*starts near new: yes" "$T/x.txt"
check "explain ranks against the training portfolio" \
    bash -c "grep -q 'training portfolio' '$T/x.txt' && grep -qE '^  services_per_year +[0-9.]+ +p[0-9]+' '$T/x.txt'"
check "explain shows the oil features as not applicable" \
    bash -c "grep -qE '^  oil_changes +n/a' '$T/x.txt' && grep -q 'oil change     does not apply' '$T/x.txt'"
$BIN explain --vin 1HGCR2F38CA000103 --histories $D/histories.jsonl \
    --vehicles $D/vehicles.csv --as-of 2026-06-30 > "$T/x.txt" 2>/dev/null
check "explain says a used car's history starts mid-life" \
    grep -q "^Observed window: 2021-03-05 to .*142000 to .*starts near new: no" "$T/x.txt"

echo "e2e cases: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
