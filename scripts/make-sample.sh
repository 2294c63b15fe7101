#!/usr/bin/env bash
# Regenerates the committed sample fleet in data/sample/ (1,000 synthetic
# vehicles, seed 42, as of 2026-06-30): vehicles.csv, histories.jsonl,
# claims.csv, truth.csv.  The command is exactly:
#
#   bin/svcscore synth --vehicles 1000 --seed 42 --out data/sample
#
# The output is byte-identical for the same build, so rerunning this after
# a change to the generator shows the change in 'git diff data/sample'.
# tests/e2e.sh checks that the committed files match.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x bin/svcscore ] || make --no-print-directory bin/svcscore
bin/svcscore synth --vehicles 1000 --seed 42 --out data/sample
