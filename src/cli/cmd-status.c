/* ctxd status: is a daemon running, and what it holds. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "ctxd/client.h"
#include "ctxd/protocol.h"
#include "ctxd/units.h"

static json_int_t num(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void print_text(const json_t *st)
{
	const json_t *projects = json_object_get(st, "projects"), *p;
	size_t i;

	printf("daemon: pid %" JSON_INTEGER_FORMAT ", socket %s, up %" JSON_INTEGER_FORMAT " s, %"
	       JSON_INTEGER_FORMAT " requests\n", num(st, "pid"), str(st, "socket"),
	       num(st, "uptime_ms") / 1000, num(st, "requests"));
	printf("projects: %zu\n", json_array_size(projects));
	json_array_foreach(projects, i, p) {
		char bytes[16], mem[16];
		json_int_t files = num(p, "files");

		printf("  %s\n", str(p, "root"));
		printf("    state: %s\n", str(p, "state"));
		if (*str(p, "reason"))
			printf("    why: %s\n", str(p, "reason"));
		printf("    entries: %" JSON_INTEGER_FORMAT " (%" JSON_INTEGER_FORMAT " files, %s), "
		       "%" JSON_INTEGER_FORMAT " directories watched\n", num(p, "entries"), files,
		       ctxd_units_human((uint64_t)num(p, "bytes"), bytes), num(p, "watches"));
		printf("    memory: %s, %" JSON_INTEGER_FORMAT " bytes per entry (paths excluded)\n",
		       ctxd_units_human((uint64_t)num(p, "memory"), mem), num(p, "bytes_per_entry"));
		printf("    rescans: %" JSON_INTEGER_FORMAT ", events: %" JSON_INTEGER_FORMAT, num(p, "rescans"),
		       num(p, "events"));
		if (num(p, "last_event_age_ms") >= 0)
			printf(", last event: %" JSON_INTEGER_FORMAT " s ago", num(p, "last_event_age_ms") / 1000);
		else
			printf(", last event: none");
		printf(", last query: %" JSON_INTEGER_FORMAT " s ago\n", num(p, "last_used_age_ms") / 1000);
	}
}

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	struct ctxd_error err;
	bool json = false, no_daemon;
	json_t *req, *reply;
	int c, fd, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			json = true;
			break;
		case OPT_HELP:
			fputs(cli_cmd_status.help, stdout);
			return CLI_OK;
		default:
			return cli_usage_error(&cli_cmd_status, "status: invalid option");
		}
	}
	if (optind < argc)
		return cli_usage_error(&cli_cmd_status, "status: unexpected argument '%s'", argv[optind]);
	if (ctxd_client_connect(NULL, CTXD_CLIENT_CONNECT_TIMEOUT_MS, &fd, &no_daemon, &err) < 0) {
		cli_error("%s", err.msg);
		return no_daemon ? CLI_NO_DAEMON : CLI_FAIL;
	}
	req = ctxd_protocol_message("status");
	rc = ctxd_client_call(fd, req, &reply, CTXD_CLIENT_REPLY_TIMEOUT_MS, &err);
	json_decref(req);
	close(fd);
	if (rc < 0) {
		cli_error("%s", err.msg);
		return CLI_FAIL;
	}
	if (json) {
		json_dumpf(reply, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
	} else {
		print_text(reply);
	}
	json_decref(reply);
	return CLI_OK;
}

const struct cli_command cli_cmd_status = {
	.name = "status",
	.summary = "show the daemon and the projects it watches",
	.help = "Usage: ctxd status [--json]\n"
		"\n"
		"Asks the daemon for its state: each watched project's entries, bytes,\n"
		"memory per entry, watched directories, rescans, last event and last\n"
		"query, and why a project is degraded (for example when the inotify\n"
		"watch limit was reached, and how to raise it).\n"
		"\n"
		"Options:\n"
		"      --json             the daemon's answer as JSON\n"
		"      --help             show this help\n"
		"\n"
		"Exit status: 0 a daemon answered, 1 it failed to answer, 3 no daemon is\n"
		"running.\n",
	.run = run,
};
