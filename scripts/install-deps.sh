#!/bin/sh
# Installs the Debian packages svcscore needs to build, test and run.
# It only calls apt-get when a package is absent, so 'make test' and 'make
# demo' stay quick on a machine that has them; --if-missing keeps it quiet
# then.  --bench adds what 'make bench' needs (R, for the GLM baseline),
# --fuzz what 'make fuzz' needs (clang and its libFuzzer runtime).
#
# The tests also check the metrics file with promtool, Prometheus's own
# checker.  It comes with Debian's prometheus package, which would also
# install and start a Prometheus server; so, unless promtool is already on
# the PATH, only the binary is taken from the package (apt-get download,
# dpkg-deb -x) into tools/promtool, where the tests look for it.
set -eu
cd "$(dirname "$0")/.."

get_promtool() {
    command -v promtool > /dev/null && return 0
    [ -x tools/promtool ] && return 0
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/promtool.XXXXXX")
    if ! (cd "$tmp" && apt-get download prometheus > /dev/null 2>&1); then
        ${SUDO:-} apt-get update -qq || true
        (cd "$tmp" && apt-get download prometheus > /dev/null 2>&1) || {
            echo "install-deps: cannot download the prometheus package;" \
                 "the metrics are checked without promtool" >&2
            rm -rf "$tmp"
            return 0
        }
    fi
    dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
    mkdir -p tools
    cp "$tmp/x/usr/bin/promtool" tools/promtool
    rm -rf "$tmp"
    echo "install-deps: promtool taken from the prometheus package into tools/"
}

PKGS="gcc make pkg-config libcurl4-openssl-dev libcjson-dev libgsl-dev
libcsv-dev libcunit1-dev libmicrohttpd-dev zlib1g-dev libsqlite3-dev sqlite3
curl time bc"
# 'make test' renders the HTML reports in headless Chromium (tests only)
PKGS="$PKGS chromium"

# 'make bench' also wants R, for its glm() baseline
for arg in "$@"; do
    [ "$arg" = "--bench" ] && PKGS="$PKGS r-base-core"
    [ "$arg" = "--fuzz" ] && PKGS="$PKGS clang libclang-rt-dev"
done

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'
    then
        missing="$missing $p"
    fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

if [ -z "$missing" ]; then
    get_promtool
    case " $* " in
        *" --if-missing "*) ;;
        *) echo "install-deps: all packages present" ;;
    esac
    exit 0
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
get_promtool
