# SPDX-License-Identifier: GPL-2.0
#
# Compares two dumps of device tables (tern-device-tables) and
# prints one line per device that breaks the rule, naming it; silent when
# all is well.  Used by selftests/tern/vmstate/vmstate_devices_test.sh.
#
#   awk -v mode=diff   -f vmstate-tables.awk OLD NEW
#       any device whose table text differs, or that is in one file only
#       (the committed snapshot against this build);
#   awk -v mode=compat -v release=NAME -f vmstate-tables.awk RELEASE NEW
#       the release rule of Documentation/vmstate-format.rst: a device of
#       the release still exists (or a rename-table filter of this build
#       loads it under its new name), its version did not go down, it still
#       loads the release's version, and at the same version its table is
#       the release's one exactly, except for subsections added (the
#       release's own subsections unchanged).
FNR == 1 { file++ }
/^#/ || /^$/ { next }
/^filter / {
	filters[file] = filters[file] $0 "\n"
	if ($2 == "rename-table") {
		renamed[file, $3] = $5
		rmax[file, $3] = $7
	}
	next
}
/^table / {
	name = $2
	cur = name
	text[file, name] = ""
	core[file, name] = ""
	subs[file, name] = ""
	ver[file, name] = $4
	min[file, name] = $6
	names[file] = names[file] " " name
	in_sub = ""
}
{
	if (cur == "") {
		printf "line %d of %s: not inside a table: %s\n", FNR, FILENAME, $0
		bad = 1
		next
	}
	text[file, cur] = text[file, cur] $0 "\n"
	if (in_sub == "" && match($0, /^\t+subsection /)) {
		in_sub = substr($0, 1, RLENGTH - 11) "end"
		block = $0 "\n"
		next
	}
	if (in_sub != "") {
		block = block $0 "\n"
		if ($0 == in_sub) {
			subs[file, cur] = subs[file, cur] block "\x1e"
			in_sub = ""
		}
		next
	}
	core[file, cur] = core[file, cur] $0 "\n"
	if ($0 == "end")
		cur = ""
}
END {
	if (bad)
		exit 1
	n = split(names[1], a, " ")
	for (i = 1; i <= n; i++) {
		d = a[i]
		if (!((2, d) in text)) {
			if (mode == "diff") {
				printf "device '%s': in %s, not in %s\n", d, ARGV[1], ARGV[2]
				continue
			}
			if (!((2, d) in renamed)) {
				printf "device '%s' of release %s is gone from this build\n", d, release
				continue
			}
			to = renamed[2, d]
			if (!((2, to) in text))
				printf "device '%s' of release %s: renamed to '%s', which is not here\n", d, release, to
			else if (rmax[2, d] + 0 != 0 && rmax[2, d] + 0 < ver[1, d] + 0)
				printf "device '%s' of release %s: its rename to '%s' stops at version %s, the release's is %s\n", d, release, to, rmax[2, d], ver[1, d]
			else if (min[2, to] + 0 > ver[1, d] + 0 || ver[2, to] + 0 <= ver[1, d] + 0)
				printf "device '%s' of release %s: renamed to '%s' version %s..%s, which must load %s and be newer\n", d, release, to, min[2, to], ver[2, to], ver[1, d]
			continue
		}
		if (mode == "diff") {
			if (text[1, d] != text[2, d])
				printf "device '%s': table differs from %s\n", d, ARGV[1]
			continue
		}
		if (ver[2, d] + 0 < ver[1, d] + 0) {
			printf "device '%s': version %s here, lower than release %s's %s\n", d, ver[2, d], release, ver[1, d]
			continue
		}
		if (min[2, d] + 0 > ver[1, d] + 0) {
			printf "device '%s': loads versions %s..%s here, not release %s's %s\n", d, min[2, d], ver[2, d], release, ver[1, d]
			continue
		}
		if (ver[2, d] != ver[1, d])
			continue
		if (core[1, d] != core[2, d]) {
			printf "device '%s': table changed at version %s, the version of release %s: bump the version or add a subsection\n", d, ver[1, d], release
			continue
		}
		m = split(subs[1, d], s, "\x1e")
		for (j = 1; j < m; j++)
			if (index(subs[2, d], s[j] "\x1e") == 0) {
				split(s[j], first, "\n")
				sub(/^\t+/, "", first[1])
				printf "device '%s': %s of release %s changed or removed at version %s\n", d, first[1], release, ver[1, d]
			}
	}
	if (mode == "diff" && filters[1] != filters[2])
		printf "filters differ from %s:\n%s", ARGV[1], filters[2]
	if (mode == "diff") {
		n = split(names[2], a, " ")
		for (i = 1; i <= n; i++)
			if (!((1, a[i]) in text))
				printf "device '%s': in %s, not in %s\n", a[i], ARGV[2], ARGV[1]
	}
}
