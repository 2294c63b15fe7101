#!/usr/bin/env bash
# End-to-end tests of the reports and manifests: 'score --report' and
# 'fetch --report' (the run report, OUT.manifest.json) and 'evaluate
# --report' (the validation report).  The figures in the pages and the
# manifests are compared with the CSV's own counts; every page is rendered
# in headless Chromium with its proxy pointed at the simulator, whose log
# must stay empty (the page asks for nothing), and is checked to hold no
# http(s) address, src or href at all.  Without Chromium the rendering
# checks print one "skipped" line.
set -u
cd "$(dirname "$0")/.."
BIN=bin/svcscore
. tests/lib.sh
lib_init svcscore-report

export SMARTCAR_CLIENT_ID=e2e-client SMARTCAR_CLIENT_SECRET=e2e-secret-77ab01
$BIN synth --vehicles 400 --seed 31 --out "$T/fleet" 2>/dev/null

# A vehicle list whose file name and one VIN are markup.
H="$T/fleet<script>alert(1)<"
H=${H%<}
cp "$T/fleet/vehicles.csv" "$H.csv"
sed -i '3s/^[^,]*/<script>alert(2)<\/script>/' "$H.csv"

# count_status CSV STATUS: rows of the scores CSV with that status
count_status() { tail -n +2 "$1" | cut -d, -f4 | grep -cxF "$2"; }
# mnum MANIFEST KEY: a top-level number of the manifest
mnum() { grep -o "\"$2\":[0-9.]*" "$1" | head -1 | cut -d: -f2; }
# cell PAGE LABEL: the figure of a table row <td>LABEL</td><td class="n">N
cell() { grep -o "<td>$2</td><td class=\"n\">[0-9.]*" "$1" | head -1 |
         sed 's/.*>//'; }
# part FILE START END: the text from the first START to the END after it
part() { awk -v a="$2" -v b="$3" 'BEGIN { RS = "^$" } {
             i = index($0, a); if (!i) exit; r = substr($0, i)
             j = index(r, b); print (j ? substr(r, 1, j + length(b) - 1) : r) }' "$1"; }
section() { part "$1" "<section id=\"$2\">" "</section>"; }
figure() { part "$1" "id=\"$2\"" "</figure>"; }
offline() {   # offline PAGE: no address, source or link to anything
    ! grep -qiE 'https?:|src=|href=|url\(|@import' "$1"
}

echo "report: score --report and the manifest"
$BIN score --vehicles "$H.csv" --histories "$T/fleet/histories.jsonl" \
    --as-of 2026-06-30 --out "$T/s.csv" --report "$T/run.html" \
    --max-error-rate 1 2>"$T/err"; rc=$?
check "score --report writes the page and the manifest" \
    bash -c "[ $rc -eq 0 ] && [ -s '$T/run.html' ] && [ -s '$T/s.csv.manifest.json' ]"
check "stderr says where the report is" grep -q "report written to $T/run.html" "$T/err"
M="$T/s.csv.manifest.json"
rows=$(( $(wc -l < "$T/s.csv") - 1 ))
ok_n=$(count_status "$T/s.csv" ok)
nh_n=$(count_status "$T/s.csv" no_history)
err_n=$(tail -n +2 "$T/s.csv" | cut -d, -f4 | grep -c '^error:')
expect "manifest rows, ok, no_history, errors = the CSV's ($rows, $ok_n, $nh_n, $err_n)" \
    '[ "$(mnum "$M" rows)" = "$rows" ] && [ "$(mnum "$M" ok)" = "$ok_n" ] &&
     [ "$(mnum "$M" no_history)" = "$nh_n" ] && [ "$(mnum "$M" errors)" = "$err_n" ]'
expect "the hostile VIN is an error row, counted by its status" \
    '[ "$err_n" -ge 1 ] && st=$(sed -n 3p "$T/s.csv" | cut -d, -f4) &&
     grep -q "\"$st\":1" "$M"'
expect "manifest: model id, exit code, input fingerprints of the content" \
    'grep -q "\"model_id\":\"$(sed -n 2p "$T/s.csv" | awk -F, "{print \$NF}")\"" "$M" &&
     [ "$(mnum "$M" exit_code)" = 0 ] &&
     [ $(grep -o "\"fingerprint_of\":\"content\"" "$M" | wc -l) -eq 3 ]'
