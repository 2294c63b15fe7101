#!/usr/bin/env bash
# End-to-end checks of the actuarial toolkit: own rating factors and
# interactions against R's figures (tests/data/actuary, simulated by
# make-ref.R), severity and pure premium columns, the rating table, the
# audit files and --sign, on the real binary.
set -u
cd "$(dirname "$0")/.."
BIN=bin/svcscore
A=tests/data/actuary
S=data/sample
. tests/lib.sh
lib_init svcscore-actuary

echo "actuary: own factors and interactions equal R"
COLS=driver_age,territory,vgroup,density,driver_age:density,driver_age:territory,territory:vgroup
SOURCE_DATE_EPOCH=1700000000 $BIN train --features $A/features.csv \
    --factors $A/factors.csv --labels $A/claims.csv --transform none \
    --columns $COLS --base territory=West --holdout 0.2 --seed 5 \
    --holdout-out "$T/holdout.txt" --design-out "$T/design.csv" \
    --out "$T/freq.json" >"$T/fit.txt" 2>"$T/err"; rc=$?
check "train with own factors and three kinds of interaction succeeds" [ $rc -eq 0 ]
check "the summary names the base and every level with its exposure" \
    grep -Eq '^  territory: base West \([0-9.]+\), East \([0-9.]+\), North' "$T/fit.txt"
check "interaction columns have R's names" \
    bash -c "grep -q '^driver_age:territorySouth ' '$T/fit.txt' && grep -q '^territoryEast:vgroupC ' '$T/fit.txt' && grep -q '^driver_age:density ' '$T/fit.txt'"
check "deviance residual quantiles are printed" grep -q '^Deviance Residuals:' "$T/fit.txt"
n_test=$(sed -n 's/^Rows: [0-9]* trained, \([0-9]*\) held out.*/\1/p' "$T/fit.txt")
check "--holdout-out lists the held-out VINs ($n_test)" \
    bash -c "[ -n '$n_test' ] && [ \$(wc -l < '$T/holdout.txt') -eq '$n_test' ] && [ '$n_test' -gt 400 ]"
check "--design-out: R's column names, y, weight, offset; a row per training row" \
    bash -c "head -1 '$T/design.csv' | grep -q '^\"(Intercept)\",\"driver_age\",.*\"territorySouth:vgroupC\",y,weight,offset$' && [ \$(( \$(wc -l < '$T/design.csv') - 1 + $n_test )) -eq 3000 ]"

# the whole book, as R fitted it
$BIN train --features $A/features.csv --factors $A/factors.csv \
    --labels $A/claims.csv --transform none --columns $COLS \
    --base territory=West --out "$T/full.json" >"$T/full.txt" 2>&1
check "intercept, deviance and AIC are R's (-0.606916, 1497.7046, 2233.0472)" \
    bash -c "grep -Eq '^\(Intercept\) +-0.606916 +0.4446 ' '$T/full.txt' && grep -q 'Residual deviance: 1497.7046' '$T/full.txt' && grep -q '^AIC: 2233.0472' '$T/full.txt'"
SOURCE_DATE_EPOCH=1800000000 $BIN train --features $A/features.csv \
    --factors $A/factors.csv --labels $A/claims.csv --transform none \
    --columns $COLS --base territory=West --out "$T/full2.json" >/dev/null 2>&1
check "the same fit on another day has the same model id" \
    bash -c "[ \"\$(grep model_id '$T/full.json')\" = \"\$(grep model_id '$T/full2.json')\" ]"
# the same factors keyed by policy_id give the same fit
awk -F, -v OFS=, 'NR == 1 {print $0, "policy_id"; next} {print $0, "P" NR}' \
    $A/features.csv > "$T/fp.csv"
awk -F, -v OFS=, 'NR == 1 {$1 = "policy_id"; print; next} {$1 = "P" NR; print}' \
    $A/factors.csv > "$T/pf.csv"
