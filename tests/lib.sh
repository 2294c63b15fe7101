# Shared helpers of the end-to-end scripts (tests/e2e.sh, tests/sim_e2e.sh,
# tests/api_e2e.sh); source it after cd to the top of the tree:
#
#   . tests/lib.sh
#   lib_init NAME        scratch directory $T, counters, clean-up on exit
#   check TITLE CMD...   runs CMD: "ok" or "FAIL" with TITLE
#   expect TITLE EXPR    evaluates EXPR (single-quoted) at check time
#   ok TITLE / bad TITLE count one check by hand
#   sim_start FLEET ARGS... / sim_stop   bin/smartcar-sim on a free port
#   lib_summary NAME     the closing line "NAME: N passed, N failed" and
#                        the script's status (non-zero after a failure)
#
# Each check prints one line starting with two spaces and "ok" or "FAIL":
# tests/e2e.sh counts those lines of the other scripts, and tests/summary.sh
# reads the closing line.  KEEP=1 keeps $T for a look after the run.

pass=0
fail=0
SIM_PID=""

ok()  { pass=$((pass + 1)); echo "  ok    $1"; }
bad() { fail=$((fail + 1)); echo "  FAIL  $1"; }
check() {      # check TITLE COMMAND...
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
expect() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

lib_cleanup() {
    sim_stop >/dev/null 2>&1
    if [ -n "${KEEP:-}" ]; then
        echo "kept $T" >&2
    else
        rm -rf "$T"
    fi
}

lib_init() {   # lib_init NAME: $T is a new directory under $TMPDIR
    T=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 1
    trap lib_cleanup EXIT
}

# sim_start FLEET ARGS...: starts the simulator ($SMARTCAR_SIM, else
# bin/smartcar-sim) on a free port of 127.0.0.1, its stderr appended to
# $T/sim.err.  Sets SIM_PID and SIM_ORIGIN; returns 0 once it listens, 1
# when it exited or did not listen within 5 s.
sim_start() {
    local fleet=$1
    shift
    rm -f "$T/port"
    "${SMARTCAR_SIM:-bin/smartcar-sim}" --fleet "$fleet" --port 0 \
        --port-file "$T/port" "$@" 2>>"$T/sim.err" &
    SIM_PID=$!
    for _ in $(seq 100); do
        [ -s "$T/port" ] && break
        kill -0 "$SIM_PID" 2>/dev/null || break
        sleep 0.05
    done
    SIM_ORIGIN="http://127.0.0.1:$(cat "$T/port" 2>/dev/null)"
    [ -s "$T/port" ]
}

# sim_stop: SIGTERM to the running simulator, then its exit status (0 when
# none runs; the simulator exits 0 after a signal).
sim_stop() {
    [ -n "$SIM_PID" ] || return 0
    kill -TERM "$SIM_PID" 2>/dev/null
    wait "$SIM_PID"
    local rc=$?
    SIM_PID=""
    return "$rc"
}

lib_summary() {    # lib_summary NAME: the closing line and the status
    echo "$1: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
