#!/usr/bin/env bash
# End-to-end tests of the svcscore binary: real files, real processes.
# Each check prints "ok" or "FAIL"; the last line counts them.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
BIN=bin/svcscore
lib_init svcscore-e2e

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
check "the failed check digit's reason is in the row's log line" \
    grep -q "row 2: vin '1HGCM82633A00435X': line 3: vin check digit is '3', expected '2'" "$T/err"
printf 'vin,policy_id\nJH4KA8260MC000001,P1\n1HGCM8263OA004352,P2\n1HGCM82633A00435,P3\n' > "$T/v.csv"
printf '{"vin":"JH4KA8260MC000001","history":[]}\n' > "$T/b.jsonl"
features --vehicles "$T/v.csv" --histories "$T/b.jsonl" --out "$T/f.csv" 2>"$T/err"; rc=$?
check "a failed check digit outside North America is scored, with a logged warning" \
    bash -c "grep -q '^JH4KA8260MC000001,,no_history' '$T/f.csv' && grep -q \"line 2: vin check digit is '0', expected 'X' (not binding outside North America)\" '$T/err'"
check "an invalid VIN's log line says why (letter O, 16 characters)" \
    bash -c "grep -q \"line 3: vin holds the letter 'O'\" '$T/err' && grep -q 'line 4: vin has 16 characters, not 17' '$T/err'"
printf 'vin,policy_id\n%s,P1\n%s,P"2\n%s,"P3\n%s,P4\n' $V $V $V $V > "$T/v.csv"
printf '{"vin":"%s","history":[]}\n' $V > "$T/b.jsonl"
features --vehicles "$T/v.csv" --histories "$T/b.jsonl" --out - >"$T/f.csv" 2>"$T/err"; rc=$?
check "a stray quote costs its row only: error:INPUT:BAD_ROW, exit 0, every row out" \
    bash -c "[ $rc -eq 0 ] && [ \$(wc -l < '$T/f.csv') -eq 5 ] && [ \"\$(cut -d, -f3 '$T/f.csv' | tr '\n' ' ')\" = 'status no_history error:INPUT:BAD_ROW error:INPUT:BAD_ROW no_history ' ]"
check "a malformed row's line and reason go to the log" \
    bash -c "grep -q \"row 2: vin '$V': line 3: a quote inside an unquoted field\" '$T/err' && grep -q 'row 3: .*line 4: a quoted field is not closed' '$T/err'"
mkdir -p "$T/vdir"
features --vehicles "$T/vdir" --histories "$T/b.jsonl" --out - >"$T/f.csv" 2>"$T/err"; rc=$?
check "an unreadable vehicle list fails with exit 1 before any output" \
    bash -c "[ $rc -eq 1 ] && [ ! -s '$T/f.csv' ] && grep -q 'cannot read' '$T/err'"
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

# outputs that are not regular files are written, never replaced
printf '{"vin":"%s","history":[]}\n' $V > "$T/b.jsonl"
features --histories "$T/b.jsonl" --out "$T/plain.csv" 2>/dev/null
dev=; for d in /dev/null /dev/zero; do [ -c "$d" ] && { dev=$d; break; }; done
before=$(stat -c '%F %t:%T %i' "$dev" 2>/dev/null)
$BIN score --histories "$T/b.jsonl" --as-of 2024-01-01 --out "$dev" 2>/dev/null; rc=$?
check "score --out $dev writes the device and leaves it a character device" \
    bash -c "[ -n '$dev' ] && [ $rc -eq 0 ] && [ \"\$(stat -c '%F %t:%T %i' '$dev')\" = '$before' ]"
features --histories "$T/b.jsonl" --out "$dev" 2>/dev/null; rc=$?
check "features --out $dev leaves it a character device" \
    bash -c "[ $rc -eq 0 ] && [ \"\$(stat -c '%F %t:%T %i' '$dev')\" = '$before' ]"
