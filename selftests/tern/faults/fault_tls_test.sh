#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The fault campaign once over TLS (issue 18): a smaller sample of cuts
# and flips (stalls as in the plaintext campaign with TERN_CHECK_FULL=1)
# on migrations whose every ternvm runs --tls-creds;
# the same checks after each case (the guest runs on, the destination
# says why, no sanitizer report), then one clean migration.
CAMPAIGN=$(dirname "$0")/fault_campaign_test.sh
[ -r "$CAMPAIGN" ] || CAMPAIGN=/usr/share/tern/fault_campaign_test.sh
TERN_FAULT_TLS=1 NCUT_FWD=${NCUT_FWD:-2} NCUT_BACK=${NCUT_BACK:-1} \
	NFLIP=${NFLIP:-1} NSTALL=${NSTALL:-0} PORT_BASE=${PORT_BASE:-22000} MC_MIB=${MC_MIB:-8} \
	exec sh "$CAMPAIGN"
