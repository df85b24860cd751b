/* ctxd ls: what is in the context (or, with --excluded, what is not). */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ctxd/scan.h"
#include "ctxd/summary.h"

enum { OPT_LONG = OPT_FIRST_COMMAND, OPT_EXCLUDED };

struct ls {
	const struct ctxd_context *ctx;
	const struct ctxd_select *sel;
	struct cli_context_opts *co; /* its git view, opened when a rule is asked */
	const char *git_source;
	const char *repository; /* git's work tree, once the scan ran */
	bool long_fmt, excluded, json, first;
	uint64_t entries, files, bytes;
};

/* The .gitignore rule of a git-ignored entry: 1 with *r set, 0 when git
 * names none, -1 on error. When the daemon answered, git's view is opened
 * here, at the first such entry. */
static int git_rule(const struct ls *ls, const struct ctxd_entry *e, struct ctxd_git_rule *r,
		    struct ctxd_error *err)
{
	if (e->reason != CTXD_REASON_GIT_IGNORED)
		return 0;
	if (cli_context_git(ls->co, ls->ctx, true, err) < 0)
		return -1;
	if (!ls->co->git || !ctxd_gitview_workdir(ls->co->git))
		return 0;
	return ctxd_gitview_rule(ls->co->git, e->path, e->path_len, e->type == CTXD_ENTRY_DIR, r, err);
}

static int print_rule(const struct ls *ls, const struct ctxd_entry *e, struct ctxd_error *err)
{
	struct ctxd_ignore_rule r;
	struct ctxd_git_rule gr;
	int rc;

	if ((rc = git_rule(ls, e, &gr, err)) != 0) {
		if (rc < 0)
			return -1;
		if (gr.file)
			printf("%s:%u: %s", gr.file, gr.line, gr.pattern);
		else
			printf("git: %s (git's own files)", gr.pattern);
		return 0;
	}
	if (e->reason == CTXD_REASON_GIT_UNTRACKED) {
		fputs("git: untracked", stdout);
		return 0;
	}
	if (e->reason != CTXD_REASON_DOCKERIGNORE) {
		fputs(ctxd_entry_reason_text(e->reason), stdout);
		return 0;
	}
	if (e->rule < 0) {
		fputs("-", stdout);
		return 0;
	}
	ctxd_ignore_rule(ls->ctx->walk, (size_t)e->rule, &r);
	if (r.file)
		printf("%s:%u: %s", r.file, r.line, r.text);
	else
		printf("(added by docker) %s", r.text);
	return 0;
}

static json_t *entry_json(const struct ls *ls, const struct ctxd_entry *e, struct ctxd_error *err)
{
	json_t *o = json_object();
	struct ctxd_git_rule gr;
	char mode[8];
	int rc;

	json_object_set_new(o, "path", json_stringn(e->path, e->path_len));
	json_object_set_new(o, "type", json_string(ctxd_entry_type_name(e->type)));
	snprintf(mode, sizeof mode, "%04o", e->mode);
	json_object_set_new(o, "mode", json_string(mode));
	json_object_set_new(o, "size", json_integer((json_int_t)e->size));
	json_object_set_new(o, "mtime", json_integer(e->mtime));
	if (e->link)
		json_object_set_new(o, "link", json_stringn(e->link, e->link_len));
	if (e->excluded) {
		json_object_set_new(o, "reason", json_string(ctxd_entry_reason_name(e->reason)));
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
		if ((rc = git_rule(ls, e, &gr, err)) < 0) {
			json_decref(o);
			return NULL;
		}
		if (rc) {
			json_object_set_new(o, "rule", json_string(gr.pattern));
			if (gr.file) {
				json_object_set_new(o, "rule_file", json_string(gr.file));
				json_object_set_new(o, "rule_line", json_integer(gr.line));
			}
		}
	}
	return o;
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
	fputs(",\n  \"entries\": [", stdout);
}

static int visit(void *ud, const struct ctxd_entry *e, struct ctxd_error *err)
{
	struct ls *ls = ud;
	const char *slash = e->type == CTXD_ENTRY_DIR ? "/" : "";

	if (e->excluded != ls->excluded)
		return 0;
	ls->entries++;
	if (e->type == CTXD_ENTRY_FILE) {
		ls->files++;
		ls->bytes += e->size;
	}
	if (ls->json) {
		json_t *o = entry_json(ls, e, err);
		char *s;

		if (!o)
			return -1;
		s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);

		if (ls->first)
			json_head(ls->ctx);
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
			fputs(e->pruned ? "  (not opened) " : "  ", stdout);
			if (print_rule(ls, e, err) < 0)
				return -1;
		}
		putchar('\n');
		return 0;
	}
	fwrite(e->path, 1, e->path_len, stdout);
	fputs(slash, stdout);
	putchar('\n');
	return 0;
}

static json_t *count_json(const struct ctxd_summary_count *c)
{
	return json_pack("{sIsI}", "files", (json_int_t)c->files, "bytes", (json_int_t)c->bytes);
}

/* The git filter in force, the repository, and what stricter filters
 * would save. */
