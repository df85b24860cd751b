/* ctxd build: docker build, with ctxd's context streamed to the daemon. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ctxd/auth.h"
#include "ctxd/build.h"
#include "ctxd/dedup.h"
#include "ctxd/docker.h"
#include "ctxd/endpoint.h"
#include "ctxd/jsonstream.h"
#include "ctxd/manifest.h"
#include "ctxd/outfile.h"
#include "ctxd/progress.h"
#include "ctxd/report_history.h"
#include "ctxd/report_secrets.h"
#include "ctxd/scan.h"
#include "ctxd/select.h"
#include "ctxd/summary.h"
#include "ctxd/units.h"

enum {
	OPT_LABEL = OPT_FIRST_COMMAND, OPT_NO_CACHE, OPT_PULL, OPT_NETWORK,
	OPT_IIDFILE, OPT_PROGRESS, OPT_BUILDER_VERSION, OPT_COMPRESS, OPT_CACHE_FROM,
	OPT_ADD_HOST, OPT_RM, OPT_FORCE_RM, OPT_CONTEXT, OPT_TLS, OPT_TLSVERIFY,
	OPT_TLSCACERT, OPT_TLSCERT, OPT_TLSKEY,
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Polled while the request runs: also when the terminal view's timers
 * and the upload's rate and ETA get redrawn between messages. */
static bool is_cancelled(void *ud)
{
	ctxd_progress_tick(ud);
	return interrupted;
}

/* A growable list of strings from repeated flags. */
struct strs {
	const char **v;
	size_t n;
};

static int push(struct strs *s, const char *v)
{
	const char **n = realloc(s->v, (s->n + 1) * sizeof *n);

	if (!n)
		return -1;
	n[s->n++] = v;
	s->v = n;
	return 0;
}

struct run {
	struct ctxd_jsonstream *js;
	struct ctxd_progress *progress;
};

static int on_message(void *ud, json_t *msg, struct ctxd_error *err)
{
	return ctxd_progress_message(ud, msg, err);
}

static int on_response(void *ud, const char *buf, size_t len, struct ctxd_error *err)
{
	struct run *r = ud;

	return ctxd_jsonstream_feed(r->js, buf, len, on_message, r->progress, err);
}

static void on_upload(void *ud, uint64_t sent, uint64_t total, bool done)
{
	ctxd_progress_upload(ud, sent, total, done);
}

static int parse_compress(const char *v, enum ctxd_compress *c, bool *autoc)
{
	*autoc = false;
	if (!v || strcmp(v, "gzip") == 0)
		*c = CTXD_COMPRESS_GZIP;
	else if (strcmp(v, "none") == 0)
		*c = CTXD_COMPRESS_NONE;
	else if (strcmp(v, "xz") == 0)
		*c = CTXD_COMPRESS_XZ;
	else if (strcmp(v, "auto") == 0)
		*autoc = true;
	else
		return -1;
	return 0;
}

/* BuildKit given a tar shows COPY the files docker hides from it. */
static void warn_hidden(void *ud, const char *path, const char *reader)
{
	(void)ud;
	cli_warn("BuildKit shows COPY every file in the tar: %s may be copied into the image, "
		 "where docker build leaves it out (%s); --builder-version=1 leaves it out",
		 path, reader ? reader : "if a COPY or ADD reads it");
}

static int write_iidfile(const char *path, const char *id, struct ctxd_error *err)
{
	struct ctxd_outfile *of = ctxd_outfile_open(path, false, err);

	if (!of)
		return -1;
	if (ctxd_outfile_write(of, id, strlen(id), err) < 0) {
		ctxd_outfile_abort(of);
		return -1;
	}
	return ctxd_outfile_commit(of, err);
}

/* One warning line each, once per build: files sent that look like
 * credentials, and growth since the last build (the build is recorded in
 * the history either way). */
