#!/usr/bin/env bash
# End-to-end tests of the powertrain the API's v3 vehicle object gives:
# 'svcscore fetch' against bin/smartcar-sim serving the hand-written cases
# (tests/data/cases) with their powertrains.  A list without a powertrain
# column gets it from the API (one request more per vehicle); a list that
# gives it sends no such request; a Ford BEV (a make that also builds
# combustion cars, so no WMI rule) is scored as an electric car.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
BIN=bin/svcscore
D=tests/data/cases
lib_init svcscore-ptapi

export SMARTCAR_CLIENT_ID=e2e-client SMARTCAR_CLIENT_SECRET=e2e-secret-7d1b2e
unset SMARTCAR_API_V3_ORIGIN

# The simulator's fleet: the cases, one user each, tokens valid a year,
# the powertrain each car really has.
mkdir -p "$T/fleet"
exp=$(date -u -d '+1 year' +%Y-%m-%dT%H:%M:%SZ)
ptrain_of() {
    case $1 in
        tesla_*|mache_*) echo BEV ;;
        toyota_hev_*) echo HEV ;;
        *) echo ICE ;;
    esac
}
{
    echo "vin,vehicle_id,make,model_year,user_id,access_token,refresh_token,expires_at,powertrain"
    tail -n +2 $D/vehicles.csv | while IFS=, read -r vin id _ make year _; do
        echo "$vin,$id,$make,$year,u-$id,AT-$id,RT-$id,$exp,$(ptrain_of "$id")"
    done
} > "$T/fleet/vehicles.csv"
sed 's/"powertrain":"[^"]*","powertrain_source":"[^"]*",//' \
    $D/histories.jsonl > "$T/fleet/histories.jsonl"
# The client's lists: without a powertrain column, and with one for all.
cut -d, -f1,2,5-8 "$T/fleet/vehicles.csv" > "$T/list-none.csv"
cut -d, -f1,2,5-9 "$T/fleet/vehicles.csv" > "$T/list-all.csv"
n=$(( $(wc -l < "$T/list-none.csv") - 1 ))

sim_start "$T/fleet" --now 2026-07-01T00:00:00Z --rate-bucket 0 \
    --log "$T/sim.log" || { bad "the simulator starts"; lib_summary ptapi_e2e; exit; }
ORIGIN=$SIM_ORIGIN
export SMARTCAR_AUTH_ORIGIN=$ORIGIN
at=0
since() { tail -n +$((at + 1)) "$T/sim.log"; }
fetch() {   # fetch LIST OUT [ENV...]: one fetch ($FETCH_ARGS added); since
    at=$(wc -l < "$T/sim.log")   # then gives the log lines it caused
    env "${@:3}" $BIN fetch --vehicles "$1" --api "$ORIGIN" \
        --token-store "$T/tok.jsonl" --out "$2" ${FETCH_ARGS:-} 2>"$2.err"
}
per_vehicle() { awk -v a="$1" -v n="$n" 'BEGIN { printf "%.4f", a / n }'; }

echo "ptapi: a list without a powertrain column asks the API"
fetch "$T/list-none.csv" "$T/b-none.jsonl" SMARTCAR_API_V3_ORIGIN="$ORIGIN"; rc=$?
veh=$(since | grep -c 'route=vehicle_v3')
hist=$(since | grep -c 'path=/v2.0/vehicles/[^ ]*/service/history')
echo "  (without the column: $(per_vehicle "$hist") history + $(per_vehicle "$veh") vehicle-object requests per vehicle)"
check "fetch finishes (exit $rc)" [ "$rc" -eq 0 ]
check "one vehicle-object request per vehicle ($veh for $n), one history each ($hist)" \
    [ "$veh" -eq "$n" -a "$hist" -eq "$n" ]
check "the Ford BEV's bundle line carries BEV from the API" \
    grep -q '"vehicle_id":"mache_api".*"powertrain":"BEV","powertrain_source":"api","history":\[' "$T/b-none.jsonl"
