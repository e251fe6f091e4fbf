# bash completion for kpipe's programs: kbroker, kcontroller, kproduce, kconsume,
# ktopics, kgroups.
# Source it, or install it as /usr/share/bash-completion/completions/kpipe
# (with symlinks named after each program).
#
# The options come from the program itself ("PROG --list-options" prints
# "SHORT LONG ARG COMPLETE" per option, "-" for none), so the option table
# in cmd/PROG.c stays the single source. COMPLETE is "file", "dir", or a
# list of words. A program with verbs ("ktopics create ...") lists them with
# "PROG --list-verbs"; the first word completes to a verb, and the options
# are then "PROG VERB --list-options".

_kpipe_complete()
{
	local prog=${COMP_WORDS[0]##*/} cur=${COMP_WORDS[COMP_CWORD]} prev=
	local short long arg complete line words= takes_arg= value_of=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD-1]}
	COMPREPLY=()

	local list verbs verb=
	if verbs=$(command "${COMP_WORDS[0]}" --list-verbs 2>/dev/null); then
		if ((COMP_CWORD == 1)); then
			mapfile -t COMPREPLY < <(compgen -W "$verbs" -- "$cur")
			return 0
		fi
		verb=${COMP_WORDS[1]}
	fi
	list=$(command "${COMP_WORDS[0]}" $verb --list-options 2>/dev/null) || return 0

	# --long=VALUE: complete VALUE for --long. Bash usually splits the word
	# at "=" (COMP_WORDBREAKS), giving "--long" "=" "VALUE".
	if [[ $cur == --*=* ]]; then
		value_of=${cur%%=*}
		cur=${cur#*=}
	elif [[ $cur == = && $prev == --* ]]; then
		value_of=$prev
		cur=
	elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
		value_of=${COMP_WORDS[COMP_CWORD-2]}
	fi

	while read -r short long arg complete; do
		[[ -n $short ]] || continue
		if [[ -n $value_of ]]; then
			[[ $long == "$value_of" && $arg != - ]] && takes_arg=$complete
		elif [[ $prev == -* && ( $prev == "$short" || $prev == "$long" ) && $arg != - ]]; then
			takes_arg=$complete
		fi
		[[ $short != - ]] && words+=" $short"
		[[ $long != - ]] && words+=" $long"
	done <<<"$list"

	if [[ -n $takes_arg ]]; then
		case $takes_arg in
		-) ;;
		file) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
		dir) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
		*) mapfile -t COMPREPLY < <(compgen -W "$takes_arg" -- "$cur") ;;
		esac
		return 0
	fi
	if [[ -n $value_of ]]; then
		return 0
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
	fi
	return 0
}

complete -F _kpipe_complete kbroker kcontroller kproduce kconsume ktopics kgroups
