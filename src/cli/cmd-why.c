/* ctxd why: for each file, in or out of the context, and the rule that
 * decided it. */
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctxd/explain.h"
#include "ctxd/path.h"
#include "ctxd/scan.h"

/* FILE as typed: relative to the context, or, written ./x, ../x or /x, a
 * path from here that must lie inside the context. Returns a malloc'd
 * context-relative path, or NULL after printing why. */
static char *context_path(const struct ctxd_context *ctx, const char *arg)
{
	char *copy1, *copy2, *dir, *real, *abs, *rel;

	if (arg[0] != '/' && strcmp(arg, ".") != 0 && strncmp(arg, "./", 2) != 0 &&
	    strcmp(arg, "..") != 0 && strncmp(arg, "../", 3) != 0)
		return strdup(arg);
	copy1 = strdup(arg);
	copy2 = strdup(arg);
	if (!copy1 || !copy2) {
		free(copy1);
		free(copy2);
		cli_error("out of memory");
		return NULL;
	}
	dir = dirname(copy1);
	real = realpath(dir, NULL);
	if (!real) {
		cli_error("%s: %s", arg, strerror(errno));
		free(copy1);
		free(copy2);
		return NULL;
	}
	abs = ctxd_path_join(real, basename(copy2));
	free(real);
	free(copy1);
	free(copy2);
	rel = abs ? ctxd_path_rel(ctx->root, abs) : NULL;
	free(abs);
	if (!rel) {
		cli_error("out of memory");
		return NULL;
	}
	if (strcmp(rel, "..") == 0 || strncmp(rel, "../", 3) == 0) {
		cli_error("%s: not inside the context %s", arg, ctx->root);
		free(rel);
		return NULL;
	}
	return rel;
}

/* The Dockerfile's reads, for "not read by the Dockerfile". */
static void print_considered(const struct ctxd_select *sel)
{
	const struct ctxd_dockerfile_reads *r = sel ? ctxd_select_reads(sel) : NULL;

	if (!r || !r->nreads) {
		printf("  the Dockerfile reads nothing from the context\n");
		return;
	}
	printf("  the Dockerfile reads only:\n");
	for (size_t i = 0; i < r->nreads; i++)
		printf("    %s (%s%s, line %u)\n", r->reads[i].pattern, r->reads[i].onbuild ? "ONBUILD " : "",
		       r->reads[i].instruction, r->reads[i].line);
}

static const char *git_state_name(enum ctxd_git_state s)
{
	static const char *const names[] = {"none", "tracked", "untracked", "ignored"};

	return names[s];
}

/* "git: ignored (FILE:LINE: PATTERN)" or "git: untracked". */
static void print_git(const struct ctxd_explain_item *it)
{
	printf("git: %s", git_state_name(it->git));
	if (it->git_rule_file)
		printf(" (%s:%u: %s)", it->git_rule_file, it->git_rule_line, it->git_rule_pattern);
	else if (it->git_rule_pattern)
		printf(" (%s: git's own files)", it->git_rule_pattern);
}

/* For a sent file git ignores or does not track: what the git filter does
 * with it. */
static void print_git_sent(const struct ctxd_explain_item *it, enum ctxd_git_filter f)
{
	enum ctxd_git_filter drops_it = it->git == CTXD_GIT_IGNORED ? CTXD_GIT_FILTER_IGNORED
								    : CTXD_GIT_FILTER_UNTRACKED;

	if (it->git != CTXD_GIT_IGNORED && it->git != CTXD_GIT_UNTRACKED)
		return;
	fputs("  ", stdout);
	print_git(it);
	if (it->git_named)
		printf("; kept by --git-filter: the Dockerfile names it\n");
	else if (!ctxd_git_filter_drops(f, it->git))
		printf("; --git-filter=%s would leave it out\n", ctxd_git_filter_name(drops_it));
	else
		putchar('\n');
}