static void build_warnings(struct cli_context_opts *co, const struct ctxd_context *ctx,
			   const struct ctxd_summary *sum, const struct ctxd_manifest *m, bool quiet)
{
	struct ctxd_secrets s = {0};
	struct ctxd_secrets_allow *allow = NULL;
	struct ctxd_buf w = {0};
	struct ctxd_error err;

	if (!quiet && !(allow = ctxd_secrets_allow_load(ctx->root, &err)))
		cli_warn("%s", err.msg);
	if (allow && ctxd_secrets_scan_manifest(&s, allow, m, ctx->rootfd) == 0 && s.n) {
		for (size_t i = 0; i < s.n && i < 3; i++)
			ctxd_buf_printf(&w, "%s%s (%s)", i ? ", " : "", s.items[i].path, s.items[i].rule);
		cli_warn("%zu %s sent look%s like credentials: %s%s; ctxd report lists them, "
			 ".ctxdsecretsignore silences false ones", s.n, s.n == 1 ? "file" : "files",
			 s.n == 1 ? "s" : "", w.oom ? "" : w.data, s.n > 3 ? ", ..." : "");
	}
	ctxd_buf_free(&w);
	cli_record_history(co, ctx, sum, m, NULL, quiet);
	ctxd_secrets_clear(&s);
	ctxd_secrets_allow_destroy(allow);
}

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_CONTEXT_LONGOPTS,
		CLI_DEDUP_LONGOPT,
		{"tag", required_argument, NULL, 't'},
		{"label", required_argument, NULL, OPT_LABEL},
		{"no-cache", no_argument, NULL, OPT_NO_CACHE},
		{"pull", no_argument, NULL, OPT_PULL},
		{"quiet", no_argument, NULL, 'q'},
		{"network", required_argument, NULL, OPT_NETWORK},
		{"iidfile", required_argument, NULL, OPT_IIDFILE},
		{"progress", required_argument, NULL, OPT_PROGRESS},
		{"builder-version", required_argument, NULL, OPT_BUILDER_VERSION},
		{"compress", optional_argument, NULL, OPT_COMPRESS},
		{"cache-from", required_argument, NULL, OPT_CACHE_FROM},
		{"add-host", required_argument, NULL, OPT_ADD_HOST},
		{"rm", optional_argument, NULL, OPT_RM},
		{"force-rm", no_argument, NULL, OPT_FORCE_RM},
		{"host", required_argument, NULL, 'H'},
		{"context", required_argument, NULL, OPT_CONTEXT},
		{"tls", no_argument, NULL, OPT_TLS},
		{"tlsverify", no_argument, NULL, OPT_TLSVERIFY},
		{"tlscacert", required_argument, NULL, OPT_TLSCACERT},
		{"tlscert", required_argument, NULL, OPT_TLSCERT},
		{"tlskey", required_argument, NULL, OPT_TLSKEY},
		{NULL, 0, NULL, 0},
	};
	struct cli_context_opts co = {0};
	struct ctxd_build_options bo = {0};
	struct ctxd_endpoint_options eo = {0};
	struct ctxd_scan_options so = {.warn = cli_warn_cb};
	struct strs tags = {0}, labels = {0}, cache_from = {0}, hosts = {0};
	const char *iidfile = NULL, *progress_mode = "auto", *bk = getenv("DOCKER_BUILDKIT");
	int builder_version = 0, c, rc = CLI_FAIL;
	bool compress_auto = true, cancelled = false;
	struct ctxd_context *ctx = NULL;
	struct ctxd_select *sel = NULL;
	struct ctxd_summary sum = {0};
	struct ctxd_buf line = {0};
	struct ctxd_manifest *m = NULL;
	struct ctxd_endpoint ep = {0};
	struct ctxd_docker *d = NULL;
	struct run r = {0};
	enum ctxd_progress_mode pm;
	char *regcfg = NULL;
	struct ctxd_error err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:t:qH:", longopts, NULL)) != -1) {
		int s = cli_context_opt(&cli_cmd_build, &co, c, optarg);

		if (s < 0) {
			rc = s == -1 ? CLI_OK : CLI_USAGE;
			goto out;
		}
		if (s > 0)
			continue;
		switch (c) {
		case 't': push(&tags, optarg); break;
		case OPT_LABEL: push(&labels, optarg); break;
		case OPT_NO_CACHE: bo.nocache = true; break;
		case OPT_PULL: bo.pull = true; break;
		case 'q': bo.quiet = true; break;
		case OPT_NETWORK: bo.network = optarg; break;
		case OPT_IIDFILE: iidfile = optarg; break;
		case OPT_PROGRESS: progress_mode = optarg; break;
		case OPT_BUILDER_VERSION:
			if (strcmp(optarg, "1") && strcmp(optarg, "2"))
				{
			rc = cli_usage_error(&cli_cmd_build, "build: --builder-version takes 1 (classic) or 2 (BuildKit), not '%s'", optarg);
			goto out;
		}
			builder_version = atoi(optarg);
			break;
		case OPT_COMPRESS:
			if (parse_compress(optarg, &bo.compress, &compress_auto) < 0)
				{
			rc = cli_usage_error(&cli_cmd_build, "build: --compress takes auto, none, gzip or xz, not '%s'", optarg);
			goto out;
		}
			break;
		case OPT_CACHE_FROM: push(&cache_from, optarg); break;
		case OPT_ADD_HOST: push(&hosts, optarg); break;
		case OPT_RM:
			bo.no_rm = optarg && (strcmp(optarg, "false") == 0 || strcmp(optarg, "0") == 0);
			break;
		case OPT_FORCE_RM: bo.force_rm = true; break;
		case 'H': eo.host = optarg; break;
		case OPT_CONTEXT: eo.context = optarg; break;
		case OPT_TLS: eo.tls = true; break;
		case OPT_TLSVERIFY: eo.tlsverify = true; break;
		case OPT_TLSCACERT: eo.tlscacert = optarg; break;
		case OPT_TLSCERT: eo.tlscert = optarg; break;
		case OPT_TLSKEY: eo.tlskey = optarg; break;
		default:
			{
			rc = cli_usage_error(&cli_cmd_build, "build: unknown or incomplete flag (%s)", argv[optind - 1]);
			goto out;
		}
		}
	}
	if (strcmp(progress_mode, "auto") == 0)
		pm = CTXD_PROGRESS_AUTO;
	else if (strcmp(progress_mode, "plain") == 0)
		pm = CTXD_PROGRESS_PLAIN;
	else if (strcmp(progress_mode, "tty") == 0)
		pm = CTXD_PROGRESS_TTY;
	else if (strcmp(progress_mode, "quiet") == 0)
		pm = CTXD_PROGRESS_QUIET;
	else
		{
			rc = cli_usage_error(&cli_cmd_build, "build: --progress takes auto, plain, tty or quiet, not '%s'", progress_mode);
			goto out;
		}
	if (bo.quiet)
		pm = CTXD_PROGRESS_QUIET;
	if ((rc = cli_context_finish(&cli_cmd_build, &co, argc, argv)) != CLI_OK)
		goto out;
	rc = CLI_FAIL;
	if (co.json)
		{
			rc = cli_usage_error(&cli_cmd_build, "build: --json is not a build option");
			goto out;
		}
	if (pm == CTXD_PROGRESS_TTY && !isatty(STDERR_FILENO))
		{
			rc = cli_usage_error(&cli_cmd_build, "build: --progress=tty needs a terminal on stderr");
			goto out;
		}
	if (!builder_version && bk && *bk)
		builder_version = (strcmp(bk, "0") == 0 || strcasecmp(bk, "false") == 0) ? 1 : 2;
	bo.tags = tags.v;
	bo.ntags = tags.n;
	bo.labels = labels.v;
	bo.nlabels = labels.n;
	bo.cache_from = cache_from.v;
	bo.ncache_from = cache_from.n;
	bo.extra_hosts = hosts.v;
	bo.nextra_hosts = hosts.n;
	bo.args = co.args;
	bo.nargs = co.nargs;
	bo.target = co.target;
	bo.platform = co.platform;
	if (iidfile && unlink(iidfile) < 0 && errno != ENOENT) {
		cli_error("%s: %s", iidfile, strerror(errno));
		goto out;
	}

	if (ctxd_endpoint_resolve(&eo, &ep, &err) < 0 || !(d = ctxd_docker_create(&ep, &err)) ||
	    ctxd_docker_ping(d, &err) < 0)
		goto fail;
	bo.version = builder_version ? builder_version : ctxd_docker_builder(d);
	co.ctx.classic_ignore = bo.version == 1;
	if (compress_auto)
		bo.compress = ctxd_docker_is_local(d) ? CTXD_COMPRESS_NONE : CTXD_COMPRESS_GZIP;

	co.no_summary = bo.quiet;
	co.record = "build";
	if ((rc = cli_context_open(&co, d, &ctx, &sel)) != CLI_OK)
		goto out;
	rc = CLI_FAIL;
	if (bo.version == 2 && ctxd_select_hidden_reads(sel, ctx, warn_hidden, NULL, &err) < 0)
		goto fail;
	so.select = sel;
	sum.git_filter = co.git_filter;
	/* the summary line counts what docker would send; -q skips listing */
	so.want_excluded = true;
	so.list_unread = !bo.quiet;
	sum.next = ctxd_manifest_visit;
	if (!(m = ctxd_manifest_create())) {
		ctxd_error_set(&err, "out of memory");
		goto fail;
	}
	sum.next_ud = m;
	/* with --dedup off, the summary still says what it would save */
	if (cli_scan_hashed(&co, ctx, &so, ctxd_summary_visit, &sum, co.dedup || !bo.quiet ? m : NULL,
			    &err) < 0)
		goto fail;
	if ((co.dedup || !bo.quiet) && ctxd_dedup_run(m, ctx->rootfd, NULL, &err) < 0)
		goto fail;
	bo.dedup = co.dedup;
	build_warnings(&co, ctx, &sum, m, bo.quiet);
	regcfg = ctxd_auth_registry_config(&err);
	if (!regcfg)
		goto fail;
	bo.registry_config = regcfg;
	if (!bo.quiet) {
		ctxd_summary_format(&sum, &line);
		fprintf(stderr, "ctxd: sending %s to %s (%s)\n", line.oom ? "the context" : line.data,
			ctxd_docker_describe(d), bo.version == 2 ? "BuildKit" : "classic builder");
	}
	if (!bo.quiet) {
		struct ctxd_dedup_savings sv;
		char size[16];

		ctxd_dedup_savings(m, &sv);
		if (co.dedup)
			fprintf(stderr, "ctxd: --dedup: %llu identical files (%s) sent as hard links\n",
				(unsigned long long)sv.files, ctxd_units_human(sv.bytes, size));
		else if (sv.files)
			fprintf(stderr, "ctxd: %llu files (%s) are copies of others: --dedup would send "
				"them as hard links (off: it changes the image, see README)\n",
				(unsigned long long)sv.files, ctxd_units_human(sv.bytes, size));
	}

	r.js = ctxd_jsonstream_create(64u << 20);
	r.progress = ctxd_progress_create(pm, stdout, stderr, isatty(STDERR_FILENO));
	if (!r.js || !r.progress) {
		ctxd_error_set(&err, "out of memory");
		goto fail;
	}
	bo.response = on_response;
	bo.response_ud = &r;
	bo.uploaded = on_upload;
	bo.upload_ud = r.progress;
	bo.cancelled = is_cancelled;
	bo.cancel_ud = r.progress;
	{
		struct sigaction sa = {.sa_handler = on_sigint};

		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	if (ctxd_build_send(d, ctx, m, &bo, &cancelled, &err) < 0 ||
	    ctxd_jsonstream_finish(r.js, &err) < 0) {
		ctxd_progress_finish(r.progress);
		if (cancelled) {
			cli_error("build cancelled");
			rc = 130;
			goto out;
		}
		goto fail;
	}
	ctxd_progress_finish(r.progress);
	if (ctxd_progress_error(r.progress)) {
		cli_error("%s", ctxd_progress_error(r.progress));
		goto out;
	}
	if (bo.quiet && ctxd_progress_image_id(r.progress))
		printf("%s\n", ctxd_progress_image_id(r.progress));
	if (iidfile) {
		if (!ctxd_progress_image_id(r.progress)) {
			cli_error("the daemon reported no image ID; %s not written", iidfile);
			goto out;
		}
		if (write_iidfile(iidfile, ctxd_progress_image_id(r.progress), &err) < 0)
			goto fail;
	}
	rc = CLI_OK;
	goto out;
fail:
	cli_error("%s", err.msg);
out:
	ctxd_progress_destroy(r.progress);
	ctxd_jsonstream_destroy(r.js);
	ctxd_manifest_destroy(m);
	ctxd_select_destroy(sel);
	ctxd_context_destroy(ctx);
	ctxd_docker_destroy(d);
	ctxd_buf_free(&line);
	cli_context_opts_free(&co);
	ctxd_endpoint_clear(&ep);
	free(tags.v);
	free(labels.v);
	free(cache_from.v);
	free(hosts.v);
	free(regcfg);
	return rc;
}

