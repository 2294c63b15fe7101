#!/usr/bin/env bash
# End-to-end tests of the svcscore binary: real files, real processes.
# Each check prints "ok" or "FAIL"; the last line counts them.
set -u
cd "$(dirname "$0")/.."
BIN=bin/svcscore
T=$(mktemp -d "${TMPDIR:-/tmp}/svcscore-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok()   { pass=$((pass + 1)); echo "  ok    $1"; }
bad()  { fail=$((fail + 1)); echo "  FAIL  $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

# status of the single data row of a features run on one bundle line
row_status() { cut -d, -f3 <<<"$(sed -n 2p "$1")"; }
export -f row_status
features() { $BIN features --as-of 2024-01-01 --jobs 2 "$@"; }

echo "e2e: command line"
check "version names the libraries" \
    bash -c "$BIN --version | grep -q 'cJSON' && $BIN --version | grep -q GSL"
$BIN nosuch 2>"$T/err"; rc=$?
check "unknown command is a usage error (exit 2)" \
    bash -c "[ $rc -eq 2 ] && grep -q \"unknown command 'nosuch'\" '$T/err'"
$BIN features --jobs 0 --histories x 2>"$T/err"; rc=$?
check "bad --jobs is a usage error" bash -c "[ $rc -eq 2 ] && grep -q -- '--jobs' '$T/err'"
$BIN features --histories /no/such/file --out "$T/o.csv" 2>"$T/err"; rc=$?
check "missing histories file fails with exit 1 and no output" \
    bash -c "[ $rc -eq 1 ] && grep -q \"cannot open '/no/such/file'\" '$T/err' && [ ! -e '$T/o.csv' ]"

echo "e2e: bad input in a bundle (each line its own vehicle)"
V=1HGCM82633A004352
line() { printf '{"vin":"%s","history":%s}\n' "$V" "$1"; }
expect_status() {   # name, expected status, history JSON
    line "$3" > "$T/b.jsonl"
    features --histories "$T/b.jsonl" --out "$T/f.csv" 2>"$T/err"
    local got; got=$(row_status "$T/f.csv")
    if [ "$got" = "$2" ]; then ok "$1 -> $2"; else bad "$1 -> $2 (got '$got')"; fi
}
expect_status "object where the array belongs" error:PARSE '{"records":1}'
expect_status "a string as history" error:PARSE '"none"'
expect_status "an empty array" no_history '[]'
expect_status "nulls everywhere" ok '[{"serviceId":null,"serviceDate":null,"odometerDistance":null,"serviceTasks":null,"serviceDetails":null,"serviceCost":null}]'
expect_status "strings for numbers and numbers for strings" ok '[{"serviceDate":20230101,"odometerDistance":"12000","serviceCost":{"totalCost":"80","currency":840}}]'
expect_status "negative and 1e300 odometers" ok '[{"odometerDistance":-5},{"odometerDistance":1e300}]'
expect_status "impossible dates and years 1900, 2200" ok '[{"serviceDate":"2023-13-45"},{"serviceDate":"1900-01-01"},{"serviceDate":"2200-06-01"}]'
check "dropped dates are logged with the first reason" \
    grep -q "3 fields and 0 records dropped (first: record 1: date: impossible date: '2023-13-45')" "$T/err"
expect_status "duplicate records" ok '[{"serviceDate":"2023-01-01","odometerDistance":5},{"serviceDate":"2023-01-01","odometerDistance":5}]'

printf '{"vin":"%s","history":[NaN]}\n{"vin":"%s","history":[Infinity]}\n' $V $V > "$T/b.jsonl"
features --histories "$T/b.jsonl" --out "$T/f.csv" 2>"$T/err"
check "NaN and Infinity literals -> error:PARSE with the byte offset logged" \
    bash -c "[ \$(grep -c ',error:PARSE,' '$T/f.csv') -eq 2 ] && grep -q 'invalid JSON at byte' '$T/err'"

printf '{"vin":"%s","history":[{"serviceDate":"2023-01\n' $V > "$T/b.jsonl"
features --histories "$T/b.jsonl" --out "$T/f.csv" 2>"$T/err"
check "a truncated line -> error:PARSE naming the VIN" \
    bash -c "[ \"\$(row_status '$T/f.csv')\" = error:PARSE ] && grep -q \"vin '$V'\" '$T/err'" 

{ printf '{"vin":"%s","history":' $V; head -c 100000 /dev/zero | tr '\0' '['; head -c 100000 /dev/zero | tr '\0' ']'; printf '}\n'; } > "$T/b.jsonl"
features --histories "$T/b.jsonl" --out "$T/f.csv" 2>"$T/err"; rc=$?
check "100,000 levels of nested arrays -> error:PARSE, exit 0" \
    bash -c "[ $rc -eq 0 ] && [ \"\$(sed -n 2p '$T/f.csv' | cut -d, -f3)\" = error:PARSE ]"

{ printf '{"vin":"%s","history":[' $V; for i in $(seq 1 1000); do printf '{},{},{},{},{},{},{},{},{},{},'; done; printf '{}]}\n'; } > "$T/b.jsonl"
features --histories "$T/b.jsonl" --out "$T/f.csv" --max-records 10000 2>"$T/err"
check "10,001 records over a 10,000 cap -> error:LIMIT" \
    bash -c "[ \"\$(row_status '$T/f.csv')\" = error:LIMIT ] && grep -q 'above the cap' '$T/err'"

python_free_big() { printf '{"vin":"%s","history":[' $V; for i in $(seq 1 2000); do printf '{"serviceTasks":[{"taskDescription":"%0500d"}]},' 0; done; printf '{}]}\n'; }
python_free_big > "$T/b.jsonl"
features --histories "$T/b.jsonl" --out "$T/f.csv" --max-body 65536 2>"$T/err"
check "a line over the body cap -> error:LIMIT" \
    bash -c "[ \"\$(row_status '$T/f.csv')\" = error:LIMIT ]"

printf '{"vin":"%s","history":[{"serviceTasks":[{"taskDescription":"Oil \xc3\x28 change \xff"}],"serviceId":"\xfe\xfe"}]}\n' $V > "$T/b.jsonl"
expect_utf8=$(features --histories "$T/b.jsonl" --out - 2>/dev/null | sed -n 2p | cut -d, -f3)
check "invalid UTF-8 inside strings is harmless" [ "$expect_utf8" = ok ]

printf '\xef\xbb\xbf{"vin":"%s","history":[]}\r\n\r\n\n   \n{"vin":"%s","history":[]}\r\n' $V $V > "$T/b.jsonl"
features --histories "$T/b.jsonl" --out "$T/f.csv" 2>"$T/err"
check "BOM, CRLF and blank lines: two rows, blank lines counted" \
    bash -c "[ \$(grep -c ',no_history,' '$T/f.csv') -eq 2 ] && grep -q '3 blank lines skipped' '$T/err'"

: > "$T/empty.jsonl"
features --histories "$T/empty.jsonl" --out "$T/f.csv" 2>"$T/err"; rc=$?
check "an empty bundle gives a header and no rows" \
    bash -c "[ $rc -eq 0 ] && [ \$(wc -l < '$T/f.csv') -eq 1 ]"

printf 'not json at all\n' > "$T/b.jsonl"
features --histories "$T/b.jsonl" --out "$T/f.csv" 2>"$T/err"
check "a line that is not JSON -> error:PARSE, byte 0" \
    bash -c "[ \"\$(row_status '$T/f.csv')\" = error:PARSE ] && grep -q 'byte 0' '$T/err'"

echo "e2e: vehicle lists"
printf 'VIN,policy_id\n 1hgcm82633a004352 ,P1\n1HGCM82633A00435X,P2\n1HG CM826 33A004352,P3\n' > "$T/v.csv"
printf '{"vin":"%s","history":[]}\n' $V > "$T/b.jsonl"
features --vehicles "$T/v.csv" --histories "$T/b.jsonl" --out "$T/f.csv" 2>"$T/err"; rc=$?
check "lower-case VINs and VINs with spaces are normalised" \
    bash -c "[ \$(grep -c '^1HGCM82633A004352,,no_history' '$T/f.csv') -eq 2 ]"
check "a bad check digit -> error:INPUT:INVALID_VIN, run goes on" \
    bash -c "[ $rc -eq 0 ] && grep -q '^1HGCM82633A00435X,,error:INPUT:INVALID_VIN' '$T/f.csv'"
printf 'policy_id,vehicle_id\nP1,v1\n' > "$T/v.csv"
features --vehicles "$T/v.csv" --histories "$T/b.jsonl" --out "$T/f.csv" 2>"$T/err"; rc=$?
check "a vehicle list without a vin column fails with exit 1" \
    bash -c "[ $rc -eq 1 ] && grep -q \"no 'vin' column\" '$T/err'"
features --vehicles "$T/none.csv" --histories "$T/b.jsonl" --out "$T/f.csv" 2>"$T/err"; rc=$?
check "a missing vehicle list fails with exit 1" \
    bash -c "[ $rc -eq 1 ] && grep -q 'cannot open' '$T/err'"

echo "e2e: determinism and atomic output"
if [ -f data/sample/histories.jsonl ]; then
    for j in 1 2 4; do
        $BIN features --histories data/sample/histories.jsonl --as-of 2026-06-30 \
            --jobs $j --out "$T/s$j.csv" 2>/dev/null
    done
    check "features of the sample are byte-identical for --jobs 1, 2, 4" \
        bash -c "cmp -s '$T/s1.csv' '$T/s2.csv' && cmp -s '$T/s1.csv' '$T/s4.csv'"
    check "one row per sample vehicle" \
        bash -c "[ \$(( \$(wc -l < '$T/s1.csv') - 1 )) -eq \$(grep -c . data/sample/histories.jsonl) ]"
fi
echo old > "$T/keep.csv"
features --histories /no/such --out "$T/keep.csv" 2>/dev/null
check "a failed run leaves an existing output untouched" \
    bash -c "[ \"\$(cat '$T/keep.csv')\" = old ] && [ -z \"\$(ls '$T' | grep 'keep.csv.tmp')\" ]"

echo "e2e: synth"
synth_tmp="$T/synth"; mkdir -p "$synth_tmp"
check "synth --help describes the command" bash -c 'bin/svcscore synth --help | grep -q -- "--vehicles N"'
check "synth without --out is a usage error" bash -c 'bin/svcscore synth --vehicles 3 2>/dev/null; [ $? -eq 2 ]'
check "synth with a bad seed is a usage error" bash -c 'bin/svcscore synth --vehicles 3 --seed x --out "$1" 2>/dev/null; [ $? -eq 2 ]' _ "$synth_tmp/x"
check "synth with a bad date is a usage error" bash -c 'bin/svcscore synth --vehicles 3 --as-of 2026-02-30 --out "$1" 2>/dev/null; [ $? -eq 2 ]' _ "$synth_tmp/x"
check "synth into a file fails with exit 1" bash -c 'touch "$1/file"; bin/svcscore synth --vehicles 3 --out "$1/file" 2>/dev/null; [ $? -eq 1 ]' _ "$synth_tmp"
check "synth writes the same bytes twice" bash -c '
  bin/svcscore synth --vehicles 200 --seed 9 --out "$1/a" 2>/dev/null &&
  bin/svcscore synth --vehicles 200 --seed 9 --out "$1/b" 2>/dev/null &&
  diff -r "$1/a" "$1/b" >/dev/null && [ $(wc -l < "$1/a/vehicles.csv") -eq 201 ]' _ "$synth_tmp"
check "the committed sample matches scripts/make-sample.sh" bash -c '
  bin/svcscore synth --vehicles 1000 --seed 42 --out "$1/sample" 2>/dev/null &&
  diff -r "$1/sample" data/sample >/dev/null' _ "$synth_tmp"


echo "e2e: train, score and evaluate a small fleet"
M="$T/train"; mkdir -p "$M"
$BIN synth --vehicles 3000 --seed 5 --out "$M/fleet" 2>/dev/null
$BIN features --histories "$M/fleet/histories.jsonl" --vehicles "$M/fleet/vehicles.csv" \
    --as-of 2026-06-30 --out "$M/features.csv" 2>/dev/null
$BIN train --features "$M/features.csv" --labels "$M/fleet/claims.csv" \
    --out "$M/model.json" >"$M/train.txt" 2>"$M/err"; rc=$?
check "train writes a model file with an id" \
    bash -c "[ $rc -eq 0 ] && grep -q '\"model_id\":[[:space:]]*\"m-[0-9a-f]\{16\}\"' '$M/model.json'"
score_with() {  # model, jobs, out
    $BIN score --model "$1" --vehicles "$M/fleet/vehicles.csv" \
        --histories "$M/fleet/histories.jsonl" --as-of 2026-06-30 --jobs "$2" --out "$3"
}
score_with "$M/model.json" 1 "$M/s1.csv" 2>"$M/err"; rc=$?
check "score accepts the trained model: one row per vehicle" \
    bash -c "[ $rc -eq 0 ] && [ \$(wc -l < '$M/s1.csv') -eq 3001 ]"
id=$(grep -o '"model_id":[[:space:]]*"m-[0-9a-f]*"' "$M/model.json" | grep -o 'm-[0-9a-f]*')
check "scores carry the trained model's id" \
    bash -c "[ -n '$id' ] && [ \$(grep -c ',$id\$' '$M/s1.csv') -eq 3000 ]"
check "ok rows have a score in 1..999 and a band A..E" \
    bash -c "awk -F, 'NR > 1 && \$4 == \"ok\" && (\$5 < 1 || \$5 > 999 || \$6 !~ /^[A-E]\$/) { bad = 1 }
                      END { exit bad }' '$M/s1.csv'"
score_with "$M/model.json" 3 "$M/s3.csv" 2>/dev/null
check "scores are byte-identical for --jobs 1 and --jobs 3" cmp -s "$M/s1.csv" "$M/s3.csv"
$BIN evaluate --model "$M/model.json" --features "$M/features.csv" \
    --labels "$M/fleet/claims.csv" --json >"$M/eval.json" 2>"$M/err"; rc=$?
check "evaluate --json holds its figures" bash -c "[ $rc -eq 0 ] &&
    for k in n exposure actual predicted ae gini mean_poisson_deviance lift bands; do
        grep -q \"\\\"\$k\\\":\" '$M/eval.json' || exit 1; done"
check "evaluate --json is one object with balanced brackets" bash -c "
    [ \"\$(tr -d ' \t\n' < '$M/eval.json' | head -c 1)\" = '{' ] &&
    [ \"\$(tr -d ' \t\n' < '$M/eval.json' | tail -c 1)\" = '}' ] &&
    [ \$(tr -cd '{' < '$M/eval.json' | wc -c) -eq \$(tr -cd '}' < '$M/eval.json' | wc -c) ] &&
    [ \$(tr -cd '[' < '$M/eval.json' | wc -c) -eq \$(tr -cd ']' < '$M/eval.json' | wc -c) ] &&
    ! grep -qiE 'nan|inf' '$M/eval.json'"

$BIN evaluate --model "$M/model.json" --features "$M/features.csv" \
    --labels "$M/fleet/claims.csv" --truth "$M/fleet/truth.csv" >"$M/eval.txt" 2>"$M/err"; rc=$?
check "evaluate --truth lists the subgroups; under 2,000 vehicles they say so" \
    bash -c "[ $rc -eq 0 ] && grep -q '^subgroups (figures for groups of 2000 rows or more)' '$M/eval.txt' &&
        grep -qE '^history mid-life +[0-9]+  fewer than 2000 rows: not reported' '$M/eval.txt' &&
        grep -qE '^BEV +[0-9]+  fewer than 2000 rows' '$M/eval.txt'"
$BIN evaluate --model "$M/model.json" --features "$M/features.csv" --min-group 500 \
    --labels "$M/fleet/claims.csv" --truth "$M/fleet/truth.csv" >"$M/eval.txt" 2>"$M/err"; rc=$?
check "evaluate --min-group 500 gives the large subgroups figures" \
    bash -c "[ $rc -eq 0 ] && grep -qE '^history mid-life +[0-9]+ +[0-9.]+ +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+\$' '$M/eval.txt' &&
        grep -qE '^ICE +[0-9]+ +[0-9.]+ ' '$M/eval.txt'"
$BIN evaluate --model "$M/model.json" --features "$M/features.csv" --min-group 500 \
    --labels "$M/fleet/claims.csv" --json >"$M/eval.json" 2>"$M/err"; rc=$?
check "without --truth the subgroups come from the features' columns" \
    bash -c "[ $rc -eq 0 ] && grep -q '\"group\":[[:space:]]*\"history from new\"' '$M/eval.json' &&
        grep -q '\"group\":[[:space:]]*\"ICE\"' '$M/eval.json' &&
        grep -q '\"min_group\":[[:space:]]*500' '$M/eval.json'"

echo "e2e: bad model files"
bad_model() {   # name, sed expression, text the error must hold
    sed -E "$2" "$M/model.json" > "$M/bad.json"
    rm -f "$M/bad.csv"
    score_with "$M/bad.json" 1 "$M/bad.csv" 2>"$M/err"; local rc=$?
    if [ $rc -eq 1 ] && [ "$(wc -l < "$M/err")" -eq 1 ] &&
       grep -q "^svcscore: error: .*$3" "$M/err" && [ ! -e "$M/bad.csv" ]; then
        ok "$1: exit 1, one line naming it"
    else
        bad "$1 (exit $rc: $(head -c 200 "$M/err"))"
    fi
}
bad_model "format version 2" 's/"format":[[:space:]]*1,/"format": 2,/' 'format version 2'
bad_model "no portfolio" 's/"portfolio":/"portfolio_x":/' "missing 'portfolio'"
bad_model "a string coefficient" '0,/"estimate":/s/"estimate":[^,]*/"estimate": "x"/' \
    "'intercept.estimate' is not a finite number"
bad_model "an unknown feature" '0,/"name":/s/"name":[^,]*/"name": "no_such_feature"/' \
    "unknown feature 'no_such_feature'"
bad_model "a zero scale" '0,/"scale":/s/"scale":[^,}]*/"scale": 0/' 'scale must be positive'
bad_model "poisson with the identity link" 's/"link":[[:space:]]*"log"/"link": "identity"/' \
    "unsupported family 'poisson' with link 'identity'"
bad_model "not JSON" 's/^}$/}}/' 'is not JSON'
score_with "$M/none.json" 1 "$M/bad.csv" 2>"$M/err"; rc=$?
check "a missing model file: exit 1, one line naming it" \
    bash -c "[ $rc -eq 1 ] && [ \$(wc -l < '$M/err') -eq 1 ] && grep -q \"cannot open model '$M/none.json'\" '$M/err'"
sed -E 's/"format":[[:space:]]*1,/"format": 2,/' "$M/model.json" > "$M/bad.json"
$BIN evaluate --model "$M/bad.json" --features "$M/features.csv" \
    --labels "$M/fleet/claims.csv" >/dev/null 2>"$M/err"; rc=$?
check "evaluate refuses a bad model the same way" \
    bash -c "[ $rc -eq 1 ] && [ \$(wc -l < '$M/err') -eq 1 ] && grep -q 'format version 2' '$M/err'"

echo "e2e: score and explain on the sample"
$BIN score --vehicles data/sample/vehicles.csv --histories data/sample/histories.jsonl \
    --as-of 2026-06-30 --out "$T/sample-scores.csv" 2>"$T/err"; rc=$?
check "the sample scores with the shipped model: 1,000 rows, exit 0" \
    bash -c "[ $rc -eq 0 ] && [ \$(wc -l < '$T/sample-scores.csv') -eq 1001 ]"
check "every ok row has a score in 1..999 and a band A..E" \
    bash -c "awk -F, 'NR > 1 && \$4 == \"ok\" && !(\$5 >= 1 && \$5 <= 999 && \$6 ~ /^[A-E]\$/) {bad++} END {exit bad > 0}' '$T/sample-scores.csv'"
check "reasons carry a code and the vehicle's value" \
    grep -q ',R[0-9][0-9] [a-z].*[0-9]' "$T/sample-scores.csv"
vin=$(sed -n 2p "$T/sample-scores.csv" | cut -d, -f1)
$BIN explain --vin "$vin" --histories data/sample/histories.jsonl --as-of 2026-06-30 > "$T/explain.txt" 2>&1; rc=$?
score=$(sed -n 2p "$T/sample-scores.csv" | cut -d, -f5)
check "explain shows the timeline, percentiles, what is due and the same score" \
    bash -c "[ $rc -eq 0 ] && grep -q 'Service timeline' '$T/explain.txt' && grep -q ' p[0-9]' '$T/explain.txt' && grep -q 'Maintenance due' '$T/explain.txt' && grep -q 'Score $score, band' '$T/explain.txt'"
$BIN explain --vin 1HGCM82633A004352 --histories data/sample/histories.jsonl 2>"$T/err"; rc=$?
check "explain of a VIN not in the fleet fails clearly" \
    bash -c "[ $rc -eq 1 ] && grep -q 'is not in' '$T/err'"

for f in tests/*_e2e.sh; do
    [ -f "$f" ] || continue
    echo "e2e: $f"
    out=$(bash "$f" 2>&1); echo "$out" | grep -E '^\s+(ok|FAIL)'
    p=$(echo "$out" | grep -cE '^\s+ok'); q=$(echo "$out" | grep -cE '^\s+FAIL')
    pass=$((pass + p)); fail=$((fail + q))
    if ! echo "$out" | tail -1 | grep -q ' 0 failed'; then
        [ "$q" -gt 0 ] || { fail=$((fail + 1)); echo "  FAIL  $f did not finish"; }
    fi
done

echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
