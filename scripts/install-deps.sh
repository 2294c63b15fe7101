#!/bin/sh
# Installs the Debian packages svcscore needs to build, test and run.
# It only calls apt-get when a package is absent, so 'make test' and 'make
# demo' stay quick on a machine that has them; --if-missing keeps it quiet
# then.  --bench adds what 'make bench' needs (R, for the GLM baseline),
# --fuzz what 'make fuzz' needs (clang and its libFuzzer runtime).
set -eu

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

if [ -z "$missing" ]; then
    case " $* " in
        *" --if-missing "*) ;;
        *) echo "install-deps: all packages present" ;;
    esac
    exit 0
fi

echo "install-deps: installing$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