check "the hybrid's line carries HEV, a Honda's ICE" \
    bash -c "grep -q '\"vehicle_id\":\"toyota_hev_good\".*\"powertrain\":\"HEV\"' '$T/b-none.jsonl' &&
             grep -q '\"vehicle_id\":\"honda_new_good\".*\"powertrain\":\"ICE\"' '$T/b-none.jsonl'"
check "every row is ok" [ "$(grep -c '"status":"ok"' "$T/b-none.jsonl")" -eq "$n" ]
check "the summary counts the vehicle objects" \
    grep -q "$n vehicle objects giving $n powertrains" "$T/b-none.jsonl.err"

echo "ptapi: the Ford BEV is scored as an electric car"
$BIN features --histories "$T/b-none.jsonl" --vehicles "$T/list-none.csv" \
    --as-of 2026-06-30 --out "$T/f.csv" 2>/dev/null
$BIN score --histories "$T/b-none.jsonl" --vehicles "$T/list-none.csv" \
    --as-of 2026-06-30 --out "$T/s.csv" 2>/dev/null
col() {   # col FILE ID NAME
    awk -F, -v id="$2" -v name="$3" '
        NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $2 == id { print $(c[name]); exit }' "$1"
}
check "features: mache_api is BEV from 'api'" \
    [ "$(col "$T/f.csv" mache_api powertrain),$(col "$T/f.csv" mache_api powertrain_source)" = BEV,api ]
check "features: mache_api has no oil change count" \
    [ -z "$(col "$T/f.csv" mache_api oil_changes)" ]
row=$(grep '^[^,]*,mache_api,' "$T/s.csv")
check "score: mache_api has a row with a score" [ -n "$(col "$T/s.csv" mache_api score)" ]
check "score: no oil reason for mache_api" \
    test -z "$(grep -iE 'R05|R06|R19|oil' <<<"$row")"

echo "ptapi: a list with the column sends no vehicle-object request"
fetch "$T/list-all.csv" "$T/b-all.jsonl" SMARTCAR_API_V3_ORIGIN="$ORIGIN"; rc=$?
veh=$(since | grep -c 'route=vehicle_v3')
hist=$(since | grep -c 'path=/v2.0/vehicles/[^ ]*/service/history')
allv=$(since | grep -c 'path=/v[23][.0]*/vehicles')
echo "  (with the column: $(per_vehicle "$hist") history, $(per_vehicle "$allv") all vehicle endpoints per vehicle)"
check "fetch finishes (exit $rc)" [ "$rc" -eq 0 ]
check "requests per vehicle 1.0000 ($allv for $n)" [ "$(per_vehicle "$allv")" = 1.0000 ]
check "its bundle lines carry no API powertrain (the list has it)" \
    bash -c "! grep -q powertrain_source '$T/b-all.jsonl'"

echo "ptapi: v2.0 without a v3 origin does not ask"
fetch "$T/list-none.csv" "$T/b-v2.jsonl"; rc=$?
check "fetch finishes (exit $rc), no vehicle-object request" \
    [ "$rc" -eq 0 -a "$(since | grep -c 'route=vehicle_v3')" -eq 0 ]

echo "ptapi: a vehicle object that fails is no row error"
FETCH_ARGS="--retries 1" fetch "$T/list-none.csv" "$T/b-dead.jsonl" \
    SMARTCAR_API_V3_ORIGIN=http://127.0.0.1:1; rc=$?
check "fetch finishes (exit $rc), every row ok, no powertrain written" \
    bash -c "[ $rc -eq 0 ] && [ \$(grep -c '\"status\":\"ok\"' '$T/b-dead.jsonl') -eq $n ] &&
             ! grep -q powertrain_source '$T/b-dead.jsonl'"
check "the log says the powertrain stays unknown, the history was fetched" \
    grep -q "powertrain of 3FMTK3SU8NM000110: error:NETWORK.*unknown, history fetched anyway" \
    "$T/b-dead.jsonl.err"
sim_stop
lib_summary ptapi_e2e
