/* ctxd help [COMMAND] */
#include <stdio.h>

#include "cli.h"

static int run(int argc, char **argv)
{
	const struct cli_command *cmd;

	if (argc > 1 && argv[1][0] != '-') {
		cmd = cli_command_find(argv[1]);
		if (!cmd) {
			fprintf(stderr, "ctxd: no help for '%s': not a ctxd command\n", argv[1]);
			return CLI_USAGE;
		}
		fputs(cmd->help, stdout);
		return CLI_OK;
	}
	puts("Usage: ctxd COMMAND [OPTIONS] PATH\n"
	     "\n"
	     "ctxd sends docker build only what the build can use.\n"
	     "\n"
	     "Commands:");
	for (size_t i = 0; cli_commands[i]; i++)
		printf("  %-10s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
	puts("\nRun 'ctxd help COMMAND' or 'ctxd COMMAND --help' for a command's options.\n"
	     "'ctxd --version' prints the version.");
	return CLI_OK;
}

const struct cli_command cli_cmd_help = {
	.name = "help",
	.summary = "show help for ctxd or one command",
	.help = "Usage: ctxd help [COMMAND]\n"
		"\n"
		"Lists the commands, or shows one command's options.\n",
	.run = run,
};
