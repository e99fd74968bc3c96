#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Tern's version, from one place: VERSION holds the release (0.1.0).  In a
# git checkout `git describe` adds where the tree is: on the tag vRELEASE,
# RELEASE; past it, RELEASE-N-gHASH; before that tag exists,
# RELEASE-gHASH; -dirty for uncommitted changes.  A tree without git (a
# tarball, DKMS's copy) reports RELEASE as is.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
release=$(cat "$ROOT/VERSION") || exit 1
if [ -e "$ROOT/.git" ] && command -v git >/dev/null 2>&1; then
	if d=$(git -C "$ROOT" describe --tags --match "v$release" --dirty 2>/dev/null); then
		echo "${d#v}"
		exit 0
	fi
	if h=$(git -C "$ROOT" describe --always --dirty 2>/dev/null); then
		echo "$release-g$h"
		exit 0
	fi
fi
echo "$release"