static void print_item(const struct ctxd_explain_item *it, const struct ctxd_select *sel,
		       enum ctxd_git_filter f)
{
	if (!it->exists) {
		printf("%s: not in the context directory\n", it->path);
		return;
	}
	if (it->sent) {
		printf("%s: sent", it->path);
		if (it->read_by)
			printf(": %s", it->read_by);
		else if (!sel)
			printf(" (no pruning: docker's context)");
		putchar('\n');
		if (it->duplicate_of)
			printf("  same bytes as %s (--dedup sends it as a hard link to that file)\n",
			       it->duplicate_of);
		print_git_sent(it, f);
		return;
	}
	printf("%s: not sent: %s", it->path, ctxd_entry_reason_text(it->reason));
	if (it->via)
		printf(" (the directory %s is)", it->via);
	putchar('\n');
	if (it->reason == CTXD_REASON_GIT_IGNORED || it->reason == CTXD_REASON_GIT_UNTRACKED) {
		fputs("  ", stdout);
		print_git(it);
		putchar('\n');
	} else if (it->rule_text) {
		if (it->rule_file)
			printf("  %s:%u: %s\n", it->rule_file, it->rule_line, it->rule_text);
		else
			printf("  %s (a pattern docker adds itself)\n", it->rule_text);
	}
	if (it->reason == CTXD_REASON_NOT_READ)
		print_considered(sel);
}

/* {"pattern", "file", "line"}; file NULL: the pattern alone. */
static json_t *rule_json(const char *file, unsigned line, const char *pattern)
{
	json_t *rule = json_object();

	json_object_set_new(rule, "pattern", json_string(pattern));
	if (file) {
		json_object_set_new(rule, "file", json_string(file));
		json_object_set_new(rule, "line", json_integer(line));
	}
	return rule;
}

static json_t *item_json(const struct ctxd_explain_item *it)
{
	json_t *o = json_object();

	json_object_set_new(o, "path", json_string(it->path));
	json_object_set_new(o, "exists", json_boolean(it->exists));
	if (!it->exists)
		return o;
	json_object_set_new(o, "sent", json_boolean(it->sent));
	json_object_set_new(o, "reason", json_string(ctxd_entry_reason_name(it->reason)));
	if (!it->via)
		json_object_set_new(o, "type", json_string(ctxd_entry_type_name(it->type)));
	if (it->via)
		json_object_set_new(o, "via", json_string(it->via));
	if (it->rule_text)
		json_object_set_new(o, "rule", rule_json(it->rule_file, it->rule_line, it->rule_text));
	if (it->read_by)
		json_object_set_new(o, "read_by", json_string(it->read_by));
	if (it->duplicate_of)
		json_object_set_new(o, "duplicate_of", json_string(it->duplicate_of));
	if (it->git != CTXD_GIT_NONE) {
		json_t *g = json_object();

		json_object_set_new(g, "state", json_string(git_state_name(it->git)));
		if (it->git_rule_pattern)
			json_object_set_new(g, "rule", rule_json(it->git_rule_file, it->git_rule_line,
								 it->git_rule_pattern));
		json_object_set_new(g, "named_by_dockerfile", json_boolean(it->git_named));
		json_object_set_new(o, "git", g);
	}
	return o;
}

/* The explanation's scan, asked of the daemon when one is used. */
struct why_scan {
	struct cli_context_opts *co;
	const struct ctxd_context *ctx;
};

static int why_scan(void *ud, const struct ctxd_scan_options *so, ctxd_scan_visit_fn visit, void *vud,
		    struct ctxd_manifest *m, struct ctxd_error *err)
{
	struct why_scan *w = ud;

