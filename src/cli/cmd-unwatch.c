/* ctxd unwatch: have the daemon drop a project and its watches. */
#include <stdio.h>

#include "cli.h"

static int run(int argc, char **argv)
{
	json_t *reply = NULL;
	int rc = cli_daemon_path_request(&cli_cmd_unwatch, "unwatch", argc, argv, &reply);

	json_decref(reply);
	return rc;
}

const struct cli_command cli_cmd_unwatch = {
	.name = "unwatch",
	.summary = "have the daemon drop a project",
	.help = "Usage: ctxd unwatch PATH\n"
		"\n"
		"Asks the running daemon to forget PATH's index and stop watching it.\n"
		"\n"
		"Options:\n"
		"      --help             show this help\n"
		"\n"
		"Exit status: 0 dropped, 1 it was not watched or the daemon failed, 2 usage,\n"
		"3 no daemon is running.\n",
	.run = run,
};
