/* ctxd's entry point: global options, then one command from the table. */
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"

int main(int argc, char **argv)
{
	const struct cli_command *cmd;
	struct rlimit rl;

	/* deep trees keep one directory open per level */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* tar headers carry UTF-8 names; libarchive converts through LC_CTYPE */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	if (argc < 2)
		return cli_cmd_help.run(1, argv);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return cli_cmd_version.run(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cli_cmd_help.run(argc - 1, argv + 1);
	cmd = cli_command_find(argv[1]);
	if (!cmd) {
		fprintf(stderr, "ctxd: '%s' is not a ctxd command. See 'ctxd help'.\n", argv[1]);
		return CLI_USAGE;
	}
	return cmd->run(argc - 1, argv + 1);
}
