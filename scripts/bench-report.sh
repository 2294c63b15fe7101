#!/usr/bin/env bash
# The run report of a large run: 'score --report' on BENCH_REPORT_ROWS
# vehicles (default 1,000,000: the 1,000-vehicle sample bundle streamed
# that many times over, so no fleet is generated), against the run's own
# time.  Prints figures, asserts nothing.  Targets: written in under 5% of
# the run's time, under 2 MiB.  The rows are counted for the report and
# the manifest while they are scored (worker threads), so that part is in
# the run's time; the figure here is the writing of the page.
#   BENCH_DIR  where the scores go for the run (default: bench-data/)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=bin/svcscore
DIR=${BENCH_DIR:-bench-data}
N=${BENCH_REPORT_ROWS:-1000000}
SAMPLE=data/sample/histories.jsonl
mkdir -p "$DIR"
per=$(wc -l < "$SAMPLE")
reps=$(( (N + per - 1) / per ))
echo "== report: score --report on $((reps * per)) vehicles (issue 10 targets)"
t0=$(date +%s.%N)
$BIN score --histories <(for _ in $(seq "$reps"); do cat "$SAMPLE"; done) \
    --as-of 2026-06-30 --out "$DIR/report-bench.csv" \
    --report "$DIR/report-bench.html" 2>"$DIR/report-bench.err"
t1=$(date +%s.%N)
line=$(grep 'report written' "$DIR/report-bench.err")
bytes=$(sed 's/.*(\([0-9]*\) bytes.*/\1/' <<<"$line")
secs=$(sed 's/.* in \([0-9.]*\) s).*/\1/' <<<"$line")
run=$(echo "$t1 - $t0" | bc -l)
rows=$(( $(wc -l < "$DIR/report-bench.csv") - 1 ))
printf '  run: %d rows in %.1f s\n' "$rows" "$run"
printf '  report: written in %.3f s = %.3f%% of the run (target < 5%%)\n' \
    "$secs" "$(echo "100 * $secs / $run" | bc -l)"
printf '  report: %d bytes = %.3f MiB (target < 2 MiB)\n' \
    "$bytes" "$(echo "$bytes / 1048576" | bc -l)"
printf '  manifest: %d bytes\n' "$(wc -c < "$DIR/report-bench.csv.manifest.json")"
rm -f "$DIR/report-bench.csv"
