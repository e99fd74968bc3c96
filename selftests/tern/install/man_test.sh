#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The man pages: groff finds nothing to warn about in any of them
# (`man --warnings`); the options each program's --help lists are exactly
# those its man page documents (OPTIONS, and ternctl's COMMANDS with their
# options), ternctl's commands likewise; and tern(4) names every ioctl and
# netlink command of include/uapi/linux/tern.h.
. "$(dirname "$0")/../host_lib.sh"
MAN=$ROOT/Documentation/man

# man_section PAGE NAME...: the roff source of those .SH sections.
man_section() {
	local page=$1
	shift
	awk -v want=" $* " '/^\.SH /{ name = $2; keep = index(want, " " name " ") > 0; next }
		keep' "$page"
}
# Long options, one a line, sorted: from roff (\-\-x) or plain text.
roff_opts() { grep -oE '\\-\\-[a-z0-9]+(\\-[a-z0-9]+)*' | sed 's/\\-/-/g' | sort -u; }
text_opts() { grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }
# compare WHAT LEFT-NAME LEFT RIGHT-NAME RIGHT: equal sets, or say the difference.
compare() {
	local only_l only_r
	only_l=$(comm -23 <(echo "$3") <(echo "$5") | tr '\n' ' ')
	only_r=$(comm -13 <(echo "$3") <(echo "$5") | tr '\n' ' ')
	if [[ -z $only_l$only_r && -n $3 ]]; then
		ok "$1: $2 and $4 agree ($(echo "$3" | wc -l))"
	else
		fail "$1: only in $2: ${only_l:-none}; only in $4: ${only_r:-none}"
	fi
}

pages=(ternvm.1 ternctl.8 tern-state-dump.1 tern.4)
echo "1..$((${#pages[@]} + 6))"
for p in "${pages[@]}"; do
	w=$(man --warnings -l "$MAN/$p" 2>&1 >/dev/null)
	if [[ -f $MAN/$p && -z $w ]]; then
		ok "$p: man --warnings is silent"
	else
		fail "$p: ${w:-missing}"
	fi
done

compare "ternvm options" "--help" "$("$BIN/ternvm" --help | text_opts)" \
	ternvm.1 "$(man_section "$MAN/ternvm.1" OPTIONS | roff_opts)"
compare "tern-state-dump options" "--help" "$("$BIN/tern-state-dump" --help | text_opts)" \
	tern-state-dump.1 "$(man_section "$MAN/tern-state-dump.1" OPTIONS | roff_opts)"
# ternctl's options: the global ones, and each command's (ternctl help CMD).
ctl_opts=$({ "$BIN/ternctl" --help
	     for c in $("$BIN/ternctl" --help | sed -n '/^commands:/,$p' | awk 'NR > 1 { print $1 }'); do
		     "$BIN/ternctl" help "$c"
	     done; } | text_opts)
compare "ternctl options" "--help and help CMD" "$ctl_opts" \
	ternctl.8 "$(man_section "$MAN/ternctl.8" OPTIONS COMMANDS | roff_opts)"
# A command is the first word of each .TP item in COMMANDS, both of a
# ".BR a , b" pair; the options nested under migrate are not commands.
help_cmds=$("$BIN/ternctl" --help | sed -n '/^commands:/,$p' | awk 'NR > 1 { print $1 }' | sort -u)
man_cmds=$(man_section "$MAN/ternctl.8" COMMANDS | awk 'prev == ".TP" { print } { prev = $0 }' |
	sed 's/\\f[BIRP]//g; s/^\.B[IR]* //; s/", "/ /g; s/"//g' | tr ' ' '\n' |
	grep -x '[a-z][a-z\\-]*' | sed 's/\\-/-/g' | sort -u)
compare "ternctl commands" "--help" "$help_cmds" ternctl.8 "$man_cmds"

# Every control-socket command (query-commands' list) is named in ternvm.1.
# (printed pretty: a command's name is indented 4, its arguments' more).
sock_cmds=$("$BIN/ternvm" --list-commands | sed -n 's/^    "name": *"\([a-z_-]*\)".*/\1/p' | sort -u)
man_sock=$(man_section "$MAN/ternvm.1" "CONTROL" | grep -oE '[a-z_]+(\\-[a-z_]+)*' |
	   sed 's/\\-/-/g' | sort -u)
missing=$(comm -23 <(echo "$sock_cmds") <(echo "$man_sock") | tr '\n' ' ')
if [[ -n $sock_cmds && -z $missing ]]; then
	ok "ternvm.1 names all $(echo "$sock_cmds" | wc -l) control-socket commands of query-commands"
else
	fail "ternvm.1's CONTROL SOCKET lacks: ${missing:-(query-commands listed none)}"
fi

uapi=$ROOT/include/uapi/linux/tern.h
names=$( { grep -o '^#define TERN_[A-Z_]*[[:space:]]*_IO[RW]*(' "$uapi" | awk '{ print $2 }'
	   sed -n '/^enum tern_cmd {/,/^};/p' "$uapi" | grep -o 'TERN_CMD_[A-Z_]*' |
	   grep -v 'UNSPEC\|MAX'; } | sort -u)
missing=$(for x in $names; do grep -q "$x" "$MAN/tern.4" || echo "$x"; done | tr '\n' ' ')
if [[ -n $names && -z $missing ]]; then
	ok "tern.4 names all $(echo "$names" | wc -l) ioctls and netlink commands of the uapi header"
else
	fail "tern.4 lacks: ${missing:-(none found in the header)}"
fi
exit $rc
