#!/usr/bin/env bash
# tests/logged.sh LOG COMMAND...: runs COMMAND with its output (stdout and
# stderr) both on the terminal and in LOG.log, writes its exit status to
# LOG.rc and exits with it.  The parts of 'make test' run under it so that
# tests/summary.sh can count them afterwards.
set -u
log=$1
shift
mkdir -p "$(dirname "$log")"
rm -f "$log.log" "$log.rc"
set -o pipefail
"$@" 2>&1 | tee "$log.log"
rc=${PIPESTATUS[0]}
echo "$rc" > "$log.rc"
exit "$rc"
