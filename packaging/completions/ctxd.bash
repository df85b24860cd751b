# bash completion for ctxd: commands, each command's options, and the values
# of options whose values are fixed. Works with or without the
# bash-completion package (it reads COMP_WORDS itself). tests/cli checks
# that it offers exactly the options each command's getopt table has.

_ctxd_commands='build ls pack why report daemon status watch unwatch help version'

# Options every context command takes (cli.h's CLI_CONTEXT_LONGOPTS).
_ctxd_context_opts='-f --file= --exact --prune= --target= --build-arg= --platform= --no-daemon --git-filter= --json --help'

# A command's options; those ending in '=' take a value.
_ctxd_options()
{
	case $1 in
	build)
		echo "$_ctxd_context_opts --dedup -t --tag= --label= --no-cache --pull -q --quiet" \
			'--network= --iidfile= --progress= --builder-version= --compress --compress=' \
			'--cache-from= --add-host= --rm --rm= --force-rm -H --host= --context= --tls' \
			'--tlsverify --tlscacert= --tlscert= --tlskey='
		;;
	ls) echo "$_ctxd_context_opts -l --long --excluded" ;;
	pack) echo "$_ctxd_context_opts --dedup -o --output= -q --quiet" ;;
	why) echo "$_ctxd_context_opts" ;;
	report)
		echo "$_ctxd_context_opts --dedup --depth= --top= --suggest --write --markdown" \
			'--fail-on-secrets --no-git --measure-ignored --save-baseline= --baseline=' \
			'--budget= --max-growth= --ci --html= --history'
		;;
	daemon) echo '--foreground --idle-timeout= --help' ;;
	status) echo '--json --help' ;;
	watch | unwatch) echo '--help' ;;
	esac
}

# The fixed values of an option, if it has them.
_ctxd_values()
{
	case $1 in
	--prune) echo 'dockerfile off' ;;
	--git-filter) echo 'off ignored untracked' ;;
	--progress) echo 'auto plain tty quiet' ;;
	--compress) echo 'auto none gzip xz' ;;
	--builder-version) echo '1 2' ;;
	--rm) echo 'true false' ;;
	esac
}

# Options whose value is a file name.
_ctxd_file_option()
{
	case $1 in
	-f | --file | -o | --output | --iidfile | --save-baseline | --baseline | --html | --tlscacert | --tlscert | --tlskey) return 0 ;;
	esac
	return 1
}

_ctxd()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev='' cmd='' opt='' val='' joined='' i w
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()

	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w != -* ]]; then
			cmd=$w
			break
		fi
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W '--help --version' -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$_ctxd_commands" -- "$cur")
		fi
		return 0
	fi

	# An option's value: "--opt=val" as one word, or split at '=' by
	# COMP_WORDBREAKS into "--opt" "=" "val", or "--opt" "val" (the separate form).
	if [[ $cur == --*=* ]]; then
		opt=${cur%%=*} val=${cur#*=} joined=1
	elif [[ $cur == = ]]; then
		opt=$prev
	elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
		opt=${COMP_WORDS[COMP_CWORD - 2]} val=$cur
	elif [[ $prev == -* && $prev != *=* ]] && [[ " $(_ctxd_options "$cmd") " == *" $prev= "* ]] &&
		[[ $prev != --compress && $prev != --rm ]]; then
		opt=$prev val=$cur # the value of "--opt VALUE" (optional values must be joined)
	elif [[ $prev == -[fotH] ]]; then
		opt=$prev val=$cur
	fi
	if [[ -n $opt ]]; then
		local values
		values=$(_ctxd_values "$opt")
		if [[ -n $values ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$values" -- "$val")
		elif _ctxd_file_option "$opt"; then
			mapfile -t COMPREPLY < <(compgen -f -- "$val")
		fi
		if [[ -n $joined ]]; then
			for i in "${!COMPREPLY[@]}"; do
				COMPREPLY[i]="$opt=${COMPREPLY[i]}"
			done
		fi
		return 0
	fi

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_ctxd_options "$cmd")" -- "$cur")
		# an option that takes a value: no space after its '='
		if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
			compopt -o nospace 2>/dev/null
		fi
		return 0
	fi

	case $cmd in
	help) ((i + 1 == COMP_CWORD)) && mapfile -t COMPREPLY < <(compgen -W "$_ctxd_commands" -- "$cur") ;;
	version | status | daemon) ;;
	why) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;; # PATH, then files in it
	*) mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;   # the context PATH
	esac
	return 0
}

complete -F _ctxd ctxd