expect "page: rows by status equal the CSV's" \
    '[ "$(cell "$T/run.html" ok)" = "$ok_n" ] &&
     [ "$(cell "$T/run.html" no_history)" = "$nh_n" ]'
bands_ok=1
for b in A B C D E; do
    n=$(tail -n +2 "$T/s.csv" | awk -F, -v b=$b '$6 == b' | wc -l)
    [ "$(section "$T/run.html" bands | cell /dev/stdin "$b")" = "$n" ] || bands_ok=0
    grep -q "\"$b\":$n[,}]" "$M" || bands_ok=0
done
check "page and manifest: vehicles per band equal the CSV's" [ "$bands_ok" -eq 1 ]
fig=$(figure "$T/run.html" chart-bands)
expect "band chart: axes and one bar per band" \
    '[ $(grep -o "class=\"bar s0\"" <<<"$fig" | wc -l) -eq 5 ] &&
     grep -q "class=\"axis-x\"" <<<"$fig" && grep -q "class=\"axis-y\"" <<<"$fig"' 
want_a=$(awk '/"band":[[:space:]]*"A"/ { a = 1 } a && /"share"/ { printf "%.1f%%", $2 * 100; exit }' models/default.json)
expect "band chart: the model's expected share beside each band (A: $want_a)" \
    '[ $(grep -o "class=\"bar s1\"" <<<"$fig" | wc -l) -eq 5 ] && [ -n "$want_a" ] &&
     section "$T/run.html" bands | grep -q "<td>A</td><td class=\"n\">[0-9]*</td><td class=\"n\">[0-9.]*%</td><td class=\"n\">$want_a<" &&
     ! section "$T/run.html" bands | grep -q "not recorded"'
hist_sum=$(part "$T/run.html" '<table class="scores">' '</table>' |
           grep -o '<td class="n">[0-9]*</td><td class="n">[0-9.]*%' |
           sed 's/<td class="n">\([0-9]*\).*/\1/' | awk '{s += $1} END {print s}')
check "histogram table: the score ranges add up to the ok rows ($hist_sum)" \
    [ "$hist_sum" = "$ok_n" ]
check "the hostile file name and VIN are escaped, never markup" bash -c "
    ! grep -q '<script' '$T/run.html' && grep -q 'fleet&lt;script&gt;alert(1)' '$T/run.html'"
check "the page holds no http(s) address, src, href or import" offline "$T/run.html"

