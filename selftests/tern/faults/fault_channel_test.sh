#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The fault campaign on a page-stream channel (issue 22): migrations over
# two connections, cuts (both directions), flips (in the channel's
# opening: its channel message, chunk, stream and record headers) and a
# stall on the second one; the same checks after each case (the guest
# runs on, the destination says why, no sanitizer report), then one
# clean migration.  A channel's failure must fail the migration before
# commit exactly as a fault on the main connection does.
CAMPAIGN=$(dirname "$0")/fault_campaign_test.sh
[ -r "$CAMPAIGN" ] || CAMPAIGN=/usr/share/tern/fault_campaign_test.sh
TERN_FAULT_CONN=2 NCUT_FWD=${NCUT_FWD:-3} NCUT_BACK=${NCUT_BACK:-1} \
	NFLIP=${NFLIP:-2} NSTALL=${NSTALL:-1} PORT_BASE=${PORT_BASE:-23000} MC_MIB=${MC_MIB:-8} \
	exec sh "$CAMPAIGN"
