#!/usr/bin/env bash
# End-to-end checks of bin/smartcar-sim with curl, on the fixture fleet in
# tests/data/sim.  Tokens and secrets go from files into curl header and
# body files (-H @file, --data @file): none is ever on a command line or
# printed.  SMARTCAR_SIM may name another build (e.g. with sanitizers).
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
SIM=${SMARTCAR_SIM:-bin/smartcar-sim}
FLEET=tests/data/sim
NOW=2026-03-01T00:00:00Z
V=0b6f3a2e-1c1d-4a55-9e0e-00000000000     # + 1..6
lib_init sim_e2e

# --- credentials, from the fixture files into curl header files ----------
token_of() {    # token_of USER COLUMN (8 access, 9 refresh)
    awk -F, -v u="$1" -v c="$2" 'NR > 1 && $7 == u { print $c; exit }' \
        "$FLEET/vehicles.csv"
}
bearer_file() { printf 'Authorization: Bearer %s\n' "$(cat "$1")" > "$2"; }
basic_file() {  # basic_file ID SECRET FILE
    printf 'Authorization: Basic %s\n' \
        "$(printf '%s:%s' "$1" "$2" | base64 -w0)" > "$3"
}
token_of user-0001 8 > "$T/at1"; bearer_file "$T/at1" "$T/auth1"
token_of user-0002 8 > "$T/at2"; bearer_file "$T/at2" "$T/auth2"
token_of user-0003 8 > "$T/at3"; bearer_file "$T/at3" "$T/auth3"
token_of user-0002 9 > "$T/rt2"
printf 'Authorization: Bearer at_%032d\n' 0 > "$T/auth_unknown"
export SMARTCAR_CLIENT_ID=e2e-client
export SMARTCAR_CLIENT_SECRET=e2e-secret-$$
basic_file "$SMARTCAR_CLIENT_ID" "$SMARTCAR_CLIENT_SECRET" "$T/basic"
basic_file "$SMARTCAR_CLIENT_ID" wrong "$T/basic_bad"
form_refresh() {    # form_refresh TOKEN_FILE FORM_FILE
    printf 'grant_type=refresh_token&refresh_token=%s' "$(cat "$1")" > "$2"
}

# --- running the simulator -----------------------------------------------
start_sim() {   # start_sim ARGS...: starts on a free port, sets BASE
    rm -f "$T/sim.err"
    NREQ=0
    sim_start "$FLEET" --now "$NOW" --log "$T/sim.log" "$@"
    local rc=$?
    BASE=$SIM_ORIGIN
    return "$rc"
}
stop_sim() {    # stop_sim: SIGTERM, then the exit status (a failure counts)
    sim_stop
    local rc=$?
    [ "$rc" -eq 0 ] ||
        bad "the server exited with $rc: $(grep -m1 -v listening "$T/sim.err")"
    return "$rc"
}

