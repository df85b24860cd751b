/* ctxd daemon: take the per-user socket and serve it, in the background
 * (the default) or in the foreground for a service manager. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ctxd/daemon.h"

enum { OPT_FOREGROUND = OPT_FIRST_COMMAND, OPT_IDLE };

static void log_line(void *ud, const char *msg)
{
	char when[32];
	time_t t = time(NULL);
	struct tm tm;

	(void)ud;
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", localtime_r(&t, &tm));
	fprintf(stderr, "%s ctxd[%ld]: %s\n", when, (long)getpid(), msg);
	fflush(stderr);
}

/* Detaches from the terminal; the log goes to <socket>.log. Returns in the
 * child only. */
static void detach(struct ctxd_daemon *d)
{
	char log[4096];
	pid_t pid = fork();
	int fd;

	if (pid < 0) {
		cli_error("fork: %s", strerror(errno));
		exit(CLI_FAIL);
	}
	if (pid > 0) {
		printf("ctxd daemon started (pid %ld), serving %s\n", (long)pid, ctxd_daemon_socket(d));
		fflush(stdout);
		_exit(CLI_OK); /* the child owns the socket now: no cleanup here */
	}
	setsid();
	if (chdir("/") < 0)
		_exit(CLI_FAIL);
	snprintf(log, sizeof log, "%s.log", ctxd_daemon_socket(d));
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		close(fd);
	}
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
}

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"foreground", no_argument, NULL, OPT_FOREGROUND},
		{"idle-timeout", required_argument, NULL, OPT_IDLE},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	struct ctxd_daemon_options o = {.listen_fd = -1, .idle_drop_seconds = 3600, .log = log_line};
	struct ctxd_daemon *d;
	struct ctxd_error err;
	bool foreground = false;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char *end;
		unsigned long v;

		switch (c) {
		case OPT_FOREGROUND:
			foreground = true;
			break;
		case OPT_IDLE:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || v > 0xffffffffUL)
				return cli_usage_error(&cli_cmd_daemon,
						       "daemon: --idle-timeout wants whole seconds, got '%s'", optarg);
			o.idle_drop_seconds = (unsigned)v;
			break;
		case OPT_HELP:
			fputs(cli_cmd_daemon.help, stdout);
			return CLI_OK;
		default:
			return cli_usage_error(&cli_cmd_daemon, "daemon: invalid option");
		}
	}
	if (optind < argc)
		return cli_usage_error(&cli_cmd_daemon, "daemon: unexpected argument '%s'", argv[optind]);
	rc = ctxd_daemon_activation_fd(&o.listen_fd, &err);
	if (rc < 0) {
		cli_error("%s", err.msg);
		return CLI_FAIL;
	}
	if (rc > 0)
		foreground = true; /* a service manager runs us */
	if (ctxd_daemon_create(&o, &d, &err) < 0) {
		cli_error("%s", err.msg);
		return CLI_FAIL;
	}
	if (!foreground)
		detach(d);
	rc = ctxd_daemon_run(d, &err);
	if (rc < 0)
		log_line(NULL, err.msg);
	ctxd_daemon_destroy(d);
	return rc < 0 ? CLI_FAIL : CLI_OK;
}

const struct cli_command cli_cmd_daemon = {
	.name = "daemon",
	.summary = "run the daemon that keeps projects indexed",
	.help = "Usage: ctxd daemon [OPTIONS]\n"
		"\n"
		"Serves the per-user socket $XDG_RUNTIME_DIR/ctxd/ctxd.sock (mode 0600 in a\n"
		"0700 directory; /tmp/ctxd-$UID/ctxd.sock when XDG_RUNTIME_DIR is unset;\n"
		"$CTXD_SOCKET overrides both) and keeps a watched index of each project it\n"
		"is asked about. Refuses to start when another daemon serves the socket;\n"
		"replaces a stale socket a crashed daemon left. SIGTERM or SIGINT stop it\n"
		"cleanly. Under systemd socket activation (LISTEN_FDS) it serves the\n"
		"socket it is given.\n"
		"\n"
		"Options:\n"
		"      --foreground       stay attached and log to stderr (for service\n"
		"                         managers); otherwise it detaches and logs to\n"
		"                         <socket>.log\n"
		"      --idle-timeout=S   drop a project no query used for S seconds\n"
		"                         (default 3600; 0 never)\n"
		"      --help             show this help\n",
	.run = run,
};