static json_t *git_json(const struct ls *ls, const struct ctxd_summary *sum)
{
	json_t *o = json_object(), *would = json_object();
	const char *wd = ls->repository;

	json_object_set_new(o, "filter", json_string(ctxd_git_filter_name(sum->git_filter)));
	json_object_set_new(o, "source", json_string(ls->git_source));
	json_object_set_new(o, "repository", wd ? json_string(wd) : json_null());
	for (int f = CTXD_GIT_FILTER_IGNORED; f <= CTXD_GIT_FILTER_UNTRACKED; f++) {
		struct ctxd_summary_count c = ctxd_summary_git_would_save(sum, f);

		if (f > (int)sum->git_filter)
			json_object_set_new(would, ctxd_git_filter_name(f), count_json(&c));
	}
	json_object_set_new(o, "would_save", would);
	return o;
}

static void json_tail(const struct ls *ls, const struct ctxd_summary *sum)
{
	json_t *o = json_object(), *by = json_object();
	char *s;

	json_object_set_new(o, "entries", json_integer((json_int_t)ls->entries));
	json_object_set_new(o, "files", json_integer((json_int_t)ls->files));
	json_object_set_new(o, "bytes", json_integer((json_int_t)ls->bytes));
	json_object_set_new(o, "sent", count_json(&sum->sent));
	json_object_set_new(o, "docker", count_json(&sum->docker));
	for (int r = CTXD_REASON_DOCKERIGNORE; r <= CTXD_REASON_GIT_UNTRACKED; r++)
		json_object_set_new(by, ctxd_entry_reason_name(r), count_json(&sum->by_reason[r]));
	json_object_set_new(o, "excluded", by);
	json_object_set_new(o, "git", git_json(ls, sum));
	if (ls->sel && ctxd_select_all(ls->sel))
		json_object_set_new(o, "prune_disabled", json_string(ctxd_select_all_reason(ls->sel)));
	s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	printf("\n  ],\n  \"totals\": %s\n}\n", s ? s : "null");
	free(s);
	json_decref(o);
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
	struct ctxd_context *ctx = NULL;
	struct ctxd_select *sel = NULL;
	struct ctxd_summary sum = {.next = visit};
	struct ctxd_error err;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:l", longopts, NULL)) != -1) {
		int r = cli_context_opt(&cli_cmd_ls, &co, c, optarg);

		if (r < 0) {
			rc = r == -1 ? CLI_OK : CLI_USAGE;
			goto out;
		}
		if (r > 0)
			continue;
		switch (c) {
		case 'l': ls.long_fmt = true; break;
		case OPT_EXCLUDED: ls.excluded = true; break;
		default:
			rc = cli_usage_error(&cli_cmd_ls, "ls: invalid option");
			goto out;
		}
	}
	if ((rc = cli_context_finish(&cli_cmd_ls, &co, argc, argv)) != CLI_OK)
		goto out;
	if ((rc = cli_context_open(&co, NULL, &ctx, &sel)) != CLI_OK)
		goto out;
	ls.ctx = ctx;
	ls.sel = sel;
	ls.json = co.json;
	so.select = sel;
	ls.co = &co;
	ls.git_source = co.git_filter_origin;
	sum.git_filter = co.git_filter;
	/* totals of what docker would send need what pruning skips listed */
	so.want_excluded = true;
	so.list_unread = true;
	sum.next_ud = &ls;
	rc = cli_scan(&co, ctx, &so, ctxd_summary_visit, &sum, &err);
	ls.repository = cli_context_git_repository(&co);
	if (rc == 0 && ls.json) {
		if (ls.first)
			json_head(ctx);
		json_tail(&ls, &sum);
	}
	if (rc < 0) {
		cli_error("%s", err.msg);
		rc = CLI_FAIL;
		goto out;
	}
	if (fflush(stdout) != 0) {
		cli_error("standard output: write failed");
		rc = CLI_FAIL;
		goto out;
	}
	if (!ls.json) {
		struct ctxd_buf line = {0};

		ctxd_summary_format(&sum, &line);
		fprintf(stderr, "ctxd: %s\n", line.oom ? "out of memory" : line.data);
		ctxd_buf_free(&line);
	}
	rc = CLI_OK;
out:
	ctxd_select_destroy(sel);
	ctxd_context_destroy(ctx);
	cli_context_opts_free(&co);
	return rc;
}

const struct cli_command cli_cmd_ls = {
	.name = "ls",
	.summary = "list what the build context holds",
	.help = "Usage: ctxd ls [OPTIONS] PATH\n"
		"\n"
		"Lists the entries of the build context of PATH in the order they are sent,\n"
		"one per line; directories end in '/'. A summary line on stderr says what\n"
		"docker would send and what each filter left out.\n"
		"\n"
		"Options:\n"
		"  -l, --long             type, mode, size and mtime (UTC) of each entry\n"
		"      --excluded         list what is not sent instead, and (with --long)\n"
		"                         why: the .dockerignore line that decided it, or\n"
		"                         the filter that left it out\n"
		CLI_CONTEXT_OPTS_HELP
		"\n"
		"Environment:\n"
		"  DOCKER_BUILDKIT=0      the classic builder: only PATH/.dockerignore counts,\n"
		"                         not <Dockerfile>.dockerignore\n",
	.run = run,
};