# call METHOD PATH [curl args]: sets CODE and RC; the body is in $T/body,
# the headers in $T/hdr
call() {
    local method=$1 path=$2
    shift 2
    NREQ=$((NREQ + 1))
    CODE=$(curl -s -X "$method" -o "$T/body" -D "$T/hdr" -w '%{http_code}' \
           -m 5 "$@" "$BASE$path" 2>"$T/curl.err")
    RC=$?
}
get()  { call GET "$@"; }
body() { cat "$T/body"; }
hdr()  {    # hdr NAME: a response header's value
    tr -d '\r' < "$T/hdr" | awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" \
        -F': ' 'tolower($1) == n { print $2; exit }'
}
has()  { grep -qF -- "$1" "$T/body"; }           # fixed text in the body
starts() { [ "$(head -c "${#1}" "$T/body")" = "$1" ]; }
count() { grep -oF -- "$1" "$T/body" | wc -l; }
in_log() { grep -qF -- "$1" "$T/sim.log"; }
hist() { echo "/v2.0/vehicles/$V$1/service/history${2:+?$2}"; }
field() {  # field NAME: the first string value of NAME in the body
    grep -o "\"$1\":\"[^\"]*\"" "$T/body" | head -1 | cut -d'"' -f4
}

echo "smartcar-sim end-to-end"

# --- command line --------------------------------------------------------
"$SIM" --help > "$T/help"
expect "--help exits 0 and names the flags" \
    '[ $? = 0 ] && grep -q -- --fault-mix "$T/help"'
"$SIM" --bogus >/dev/null 2>&1
expect "an unknown flag is a usage error" '[ $? = 2 ]'
"$SIM" >/dev/null 2>&1
expect "--fleet is required" '[ $? = 2 ]'
"$SIM" --fleet "$FLEET" --fault-mix teapot=1 >/dev/null 2>&1
expect "a bad fault mix is a usage error" '[ $? = 2 ]'
"$SIM" --fleet "$T/none" 2>"$T/err" >/dev/null
expect "a missing fleet fails with a message" \
    '[ $? = 1 ] && grep -q "cannot open" "$T/err"'

# --- fleet loading --------------------------------------------------------
HEAD=vin,vehicle_id,policy_id,make,model_year,unit_system,user_id
HEAD+=,access_token,refresh_token,expires_at
fleet() {   # fleet NAME CSV_ROWS JSONL_LINES: a small fleet in $T/NAME
    mkdir -p "$T/$1"
    printf '%s\n%s' "$HEAD" "$2" > "$T/$1/vehicles.csv"
    printf '%s' "$3" > "$T/$1/histories.jsonl"
}
row() {     # row ID [UNIT [EXPIRES]]: a vehicles.csv row of user u1
    echo "VIN$1,$1,P,Ford,2020,${2:-metric},u1,at_x,rt_x,${3:-2026-06-30}"
}
refused() {     # refused NAME MESSAGE: loading fails with status 1 and MESSAGE
    "$SIM" --fleet "$T/$1" > /dev/null 2> "$T/err"
    [ $? = 1 ] && grep -qF -- "$2" "$T/err"
}
fleet nohdr '' ''
printf 'vin,user_id\nV1,u1\n' > "$T/nohdr/vehicles.csv"
check "a CSV without vehicle_id is refused" refused nohdr "lacks vehicle_id"
fleet dup "$(row v1)
$(row v1)
" ''
check "a duplicate vehicle_id is refused" refused dup "duplicate vehicle_id"
fleet slash "$(row a/b)
" ''
check "a vehicle_id a path cannot carry is refused" refused slash "URL path"
fleet unit "$(row v1 furlongs)
" ''
check "a bad unit_system is refused" refused unit "row 1: unit_system"
fleet exp "$(row v1 metric tomorrow)
" ''
check "a bad expires_at is refused" refused exp "row 1: bad expires_at"
fleet quote "$(row v1)
\"open
" ''
check "bad CSV syntax is refused" refused quote "vehicles.csv"
fleet stray "$(row v1)
$(row v\"2)
" ''
check "a stray quote is refused with its row and line" \
    refused stray "vehicles.csv row 2 (line 3): a quote inside an unquoted field"
fleet longvin "1HGCM82633A0043521,v1,P,Ford,2020,metric,u1,at_x,rt_x,2026-06-30
" ''
check "a VIN over 17 characters is refused" refused longvin "longer than 17 characters"
fleet badline "$(row v1)
" '{"vehicle_id":"v1","history":[]}

{"vehicle_id":"v1","history":[1,]}
'
check "a bad JSON line is refused with its number" \
    refused badline "histories.jsonl line 3: bad JSON"
fleet twice "$(row v1)
" '{"vehicle_id":"v1","history":[]}
{"vehicle_id":"v1","history":[]}
'
check "a second history for a vehicle is refused" \
    refused twice "line 2: second history"
fleet nohist "$(row v1)
" '{"vehicle_id":"v1"}
'
check "a line without history is refused" refused nohist "line 1: no history"
fleet fetched "$(row v1)
" '{"vehicle_id":"v1","fetched_at":"soon","history":[]}
'
check "a bad fetched_at is refused" refused fetched "line 1: bad fetched_at"
fleet raw "$(row v1)
$(row v2)
$(row v3)
" '{"vehicle_id":"v1","history":"[{\"serviceId\": oops"}
{"vehicle_id":"v2","history":{"serviceHistory":[]}}
{"vehicle_id":"no-such","history":[]}
'
printf 'Authorization: Bearer at_x\n' > "$T/authx"
FLEET_SAVED=$FLEET
FLEET=$T/raw
start_sim
get "/v2.0/vehicles/v1/service/history" -H @"$T/authx"
expect "a history string is served as the raw body" \
    '[ $CODE = 200 ] && [ "$(body)" = "[{\"serviceId\": oops" ]'
get "/v2.0/vehicles/v2/service/history" -H @"$T/authx"
expect "a non-array history is served verbatim" \
    '[ $CODE = 200 ] && [ "$(body)" = "{\"serviceHistory\":[]}" ]'
get "/v2.0/vehicles/v3/service/history" -H @"$T/authx"
expect "unknown vehicles' histories are ignored; none gives []" \
    '[ $CODE = 200 ] && [ "$(body)" = "[]" ]'
stop_sim
FLEET=$FLEET_SAVED

# --- endpoints -----------------------------------------------------------
check "starts on a free port and writes the port file" \
    start_sim --refresh-grace-s 2 --access-ttl-s 4
check "the port file holds a port number" grep -qE '^[0-9]+$' "$T/port"
"$SIM" --fleet "$FLEET" --port "$(cat "$T/port")" > /dev/null 2> "$T/err"
expect "a busy port fails with status 1" \
    '[ $? = 1 ] && grep -q "cannot listen" "$T/err"'
"$SIM" --fleet "$FLEET" --port-file "$T/no/dir/port" > /dev/null 2> "$T/err"
expect "an unwritable port file fails with status 1" \
    '[ $? = 1 ] && grep -q "cannot write" "$T/err"'
"$SIM" --fleet "$FLEET" --bind 300.1.2.3 > /dev/null 2> "$T/err"
expect "a bad --bind is a usage error" \
    '[ $? = 2 ] && grep -q "not an IPv4 address" "$T/err"'

get /v2.0/vehicles -H @"$T/auth1"
expect "vehicles lists the user's three vehicles" \
    '[ $CODE = 200 ] && [ $(count "$V") = 3 ] &&
     has "\"paging\":{\"count\":3,\"offset\":0}"'
get "/v2.0/vehicles?limit=2&offset=1" -H @"$T/auth1"
expect "vehicles pages with limit and offset" \
    '[ $CODE = 200 ] && [ $(count "$V") = 2 ] && has "\"${V}2\"" &&
     has "\"count\":3,\"offset\":1"'
get "/v2.0/vehicles?limit=51" -H @"$T/auth1"
expect "a limit above 50 is VALIDATION:PARAMETER" \
    '[ $CODE = 400 ] && has "\"code\":\"PARAMETER\"" &&
     has "\"field\":[\"limit\"]"'
get /v2.0/user -H @"$T/auth1"
expect "user answers the user id" '[ $CODE = 200 ] && has user-0001'
get "/v2.0/vehicles/${V}1/vin" -H @"$T/auth1"
expect "vin answers the VIN" '[ "$(body)" = "{\"vin\":\"1FTFW1E50NFA00001\"}" ]'
get "/v2.0/vehicles/${V}2" -H @"$T/auth1"
ATTR="{\"id\":\"${V}2\",\"make\":\"TOYOTA\","
ATTR+="\"model\":\"UNKNOWN\",\"year\":2020}"
expect "attributes answer id, make, model, year" '[ "$(body)" = "$ATTR" ]'

# --- authentication and permission ----------------------------------------
get "$(hist 1)"
expect "no token is 401 AUTHENTICATION, REAUTHENTICATE" \
    '[ $CODE = 401 ] && has "\"type\":\"AUTHENTICATION\"" &&
     has "\"resolution\":{\"type\":\"REAUTHENTICATE\"}"'
get "$(hist 1)" -H @"$T/auth_unknown"
expect "an unknown token is 401" '[ $CODE = 401 ]'
get "$(hist 6)" -H @"$T/auth3"
expect "an expired token is 401" '[ $CODE = 401 ]'
get "$(hist 4)" -H @"$T/auth1"
expect "another user's vehicle is 403 PERMISSION" \
    '[ $CODE = 403 ] && has "\"type\":\"PERMISSION\""'
get "/v2.0/vehicles/no-such-vehicle/vin" -H @"$T/auth1"
expect "an unknown vehicle is 404 RESOURCE_NOT_FOUND:PATH" \
    '[ $CODE = 404 ] && has "\"code\":\"PATH\""'
get /v2.0/nowhere -H @"$T/auth1"
expect "an unknown path is 404" '[ $CODE = 404 ]'

# --- service history -----------------------------------------------------
get "$(hist 1)" -H @"$T/auth1"
expect "history without dates gives the last year only" \
    '[ $CODE = 200 ] && [ $(count serviceDate) = 2 ] && has "\"1003\"" &&
     ! has "\"1001\""'
expect "history is a top-level JSON array" 'starts "["'
UUID='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
expect "SC-Request-Id is a UUID" '[[ "$(hdr SC-Request-Id)" =~ $UUID ]]'
expect "SC-Data-Age, SC-Fetched-At and SC-Unit-System are set" \
    '[ "$(hdr SC-Data-Age)" = 2026-02-28T12:00:00.000Z ] &&
     [[ "$(hdr SC-Fetched-At)" == 2026-03-01T00:00:* ]] &&
     [ "$(hdr SC-Unit-System)" = metric ]'
get "$(hist 1 start_date=2015-01-01)" -H @"$T/auth1"
expect "an explicit start_date gives every record, undated ones too" \
    '[ $CODE = 200 ] && [ $(count "\"serviceDate\"") = 5 ] &&
     has "\"serviceDate\":null"'
get "$(hist 1 'start_date=2020-01-01T00:00:00.000Z&end_date=2021-12-31')" \
    -H @"$T/auth1"
expect "an explicit window is inclusive and accepts date-times" \
    '[ $CODE = 200 ] && [ $(count "\"serviceDate\"") = 2 ] &&
     has "\"1002\""'
get "$(hist 1 start_date=2015-13-01)" -H @"$T/auth1"
expect "a bad date is 400 VALIDATION:PARAMETER naming start_date" \
    '[ $CODE = 400 ] && has "\"field\":[\"start_date\"]"'
get "$(hist 1 'start_date=2022-01-02&end_date=2022-01-01')" -H @"$T/auth1"
expect "start after end is 400" '[ $CODE = 400 ]'
get "$(hist 4 start_date=2015-01-01)" -H @"$T/auth2"
expect "a vehicle without history answers []" \
    '[ $CODE = 200 ] && [ "$(body)" = "[]" ]'

# --- units ---------------------------------------------------------------
get "$(hist 2)" -H @"$T/auth1"
expect "an imperial vehicle answers miles with SC-Unit-System imperial" \
    '[ "$(hdr SC-Unit-System)" = imperial ] &&
     has "\"odometerDistance\":36000,"'
get "$(hist 2)" -H @"$T/auth1" -H 'sc-unit-system: metric'
expect "sc-unit-system metric converts miles to km" \
    '[ "$(hdr SC-Unit-System)" = metric ] &&
     has "\"odometerDistance\":57936.38,"'
get "$(hist 1)" -H @"$T/auth1" -H 'sc-unit-system: imperial'
expect "sc-unit-system imperial converts km to miles, numeric strings too" \
    '[ "$(hdr SC-Unit-System)" = imperial ] &&
     has "\"odometerDistance\":54680.66," &&
     has "\"odometerDistance\":\"56690.49\""'

# --- gzip ----------------------------------------------------------------
get "$(hist 1 start_date=2015-01-01)" -H @"$T/auth1" \
    -H 'Accept-Encoding: gzip'
expect "Accept-Encoding gzip gives a gzip body" \
    '[ "$(hdr Content-Encoding)" = gzip ] &&
     gzip -dc < "$T/body" | grep -qF "\"1001\""'

# --- OAuth refresh rotation ------------------------------------------------
form_refresh "$T/rt2" "$T/form_rt2"
call POST /oauth/token -H @"$T/basic_bad" --data @"$T/form_rt2"
expect "wrong client credentials are 401 invalid_client" \
    '[ $CODE = 401 ] && has "\"error\":\"invalid_client\""'
call POST /oauth/token -H @"$T/basic" --data @"$T/form_rt2"
field access_token > "$T/at2b"
field refresh_token > "$T/rt2b"
expect "a refresh answers a new pair, Bearer, expires_in = access TTL" \
    '[ $CODE = 200 ] && grep -qE "^at_[0-9a-f]{32}$" "$T/at2b" &&
     grep -qE "^rt_[0-9a-f]{32}$" "$T/rt2b" && ! cmp -s "$T/rt2" "$T/rt2b" &&
     has "\"token_type\":\"Bearer\",\"expires_in\":4,"'
call POST /oauth/token -H @"$T/basic" --data @"$T/form_rt2"
expect "reusing the old refresh token inside the grace replays the pair" \
    '[ $CODE = 200 ] && [ "$(field refresh_token)" = "$(cat "$T/rt2b")" ]'
bearer_file "$T/at2b" "$T/auth2b"
get "$(hist 5)" -H @"$T/auth2b"
expect "the new access token works" '[ $CODE = 200 ]'
get "$(hist 5)" -H @"$T/auth2"
expect "the old access token keeps working until its expiry" '[ $CODE = 200 ]'
sleep 2.2
call POST /oauth/token -H @"$T/basic" --data @"$T/form_rt2"
expect "after the grace the old refresh token is invalid_grant" \
    '[ $CODE = 400 ] && has "{\"error\":\"invalid_grant\"," &&
     has "\"error_description\":\"Invalid or expired token\"}"'
form_refresh "$T/rt2b" "$T/form_rt2b"
call POST /oauth/token -H @"$T/basic" --data @"$T/form_rt2b"
expect "the rotated refresh token refreshes again, to another pair" \
    '[ $CODE = 200 ] && ! has "$(cat "$T/at2b")"'
sleep 2.0
get "$(hist 5)" -H @"$T/auth2b"
expect "a refreshed access token expires after --access-ttl-s" \
    '[ $CODE = 401 ]'
printf 'rt_%s' 0123456789abcdef0123456789abcdef > "$T/rt_never"
form_refresh "$T/rt_never" "$T/form_never"
call POST /oauth/token -H @"$T/basic" --data @"$T/form_never"
expect "a refresh token never issued is 400 invalid_grant, not a 500" \
    '[ $CODE = 400 ] && has "{\"error\":\"invalid_grant\","'
printf 'grant_type=password' > "$T/form_pw"
call POST /oauth/token -H @"$T/basic" --data @"$T/form_pw"
expect "an unknown grant is unsupported_grant_type" \
    '[ $CODE = 400 ] && has unsupported_grant_type'

# --- client credentials and v3 --------------------------------------------
printf 'grant_type=client_credentials&client_id=%s&client_secret=%s' \
    "$SMARTCAR_CLIENT_ID" "$SMARTCAR_CLIENT_SECRET" > "$T/form_cc"
call POST /oauth2/token --data @"$T/form_cc"
field access_token > "$T/v3tok"
expect "client_credentials gives a v3 token for 3600 s, no refresh token" \
    '[ $CODE = 200 ] && grep -qE "^v3_[0-9a-f]{32}$" "$T/v3tok" &&
     has "\"expires_in\":3600}" && ! has refresh_token'
bearer_file "$T/v3tok" "$T/authv3"
V3_FIRST='{"values":[{"id":2001,"time":"2024-08-01T14:00:00.000Z",'
V3_FIRST+='"odometer":30000,"tasks":[{"id":"3262","description":"Oil change"}],'
V3_FIRST+='"details":[{"id":"SERVICE_LOCATION","description":"dealership"}],'
V3_FIRST+='"cost":{"amount":59,"currency":"USD"}},'
get "/v3/vehicles/${V}2/signals/service-records" -H @"$T/authv3" \
    -H 'sc-user-id: user-0001'
expect "v3 service-records has values[] in the signal shape" \
    '[ $CODE = 200 ] && starts "$V3_FIRST"'
get "/v3/vehicles/${V}2/signals/service-records" -H @"$T/authv3"
expect "v3 without sc-user-id is a v3 error envelope" \
    '[ $CODE = 400 ] &&
     starts "{\"errors\":[{\"status\":\"400\",\"type\":\"VALIDATION\""'
get "/v3/vehicles/${V}4/signals/service-records" -H @"$T/authv3" \
    -H 'sc-user-id: user-0001'
expect "v3 for another user's vehicle is 403" '[ $CODE = 403 ]'
get /v2.0/vehicles -H @"$T/authv3"
expect "a v3 token is refused on v2" '[ $CODE = 401 ]'

# --- the log and shutdown -------------------------------------------------
expect "the log has one line per request ($NREQ)" \
    '[ $(grep -c "^t_ms=" "$T/sim.log") = $NREQ ]'
expect "the log holds no token and no secret" \
    '! grep -qE "(at|rt|v3)_[0-9a-f]{32}" "$T/sim.log" &&
     ! in_log "$SMARTCAR_CLIENT_SECRET" && ! in_log "$(cat "$T/at1")"'
expect "the log records refresh results by fingerprint" \
    'in_log "grant=refresh_token result=replay" &&
     in_log "result=invalid_grant"'
stop_sim
expect "SIGTERM stops cleanly with status 0" '[ $? = 0 ]'
check "the server says it stopped" grep -q stopping "$T/sim.err"

# --- v3 vehicle object: powertrainType from the fleet's powertrain column -
mkdir -p "$T/ptfleet"
cp "$FLEET/histories.jsonl" "$T/ptfleet/"
awk -F, -v OFS=, 'NR == 1 { print $0, "powertrain"; next }
    { print $0, (NR == 2 ? "bev" : NR == 3 ? "HEV" : NR == 4 ? "" : "steam") }' \
    "$FLEET/vehicles.csv" > "$T/ptfleet/vehicles.csv"
FLEET_KEEP=$FLEET; FLEET=$T/ptfleet
start_sim || bad "the simulator starts on a fleet with a powertrain column"
FLEET=$FLEET_KEEP
call POST /oauth2/token --data @"$T/form_cc"
field access_token > "$T/v3tok"; bearer_file "$T/v3tok" "$T/authv3"
get "/v3/vehicles/${V}1" -H @"$T/authv3" -H 'sc-user-id: user-0001'
V3_VEH='{"data":{"id":"'"${V}1"'","type":"vehicle","attributes":{'
V3_VEH+='"make":"FORD","model":"UNKNOWN","year":2019,"powertrainType":"BEV",'
V3_VEH+='"mode":"simulated"},"links":{"self":"/v3/vehicles/'"${V}1"'"}}}'
expect "v3 vehicle object is JSON:API with powertrainType from the fleet" \
    '[ $CODE = 200 ] && [ "$(body)" = "$V3_VEH" ]'
get "/v3/vehicles/${V}2" -H @"$T/authv3" -H 'sc-user-id: user-0001'
expect "v3 vehicle object serves HEV" \
    '[ $CODE = 200 ] && has "\"powertrainType\":\"HEV\""'
get "/v3/vehicles/${V}3" -H @"$T/authv3" -H 'sc-user-id: user-0001'
expect "an empty powertrain cell is served as null" \
    '[ $CODE = 200 ] && has "\"powertrainType\":null"'
get "/v3/vehicles/${V}4" -H @"$T/authv3" -H 'sc-user-id: user-0002'
expect "an unknown powertrain name is served as null" \
    '[ $CODE = 200 ] && has "\"powertrainType\":null"'
get "/v3/vehicles/${V}4" -H @"$T/authv3" -H 'sc-user-id: user-0001'
expect "v3 vehicle object of another user's vehicle is 403" '[ $CODE = 403 ]'
get "/v3/vehicles/${V}1" -H @"$T/auth1"
expect "v3 vehicle object takes a vehicle access token too" \
    '[ $CODE = 200 ] && has "\"type\":\"vehicle\""'
expect "the log names the v3 vehicle path" \
    'in_log "route=vehicle_v3 path=/v3/vehicles/${V}1 "'
stop_sim
start_sim
get "/v3/vehicles/${V}1" -H @"$T/auth1"
expect "without a powertrain column powertrainType is null" \
    '[ $CODE = 200 ] && has "\"powertrainType\":null"'
stop_sim

# --- faults, one kind at a time -------------------------------------------
fault_sim() { start_sim --fault-rate 1 --fault-mix "$1=1" "${@:2}"; }

fault_sim 500
get "$(hist 1)" -H @"$T/auth1"
expect "fault 500 is SERVER:INTERNAL, RETRY_LATER" \
    '[ $CODE = 500 ] && has "\"type\":\"SERVER\",\"code\":\"INTERNAL\"" &&
     has RETRY_LATER'
get /v2.0/vehicles -H @"$T/auth1"
expect "faults spare the vehicle list" '[ $CODE = 200 ]'
stop_sim

fault_sim 502
get "$(hist 1)" -H @"$T/auth1"
expect "fault 502 is UPSTREAM:UNKNOWN_ISSUE, RETRY_LATER" \
    '[ $CODE = 502 ] && has "\"code\":\"UNKNOWN_ISSUE\"" &&
     has "\"statusCode\":502" &&
     has "\"resolution\":{\"type\":\"RETRY_LATER\"}"'
get "/v3/vehicles/${V}1/signals/service-records" -H @"$T/auth1"
expect "faults on v3 use the v3 envelope" \
    '[ $CODE = 502 ] &&
     starts "{\"errors\":[{\"status\":\"502\",\"type\":\"UPSTREAM\""'
stop_sim

fault_sim 409
get "$(hist 1)" -H @"$T/auth1"
expect "fault 409 is VEHICLE_STATE:ASLEEP" \
    '[ $CODE = 409 ] && has "\"code\":\"ASLEEP\""'
stop_sim

fault_sim v1
get "$(hist 1)" -H @"$T/auth1"
V1='{"error":"vehicle_state_error",'
V1+='"message":"Vehicle is asleep and cannot be reached.","code":"VS_000"}'
expect "fault v1 is a 409 in the v1 envelope" \
    '[ $CODE = 409 ] && [ "$(body)" = "$V1" ]'
stop_sim

fault_sim html
get "$(hist 1)" -H @"$T/auth1"
expect "fault html is a text/html 502 from a proxy" \
    '[ $CODE = 502 ] && [ "$(hdr Content-Type)" = text/html ] &&
     has "<h1>502 Bad Gateway</h1>"'
stop_sim

fault_sim cut
get "$(hist 1 start_date=2015-01-01)" -H @"$T/auth1"
expect "fault cut is a well-framed 200 whose JSON stops half-way" \
    '[ $CODE = 200 ] && [ "$(hdr Content-Length)" = $(wc -c < "$T/body") ] &&
     [ "$(tail -c1 "$T/body")" != "]" ]'
stop_sim

fault_sim badjson
get "$(hist 1)" -H @"$T/auth1"
expect "fault badjson is a 200 with a syntax error" \
    '[ $CODE = 200 ] && has "\"serviceId\"="'
stop_sim

fault_sim trunc
get "$(hist 1)" -H @"$T/auth1"
expect "fault trunc sends less than Content-Length (curl error 18)" \
    '[ $RC = 18 ]'
stop_sim

fault_sim reset
get "$(hist 1)" -H @"$T/auth1"
expect "fault reset drops the connection (curl error 56 or 52)" \
    '[ $RC = 56 ] || [ $RC = 52 ]'
stop_sim

fault_sim slow --slow-ms 1500
get "$(hist 1)" -H @"$T/auth1" -m 0.5
expect "fault slow outlasts a short client timeout" '[ $RC = 28 ]'
check "the server stops cleanly with a connection still waiting" stop_sim

fault_sim 429
get "$(hist 1)" -H @"$T/auth1"
ra=$(hdr Retry-After)
expect "fault 429 is RATE_LIMIT:VEHICLE with Retry-After 1..3" \
    '[ $CODE = 429 ] && has "\"code\":\"VEHICLE\"" && [[ "$ra" =~ ^[123]$ ]]'
get "$(hist 1)" -H @"$T/auth1"
expect "a retry before Retry-After is refused and logged early_retry=1" \
    '[ $CODE = 429 ] && in_log "attempt=2 early_retry=1"'
sleep "$ra.1"
get "$(hist 1)" -H @"$T/auth1"
expect "a retry after Retry-After is logged early_retry=0" \
    'in_log "attempt=3 early_retry=0"'
stop_sim

# --- permanent faults, determinism, limits, latency -----------------------
start_sim --permanent-fault-rate 1
codes=""
for i in 1 2 3 1 2 3; do
    get "$(hist $i)" -H @"$T/auth1"
    codes="$codes$CODE,"
done
expect "permanent faults answer 430 or 501, the same each time" \
    '[[ "$codes" =~ ^((430|501),){6}$ ]] && [ "${codes:0:12}" = "${codes:12}" ]'
get "$(hist 1)" -H @"$T/auth1"
[ "$CODE" = 430 ] && kind=BILLING || kind=COMPATIBILITY
expect "a permanent fault has its documented envelope" \
    'has "\"type\":\"$kind\""'
stop_sim

statuses() {    # the statuses of 12 history requests on a fresh server
    start_sim --fault-rate 0.5 --fault-mix 500=1,502=1,409=1 --seed "$1"
    local s=""
    for i in $(seq 12); do
        get "$(hist $((i % 3 + 1)))" -H @"$T/auth1"
        s="$s$CODE "
    done
    stop_sim
    echo "$s"
}
s1=$(statuses 7); s2=$(statuses 7); s3=$(statuses 8)
expect "the same seed gives the same faults" '[ "$s1" = "$s2" ]'
expect "another seed gives other faults" '[ "$s1" != "$s3" ]'

start_sim --vehicle-limit 2 --vehicle-window-s 2
for i in 1 2 3; do get "/v2.0/vehicles/${V}1/vin" -H @"$T/auth1"; done
expect "past --vehicle-limit a vehicle answers 429 with Retry-After 2" \
    '[ $CODE = 429 ] && [ "$(hdr Retry-After)" = 2 ] &&
     in_log "fault=vehicle_limit attempt=3 early_retry=0 retry_after=2"'
get "/v2.0/vehicles/${V}2/vin" -H @"$T/auth1"
expect "other vehicles are not limited" '[ $CODE = 200 ]'
get "/v2.0/vehicles/${V}1/vin" -H @"$T/auth1"
expect "an early retry is logged" \
    '[ $CODE = 429 ] && in_log "attempt=4 early_retry=1"'
sleep 2.1
get "/v2.0/vehicles/${V}1/vin" -H @"$T/auth1"
expect "after the window the vehicle answers again" '[ $CODE = 200 ]'
stop_sim

start_sim --rate-bucket 3 --rate-refill-per-min 0.01
for i in 1 2 3 4; do get /v2.0/vehicles -H @"$T/auth1"; done
expect "past the application bucket: 429 RATE_LIMIT:SMARTCAR_API" \
    '[ $CODE = 429 ] && has "\"code\":\"SMARTCAR_API\"" &&
     [ -z "$(hdr Retry-After)" ]'
stop_sim

start_sim --latency-ms 400 --threads 1
t0=$(date +%s%N)
pids=""
for i in $(seq 16); do
    curl -s -o /dev/null -m 5 -H @"$T/auth1" "$BASE$(hist $((i % 3 + 1)))" &
    pids="$pids $!"
done
wait $pids
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect "latency holds no thread: 16 x ~400 ms on 1 thread took ${ms} ms" \
    '[ $ms -ge 190 ] && [ $ms -lt 1500 ]'
expect "every delayed request was answered" \
    '[ $(grep -c "status=200" "$T/sim.log") = 16 ]'
stop_sim

lib_summary sim_e2e
