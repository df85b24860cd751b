/* The table of commands. */
#include <string.h>

#include "cli.h"

const struct cli_command *const cli_commands[] = {
	&cli_cmd_build,
	&cli_cmd_ls,
	&cli_cmd_pack,
	&cli_cmd_why,
	&cli_cmd_report,
	&cli_cmd_daemon,
	&cli_cmd_status,
	&cli_cmd_watch,
	&cli_cmd_unwatch,
	&cli_cmd_help,
	&cli_cmd_version,
	NULL,
};

const struct cli_command *cli_command_find(const char *name)
{
	for (size_t i = 0; cli_commands[i]; i++)
		if (strcmp(cli_commands[i]->name, name) == 0)
			return cli_commands[i];
	return NULL;
}