	return cli_scan_hashed(w->co, w->ctx, so, visit, vud, m, err);
}

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_CONTEXT_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct cli_context_opts co = {0};
	struct ctxd_scan_options so = {.warn = cli_warn_cb};
	struct ctxd_context *ctx = NULL;
	struct ctxd_select *sel = NULL;
	struct ctxd_explain x = {0};
	struct why_scan ws = {0};
	struct ctxd_explain_scan scan = {.run = why_scan, .ud = &ws};
	struct ctxd_error err;
	char **files = NULL;
	size_t nfiles = 0;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:", longopts, NULL)) != -1) {
		int r = cli_context_opt(&cli_cmd_why, &co, c, optarg);

		if (r < 0) {
			rc = r == -1 ? CLI_OK : CLI_USAGE;
			goto out;
		}
		if (r == 0) {
			rc = cli_usage_error(&cli_cmd_why, "why: invalid option");
			goto out;
		}
	}
	if (argc - optind < 2) {
		rc = cli_usage_error(&cli_cmd_why, "why: expected the context PATH and at least one FILE");
		goto out;
	}
	/* the shared check wants exactly one operand: the context */
	if ((rc = cli_context_finish(&cli_cmd_why, &co, optind + 1, argv)) != CLI_OK)
		goto out;
	if ((rc = cli_context_open(&co, NULL, &ctx, &sel)) != CLI_OK)
		goto out;
	rc = CLI_FAIL;
	nfiles = (size_t)(argc - optind - 1);
	files = calloc(nfiles, sizeof *files);
	if (!files) {
		cli_error("out of memory");
		goto out;
	}
	for (size_t i = 0; i < nfiles; i++)
		if (!(files[i] = context_path(ctx, argv[optind + 1 + (int)i])))
			goto out;
	/* the asked paths' git states and rules come from git's own view */
	if (cli_context_git(&co, ctx, sel != NULL, &err) < 0) {
		cli_error("%s", err.msg);
		goto out;
	}
	so.select = sel;
	cli_context_scan_git(&co, &so);
	ws.co = &co;
	ws.ctx = ctx;
	if (ctxd_explain_run(ctx, &so, &scan, (const char *const *)files, nfiles, &x, &err) < 0) {
		cli_error("%s", err.msg);
		goto out;
	}
	if (co.json) {
		json_t *root = json_object(), *arr = json_array();
		char *s;

		json_object_set_new(root, "context", json_string(ctx->root));
		json_object_set_new(root, "git_filter", json_string(ctxd_git_filter_name(co.git_filter)));
		if (sel && ctxd_select_all(sel))
			json_object_set_new(root, "prune_disabled", json_string(ctxd_select_all_reason(sel)));
		for (size_t i = 0; i < x.n; i++)
			json_array_append_new(arr, item_json(&x.items[i]));
		json_object_set_new(root, "files", arr);
		s = json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII);
		puts(s ? s : "null");
		free(s);
		json_decref(root);
	} else {
		if (sel && ctxd_select_all(sel))
			printf("(pruning cannot drop anything: %s)\n", ctxd_select_all_reason(sel));
		for (size_t i = 0; i < x.n; i++)
			print_item(&x.items[i], sel, co.git_filter);
	}
	rc = fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
out:
	for (size_t i = 0; i < nfiles && files; i++)
		free(files[i]);
	free(files);
	ctxd_explain_clear(&x);
	ctxd_select_destroy(sel);
	ctxd_context_destroy(ctx);
	cli_context_opts_free(&co);
	return rc;
}

const struct cli_command cli_cmd_why = {
	.name = "why",
	.summary = "say why files are in the build context or not",
	.help = "Usage: ctxd why [OPTIONS] PATH FILE...\n"
		"\n"
		"For each FILE (relative to the context PATH; or ./FILE, ../FILE, /FILE from\n"
		"the current directory), says whether the context sends it and what decided:\n"
		"the ignore file's line and pattern, the Dockerfile instruction that reads it\n"
		"(or, when none does, the paths the Dockerfile reads), the filter that left it\n"
		"out, or the identical file it duplicates. The answer comes from the same\n"
		"scan ctxd ls and ctxd pack run.\n"
		"\n"
		"Options:\n"
		CLI_CONTEXT_OPTS_HELP,
	.run = run,
};
