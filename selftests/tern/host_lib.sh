# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the shell tests that run on the build host from a build
# directory (build/san/selftests/tern/AREA/, with this file copied one
# directory up).  It sets BIN (that build directory), ROOT (the source tree: the
# first directory above with VERSION), T (a scratch directory removed at
# exit) and KVER (the kernel the module is built for), and gives the TAP
# counters: ok, fail, check DESCRIPTION COMMAND..., and `exit $rc` at the
# end.  A test run by make check must not talk to the outer make's
# jobserver, hence the unset.
BIN=$(cd "$(dirname "$0")/../../.." && pwd)
ROOT=$BIN
while [[ ! -f $ROOT/VERSION && $ROOT != / ]]; do ROOT=$(dirname "$ROOT"); done
unset MAKEFLAGS MFLAGS MAKELEVEL
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
KVER=$(make -C "$ROOT" --no-print-directory -s -f Makefile -f - print-kver \
	<<<'print-kver: ; @echo $(KVER)' 2>/dev/null)
n=0 rc=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
fail() { n=$((n + 1)); echo "not ok $n $1"; rc=1; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
