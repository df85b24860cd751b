/* ctxd ls: what is in the context (or, with --excluded, what is not). */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ctxd/scan.h"

enum { OPT_LONG = OPT_FIRST_COMMAND, OPT_EXCLUDED };

struct ls {
	const struct ctxd_context *ctx;
	bool long_fmt, excluded, json, first;
	uint64_t entries, files, bytes;
};

static void print_rule(const struct ls *ls, const struct ctxd_entry *e)
{
	struct ctxd_ignore_rule r;

	if (e->rule < 0) {
		fputs("-", stdout);
		return;
	}
	ctxd_ignore_rule(ls->ctx->walk, (size_t)e->rule, &r);
	if (r.file)
		printf("%s:%u: %s", r.file, r.line, r.text);
	else
		printf("(added by docker) %s", r.text);
}

static json_t *entry_json(const struct ls *ls, const struct ctxd_entry *e)
{
	json_t *o = json_object();
	char mode[8];

	json_object_set_new(o, "path", json_stringn(e->path, e->path_len));
	json_object_set_new(o, "type", json_string(ctxd_entry_type_name(e->type)));
	snprintf(mode, sizeof mode, "%04o", e->mode);
	json_object_set_new(o, "mode", json_string(mode));
	json_object_set_new(o, "size", json_integer((json_int_t)e->size));
	json_object_set_new(o, "mtime", json_integer(e->mtime));
	if (e->link)
		json_object_set_new(o, "link", json_stringn(e->link, e->link_len));
	if (e->excluded) {
		json_object_set_new(o, "pruned", json_boolean(e->pruned));
		if (e->rule >= 0) {
			struct ctxd_ignore_rule r;

			ctxd_ignore_rule(ls->ctx->walk, (size_t)e->rule, &r);
			json_object_set_new(o, "rule", json_string(r.text));
			if (r.file) {
				json_object_set_new(o, "rule_file", json_string(r.file));
				json_object_set_new(o, "rule_line", json_integer(r.line));
			}
		}
	}
	return o;
}

static int visit(void *ud, const struct ctxd_entry *e, struct ctxd_error *err)
{
	struct ls *ls = ud;
	const char *slash = e->type == CTXD_ENTRY_DIR ? "/" : "";

	(void)err;
	if (e->excluded != ls->excluded)
		return 0;
	ls->entries++;
	if (e->type == CTXD_ENTRY_FILE) {
		ls->files++;
		ls->bytes += e->size;
	}
	if (ls->json) {
		json_t *o = entry_json(ls, e);
		char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);

		printf("%s\n    %s", ls->first ? "" : ",", s ? s : "null");
		ls->first = false;
		free(s);
		json_decref(o);
		return 0;
	}
	if (ls->long_fmt) {
		char mode[11], when[32];
		time_t t = (time_t)e->mtime;
		struct tm tm;

		ctxd_entry_mode_string(e, mode);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
		printf("%s %12" PRIu64 " %s  ", mode, e->size, when);
		fwrite(e->path, 1, e->path_len, stdout);
		fputs(slash, stdout);
		if (e->type == CTXD_ENTRY_SYMLINK)
			printf(" -> %s", e->link);
		else if (e->type == CTXD_ENTRY_HARDLINK)
			printf(" link to %s", e->link);
		if (ls->excluded) {
			fputs(e->pruned ? "  (not read) " : "  ", stdout);
			print_rule(ls, e);
		}
		putchar('\n');
		return 0;
	}
	fwrite(e->path, 1, e->path_len, stdout);
	fputs(slash, stdout);
	putchar('\n');
	return 0;
}

static void json_head(const struct ctxd_context *ctx)
{
	json_t *v;
	char *s;

	fputs("{\n  \"context\": ", stdout);
	v = json_string(ctx->root);
	s = json_dumps(v, JSON_ENCODE_ANY);
	fputs(s, stdout);
	free(s);
	json_decref(v);
	fputs(",\n  \"dockerfile\": ", stdout);
	v = json_string(ctx->dockerfile_rel);
	s = json_dumps(v, JSON_ENCODE_ANY);
	fputs(s, stdout);
	free(s);
	json_decref(v);
	fputs(",\n  \"ignore_file\": ", stdout);
	v = ctx->ignore_path ? json_string(ctx->ignore_path) : json_null();
	s = json_dumps(v, JSON_ENCODE_ANY);
	fputs(s, stdout);
	free(s);
	json_decref(v);
	fputs(",\n  \"entries\": [\n", stdout);
}

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_CONTEXT_LONGOPTS,
		{"long", no_argument, NULL, 'l'},
		{"excluded", no_argument, NULL, OPT_EXCLUDED},
		{NULL, 0, NULL, 0},
	};
	struct cli_context_opts co = {0};
	struct ls ls = {.first = true};
	struct ctxd_scan_options so = {.warn = cli_warn_cb};
	struct ctxd_context *ctx;
	struct ctxd_error err;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:l", longopts, NULL)) != -1) {
		int r = cli_context_opt(&cli_cmd_ls, &co, c, optarg);

		if (r < 0)
			return CLI_OK;
		if (r > 0)
			continue;
		switch (c) {
		case 'l': ls.long_fmt = true; break;
		case OPT_EXCLUDED: ls.excluded = true; break;
		default: return cli_usage_error(&cli_cmd_ls, "ls: invalid option");
		}
	}
	if ((rc = cli_context_finish(&cli_cmd_ls, &co, argc, argv)) != CLI_OK)
		return rc;
	if (ctxd_context_open(&co.ctx, &ctx, &err) < 0) {
		cli_error("%s", err.msg);
		return CLI_FAIL;
	}
	ls.ctx = ctx;
	ls.json = co.json;
	so.want_excluded = ls.excluded;
	if (ls.json)
		json_head(ctx);
	rc = ctxd_scan_run(ctx, &so, visit, &ls, &err);
	if (ls.json)
		printf("\n  ],\n  \"totals\": {\"entries\": %" PRIu64 ", \"files\": %" PRIu64
		       ", \"bytes\": %" PRIu64 "}\n}\n", ls.entries, ls.files, ls.bytes);
	ctxd_context_destroy(ctx);
	if (rc < 0) {
		cli_error("%s", err.msg);
		return CLI_FAIL;
	}
	if (fflush(stdout) != 0) {
		cli_error("standard output: write failed");
		return CLI_FAIL;
	}
	return CLI_OK;
}

const struct cli_command cli_cmd_ls = {
	.name = "ls",
	.summary = "list what the build context holds",
	.help = "Usage: ctxd ls [OPTIONS] PATH\n"
		"\n"
		"Lists the entries of the build context of PATH in the order they are sent,\n"
		"one per line; directories end in '/'.\n"
		"\n"
		"Options:\n"
		"  -l, --long             type, mode, size and mtime (UTC) of each entry\n"
		"      --excluded         list what is not sent instead, and (with --long)\n"
		"                         the .dockerignore line that decided it\n"
		CLI_CONTEXT_OPTS_HELP
		"\n"
		"Environment:\n"
		"  DOCKER_BUILDKIT=0      the classic builder: only PATH/.dockerignore counts,\n"
		"                         not <Dockerfile>.dockerignore\n",
	.run = run,
};
