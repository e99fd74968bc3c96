#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run_tests of selftests/tern/Makefile: each test as kselftest's runner
# runs it, its output indented under "# ", then "ok N selftests: tern:
# NAME" (exit 4: "# SKIP", over the timeout: "not ok ... # TIMEOUT").
# --host tests run everywhere; --kvm tests (the harness's) need tern.ko
# and /dev/kvm here, and are skipped naming what is missing.  A test in
# both lists (vm_device_test: a fake KVM on the host) runs once, as a
# host test.
set -uo pipefail
HOST= KVM= SETTINGS=
while (($#)); do
	case $1 in
	--host) HOST=$2 ;;
	--kvm) KVM=$2 ;;
	--settings) SETTINGS=$2 ;;
	*) echo "kselftest-run: unknown option $1" >&2; exit 2 ;;
	esac
	shift 2
done
cd "$(dirname "$0")/.."
TIMEOUT=$(sed -n 's/^timeout=//p' "${SETTINGS:-/dev/null}" 2>/dev/null)
TIMEOUT=${TIMEOUT:-45}

missing=
[[ -c /dev/kvm ]] || missing="/dev/kvm"
if [[ ! -e /dev/tern ]] && ! { ((EUID == 0)) && modprobe tern 2>/dev/null; } &&
   ! { ((EUID == 0)) && [[ -r kmod/tern.ko ]] && insmod kmod/tern.ko 2>/dev/null; }; then
	missing="${missing:+$missing and }tern.ko (/dev/tern)"
fi

ONLY_KVM=
for t in $KVM; do
	[[ " $HOST " == *" $t "* ]] || ONLY_KVM+=" $t"
done
set -- $HOST $ONLY_KVM
echo "TAP version 13"
echo "1..$#"
n=0 failed=0
for t in $HOST $ONLY_KVM; do
	n=$((n + 1))
	name=$(basename "$t")
	if [[ -n $missing ]] && [[ " $ONLY_KVM " == *" $t "* ]]; then
		echo "ok $n selftests: tern: $name # SKIP needs $missing"
		continue
	fi
	echo "# selftests: tern: $name"
	timeout --kill-after=10 "$TIMEOUT" "$t" </dev/null 2>&1 | sed 's/^/# /'
	rc=${PIPESTATUS[0]}
	case $rc in
	0) echo "ok $n selftests: tern: $name" ;;
	4) echo "ok $n selftests: tern: $name # SKIP" ;;
	124|137) echo "not ok $n selftests: tern: $name # TIMEOUT $TIMEOUT seconds"; failed=1 ;;
	*) echo "not ok $n selftests: tern: $name # exit=$rc"; failed=1 ;;
	esac
done
exit $failed
