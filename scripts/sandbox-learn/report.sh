#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run by scripts/sandbox-learn.sh after each test: from every trace the
# wrapper left so far, the system calls each thread made once it named
# itself (ternvm's threads name themselves as they enter their sandbox
# class), by that name; a thread started by a named one counts for its
# creator too, as it keeps its creator's filter.  Printed as TAP
# comments; always passes.
echo "1..1"
cat /tmp/sandbox-learn/*.trace 2>/dev/null | awk '
{
	t = $1
	if ($2 == "+++" || $2 == "---")
		next
	if ($2 == "<...") {
		name = $3
		line = $0
		if (name == "clone" || name == "clone3") {
			if (match(line, /= [0-9]+$/))
				child[t, ++nch[t]] = substr(line, RSTART + 2)
			cseq[t, nch[t]] = seq[t]
		}
		next
	}
	p = index($2, "(")
	if (!p)
		next
	name = substr($2, 1, p - 1)
	seq[t]++
	call[t, seq[t]] = name
	tids[t] = 1
	if (name == "prctl" && $0 ~ /PR_SET_NAME/ && !(t in sec)) {
		match($0, /"[^"]*"/)
		own[t] = substr($0, RSTART + 1, RLENGTH - 2)
		sec[t] = seq[t]
	}
	if ((name == "clone" || name == "clone3") && match($0, /= [0-9]+$/)) {
		child[t, ++nch[t]] = substr($0, RSTART + 2)
		cseq[t, nch[t]] = seq[t]
	}
}
END {
	# Parents: which tid made each child, and at which of its steps.
	for (t in tids)
		for (i = 1; i <= nch[t]; i++) {
			par[child[t, i]] = t
			pat[child[t, i]] = cseq[t, i]
		}
	for (t in tids) {
		# The filters t inherited: the own filter of each ancestor that
		# had it before making the next one down.
		inh = ""
		c = t
		while (c in par) {
			p = par[c]
			if ((p in sec) && sec[p] < pat[c])
				inh = inh " " own[p]
			c = p
		}
		for (s = 1; s <= seq[t]; s++) {
			f = inh
			if ((t in sec) && s > sec[t])
				f = f " " own[t]
			n = split(f, fs, " ")
			for (k = 1; k <= n; k++)
				if (fs[k] != "")
					used[fs[k], call[t, s]] = 1
		}
	}
	for (k in used) {
		split(k, a, SUBSEP)
		print "# sandbox-learn: " a[1] ": " a[2]
	}
}' | sort -u
echo "ok 1 sandbox-learn report"
