/* ctxd pack: the build context as a tar stream, to a file or stdout. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ctxd/dedup.h"
#include "ctxd/manifest.h"
#include "ctxd/outfile.h"
#include "ctxd/pack.h"
#include "ctxd/scan.h"
#include "ctxd/summary.h"
#include "ctxd/units.h"

/* The temporary output file a signal must not leave behind: a copy of its
 * name, so the handler never reads memory the outfile frees. */
static char temp_name[4096];
static const char *volatile pending_temp;

static void on_signal(int sig)
{
	if (pending_temp)
		unlink(pending_temp);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void trap_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
}

static int flush_pack(void *ud, struct ctxd_error *err)
{
	return ctxd_pack_flush(ud, err);
}

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_CONTEXT_LONGOPTS,
		CLI_DEDUP_LONGOPT,
		{"output", required_argument, NULL, 'o'},
		{"quiet", no_argument, NULL, 'q'},
		{NULL, 0, NULL, 0},
	};
	struct cli_context_opts co = {0};
	struct ctxd_scan_options so = {.warn = cli_warn_cb};
	const char *output = "-";
	struct ctxd_context *ctx = NULL;
	struct ctxd_select *sel = NULL;
	/* the sent bytes by directory, for the history */
	struct ctxd_history_tally tally = {.next = ctxd_pack_visit};
	struct ctxd_summary sum = {.next = ctxd_history_tally_visit, .next_ud = &tally};
	struct ctxd_history_dir top[CTXD_HISTORY_TOP + 1];
	struct ctxd_buf line = {0};
	bool quiet = false;
	struct ctxd_outfile *of = NULL;
	struct ctxd_pack *pk = NULL;
	struct ctxd_manifest *m = NULL;
	struct ctxd_error err;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:q", longopts, NULL)) != -1) {
		int r = cli_context_opt(&cli_cmd_pack, &co, c, optarg);

		if (r < 0) {
			rc = r == -1 ? CLI_OK : CLI_USAGE;
			goto out;
		}
		if (r > 0)
			continue;
		if (c == 'o') {
			output = optarg;
		} else if (c == 'q') {
			quiet = true;
		} else {
			rc = cli_usage_error(&cli_cmd_pack, "pack: invalid option");
			goto out;
		}
	}
	if ((rc = cli_context_finish(&cli_cmd_pack, &co, argc, argv)) != CLI_OK)
		goto out;
	if (co.json) {
		rc = cli_usage_error(&cli_cmd_pack, "pack: --json does not apply to a tar stream");
		goto out;
	}
	co.no_summary = quiet;
	co.record = "pack";
	if ((rc = cli_context_open(&co, NULL, &ctx, &sel)) != CLI_OK)
		goto out;
	rc = CLI_FAIL;
	so.select = sel;
	sum.git_filter = co.git_filter;
	/* the summary counts what docker would send: list, never read, the rest */
	so.want_excluded = !quiet;
	so.list_unread = !quiet;
	/* dedup needs every file seen before the first is sent */
	if (co.dedup) {
		if (!(m = ctxd_manifest_create())) {
			ctxd_error_set(&err, "out of memory");
			goto fail;
		}
		sum.next = ctxd_manifest_visit;
		sum.next_ud = m;
		if (cli_scan_hashed(&co, ctx, &so, ctxd_summary_visit, &sum, m, &err) < 0 ||
		    ctxd_dedup_run(m, ctx->rootfd, NULL, &err) < 0)
			goto fail;
	}
	trap_signals();
	{
		/* no signal between creating the temp file and recording its name */
		sigset_t all, old;

		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, &old);
		of = ctxd_outfile_open(output, true, &err);
		if (of && ctxd_outfile_temp_path(of) &&
		    (size_t)snprintf(temp_name, sizeof temp_name, "%s", ctxd_outfile_temp_path(of)) <
			    sizeof temp_name)
			pending_temp = temp_name;
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	if (!of)
		goto fail;
	pk = ctxd_pack_create(ctx->rootfd, ctx->root, CTXD_COMPRESS_NONE, ctxd_outfile_write, of, &err);
	if (!pk)
		goto fail;
	tally.next_ud = pk;
	co.idle = flush_pack;
	co.idle_ud = pk;
	if (m ? ctxd_dedup_pack(m, ctx->rootfd, ctx->root, pk, &err) < 0
	      : cli_scan(&co, ctx, &so, ctxd_summary_visit, &sum, &err) < 0)
		goto fail;
	if (ctxd_pack_finish(pk, &err) < 0)
		goto fail;
	ctxd_pack_destroy(pk);
	pk = NULL;
	/* a signal before the rename must still remove the temp file */
	rc = ctxd_outfile_commit(of, &err);
	pending_temp = NULL;
	if (rc < 0) {
		of = NULL;
		goto fail;
	}
	ctxd_history_tally_top(&tally, top);
	cli_record_history(&co, ctx, &sum, m, m ? NULL : top, quiet);
	if (!quiet) {
		ctxd_summary_format(&sum, &line);
		fprintf(stderr, "ctxd: packed %s\n", line.oom ? "the context" : line.data);
	}
	if (!quiet && m) {
		struct ctxd_dedup_savings sv;
		char size[16];

		ctxd_dedup_savings(m, &sv);
		fprintf(stderr, "ctxd: --dedup: %llu identical files (%s) sent as hard links\n",
			(unsigned long long)sv.files, ctxd_units_human(sv.bytes, size));
	}
	rc = CLI_OK;
	goto out;
fail:
	cli_error("%s", err.msg);
	ctxd_pack_destroy(pk);
	pending_temp = NULL;
	ctxd_outfile_abort(of);
out:
	ctxd_history_tally_free(&tally);
	ctxd_manifest_destroy(m);
	ctxd_select_destroy(sel);
	ctxd_context_destroy(ctx);
	ctxd_buf_free(&line);
	cli_context_opts_free(&co);
	return rc;
}

const struct cli_command cli_cmd_pack = {
	.name = "pack",
	.summary = "write the build context as a tar stream",
	.help = "Usage: ctxd pack [OPTIONS] PATH\n"
		"\n"
		"Writes the build context of PATH as a tar stream: by default only what the\n"
		"Dockerfile can read (with the directories leading to it); with --exact or\n"
		"--prune=off, the stream docker build would send. A summary line on stderr\n"
		"says what docker would send and what each filter left out.\n"
		"The file appears only when it is complete: on any error (an unreadable file, a\n"
		"file that changes while it is read) or a signal, nothing is left behind.\n"
		"\n"
		"Options:\n"
		"  -o, --output=FILE      write to FILE; '-' (the default) is standard output,\n"
		"                         which must not be a terminal\n"
		"  -q, --quiet            no summary line on stderr (and the directories\n"
		"                         pruning skips are not even listed)\n"
		CLI_CONTEXT_OPTS_HELP
		CLI_DEDUP_OPT_HELP
		"\n"
		"Environment:\n"
		"  DOCKER_BUILDKIT=0      the classic builder: only PATH/.dockerignore counts,\n"
		"                         not <Dockerfile>.dockerignore\n",
	.run = run,
};