mkfifo "$T/fifo"
{ timeout 20 cat "$T/fifo" > "$T/from-fifo.csv"; } &
reader=$!
timeout 20 $BIN features --histories "$T/b.jsonl" --as-of 2024-01-01 --jobs 2 --out "$T/fifo" 2>/dev/null; rc=$?
wait $reader
check "--out a FIFO streams to its reader; the FIFO stays a FIFO" \
    bash -c "[ $rc -eq 0 ] && [ -p '$T/fifo' ] && cmp -s '$T/from-fifo.csv' '$T/plain.csv'"
echo old > "$T/target.csv"; ln -s target.csv "$T/link.csv"
features --histories "$T/b.jsonl" --out "$T/link.csv" 2>/dev/null; rc=$?
check "--out a symlink replaces the file it points to; the link stays" \
    bash -c "[ $rc -eq 0 ] && [ -L '$T/link.csv' ] && cmp -s '$T/target.csv' '$T/plain.csv'"

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

echo "e2e: claims labels (one loader for train and evaluate)"
bad_labels() {   # name, the labels' last row, text the error must hold
    { head -3 "$M/fleet/claims.csv"; echo "$2"; } > "$M/bad-claims.csv"
    $BIN train --features "$M/features.csv" --labels "$M/bad-claims.csv" \
        --out "$M/bad-model.json" >/dev/null 2>"$M/err-train"; local rt=$?
    $BIN evaluate --model "$M/model.json" --features "$M/features.csv" \
        --labels "$M/bad-claims.csv" >/dev/null 2>"$M/err-eval"; local re=$?
    if [ $rt -eq 1 ] && [ $re -eq 1 ] && grep -q "bad-claims.csv:4: $3" "$M/err-train" &&
       [ "$(sed 's/^.*svcscore: error: //' "$M/err-train")" = "$(sed 's/^.*svcscore: error: //' "$M/err-eval")" ]; then
        ok "$1: train and evaluate refuse it with the same file:line message"
    else
        bad "$1 (train $rt: $(head -c 160 "$M/err-train"); evaluate $re: $(head -c 160 "$M/err-eval"))"
    fi
}
v1=$(sed -n 2p "$M/fleet/claims.csv" | cut -d, -f1)
bad_labels "a VIN of 18 characters" "${v1}9,1,1" "vin '${v1}9' is not a VIN: vin has 18 characters"
bad_labels "a zero exposure" "$v1,1,0" "vin '$v1': exposure_years must be a number > 0, not '0'"
bad_labels "a VIN given twice" "$v1,0,1" "vin '$v1' appears twice (first on line 2)"
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
       grep -q "^[0-9T:.Z-]* svcscore: error: .*$3" "$M/err" && [ ! -e "$M/bad.csv" ]; then
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
bad_model "a zero scale" '0,/"scale":/s/"scale":[^,}]*/"scale": 0/' "transform.scale' must be positive"
bad_model "score.min 0" 's/"min":[[:space:]]*1,/"min": 0,/' "'score.min' is 0, outside 1..999"
bad_model "score.max 1000" 's/"max":[[:space:]]*999/"max": 1000/' "'score.max' is 1000, outside 1..999"
bad_model "band A's cut point at score.min" '0,/"min_score":/s/"min_score":[^,}]*/"min_score": 1/' \
    "'bands\[0\].min_score' (1) is outside score.min+1..score.max"
bad_model "an edited coefficient" '0,/"estimate":/s/"estimate":[^,]*/"estimate": 0.5/' \
    "model_id m-[0-9a-f]\{16\} does not match the content (m-[0-9a-f]\{16\})"
bad_model "poisson with the identity link" 's/"link":[[:space:]]*"log"/"link": "identity"/' \
    "unsupported family 'poisson' with link 'identity'"
bad_model "not JSON" 's/^}$/}}/' 'is not JSON'
# the intercept edited (a higher frequency for every vehicle), id kept
sed -E '0,/"estimate":/s/"estimate":[^,]*/"estimate": 0.5/' "$M/model.json" > "$M/edited.json"
$BIN score --model "$M/edited.json" --vehicles "$M/fleet/vehicles.csv" \
    --histories "$M/fleet/histories.jsonl" --as-of 2026-06-30 --out "$M/bad.csv" 2>"$M/err"; rc=$?
