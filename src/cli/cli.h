/* The command layer: each command is one file with one entry in the table
 * (commands.c), parses its options and prints; the work is libctxd's. */
#ifndef CTXD_CLI_H
#define CTXD_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include <jansson.h>

#include "ctxd/build.h"
#include "ctxd/config.h"
#include "ctxd/context.h"
#include "ctxd/docker.h"
#include "ctxd/gitview.h"
#include "ctxd/manifest.h"
#include "ctxd/report_history.h"
#include "ctxd/scan.h"
#include "ctxd/select.h"
#include "ctxd/summary.h"

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
extern const struct cli_command cli_cmd_why;
extern const struct cli_command cli_cmd_report;
extern const struct cli_command cli_cmd_help;
extern const struct cli_command cli_cmd_status;
extern const struct cli_command cli_cmd_unwatch;
extern const struct cli_command cli_cmd_watch;
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
	int prune;             /* 0 unset, 1 the Dockerfile filter, 2 off */
	const char *target;    /* --target */
	const char *platform;  /* --platform */
	struct ctxd_build_arg *args; /* --build-arg, values resolved */
	size_t nargs;
	char **arg_kv;         /* the same as "NAME=VALUE", for the analysis */
	size_t narg_kv;
	bool no_daemon;        /* --no-daemon */
	json_t *onbuild;       /* the ONBUILD answers given, for the daemon */
	struct ctxd_docker *docker; /* what answers them, NULL: assume none */
	const char *git_filter_flag; /* --git-filter as given; NULL: not given */
	bool no_summary;       /* set by the command when it prints no summary:
				* git is then asked only if the filter is on */
	const char *record;    /* set by the command whose runs go in the
				* history: "build", "pack" or "report" */
	/* Set by a command that holds output back (pack): called when the
	 * daemon's entries stop coming for now, to write what is ready. */
	int (*idle)(void *ud, struct ctxd_error *err);
	void *idle_ud;

	/* Set by cli_context_open. */
	struct ctxd_config cfg;           /* PATH/.ctxd.conf (cfg.file NULL: none) */
	enum ctxd_git_filter git_filter;  /* in force (off with --exact) */
	enum ctxd_config_source git_filter_source;
	char *git_filter_origin;          /* "--git-filter", "CTXD_GIT_FILTER",
					   * "FILE:LINE" or "default" */
	struct ctxd_gitview *git;         /* git's view of the context; NULL: not
					   * opened (yet: see cli_context_git) */
	bool git_deferred;                /* git is asked (the filter, or the
					   * summary's figures): by the daemon when
					   * it answers, else cli_scan opens it */
	bool git_failed;                  /* it could not be opened (warned) */
	struct ctxd_select *keep;         /* the Dockerfile's analysis when pruning
					   * is off: what the git filter keeps */

	/* Set by cli_scan when the daemon answered and recorded the run in
	 * the history: why it could not (NULL: it did), build's growth
	 * warning (NULL: none). */
	bool history_recorded;
	char *history_error, *history_warning;
	/* Set by cli_scan when the daemon answered git_deferred: the
	 * repository's work tree (NULL: none). */
	char *git_repository;
};

/* getopt_long ids for the shared options; commands add their own above. */
enum {
	OPT_EXACT = 0x100,
	OPT_JSON,
	OPT_HELP,
	OPT_DEDUP,
	OPT_PRUNE,
	OPT_TARGET,
	OPT_BUILD_ARG,
	OPT_PLATFORM,
	OPT_NO_DAEMON,
	OPT_GIT_FILTER,
	OPT_FIRST_COMMAND = 0x200,
};

#define CLI_CONTEXT_LONGOPTS \
	{"file", required_argument, NULL, 'f'}, \
	{"exact", no_argument, NULL, OPT_EXACT}, \
	{"json", no_argument, NULL, OPT_JSON}, \
	{"help", no_argument, NULL, OPT_HELP}, \
	{"prune", required_argument, NULL, OPT_PRUNE}, \
	{"target", required_argument, NULL, OPT_TARGET}, \
	{"build-arg", required_argument, NULL, OPT_BUILD_ARG}, \
	{"platform", required_argument, NULL, OPT_PLATFORM}, \
	{"no-daemon", no_argument, NULL, OPT_NO_DAEMON}, \
	{"git-filter", required_argument, NULL, OPT_GIT_FILTER}

