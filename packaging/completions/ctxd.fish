# fish completion for ctxd: commands, each command's options, and the values
# of options whose values are fixed. tests/cli checks that it offers exactly
# the options each command's getopt table has.

set -l commands build ls pack why report daemon status watch unwatch help version
set -l context_commands build ls pack why report

complete -c ctxd -f
complete -c ctxd -n "not __fish_seen_subcommand_from $commands" -l help -s h -d 'show the help'
complete -c ctxd -n "not __fish_seen_subcommand_from $commands" -l version -s V -d 'print the version'
complete -c ctxd -n "not __fish_seen_subcommand_from $commands" -a build -d "build an image, sending the daemon ctxd's context"
complete -c ctxd -n "not __fish_seen_subcommand_from $commands" -a ls -d 'list what the build context holds'
complete -c ctxd -n "not __fish_seen_subcommand_from $commands" -a pack -d 'write the build context as a tar stream'
complete -c ctxd -n "not __fish_seen_subcommand_from $commands" -a why -d 'say why files are in the build context or not'
complete -c ctxd -n "not __fish_seen_subcommand_from $commands" -a report -d 'what is in the build context, what each filter saves, budgets'
complete -c ctxd -n "not __fish_seen_subcommand_from $commands" -a daemon -d 'run the daemon that keeps projects indexed'
complete -c ctxd -n "not __fish_seen_subcommand_from $commands" -a status -d 'show the daemon and the projects it watches'
complete -c ctxd -n "not __fish_seen_subcommand_from $commands" -a watch -d 'have the daemon index and watch a project'
complete -c ctxd -n "not __fish_seen_subcommand_from $commands" -a unwatch -d 'have the daemon drop a project'
complete -c ctxd -n "not __fish_seen_subcommand_from $commands" -a help -d 'show help for ctxd or one command'
complete -c ctxd -n "not __fish_seen_subcommand_from $commands" -a version -d 'print the version of ctxd and its libraries'
complete -c ctxd -n "__fish_seen_subcommand_from help" -a "$commands"

# the context PATH (and, for why, the files in it)
complete -c ctxd -n "__fish_seen_subcommand_from $context_commands" -a '(__fish_complete_directories)'
complete -c ctxd -n "__fish_seen_subcommand_from why" -F

# options every context command takes
set -l ctx "__fish_seen_subcommand_from $context_commands"
complete -c ctxd -n $ctx -s f -l file -r -F -d 'the Dockerfile'
complete -c ctxd -n $ctx -l exact -d 'exactly the context docker build sends'
complete -c ctxd -n $ctx -l prune -x -a 'dockerfile off' -d 'leave out what the Dockerfile cannot read, or not'
complete -c ctxd -n $ctx -l target -x -d 'the stage to build'
complete -c ctxd -n $ctx -l build-arg -x -d 'a build argument NAME[=VALUE]'
complete -c ctxd -n $ctx -l platform -x -d 'the target platform OS/ARCH'
complete -c ctxd -n $ctx -l no-daemon -d 'walk the tree here even when a daemon runs'
complete -c ctxd -n $ctx -l git-filter -x -a 'off ignored untracked' -d 'leave out what git ignores or does not track'
complete -c ctxd -n $ctx -l json -d 'machine-readable output'
complete -c ctxd -n $ctx -l help -d 'show the help'
complete -c ctxd -n "__fish_seen_subcommand_from build pack report" -l dedup -d 'send identical files once, as hard links'