check "svcscore score --model edited.json: exit 1, one line" \
    bash -c "[ $rc -eq 1 ] && [ \$(wc -l < '$M/err') -eq 1 ] && grep -q 'does not match the content' '$M/err'"
# the same model re-indented (spaces for tabs, one field a line less) and
# with its provenance changed: accepted, the rows carry the same id
sed -E 's/\t/  /g; s/"trained_at":[[:space:]]*"[^"]*"/"trained_at": "2031-01-01T00:00:00Z"/' \
    "$M/model.json" | tr -d '\n' > "$M/reindented.json"
score_with "$M/reindented.json" 1 "$M/s-re.csv" 2>"$M/err"; rc=$?
check "a re-indented model with another date keeps its id" \
    bash -c "[ $rc -eq 0 ] && ! cmp -s '$M/model.json' '$M/reindented.json' && cmp -s '$M/s1.csv' '$M/s-re.csv'"
score_with "$M/none.json" 1 "$M/bad.csv" 2>"$M/err"; rc=$?
check "a missing model file: exit 1, one line naming it" \
    bash -c "[ $rc -eq 1 ] && [ \$(wc -l < '$M/err') -eq 1 ] && grep -q \"cannot open model '$M/none.json'\" '$M/err'"
sed -E 's/"format":[[:space:]]*1,/"format": 2,/' "$M/model.json" > "$M/bad.json"
$BIN evaluate --model "$M/bad.json" --features "$M/features.csv" \
    --labels "$M/fleet/claims.csv" >/dev/null 2>"$M/err"; rc=$?
check "evaluate refuses a bad model the same way" \
    bash -c "[ $rc -eq 1 ] && [ \$(wc -l < '$M/err') -eq 1 ] && grep -q 'format version 2' '$M/err'"

shipped=$(grep -o '"model_id":[[:space:]]*"m-[0-9a-f]*"' models/default.json | grep -o 'm-[0-9a-f]*')
check "the model card quotes the shipped model's id" grep -q "\`$shipped\`" models/README.md

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

echo "e2e: gzip bundles"
gzip -c data/sample/histories.jsonl > "$T/h.jsonl.gz"
cp "$T/h.jsonl.gz" "$T/h-named-plain.jsonl"
$BIN score --histories data/sample/histories.jsonl --as-of 2026-06-30 --out "$T/gz-plain.csv" 2>/dev/null
$BIN score --histories "$T/h.jsonl.gz" --as-of 2026-06-30 --out "$T/gz-gz.csv" 2>"$T/err"; rc=$?
check "score of a .jsonl.gz bundle is byte-identical to the plain bundle's" \
    bash -c "[ $rc -eq 0 ] && [ \$(wc -l < '$T/gz-gz.csv') -eq 1001 ] && cmp -s '$T/gz-plain.csv' '$T/gz-gz.csv'"
$BIN score --vehicles data/sample/vehicles.csv --histories "$T/h.jsonl.gz" \
    --as-of 2026-06-30 --out "$T/gz-list.csv" 2>/dev/null; rc=$?
check "score --vehicles with a gzip bundle (looked up by VIN) is byte-identical" \
    bash -c "[ $rc -eq 0 ] && cmp -s '$T/gz-list.csv' '$T/sample-scores.csv'"