strip_times() { sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z//g; s#<dd>[0-9.]+ s</dd>##' "$1"; }
for j in 1 3; do
    $BIN score --vehicles "$H.csv" --histories "$T/fleet/histories.jsonl" \
        --as-of 2026-06-30 --jobs $j --out "$T/sj.csv" --report "$T/j$j.html" \
        --max-error-rate 1 2>/dev/null
done
check "the page is the same for --jobs 1 and --jobs 3 (but its times)" \
    cmp -s <(strip_times "$T/j1.html") <(strip_times "$T/j3.html")

echo "report: the manifest is only for file outputs"
$BIN score --histories "$T/fleet/histories.jsonl" --as-of 2026-06-30 \
    --out - --report "$T/stdout.html" >"$T/stdout.csv" 2>/dev/null; rc=$?
check "--out -: a report, no manifest anywhere" bash -c "
    [ $rc -eq 0 ] && [ -s '$T/stdout.html' ] && [ ! -e ./-.manifest.json ] &&
    [ \$(ls '$T' | grep -c 'stdout.*manifest') -eq 0 ]"

echo "report: fetch --report (the API's traffic)"
sim_start "$T/fleet" --now 2026-07-01T00:00:00Z --rate-bucket 0 \
    --fault-rate 0.1 --latency-ms 1 --seed 5
export SMARTCAR_AUTH_ORIGIN=$SIM_ORIGIN
$BIN fetch --vehicles "$T/fleet/vehicles.csv" --api "$SIM_ORIGIN" \
    --token-store "$T/tok.jsonl" --out "$T/b.jsonl" --report "$T/fetch.html" \
    --max-error-rate 1 2>"$T/ferr"; rc=$?
sim_stop
FM="$T/b.jsonl.manifest.json"
req=$(grep -o '[0-9]* requests (' "$T/ferr" | head -1 | cut -d' ' -f1)
ref=$(grep -o '[0-9]* token refreshes' "$T/ferr" | head -1 | cut -d' ' -f1)
b_ok=$(grep -c '"status":"ok"' "$T/b.jsonl")
check "fetch --report writes the page and the bundle's manifest" \
    bash -c "[ $rc -eq 0 ] && [ -s '$T/fetch.html' ] && [ -s '$FM' ]"
expect "fetch manifest: rows and ok as in the bundle ($b_ok ok)" \
    '[ "$(mnum "$FM" rows)" = "$(wc -l < "$T/b.jsonl")" ] && [ "$(mnum "$FM" ok)" = "$b_ok" ]'
expect "fetch manifest and page: requests and refreshes as printed ($req, $ref)" \
    '[ -n "$req" ] && [ "$(mnum "$FM" requests)" = "$req" ] &&
     [ "$(mnum "$FM" refreshes)" = "$ref" ] &&
     [ "$(cell "$T/fetch.html" "requests sent")" = "$req" ] &&
     [ "$(cell "$T/fetch.html" "token refreshes")" = "$ref" ]'
check "the fetch page has its traffic charts" bash -c "
    grep -q 'id=\"chart-requests\"' '$T/fetch.html' && grep -q 'id=\"chart-retries\"' '$T/fetch.html'"
# a fetch long enough to draw its rate: 400 vehicles, 4 at a time, 25 ms
sim_start "$T/fleet" --now 2026-07-01T00:00:00Z --rate-bucket 0 \
    --latency-ms 25 --seed 6
export SMARTCAR_AUTH_ORIGIN=$SIM_ORIGIN
$BIN fetch --vehicles "$T/fleet/vehicles.csv" --api "$SIM_ORIGIN" \
    --token-store "$T/tok2.jsonl" --out "$T/b2.jsonl" --concurrency 4 \
    --report "$T/fetch2.html" 2>/dev/null; rc=$?
sim_stop
rate_fig=$(figure "$T/fetch2.html" chart-rate)
expect "a fetch of a few seconds draws its request rate over time" \
    '[ $rc -eq 0 ] && grep -q "class=\"line s0\"" <<<"$rate_fig" &&
     grep -q "class=\"axis-x\"" <<<"$rate_fig" &&
     grep -q "Each point is the mean rate over" "$T/fetch2.html"'
secrets="$T/secrets"
{ tail -n +2 "$T/fleet/vehicles.csv" | cut -d, -f8,9 | tr ',' '\n'
  echo "$SMARTCAR_CLIENT_SECRET"; } | sort -u | grep -v '^$' > "$secrets"
check "no token or secret in the pages or manifests" bash -c "
    ! cat '$T/fetch.html' '$FM' '$T/run.html' '$M' | grep -q -F -f '$secrets'"
check "the fetch page holds no http(s) address, src, href or import" offline "$T/fetch.html"

echo "report: evaluate --report"
$BIN features --histories "$T/fleet/histories.jsonl" --vehicles "$T/fleet/vehicles.csv" \
    --as-of 2026-06-30 --out "$T/f.csv" 2>/dev/null
$BIN train --features "$T/f.csv" --labels "$T/fleet/claims.csv" --out "$T/m2.json" \
    >/dev/null 2>&1
ev() { $BIN evaluate --features "$T/f.csv" --labels "$T/fleet/claims.csv" \
           --truth "$T/fleet/truth.csv" --compare "$T/m2.json" "$@"; }
ev --bootstrap 50 --seed 9 --report "$T/val.html" >"$T/eval.txt" 2>"$T/eerr"; rc=$?
ev --bootstrap 50 --seed 9 --json >"$T/e1.json" 2>/dev/null
ev --bootstrap 50 --seed 9 --json >"$T/e2.json" 2>/dev/null
ev --bootstrap 50 --seed 10 --json >"$T/e3.json" 2>/dev/null
check "evaluate --report writes the page" bash -c "[ $rc -eq 0 ] && [ -s '$T/val.html' ]"
charts_ok=1
for id in lorenz lift band-ae calibration double-lift; do
    grep -q "id=\"chart-$id\"" "$T/val.html" || charts_ok=0
done
[ "$(grep -o 'id="chart-oneway-' "$T/val.html" | wc -l)" -ge 5 ] || charts_ok=0
check "the validation page has every chart (one-way by each input)" [ "$charts_ok" -eq 1 ]
gini=$(grep -o '"gini":[-0-9.e]*' "$T/e1.json" | head -1 | cut -d: -f2)
expect "the page's Gini is --json's ($gini)" \
    '[ "$(cell "$T/val.html" model)" = "$(printf %.4f "$gini")" ]'
check "--json holds the charts, the comparison and the bootstrap" bash -c "
    for k in lorenz lorenz_oracle calibration oneway double_lift compare bootstrap gini_difference; do
        grep -q \"\\\"\$k\\\":\" '$T/e1.json' || exit 1; done"
check "the bootstrap is seeded: same seed same figures, another seed others" bash -c "
    cmp -s '$T/e1.json' '$T/e2.json' && ! cmp -s '$T/e1.json' '$T/e3.json'"
expect "the band A/E chart has one bar per band" \
    '[ $(figure "$T/val.html" chart-band-ae | grep -o "class=\"bar s0\"" | wc -l) -eq 5 ]' 
check "the validation page holds no http(s) address, src, href or import" offline "$T/val.html"

echo "report: the pages in headless Chromium, offline"
CHROME=$(command -v chromium || command -v chromium-browser || true)
# render PAGE: screenshot, DOM and network log of $T/PAGE.html, behind a
# proxy that goes nowhere (127.0.0.1:9)
render() {   # render PAGE [dom]
    timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu \
        --no-first-run --disable-sync --disable-extensions \
        --proxy-server=127.0.0.1:9 --log-net-log="$T/$1.net" \
        --window-size=1280,2000 --screenshot="$T/$1.png" \
        "file://$T/$1.html" >/dev/null 2>&1
    [ -z "${2:-}" ] && return
    timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu \
        --no-first-run --proxy-server=127.0.0.1:9 \
        --dump-dom "file://$T/$1.html" >"$T/$1.dom" 2>/dev/null
}
# page_urls PAGE: the URLs the network log saw, but the browser's own
# service calls (update, clock and account checks to google.com and
# googleapis.com hosts, font hosts excepted) and the file itself
page_urls() {
    grep -o '"url":"[^"]*"' "$T/$1.net" | cut -d'"' -f4 | sort -u |
        grep -vE '^https?://(clients[0-9]*|accounts)\.google\.com/' |
        grep -vE '^https?://update\.googleapis\.com/' |
        grep -v "^file://" || true
}
if [ -z "$CHROME" ]; then
    echo "  skipped: chromium is not installed (scripts/install-deps.sh installs it)"
else
    for page in run fetch val; do
        render $page
        check "$page page renders offline (a screenshot of its charts)" bash -c "
            [ \$(stat -c %s '$T/$page.png' 2>/dev/null || echo 0) -gt 20000 ]"
        urls=$(page_urls $page)
        expect "$page page asks the network for nothing${urls:+ (asked: $urls)}" \
            '[ -z "$urls" ] && [ -s "$T/$page.net" ]'
    done
    render run dom
    check "the rendered run page has its 4 charts and shows the run's counts" bash -c "
        [ \$(grep -o '<svg' '$T/run.dom' | wc -l) -eq 4 ] &&
        grep -q '<td>ok</td><td class=\"n\">$ok_n</td>' '$T/run.dom'"
    # the check above sees a page that does ask for something
    printf '<html><body><img src="http://cdn.example.invalid/x.png"></body></html>' \
        > "$T/probe.html"
    render probe
    check "a page with an outside image is caught by that check" \
        bash -c "[ -n \"\$(grep -o 'cdn.example.invalid' '$T/probe.net')\" ]"
fi

lib_summary report
