/* ctxd watch: have the daemon index and watch a project now, rather than
 * at its first query. */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "ctxd/units.h"

static int run(int argc, char **argv)
{
	json_t *reply = NULL;
	int rc = cli_daemon_path_request(&cli_cmd_watch, "watch", argc, argv, &reply);

	if (rc == CLI_OK) {
		char bytes[16];

		printf("watching %s: %lld entries (%lld files, %s), %lld directories watched, state %s\n",
		       json_string_value(json_object_get(reply, "root")),
		       (long long)json_integer_value(json_object_get(reply, "entries")),
		       (long long)json_integer_value(json_object_get(reply, "files")),
		       ctxd_units_human((uint64_t)json_integer_value(json_object_get(reply, "bytes")), bytes),
		       (long long)json_integer_value(json_object_get(reply, "watches")),
		       json_string_value(json_object_get(reply, "state")));
		if (json_string_length(json_object_get(reply, "reason")))
			printf("  why: %s\n", json_string_value(json_object_get(reply, "reason")));
	}
	json_decref(reply);
	return rc;
}

const struct cli_command cli_cmd_watch = {
	.name = "watch",
	.summary = "have the daemon index and watch a project",
	.help = "Usage: ctxd watch PATH\n"
		"\n"
		"Asks the running daemon to read PATH's tree into its index and follow it\n"
		"from now on (a context command does this on its first use of PATH).\n"
		"\n"
		"Options:\n"
		"      --help             show this help\n"
		"\n"
		"Exit status: 0 watched, 1 the daemon failed, 2 usage, 3 no daemon is running.\n",
	.run = run,
};
