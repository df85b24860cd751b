/* The command layer: each command is one file with one entry in the table
 * (commands.c), parses its options and prints; the work is libctxd's. */
#ifndef CTXD_CLI_H
#define CTXD_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "ctxd/context.h"

/* Exit codes shared by every command. */
enum {
	CLI_OK = 0,
	CLI_FAIL = 1,  /* the work failed (bad input, I/O, Docker refused) */
	CLI_USAGE = 2, /* the command line was wrong */
};

struct cli_command {
	const char *name;
	const char *summary; /* one line, for `ctxd help` */
	const char *help;    /* the full text for `ctxd help NAME` */
	int (*run)(int argc, char **argv);
};

extern const struct cli_command cli_cmd_build;
extern const struct cli_command cli_cmd_daemon;
extern const struct cli_command cli_cmd_ls;
extern const struct cli_command cli_cmd_pack;
extern const struct cli_command cli_cmd_help;
extern const struct cli_command cli_cmd_status;
extern const struct cli_command cli_cmd_version;

/* The table, NULL-terminated, in the order `ctxd help` lists them. */
extern const struct cli_command *const cli_commands[];

const struct cli_command *cli_command_find(const char *name);

/* "ctxd: msg" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "ctxd: warning: msg" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error: message plus a pointer to --help; returns CLI_USAGE. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Options every context command takes (-f, --exact, ...). */
struct cli_context_opts {
	struct ctxd_context_options ctx;
	bool exact;
	bool json;
	bool dedup;
};

/* getopt_long ids for the shared options; commands add their own above. */
enum {
	OPT_EXACT = 0x100,
	OPT_JSON,
	OPT_HELP,
	OPT_DEDUP,
	OPT_FIRST_COMMAND = 0x200,
};

#define CLI_CONTEXT_LONGOPTS \
	{"file", required_argument, NULL, 'f'}, \
	{"exact", no_argument, NULL, OPT_EXACT}, \
	{"json", no_argument, NULL, OPT_JSON}, \
	{"help", no_argument, NULL, OPT_HELP}

#define CLI_CONTEXT_OPTS_HELP \
	"  -f, --file=DOCKERFILE  the Dockerfile (relative to the current directory,\n" \
	"                         as with docker build; default PATH/Dockerfile)\n" \
	"      --exact            exactly the context docker build sends\n" \
	"      --json             machine-readable output\n" \
	"      --help             show this help\n"

/* --dedup, for the commands that send a context (pack, build). */
#define CLI_DEDUP_LONGOPT {"dedup", no_argument, NULL, OPT_DEDUP}
#define CLI_DEDUP_OPT_HELP \
	"      --dedup            send identical files once, later copies as hard\n" \
	"                         links to the first (changes the image: see README)\n"

/* Handles a shared option; returns 1 if it was one, 0 if not, or -1 after
 * printing help (the caller exits 0). */
int cli_context_opt(const struct cli_command *cmd, struct cli_context_opts *o, int c,
		    const char *arg);

/* Fills the context options from the environment (DOCKER_BUILDKIT) and the
 * single PATH operand; returns CLI_OK or CLI_USAGE after a message. */
int cli_context_finish(const struct cli_command *cmd, struct cli_context_opts *o,
		       int argc, char **argv);

/* Prints a library warning. */
void cli_warn_cb(void *ud, const char *msg);

#endif
