#!/usr/bin/env bash
# The main job on the bundled sample fleet (data/sample, 1,000 synthetic
# vehicles): features and scores into out/, and a short summary.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=bin/svcscore
OUT=${DEMO_OUT:-out}
AS_OF=2026-06-30
mkdir -p "$OUT"

echo "== features of the sample fleet -> $OUT/features.csv"
$BIN features --vehicles data/sample/vehicles.csv \
    --histories data/sample/histories.jsonl --as-of $AS_OF \
    --out "$OUT/features.csv"

echo "== scores with models/default.json -> $OUT/scores.csv"
$BIN score --vehicles data/sample/vehicles.csv \
    --histories data/sample/histories.jsonl --as-of $AS_OF \
    --out "$OUT/scores.csv"

echo
echo "== summary"
# columns: 4 status, 5 score, 6 band, 8-11 reasons (no commas in the sample)
tail -n +2 "$OUT/scores.csv" | cut -d, -f4 | sort | uniq -c |
    awk '{printf "  %-28s %6d rows\n", $2, $1}'
echo "  score by band (A best .. E):"
tail -n +2 "$OUT/scores.csv" | awk -F, '$6 != "" {n[$6]++; s[$6] += $5}
    END {for (b in n) printf "    %s %5d vehicles, mean score %.0f\n", b, n[b], s[b] / n[b]}' | sort
echo "  most frequent reasons:"
tail -n +2 "$OUT/scores.csv" | cut -d, -f8-11 | tr ',' '\n' | grep -v '^$' |
    cut -d' ' -f1 | sort | uniq -c | sort -rn | head -6 |
    while read -r n code; do
        text=$(grep -m1 -o "$code [^,]*" "$OUT/scores.csv" | head -1)
        printf '    %-4s %5d vehicles  e.g. "%s"\n' "$code" "$n" "$text"
    done
echo
echo "One vehicle in detail: bin/svcscore explain --vin $(sed -n 2p "$OUT/scores.csv" | cut -d, -f1) --histories data/sample/histories.jsonl --as-of $AS_OF"