const struct cli_command cli_cmd_build = {
	.name = "build",
	.summary = "build an image, sending the daemon ctxd's context (docker build)",
	.help = "Usage: ctxd build [OPTIONS] PATH\n"
		"\n"
		"Builds an image like docker build, streaming ctxd's context to the Docker\n"
		"daemon's /build endpoint. Exit status 0 only when the daemon reports success;\n"
		"130 when interrupted (the upload stops and the daemon cancels the build).\n"
		"\n"
		"docker build options:\n"
		"  -t, --tag=NAME[:TAG]   name the image (repeatable)\n"
		"      --label=KEY=VALUE  set image metadata (repeatable)\n"
		"      --no-cache         do not use the build cache\n"
		"      --pull             always try to pull newer base images\n"
		"  -q, --quiet            print only the image ID\n"
		"      --network=MODE     networking mode for RUN\n"
		"      --iidfile=FILE     write the image ID to FILE (only on success)\n"
		"      --progress=MODE    auto, plain, tty or quiet\n"
		"      --cache-from=IMAGE images to use as cache sources (repeatable)\n"
		"      --add-host=HOST:IP an /etc/hosts entry (repeatable)\n"
		"      --rm=false, --force-rm  keep or always remove intermediate containers\n"
		"\n"
		"Builder and transport:\n"
		"      --builder-version=1|2  classic builder or BuildKit (default: what the\n"
		"                         daemon prefers; DOCKER_BUILDKIT=0|1 also chooses)\n"
		"      --compress[=MODE]  auto (plain on local daemons, gzip on remote ones),\n"
		"                         none, gzip (docker's --compress) or xz\n"
		"  -H, --host=ADDR        daemon address: unix://PATH, tcp://HOST:PORT, ssh://[USER@]HOST\n"
		"      --context=NAME     a docker context\n"
		"      --tls, --tlsverify, --tlscacert=FILE, --tlscert=FILE, --tlskey=FILE\n"
		"                         TLS for tcp:// endpoints, as with docker\n"
		"\n"
		"Context options:\n"
		CLI_CONTEXT_OPTS_HELP
		CLI_DEDUP_OPT_HELP
		"\n"
		"Environment: DOCKER_HOST, DOCKER_CONTEXT, DOCKER_CONFIG, DOCKER_TLS_VERIFY,\n"
		"DOCKER_CERT_PATH and DOCKER_BUILDKIT work as they do for docker.\n",
	.run = run,
};
