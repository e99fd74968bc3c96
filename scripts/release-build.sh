#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# release-build.sh NAME COMMIT OUT: ternvm and ternctl of release NAME,
# built once from a git worktree of COMMIT (the `releases` file) into OUT
# and cached there (OUT/stamp holds the commit).  A clone without that
# commit in its history cannot build it: OUT/ternvm and OUT/ternctl are
# then programs that fail, saying so, so that the cross-version test
# fails with that message instead of skipping.
set -uo pipefail
name=$1 commit=$2 out=$3
root=$(cd "$(dirname "$0")/.." && pwd)
[[ -f $out/stamp && $(cat "$out/stamp") == "$commit" ]] && exit 0
rm -rf "$out"
mkdir -p "$out"

missing() {
	local p
	for p in ternvm ternctl; do
		printf '#!/bin/sh\necho "%s: release %s (commit %s) cannot be built here: %s" >&2\nexit 1\n' \
			"$p" "$name" "$commit" "$1" >"$out/$p"
		chmod +x "$out/$p"
	done
	echo "release-build: $name: $1" >&2
	echo "missing $commit" >"$out/stamp"
	exit 0
}

git -C "$root" cat-file -e "$commit^{commit}" 2>/dev/null ||
	missing "the commit is not in this clone's history (clone without --depth, or git fetch --unshallow)"
src=$out/src
git -C "$root" worktree prune
git -C "$root" worktree add --detach -f "$src" "$commit" >/dev/null 2>&1 ||
	missing "git worktree add failed"
# The old tree's own userspace build, without sanitizers (its programs
# only); a test never needs its module or tests.
# make check runs this under `make SANITIZE=1`, which puts SANITIZE in the
# environment: the old tree would build into build/san.  Plain, always.
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE \
		make -C "$src" -j2 SANITIZE= programs >"$out/build.log" 2>&1; then
	tail -n 20 "$out/build.log" >&2
	missing "its build failed (see $out/build.log)"
fi
cp "$src/build/ternvm" "$src/build/ternctl" "$out/" ||
	missing "its build made no build/ternvm and build/ternctl (see $out/build.log)"
git -C "$root" worktree remove --force "$src"
echo "$commit" >"$out/stamp"
