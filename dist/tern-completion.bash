# SPDX-License-Identifier: GPL-2.0
# bash completion for ternctl and ternvm, installed under both names.
# Options and commands come from the programs themselves: ternctl's
# --help and `ternctl help COMMAND` are made from its command table (the
# migration parameters from the table the migration code uses), ternvm's
# from its option table; so the completion never lags behind a new option,
# and man_test.sh keeps both equal to the man pages.

# _tern_opts TEXT: the long options in TEXT, one a line.
_tern_opts()
{
	grep -o -- '--[a-z][a-z0-9-]*' <<<"$1" | sort -u
}

_ternctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local help cmd="" i w
	help=$("${COMP_WORDS[0]}" --help 2>/dev/null) || return
	COMPREPLY=()
	case $prev in
	--socket | -s)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	esac
	# The command: the first word that is neither an option nor its value.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--socket | -s) ((i++)) ;;
		-*) ;;
		*) cmd=$w; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			# Each global option opens its line of the usage.
			mapfile -t COMPREPLY < <(compgen -W "$(sed '/^commands:/,$d' <<<"$help" |
				grep -oE '^ +--[a-z][a-z0-9-]*')" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$(sed -n '/^commands:/,$p' <<<"$help" |
				awk 'NR > 1 { print $1 }')" -- "$cur")
		fi
		return
	fi
	case $cmd in
	save-state | load-state)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	esac
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_tern_opts "$("${COMP_WORDS[0]}" help "$cmd" 2>/dev/null |
			sed 1d)")" -- "$cur")
	elif [[ $cmd == help && $prev == help ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(sed -n '/^commands:/,$p' <<<"$help" |
			awk 'NR > 1 { print $1 }')" -- "$cur")
	elif [[ $cmd == migrate && $prev == migrate ]]; then
		mapfile -t COMPREPLY < <(compgen -W "tcp: unix:" -- "$cur")
		compopt -o nospace 2>/dev/null
	fi
}

_ternvm()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	case $prev in
	--kernel | --initrd | --disk | --vconsole | --mem-path | --incoming | --control | --tls-psk)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	--state-dir | --tls-creds)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return
		;;
	--console)
		mapfile -t COMPREPLY < <(compgen -W "stdio file: unix:" -- "$cur")
		compopt -o nospace 2>/dev/null
		return
		;;
	--incoming-migration)
		mapfile -t COMPREPLY < <(compgen -W "tcp: unix:" -- "$cur")
		compopt -o nospace 2>/dev/null
		return
		;;
	--net)
		mapfile -t COMPREPLY < <(compgen -W "tap=" -- "$cur")
		compopt -o nospace 2>/dev/null
		return
		;;
	--append | --memory | --cpus)
		return
		;;
	esac
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_tern_opts "$("${COMP_WORDS[0]}" --help 2>/dev/null)")" -- "$cur")
	fi
}

complete -F _ternctl ternctl
complete -F _ternvm ternvm