$BIN train --features "$T/fp.csv" --factors "$T/pf.csv" --labels $A/claims.csv \
    --transform none --columns $COLS --base territory=West \
    --out "$T/pol.json" >/dev/null 2>&1
check "--factors keyed by policy_id joins as by vin (same model id)" \
    bash -c "[ \"\$(grep model_id '$T/full.json')\" = \"\$(grep model_id '$T/pol.json')\" ]"
$BIN train --features $A/features.csv --labels $A/claims.csv --factors "$T/pf.csv" \
    --columns driver_age,vgroup --out "$T/x.json" >/dev/null 2>"$T/err"; rc=$?
check "a policy_id join needs a policy_id column in the features" \
    bash -c "[ $rc -eq 1 ] && grep -q 'no policy_id column' '$T/err'"
$BIN train --features $A/features.csv --labels $A/claims.csv --columns driver_age,shoe_size \
    --out "$T/x.json" >/dev/null 2>"$T/err"; rc=$?
check "an unknown column is a usage error naming it" \
    bash -c "[ $rc -eq 2 ] && grep -q \"unknown column 'shoe_size'\" '$T/err'"

echo "actuary: severity"
$BIN train --features $A/features.csv --labels $A/claims.csv --transform none \
    --family gamma --columns driver_age,territory --base territory=North \
    --out "$T/sev.json" >"$T/sev.txt" 2>&1
check "gamma severity equals R (6.58257, deviance 179.7473, AIC 5776.1883)" \
    bash -c "grep -Eq '^\(Intercept\) +6.58257 ' '$T/sev.txt' && grep -q 'Residual deviance: 179.7473' '$T/sev.txt' && grep -q '^AIC: 5776.1883' '$T/sev.txt'"
check "p-values as R prints them: <2e-16 and 6.73e-05" \
    bash -c "grep -Eq '^\(Intercept\) .* <2e-16 ' '$T/sev.txt' && grep -Eq '^driver_age .* 6.73e-05 ' '$T/sev.txt'"
check "the call names the average severity and its weights" \
    grep -q 'glm(claim_amount / claim_count ~ ., family = gamma(link = "log"), weights = claim_count)' "$T/sev.txt"

$BIN score --vehicles $S/vehicles.csv --histories $S/histories.jsonl \
    --out "$T/s0.csv" 2>/dev/null
$BIN score --vehicles $S/vehicles.csv --histories $S/histories.jsonl \
    --severity-model models/severity.json --out "$T/s1.csv" 2>"$T/err"; rc=$?
check "score --severity-model adds two columns at the end" \
    bash -c "[ $rc -eq 0 ] && head -1 '$T/s1.csv' | grep -q ',model_id,expected_severity,pure_premium_relativity$'"
check "the default scores CSV is unchanged without it" \
    bash -c "head -1 '$T/s0.csv' | grep -q ',model_id$' && [ \"\$(cut -d, -f1-7 '$T/s0.csv' | md5sum)\" = \"\$(cut -d, -f1-7 '$T/s1.csv' | md5sum)\" ]"
check "pure premium = relativity x expected severity / mean severity" \
    awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) c[$i] = i; next}
        $4 == "ok" && $(c["expected_severity"]) != "" { n++;
            if ($(c["pure_premium_relativity"]) <= 0) bad++ }
        END { exit !(n > 900 && bad == 0) }' "$T/s1.csv"

echo "actuary: own factors when scoring"
$BIN features --histories $S/histories.jsonl --as-of 2026-06-30 --out "$T/f.csv" 2>/dev/null
awk -F, 'NR == 1 {print "vin,territory"; next}
    {t = (NR % 3 == 0) ? "North" : (NR % 3 == 1) ? "South" : "East"; print $1 "," t}' \
    $S/vehicles.csv > "$T/terr.csv"
$BIN train --features "$T/f.csv" --labels $S/claims.csv --factors "$T/terr.csv" \
    --columns days_since_last_service,services_per_year,territory \
    --out "$T/own.json" >"$T/own.txt" 2>&1; rc=$?
