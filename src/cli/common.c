/* Messages and the option handling all context commands share. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ctxd/client.h"
#include "ctxd/image.h"
#include "ctxd/manifest.h"
#include "ctxd/protocol.h"
#include "ctxd/query.h"

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "ctxd: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void cli_warn_cb(void *ud, const char *msg)
{
	(void)ud;
	cli_warn("%s", msg);
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'ctxd %s --help' for more information.\n", cmd ? cmd->name : "");
	return CLI_USAGE;
}

/* docker build's --build-arg: NAME=VALUE, or NAME taking its value from
 * the environment (unset: sent as null, and the ARG keeps its default). */
static int add_build_arg(struct cli_context_opts *o, const char *arg)
{
	struct ctxd_build_arg *a = realloc(o->args, (o->nargs + 1) * sizeof *a);
	char **kv;
	const char *eq = strchr(arg, '=');
	const char *value = eq ? eq + 1 : getenv(arg);
	char *name = strndup(arg, eq ? (size_t)(eq - arg) : strlen(arg));

	if (a)
		o->args = a;
	kv = realloc(o->arg_kv, (o->narg_kv + 1) * sizeof *kv);
	if (kv)
		o->arg_kv = kv;
	if (!a || !kv || !name) {
		free(name);
		cli_error("out of memory");
		return -1;
	}
	a[o->nargs].name = name;
	a[o->nargs++].value = value;
	if (value) {
		if (asprintf(&kv[o->narg_kv], "%s=%s", name, value) < 0) {
			cli_error("out of memory");
			return -1;
		}
		o->narg_kv++;
	}
	return 0;
}

int cli_context_opt(const struct cli_command *cmd, struct cli_context_opts *o, int c,
		    const char *arg)
{
	switch (c) {
	case 'f':
		o->ctx.dockerfile = arg;
		return 1;
	case OPT_EXACT:
		o->exact = true;
		return 1;
	case OPT_JSON:
		o->json = true;
		return 1;
	case OPT_DEDUP:
		o->dedup = true;
		return 1;
	case OPT_HELP:
		fputs(cmd->help, stdout);
		return -1;
	case OPT_PRUNE:
		if (strcmp(arg, "dockerfile") == 0)
			o->prune = 1;
		else if (strcmp(arg, "off") == 0)
			o->prune = 2;
		else {
			cli_usage_error(cmd, "%s: --prune takes dockerfile or off, not '%s'", cmd->name, arg);
			return -2;
		}
		return 1;
	case OPT_TARGET:
		o->target = arg;
		return 1;
	case OPT_PLATFORM:
		o->platform = arg;
		return 1;
	case OPT_NO_DAEMON:
		o->no_daemon = true;
		return 1;
	case OPT_BUILD_ARG:
		return add_build_arg(o, arg) < 0 ? -2 : 1;
	case OPT_GIT_FILTER: {
		enum ctxd_git_filter f;

		if (ctxd_git_filter_parse(arg, &f) < 0) {
			cli_usage_error(cmd, "%s: --git-filter: '%s' is not one of off, ignored, untracked",
					cmd->name, arg);
			return -2;
		}
		o->git_filter_flag = arg;
		return 1;
	}
	default:
		return 0;
	}
}

/* The contexts docker build takes besides a directory: "-" (a tar or a
 * Dockerfile on stdin) and the URLs its urlutil recognises. */