# build
set -l b "__fish_seen_subcommand_from build"
complete -c ctxd -n $b -s t -l tag -x -d 'name the image NAME[:TAG]'
complete -c ctxd -n $b -l label -x -d 'set image metadata KEY=VALUE'
complete -c ctxd -n $b -l no-cache -d 'do not use the build cache'
complete -c ctxd -n $b -l pull -d 'always try to pull newer base images'
complete -c ctxd -n $b -s q -l quiet -d 'print only the image ID'
complete -c ctxd -n $b -l network -x -a 'default host none' -d 'networking mode for RUN'
complete -c ctxd -n $b -l iidfile -r -F -d 'write the image ID to FILE'
complete -c ctxd -n $b -l progress -x -a 'auto plain tty quiet' -d 'progress output'
complete -c ctxd -n $b -l builder-version -x -a '1 2' -d 'classic builder (1) or BuildKit (2)'
complete -c ctxd -n $b -l compress -a 'auto none gzip xz' -d 'compress the context (--compress=MODE)'
complete -c ctxd -n $b -l cache-from -x -d 'images to use as cache sources'
complete -c ctxd -n $b -l add-host -x -d 'an /etc/hosts entry HOST:IP'
complete -c ctxd -n $b -l rm -a 'true false' -d 'remove intermediate containers (--rm=false keeps them)'
complete -c ctxd -n $b -l force-rm -d 'always remove intermediate containers'
complete -c ctxd -n $b -s H -l host -x -d 'daemon address'
complete -c ctxd -n $b -l context -x -d 'a docker context'
complete -c ctxd -n $b -l tls -d 'use TLS'
complete -c ctxd -n $b -l tlsverify -d 'use TLS and verify the daemon'
complete -c ctxd -n $b -l tlscacert -r -F -d 'trust certs signed only by this CA'
complete -c ctxd -n $b -l tlscert -r -F -d 'TLS certificate file'
complete -c ctxd -n $b -l tlskey -r -F -d 'TLS key file'

# ls
complete -c ctxd -n "__fish_seen_subcommand_from ls" -s l -l long -d 'type, mode, size and mtime of each entry'
complete -c ctxd -n "__fish_seen_subcommand_from ls" -l excluded -d 'list what is not sent instead'

# pack
complete -c ctxd -n "__fish_seen_subcommand_from pack" -s o -l output -r -F -d 'write to FILE'
complete -c ctxd -n "__fish_seen_subcommand_from pack" -s q -l quiet -d 'no summary line'

# report
set -l r "__fish_seen_subcommand_from report"
complete -c ctxd -n $r -l depth -x -d 'levels of the directory tree'
complete -c ctxd -n $r -l top -x -d 'rows per table'
complete -c ctxd -n $r -l suggest -d 'the .dockerignore lines that would cut the most'
complete -c ctxd -n $r -l write -d 'append the suggested lines to the ignore file'
complete -c ctxd -n $r -l markdown -d 'markdown for CI summaries and PR comments'
complete -c ctxd -n $r -l fail-on-secrets -d 'exit 1 when a file looks like a credential'
complete -c ctxd -n $r -l no-git -d 'do not ask git what it ignores'
complete -c ctxd -n $r -l measure-ignored -d 'size the directories .dockerignore keeps out'
complete -c ctxd -n $r -l save-baseline -r -F -d 'write the totals and per-directory sizes to FILE'
complete -c ctxd -n $r -l baseline -r -F -d 'compare with a saved baseline'
complete -c ctxd -n $r -l budget -x -d 'exit 1 when the context holds more'
complete -c ctxd -n $r -l max-growth -x -d 'exit 1 when it grew more over the baseline (PCT% or SIZE)'
complete -c ctxd -n $r -l ci -d 'GitHub Actions annotations and step summary'
complete -c ctxd -n $r -l html -r -F -d 'write a self-contained page with a treemap'
complete -c ctxd -n $r -l history -d 'print the recorded sizes over time'

# daemon
complete -c ctxd -n "__fish_seen_subcommand_from daemon" -l foreground -d 'stay attached and log to stderr'
complete -c ctxd -n "__fish_seen_subcommand_from daemon" -l idle-timeout -x -d 'drop a project unused for S seconds'
complete -c ctxd -n "__fish_seen_subcommand_from daemon" -l help -d 'show the help'

# status
complete -c ctxd -n "__fish_seen_subcommand_from status" -l json -d 'the answer as JSON'
complete -c ctxd -n "__fish_seen_subcommand_from status" -l help -d 'show the help'

# watch, unwatch
complete -c ctxd -n "__fish_seen_subcommand_from watch unwatch" -a '(__fish_complete_directories)'
complete -c ctxd -n "__fish_seen_subcommand_from watch unwatch" -l help -d 'show the help'
