#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages Tern builds and tests with, only those missing
# (`deps.sh bench`, `deps.sh check-full`: and what those need besides).
# Idempotent and silent when everything is present; `make demo` and
# `make check` both call it.
set -euo pipefail

PKGS=(
	build-essential clang llvm libclang-rt-14-dev
	qemu-system-x86 linux-image-cloud-amd64 linux-headers-cloud-amd64
	busybox-static cpio e2fsprogs kmod iproute2
	libnl-3-dev libnl-genl-3-dev liburcu-dev libjson-c-dev libgnutls28-dev gnutls-bin
	libseccomp-dev liburing-dev
	pkg-config xz-utils linux-source-6.1
	groff-base man-db dkms sparse
)
# `make bench` draws its charts too, and makes its reference QEMU 10.
[[ ${1:-} == bench ]] && PKGS+=(gnuplot-nox mmdebstrap)
# `make check-debug` builds a kernel.
[[ ${1:-} == debug ]] && PKGS+=(flex bison bc libelf-dev libssl-dev)
# `make check-full` builds, lints and installs the Debian packages into a
# fresh Debian root (deb_test.sh).
[[ ${1:-} == check-full ]] && PKGS+=(debhelper dh-dkms lintian mmdebstrap)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if ((${#missing[@]})); then
	if [[ $(id -u) -ne 0 ]]; then
		echo "deps: missing packages: ${missing[*]} (run as root or install them)" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
