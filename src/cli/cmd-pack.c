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
#include "ctxd/units.h"

/* The temporary output file a signal must not leave behind. */
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

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_CONTEXT_LONGOPTS,
		CLI_DEDUP_LONGOPT,
		{"output", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	struct cli_context_opts co = {0};
	struct ctxd_scan_options so = {.warn = cli_warn_cb};
	const char *output = "-";
	struct ctxd_context *ctx = NULL;
	struct ctxd_outfile *of = NULL;
	struct ctxd_pack *pk = NULL;
	struct ctxd_manifest *m = NULL;
	struct ctxd_error err;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:", longopts, NULL)) != -1) {
		int r = cli_context_opt(&cli_cmd_pack, &co, c, optarg);

		if (r < 0)
			return CLI_OK;
		if (r > 0)
			continue;
		if (c == 'o')
			output = optarg;
		else
			return cli_usage_error(&cli_cmd_pack, "pack: invalid option");
	}
	if ((rc = cli_context_finish(&cli_cmd_pack, &co, argc, argv)) != CLI_OK)
		return rc;
	if (co.json)
		return cli_usage_error(&cli_cmd_pack, "pack: --json does not apply to a tar stream");
	if (ctxd_context_open(&co.ctx, &ctx, &err) < 0)
		goto fail;
	/* dedup needs every file seen before the first is sent */
	if (co.dedup) {
		struct ctxd_dedup_savings sv;
		char size[16];

		if (!(m = ctxd_manifest_create()) ||
		    ctxd_scan_run(ctx, &so, ctxd_manifest_visit, m, &err) < 0 ||
		    ctxd_dedup_run(m, ctx->rootfd, NULL, &err) < 0)
			goto fail;
		ctxd_dedup_savings(m, &sv);
		fprintf(stderr, "ctxd: --dedup: %llu identical files (%s) sent as hard links\n",
			(unsigned long long)sv.files, ctxd_units_human(sv.bytes, size));
	}
	trap_signals();
	of = ctxd_outfile_open(output, true, &err);
	if (!of)
		goto fail;
	pending_temp = ctxd_outfile_temp_path(of);
	pk = ctxd_pack_create(ctx->rootfd, ctx->root, CTXD_COMPRESS_NONE, ctxd_outfile_write, of, &err);
	if (!pk)
		goto fail;
	if (m ? ctxd_dedup_pack(m, ctx->rootfd, ctx->root, pk, &err) < 0
	      : ctxd_scan_run(ctx, &so, ctxd_pack_visit, pk, &err) < 0)
		goto fail;
	if (ctxd_pack_finish(pk, &err) < 0)
		goto fail;
	ctxd_pack_destroy(pk);
	pk = NULL;
	pending_temp = NULL;
	if (ctxd_outfile_commit(of, &err) < 0) {
		of = NULL;
		goto fail;
	}
	ctxd_manifest_destroy(m);
	ctxd_context_destroy(ctx);
	return CLI_OK;
fail:
	cli_error("%s", err.msg);
	ctxd_pack_destroy(pk);
	pending_temp = NULL;
	ctxd_outfile_abort(of);
	ctxd_manifest_destroy(m);
	ctxd_context_destroy(ctx);
	return CLI_FAIL;
}

const struct cli_command cli_cmd_pack = {
	.name = "pack",
	.summary = "write the build context as a tar stream",
	.help = "Usage: ctxd pack [OPTIONS] PATH\n"
		"\n"
		"Writes the build context of PATH as the tar stream docker build would send.\n"
		"The file appears only when it is complete: on any error (an unreadable file, a\n"
		"file that changes while it is read) or a signal, nothing is left behind.\n"
		"\n"
		"Options:\n"
		"  -o, --output=FILE      write to FILE; '-' (the default) is standard output,\n"
		"                         which must not be a terminal\n"
		CLI_CONTEXT_OPTS_HELP
		CLI_DEDUP_OPT_HELP
		"\n"
		"Environment:\n"
		"  DOCKER_BUILDKIT=0      the classic builder: only PATH/.dockerignore counts,\n"
		"                         not <Dockerfile>.dockerignore\n",
	.run = run,
};