$BIN score --histories "$T/h-named-plain.jsonl" --as-of 2026-06-30 --out "$T/gz-magic.csv" 2>/dev/null
check "gzip is found by its magic bytes, not the name" cmp -s "$T/gz-magic.csv" "$T/gz-plain.csv"
$BIN features --histories - --as-of 2026-06-30 --out "$T/gz-stdin.csv" < "$T/h.jsonl.gz" 2>/dev/null
$BIN features --histories data/sample/histories.jsonl --as-of 2026-06-30 --out "$T/f-plain.csv" 2>/dev/null
check "features of a gzip bundle on stdin match the plain bundle's" cmp -s "$T/gz-stdin.csv" "$T/f-plain.csv"
$BIN explain --vin "$vin" --histories "$T/h.jsonl.gz" --as-of 2026-06-30 > "$T/explain-gz.txt" 2>&1
check "explain reads a gzip bundle and gives the same account" cmp -s "$T/explain-gz.txt" "$T/explain.txt"
head -c 30000 "$T/h.jsonl.gz" > "$T/cut.jsonl.gz"
$BIN score --histories "$T/cut.jsonl.gz" --as-of 2026-06-30 --out "$T/cut.csv" 2>"$T/err"; rc=$?
check "a truncated gzip bundle fails with exit 1 and no output" \
    bash -c "[ $rc -eq 1 ] && grep -q 'ends early' '$T/err' && [ ! -e '$T/cut.csv' ]"
$BIN score --vehicles data/sample/vehicles.csv --histories "$T/cut.jsonl.gz" \
    --as-of 2026-06-30 --out "$T/cut.csv" 2>"$T/err"; rc=$?
check "the same with a vehicle list" \
    bash -c "[ $rc -eq 1 ] && grep -q 'ends early' '$T/err' && [ ! -e '$T/cut.csv' ]"

echo "e2e: spreadsheet guard"
printf 'vin,policy_id,vehicle_id\n%s,-0042,"=HYPERLINK(""x"")"\n%s,+1.5,@SUM(A1)\n' $V $V > "$T/g.csv"
printf '{"vin":"%s","history":[]}\n' $V > "$T/g.jsonl"
$BIN score --vehicles "$T/g.csv" --histories "$T/g.jsonl" --as-of 2024-01-01 --out "$T/g-on.csv" 2>/dev/null
check "a numeric policy_id (-0042, +1.5) is written as it is" \
    bash -c "[ \"\$(sed -n 2p '$T/g-on.csv' | cut -d, -f3)\" = -0042 ] && [ \"\$(sed -n 3p '$T/g-on.csv' | cut -d, -f3)\" = +1.5 ]"
check "a formula field gets a leading quote by default" \
    bash -c "sed -n 2p '$T/g-on.csv' | grep -q \"^$V,\\\"'=HYPERLINK(\\\"\\\"x\\\"\\\")\\\",\" && sed -n 3p '$T/g-on.csv' | grep -q \"^$V,'@SUM(A1),\""
$BIN score --vehicles "$T/g.csv" --histories "$T/g.jsonl" --as-of 2024-01-01 --csv-guard off --out "$T/g-off.csv" 2>/dev/null
check "score --csv-guard off writes every field as it is" \
    bash -c "sed -n 2p '$T/g-off.csv' | grep -q \"^$V,\\\"=HYPERLINK(\\\"\\\"x\\\"\\\")\\\",-0042,\" && sed -n 3p '$T/g-off.csv' | grep -q \"^$V,@SUM(A1),+1.5,\""
features --vehicles "$T/g.csv" --histories "$T/g.jsonl" --csv-guard off --out "$T/gf-off.csv" 2>/dev/null
features --vehicles "$T/g.csv" --histories "$T/g.jsonl" --out "$T/gf-on.csv" 2>/dev/null
check "features --csv-guard on|off" \
    bash -c "sed -n 3p '$T/gf-off.csv' | grep -q '^$V,@SUM(A1),' && sed -n 3p '$T/gf-on.csv' | grep -q \"^$V,'@SUM(A1),\""
$BIN score --histories "$T/g.jsonl" --csv-guard maybe --out "$T/g-bad.csv" 2>"$T/err"; rc=$?
check "--csv-guard takes on or off (exit 2)" \
    bash -c "[ $rc -eq 2 ] && grep -q -- '--csv-guard takes on or off' '$T/err' && [ ! -e '$T/g-bad.csv' ]"

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

lib_summary e2e