check "train joins --factors by vin" \
    bash -c "[ $rc -eq 0 ] && grep -q '^  territory: base ' '$T/own.txt'"
$BIN score --vehicles $S/vehicles.csv --histories $S/histories.jsonl \
    --model "$T/own.json" --out "$T/o.csv" 2>"$T/err"; rc=$?
check "scoring a model with own factors without --factors is a usage error" \
    bash -c "[ $rc -eq 2 ] && grep -q 'give them with --factors' '$T/err'"
vin1=$(sed -n 2p $S/vehicles.csv | cut -d, -f1)
$BIN explain --vin "$vin1" --histories $S/histories.jsonl \
    --model "$T/own.json" >"$T/x.txt" 2>"$T/err"; rc=$?
check "explain refuses a model with own factors instead of a wrong score" \
    bash -c "[ $rc -eq 2 ] && [ ! -s '$T/x.txt' ] && grep -q 'uses own rating factors' '$T/err'"
sed '2s/,[A-Za-z]*$/,Mars/' "$T/terr.csv" > "$T/terr2.csv"
$BIN score --vehicles $S/vehicles.csv --histories $S/histories.jsonl \
    --model "$T/own.json" --factors "$T/terr2.csv" --out "$T/o.csv" 2>"$T/err"; rc=$?
check "a level not seen in training is scored at the base, warned and counted" \
    bash -c "[ $rc -eq 0 ] && grep -q '1 vehicles have a level of an own factor not seen in training' '$T/err'"
$BIN evaluate --model "$T/own.json" --features "$T/f.csv" --labels $S/claims.csv \
    --factors "$T/terr.csv" >"$T/ev.txt" 2>&1; rc=$?
check "evaluate takes --factors" bash -c "[ $rc -eq 0 ] && grep -q '^Gini' '$T/ev.txt'"

echo "actuary: rating table"
$BIN rating-table --model "$T/full.json" --out "$T/rt.csv" 2>"$T/err"; rc=$?
check "rating-table writes the header, intercept and base-risk rows" \
    bash -c "[ $rc -eq 0 ] && head -1 '$T/rt.csv' | grep -q '^input,kind,level,lower,upper,value,level_2,lower_2,upper_2,value_2,relativity,exposure$' && grep -q '^(intercept),intercept,' '$T/rt.csv' && grep -q '^(base risk),base,' '$T/rt.csv'"
check "the base level has relativity 1 and its exposure" \
    grep -Eq '^territory,level,West,,,,,,,,1,[0-9]+\.[0-9]{4}$' "$T/rt.csv"
check "ten decile bins per numeric input, a cell per level pair" \
    bash -c "[ \$(grep -c '^driver_age,bin,' '$T/rt.csv') -eq 10 ] && [ \$(grep -c '^territory:vgroup,cell,' '$T/rt.csv') -eq 12 ]"
$BIN rating-table --model models/default.json --out "$T/rt0.csv" 2>/dev/null; rc=$?
check "the shipped model has a rating table (ten bins per numeric input)" \
    bash -c "[ $rc -eq 0 ] && [ \$(grep -c ',bin,' '$T/rt0.csv') -eq \$((10 * \$(grep -c '\"kind\":.*\"numeric\"' models/default.json))) ]"

echo "actuary: signs"
$BIN train --features $A/features.csv --factors $A/factors.csv --labels $A/claims.csv \
    --transform none --columns driver_age,territory,density,driver_age:density \
    --sign density=- --out "$T/sg.json" >"$T/sg.txt" 2>&1; rc=$?
check "--sign refits without an input of the wrong sign and says so" \
    bash -c "[ $rc -eq 0 ] && grep -q 'Refitted without inputs whose sign broke --sign: density (estimate' '$T/sg.txt' && ! grep -q '^density ' '$T/sg.txt'"

lib_summary actuary