static bool remote_context(const char *path)
{
	static const char *const prefixes[] = {"http://", "https://", "git://", "git@", "github.com/"};

	if (strcmp(path, "-") == 0)
		return true;
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (strncmp(path, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

int cli_context_finish(const struct cli_command *cmd, struct cli_context_opts *o, int argc,
		       char **argv)
{
	const char *bk = getenv("DOCKER_BUILDKIT"), *env = getenv("CTXD_GIT_FILTER");
	enum ctxd_git_filter f;

	if (o->exact && o->prune == 1)
		return cli_usage_error(cmd, "%s: --exact and --prune=dockerfile conflict: --exact is "
				       "docker's whole context", cmd->name);
	if (o->exact && o->git_filter_flag && strcmp(o->git_filter_flag, "off") != 0)
		return cli_usage_error(cmd, "%s: --exact and --git-filter=%s conflict: --exact is "
				       "docker's whole context", cmd->name, o->git_filter_flag);

	if (env && *env && ctxd_git_filter_parse(env, &f) < 0)
		return cli_usage_error(cmd, "%s: CTXD_GIT_FILTER: '%s' is not one of off, ignored, "
				       "untracked", cmd->name, env);
	if (optind >= argc)
		return cli_usage_error(cmd, "%s: missing the context PATH", cmd->name);
	if (optind + 1 < argc)
		return cli_usage_error(cmd, "%s: one context PATH expected, got %d", cmd->name,
				       argc - optind);
	if (remote_context(argv[optind]))
		return cli_usage_error(cmd, "%s: '%s': a context from stdin or a URL is not supported: "
				       "ctxd sends a local directory (docker build takes these)", cmd->name,
				       argv[optind]);
	o->ctx.dir = argv[optind];
	/* the classic builder's CLI reads only <context>/.dockerignore */
	o->ctx.classic_ignore = bk && (strcmp(bk, "0") == 0 || strcasecmp(bk, "false") == 0);
	return CLI_OK;
}

static bool ask_onbuild(struct ctxd_docker *d, const char *image)
{
	struct ctxd_error err;
	bool has = false;
	int rc = ctxd_image_has_onbuild(d, image, &has, &err);

	if (rc == 1) {
		cli_warn("base image %s is not local: its ONBUILD triggers, if any, cannot be seen, so "
			 "the whole context is sent (docker pull it first to let ctxd prune)", image);
		return true;
	}
	if (rc < 0) {
		cli_warn("%s; assuming %s may have ONBUILD triggers", err.msg, image);
		return true;
	}
	return has;
}

/* Asks docker, and keeps the answer for the daemon's walk. */
static bool has_onbuild(void *ud, const char *image)
{
	struct cli_context_opts *o = ud;
	bool has = ask_onbuild(o->docker, image);

	if (o->onbuild || (o->onbuild = json_object()))
		json_object_set_new(o->onbuild, image, json_boolean(has));
	return has;
}

/* The build the Dockerfile is analysed for: --target, --build-arg,
 * --platform, the builder. */
static struct ctxd_select_options select_options(const struct cli_context_opts *o)
{
	return (struct ctxd_select_options){
		.target = o->target,
		.build_args = (const char *const *)o->arg_kv,
		.nbuild_args = o->narg_kv,
		.platform = o->platform,
		.classic = o->ctx.classic_ignore,
	};
}

/* The Dockerfile's analysis when pruning is off: what the git filter keeps.
 * It sends nothing, so it asks docker nothing and warns nothing. */
static int open_keep(struct cli_context_opts *o, const struct ctxd_context *ctx,
		     struct ctxd_error *err)
{
	struct ctxd_select_options so = select_options(o);

	return ctxd_select_create(ctx, &so, &o->keep, err);
}

int cli_context_git(struct cli_context_opts *o, const struct ctxd_context *ctx, bool pruned,
		    struct ctxd_error *err)
{
	struct ctxd_error gerr;

	if (!o->git_deferred)
		return 0;
	if (!o->git && !o->git_failed && ctxd_gitview_open(ctx->root, &o->git, &gerr) < 0) {
		o->git = NULL;
		/* for the summary alone, git costs the savings figure, not the
		 * command */
		if (o->git_filter != CTXD_GIT_FILTER_OFF) {
			*err = gerr;
			return -1;
		}
		o->git_failed = true;
		cli_warn("%s; " CTXD_GITVIEW_NO_SAVINGS, gerr.msg);
		return 0;
	}
	if (!pruned && !o->keep && o->git && ctxd_gitview_workdir(o->git))
		return open_keep(o, ctx, err);
	return 0;
}

int cli_context_open(struct cli_context_opts *o, struct ctxd_docker *d, struct ctxd_context **ctx,
		     struct ctxd_select **sel)
{
	struct ctxd_select_options so = select_options(o);
	struct ctxd_error err;
	bool found;
	int rc = CLI_FAIL;

	*sel = NULL;
	o->docker = d;
	if (ctxd_context_open(&o->ctx, ctx, &err) < 0) {
		cli_error("%s", err.msg);
		return CLI_FAIL;
	}
	ctxd_config_init(&o->cfg);
	if (ctxd_config_load(&o->cfg, (*ctx)->root, &found, &err) < 0) {
		/* found: read, but a line is wrong */
		rc = found ? CLI_USAGE : CLI_FAIL;
		goto fail;
	}
	if (ctxd_config_git_filter(&o->cfg, o->git_filter_flag, getenv("CTXD_GIT_FILTER"),
				   &o->git_filter, &o->git_filter_source, &err) < 0) {
		rc = CLI_USAGE;
		goto fail;
	}
	switch (o->git_filter_source) {
	case CTXD_SOURCE_FLAG: o->git_filter_origin = strdup("--git-filter"); break;
	case CTXD_SOURCE_ENV: o->git_filter_origin = strdup("CTXD_GIT_FILTER"); break;
	case CTXD_SOURCE_FILE:
		if (asprintf(&o->git_filter_origin, "%s:%u", o->cfg.file, o->cfg.git_filter_line) < 0)
			o->git_filter_origin = NULL;
		break;
	default: o->git_filter_origin = strdup("default"); break;
	}
	if (!o->git_filter_origin) {
		ctxd_error_set(&err, "out of memory");
		goto fail;
	}
	/* docker's exact context has no filter; a flag asking for one was
	 * refused by cli_context_finish */
	if (o->exact)
		o->git_filter = CTXD_GIT_FILTER_OFF;
	if (o->prune == 0 && o->cfg.prune_line)
		o->prune = o->cfg.prune ? 1 : 2;
	if (o->cfg.dedup_line && o->cfg.dedup)
		o->dedup = true;
	/* git is asked late: by the daemon when it answers (it has the
	 * repository open already), else just before the walk (cli_scan) */
	o->git_deferred = !o->exact && (o->git_filter != CTXD_GIT_FILTER_OFF || !o->no_summary);
	so.has_onbuild = d ? has_onbuild : NULL;
	so.ud = o;
	so.warn = cli_warn_cb;
	if (!o->exact && o->prune != 2 && ctxd_select_create(*ctx, &so, sel, &err) < 0)
		goto fail;
	return CLI_OK;
fail:
	cli_error("%s", err.msg);
	ctxd_select_destroy(*sel);
	*sel = NULL;
	ctxd_context_destroy(*ctx);
	*ctx = NULL;
	return rc;
}

void cli_context_scan_git(const struct cli_context_opts *o, struct ctxd_scan_options *so)
{
	so->git = o->git && ctxd_gitview_workdir(o->git) ? o->git : NULL;
	so->git_filter = o->git_filter;
	so->git_keep = so->select ? so->select : o->keep;
}

void cli_context_opts_free(struct cli_context_opts *o)
{
	free(o->history_error);
	free(o->history_warning);
	free(o->git_repository);
	ctxd_select_destroy(o->keep);
	ctxd_gitview_destroy(o->git);
	ctxd_config_free(&o->cfg);
	free(o->git_filter_origin);
	for (size_t i = 0; i < o->nargs; i++)
		free((char *)o->args[i].name);
	for (size_t i = 0; i < o->narg_kv; i++)
		free(o->arg_kv[i]);
	free(o->args);
	free(o->arg_kv);
	json_decref(o->onbuild);
}

bool cli_daemon_wanted(void)
{
	const char *v = getenv("CTXD_DAEMON");

	return !v || strcmp(v, "0") != 0;
}

static void daemon_recorded(void *ud, const char *error, const char *warning)
{
	struct cli_context_opts *o = ud;

	o->history_recorded = true;
	o->history_error = error ? strdup(error) : NULL;
	o->history_warning = warning ? strdup(warning) : NULL;
}

void cli_record_history(struct cli_context_opts *o, const struct ctxd_context *ctx,
			const struct ctxd_summary *sum, const struct ctxd_manifest *m,
			const struct ctxd_history_dir *top, bool quiet)
{
	struct ctxd_buf w = {0};
	struct ctxd_error err;

	if (!o->history_recorded) {
		if (ctxd_history_record_run(ctx, o->record, sum, m, top, quiet ? NULL : &w, &err) < 0) {
			if (!quiet)
				cli_warn("history not recorded: %s", err.msg);
		} else if (w.len && !w.oom) {
			cli_warn("%s", w.data);
		}
	} else if (!quiet && o->history_error) {
		cli_warn("history not recorded: %s", o->history_error);
	} else if (!quiet && o->history_warning) {
		cli_warn("%s", o->history_warning);
	}
	ctxd_buf_free(&w);
}

/* A hash the daemon sent for the n-th sent entry, kept when that entry of
 * the manifest is the file it was computed for (dedup checks the key
 * against the file again before trusting it). */
struct hash_into {
	struct ctxd_manifest *m;
	size_t base; /* the manifest's entries before the scan */
};

static void take_hash(void *ud, size_t n, const struct ctxd_hash *h, const struct ctxd_hash_key *key)
{
	struct hash_into *hi = ud;
	const struct ctxd_entry *e;

	if (n >= ctxd_manifest_count(hi->m) - hi->base)
		return;
	e = ctxd_manifest_entry(hi->m, hi->base + n);
	if (e->type == CTXD_ENTRY_FILE && e->ino == key->ino && e->size == key->size)
		ctxd_manifest_set_hash(hi->m, hi->base + n, h, key);
}

static void take_repository(void *ud, const char *workdir)
{
	struct cli_context_opts *o = ud;

	free(o->git_repository);
	o->git_repository = workdir ? strdup(workdir) : NULL;
}

const char *cli_context_git_repository(const struct cli_context_opts *o)
{
	return o->git ? ctxd_gitview_workdir(o->git) : o->git_repository;
}

/* The walk here, with git's view opened now when git is asked. */
static int walk(struct cli_context_opts *o, const struct ctxd_context *ctx,
		const struct ctxd_scan_options *so, ctxd_scan_visit_fn visit, void *ud,
		struct ctxd_error *err)
{
	struct ctxd_scan_options s = *so;

	if (cli_context_git(o, ctx, so->select != NULL, err) < 0)
		return -1;
	cli_context_scan_git(o, &s);
	return ctxd_scan_run(ctx, &s, visit, ud, err);
}

int cli_scan_hashed(struct cli_context_opts *o, const struct ctxd_context *ctx,
		    const struct ctxd_scan_options *so, ctxd_scan_visit_fn visit, void *ud,
		    struct ctxd_manifest *m, struct ctxd_error *err)
{
	struct hash_into hi = {.m = m, .base = m ? ctxd_manifest_count(m) : 0};
	struct ctxd_query q = {
		.root = ctx->root,
		.dockerfile = ctx->dockerfile_path,
		.classic_ignore = o->ctx.classic_ignore,
		.select = so->select != NULL,
		.target = o->target,
		.platform = o->platform,
		.build_args = (const char *const *)o->arg_kv,
		.nbuild_args = o->narg_kv,
		.onbuild = o->docker ? o->onbuild : NULL,
		.want_excluded = so->want_excluded,
		.list_unread = so->list_unread,
		.want_hashes = m != NULL,
		.git = o->git_deferred,
		.git_filter = o->git_filter,
		.record = o->record,
	};
	struct ctxd_query_handlers h = {
		.visit = visit,
		.ud = ud,
		.warn = so->warn,
		.warn_ud = so->warn_ud,
		.hash = m ? take_hash : NULL,
		.hash_ud = &hi,
		.recorded = daemon_recorded,
		.recorded_ud = o,
		.idle = o->idle,
		.idle_ud = o->idle_ud,
		.repository = take_repository,
		.repository_ud = o,
	};
	int rc;

	/* no answers recorded: no base image was asked about */
	if (o->docker && !o->onbuild && !(q.onbuild = o->onbuild = json_object())) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	/* a Dockerfile from stdin exists only here */
	if (o->no_daemon || !cli_daemon_wanted() || ctx->dockerfile_stdin || so->source)
		return walk(o, ctx, so, visit, ud, err);
	rc = ctxd_query_run(NULL, &q, &h, err);
	if (rc == CTXD_QUERY_DAEMON_FAILED)
		cli_warn("%s; walking the tree here instead", err->msg);
	else if (rc != CTXD_QUERY_NO_DAEMON)
		return rc;
	return walk(o, ctx, so, visit, ud, err);
}

int cli_scan(struct cli_context_opts *o, const struct ctxd_context *ctx,
	     const struct ctxd_scan_options *so, ctxd_scan_visit_fn visit, void *ud,
	     struct ctxd_error *err)
{
	return cli_scan_hashed(o, ctx, so, visit, ud, NULL, err);
}

int cli_daemon_path_request(const struct cli_command *cmd, const char *type, int argc,
			    char **argv, json_t **reply)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	struct ctxd_error err;
	bool no_daemon;
	json_t *req;
	int c, fd, rc;

	*reply = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(cmd->help, stdout);
			return CLI_OK;
		}
		return cli_usage_error(cmd, "%s: invalid option", cmd->name);
	}
	if (optind + 1 != argc)
		return cli_usage_error(cmd, "%s: one PATH expected", cmd->name);
	if (ctxd_client_connect(NULL, CTXD_CLIENT_CONNECT_TIMEOUT_MS, &fd, &no_daemon, &err) < 0) {
		cli_error("%s", err.msg);
		return no_daemon ? CLI_NO_DAEMON : CLI_FAIL;
	}
	req = ctxd_protocol_message(type);
	json_object_set_new(req, "path", json_string(argv[optind]));
	rc = ctxd_client_call(fd, req, reply, 120000, &err);
	json_decref(req);
	close(fd);
	if (rc < 0) {
		cli_error("%s", err.msg);
		return CLI_FAIL;
	}
	return CLI_OK;
}