#define CLI_CONTEXT_OPTS_HELP \
	"  -f, --file=DOCKERFILE  the Dockerfile (relative to the current directory,\n" \
	"                         as with docker build; default PATH/Dockerfile)\n" \
	"      --exact            exactly the context docker build sends\n" \
	"      --prune=dockerfile|off\n" \
	"                         dockerfile (the default): send only what the\n" \
	"                         Dockerfile's stages for --target can read; off:\n" \
	"                         everything .dockerignore lets through\n" \
	"      --target=STAGE     the stage to build (default: the last)\n" \
	"      --build-arg=NAME[=VALUE]\n" \
	"                         a build argument (NAME alone: from the environment)\n" \
	"      --platform=OS/ARCH the target platform (for TARGETPLATFORM & co.)\n" \
	"      --no-daemon        walk the tree here even when a ctxd daemon runs\n" \
	"                         (by default its synced index answers)\n" \
	"      --git-filter=off|ignored|untracked\n" \
	"                         ignored: also leave out .git and what git ignores;\n" \
	"                         untracked: and what git does not track; paths the\n" \
	"                         Dockerfile names stay (can change the image: see\n" \
	"                         README). Default off, or CTXD_GIT_FILTER, or\n" \
	"                         git-filter in PATH/.ctxd.conf\n" \
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

/* Opens the context, reads PATH/.ctxd.conf, resolves the git filter (flag,
 * CTXD_GIT_FILTER, the file; git's view is opened later, see
 * cli_context_git), and the Dockerfile filter unless --exact or
 * --prune=off asked for docker's context (*sel NULL then; the caller puts
 * it in its scan options). d, when not NULL, answers whether base images
 * carry ONBUILD triggers. On failure prints the error and returns CLI_FAIL, or
 * CLI_USAGE for a bad setting (flag, environment or config file). */
int cli_context_open(struct cli_context_opts *o, struct ctxd_docker *d, struct ctxd_context **ctx,
		     struct ctxd_select **sel);

/* Opens git's view (o->git) when git is asked and it is not open yet, and
 * without pruning the Dockerfile's analysis of what the git filter keeps
 * (o->keep). For the summary alone a repository git cannot read is a
 * warning (once) and o->git stays NULL; with the filter, an error. */
int cli_context_git(struct cli_context_opts *o, const struct ctxd_context *ctx, bool pruned,
		    struct ctxd_error *err);

/* Points so at git's view and filter as cli_context_git left them. */
void cli_context_scan_git(const struct cli_context_opts *o, struct ctxd_scan_options *so);

/* The git repository's work tree the summary's git figures come from, once
 * cli_scan has run (NULL: none, or git not asked). */
const char *cli_context_git_repository(const struct cli_context_opts *o);

/* Frees what the shared options (and cli_context_open) allocated. */
void cli_context_opts_free(struct cli_context_opts *o);

/* Records the run in the history (ctxd_history_record_run: sum, and m or
 * top for its directories) unless the daemon did when it answered
 * cli_scan, never both; then prints build's growth warning, or why the
 * history could not be written, unless quiet. */
void cli_record_history(struct cli_context_opts *o, const struct ctxd_context *ctx,
			const struct ctxd_summary *sum, const struct ctxd_manifest *m,
			const struct ctxd_history_dir *top, bool quiet);

/* False when CTXD_DAEMON=0 tells the context commands to walk in-process
 * even when a daemon runs. */
bool cli_daemon_wanted(void);

/* ctxd_scan_run, answered by the daemon's synced index when one is running
 * (registering the project with it), in-process otherwise, with
 * --no-daemon or CTXD_DAEMON=0, or when the daemon fails before its first
 * entry (a warning says so). With o->git_deferred the git filter applies
 * and the entries carry their git state either way (so->git need not be
 * set). */
int cli_scan(struct cli_context_opts *o, const struct ctxd_context *ctx,
	     const struct ctxd_scan_options *so, ctxd_scan_visit_fn visit, void *ud,
	     struct ctxd_error *err);
/* cli_scan for a command that deduplicates: visit must hand every entry to
 * m (ctxd_manifest_visit); when the daemon answers, it also sends the
 * content hashes its index holds for the files dedup would hash, and they
 * are put in m, so ctxd_dedup_run reads no file just to hash it. */
int cli_scan_hashed(struct cli_context_opts *o, const struct ctxd_context *ctx,
		    const struct ctxd_scan_options *so, ctxd_scan_visit_fn visit, void *ud,
		    struct ctxd_manifest *m, struct ctxd_error *err);

/* Exit status when no daemon is running (status, watch, unwatch). */
enum { CLI_NO_DAEMON = 3 };

/* `ctxd watch|unwatch PATH`: parses --help and PATH, sends {type, path}
 * and returns the reply in *reply. Prints errors; returns an exit code. */
int cli_daemon_path_request(const struct cli_command *cmd, const char *type, int argc,
			    char **argv, json_t **reply);

/* Prints a library warning. */
void cli_warn_cb(void *ud, const char *msg);

#endif
