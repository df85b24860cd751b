/* ctxd report: what is in the build context, what each filter saves, and
 * whether it grew past a budget. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctxd/report.h"
#include "ctxd/outfile.h"
#include "ctxd/report_baseline.h"
#include "ctxd/report_history.h"
#include "ctxd/scan.h"

enum {
	OPT_DEPTH = OPT_FIRST_COMMAND, OPT_TOP, OPT_SUGGEST, OPT_WRITE, OPT_MARKDOWN,
	OPT_FAIL_SECRETS, OPT_NO_GIT, OPT_MEASURE_IGNORED, OPT_SAVE_BASELINE, OPT_BASELINE,
	OPT_BUDGET, OPT_MAX_GROWTH, OPT_CI, OPT_HTML, OPT_HISTORY,
};

static int parse_count(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > 10000 || *s == '-')
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int print_buf(struct ctxd_buf *b)
{
	if (b->oom) {
		cli_error("out of memory");
		return -1;
	}
	if (b->len)
		fwrite(b->data, 1, b->len, stdout);
	return 0;
}

/* GitHub Actions: workflow-command annotations on stdout, and the markdown
 * report appended to $GITHUB_STEP_SUMMARY when it is set. */
static int github_ci(const struct ctxd_report *r, const struct ctxd_budget_result *res,
		     const struct ctxd_budget *limits)
{
	const char *summary = getenv("GITHUB_STEP_SUMMARY");
	struct ctxd_buf md = {0}, t = {0};
	FILE *f;

	if (res && ctxd_budget_over(res)) {
		ctxd_budget_text(res, limits, &t);
		/* one annotation; its message's lines are %0A-joined */
		fputs("::error title=ctxd report: context over its limit::", stdout);
		for (size_t i = 0; t.data && i < t.len; i++) {
			if (t.data[i] == '\n')
				fputs(i + 1 < t.len ? "%0A" : "", stdout);
			else if (t.data[i] == '%')
				fputs("%25", stdout);
			else
				putchar(t.data[i]);
		}
		putchar('\n');
	}
	for (size_t i = 0; i < r->findings.n; i++)
		printf("::warning file=%s,title=ctxd report: possible secret in the context::%s (%s)\n",
		       r->findings.items[i].path, ctxd_secrets_rule_text(r->findings.items[i].rule),
		       r->findings.items[i].rule);
	ctxd_buf_free(&t);
	if (!summary || !*summary)
		return 0;
	ctxd_report_markdown(r, &md);
	if (res)
		ctxd_budget_markdown(res, limits, &md);
	if (md.oom || !(f = fopen(summary, "a"))) {
		cli_error("GITHUB_STEP_SUMMARY %s: %s", summary, md.oom ? "out of memory" : strerror(errno));
		ctxd_buf_free(&md);
		return -1;
	}
	fwrite(md.data, 1, md.len, f);
	if (fclose(f) != 0) {
		cli_error("GITHUB_STEP_SUMMARY %s: write failed", summary);
		ctxd_buf_free(&md);
		return -1;
	}
	ctxd_buf_free(&md);
	return 0;
}

static int write_html(const struct ctxd_report *r, const struct ctxd_budget_result *res,
		      const struct ctxd_budget *limits, const char *path, struct ctxd_error *err)
{
	struct ctxd_buf page = {0};
	struct ctxd_outfile *of;
	json_t *doc = ctxd_report_json(r);
	int rc = -1;

	if (doc && res)
		json_object_set_new(doc, "budget", ctxd_budget_json(res, limits));
	if (!doc || ctxd_report_html(r, doc, &page, err) < 0) {
		if (!doc)
			ctxd_error_set(err, "out of memory");
		goto out;
	}
	if (!(of = ctxd_outfile_open(path, false, err)))
		goto out;
	if (ctxd_outfile_write(of, page.data, page.len, err) < 0) {
		ctxd_outfile_abort(of);
		goto out;
	}
	rc = ctxd_outfile_commit(of, err);
out:
	if (rc < 0)
		ctxd_error_prefix(err, "--html %s", path);
	json_decref(doc);
	ctxd_buf_free(&page);
	return rc;
}

/* The history gets one record per report (the daemon's, when it
 * answered); a history that cannot be written costs a warning, not the
 * report. */
static void record_history(struct cli_context_opts *co, const struct ctxd_report *r)
{
	struct ctxd_history_dir top[CTXD_HISTORY_TOP + 1] = {0};
	size_t n = 0;

	for (size_t i = 0; i < r->root->nkids && n < CTXD_HISTORY_TOP; i++)
		if (r->root->kids[i]->by[CTXD_REASON_SENT].bytes)
			top[n++] = (struct ctxd_history_dir){(char *)r->root->kids[i]->name,
							     r->root->kids[i]->by[CTXD_REASON_SENT].bytes};
	cli_record_history(co, r->ctx, &r->sum, NULL, top, false);
}

static int show_history(struct cli_context_opts *co)
{
	struct ctxd_context *ctx = NULL;
	struct ctxd_history_record *v = NULL;
	struct ctxd_buf out = {0};
	struct ctxd_error err;
	size_t n = 0;
	char *path = NULL;
	int rc = CLI_USAGE;

	if (ctxd_context_open(&co->ctx, &ctx, &err) < 0 || !(path = ctxd_history_path(&err)) ||
	    ctxd_history_load(path, ctx->root, ctx->dockerfile_rel, &v, &n, &err) < 0) {
		cli_error("%s", err.msg);
		goto out;
	}
	ctxd_history_text(v, n, &out);
	rc = print_buf(&out) < 0 ? CLI_USAGE : CLI_OK;
out:
	ctxd_buf_free(&out);
	ctxd_history_free(v, n);
	free(path);
	ctxd_context_destroy(ctx);
	return rc;
}

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_CONTEXT_LONGOPTS,
		CLI_DEDUP_LONGOPT,
		{"depth", required_argument, NULL, OPT_DEPTH},
		{"top", required_argument, NULL, OPT_TOP},
		{"suggest", no_argument, NULL, OPT_SUGGEST},
		{"write", no_argument, NULL, OPT_WRITE},
		{"markdown", no_argument, NULL, OPT_MARKDOWN},
		{"fail-on-secrets", no_argument, NULL, OPT_FAIL_SECRETS},
		{"no-git", no_argument, NULL, OPT_NO_GIT},
		{"measure-ignored", no_argument, NULL, OPT_MEASURE_IGNORED},
		{"save-baseline", required_argument, NULL, OPT_SAVE_BASELINE},
		{"baseline", required_argument, NULL, OPT_BASELINE},
		{"budget", required_argument, NULL, OPT_BUDGET},
		{"max-growth", required_argument, NULL, OPT_MAX_GROWTH},
		{"ci", no_argument, NULL, OPT_CI},
		{"html", required_argument, NULL, OPT_HTML},
		{"history", no_argument, NULL, OPT_HISTORY},
		{NULL, 0, NULL, 0},
	};
	const struct cli_command *cmd = &cli_cmd_report;
	struct cli_context_opts co = {0};
	struct ctxd_report_options ro = {0};
	struct ctxd_scan_options so = {.warn = cli_warn_cb};
	struct ctxd_context *ctx = NULL;
	struct ctxd_select *sel = NULL;
	struct ctxd_report *r = NULL;
	struct ctxd_secrets_allow *allow = NULL;
	struct ctxd_buf out = {0};
	bool suggest = false, write_ignore = false, markdown = false, fail_secrets = false, ci = false;
	const char *save_baseline = NULL, *baseline_file = NULL, *html = NULL;
	bool history = false;
	struct ctxd_budget limits = {0};
	struct ctxd_baseline baseline = {0};
	struct ctxd_budget_result res = {0};
	bool checking, have_baseline = false;
	struct ctxd_error err;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:", longopts, NULL)) != -1) {
		int s = cli_context_opt(cmd, &co, c, optarg);

		if (s < 0) {
			rc = s == -1 ? CLI_OK : CLI_USAGE;
			goto out;
		}
		if (s > 0)
			continue;
		switch (c) {
		case OPT_DEPTH:
			if (parse_count(optarg, &ro.depth) < 0) {
				rc = cli_usage_error(cmd, "report: --depth takes a number from 1, not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_TOP:
			if (parse_count(optarg, &ro.top) < 0) {
				rc = cli_usage_error(cmd, "report: --top takes a number from 1, not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_SUGGEST: suggest = true; break;
		case OPT_WRITE: write_ignore = true; break;
		case OPT_MARKDOWN: markdown = true; break;
		case OPT_FAIL_SECRETS: fail_secrets = true; break;
		case OPT_NO_GIT: ro.no_git = true; break;
		case OPT_MEASURE_IGNORED: ro.measure_ignored = true; break;
		case OPT_SAVE_BASELINE: save_baseline = optarg; break;
		case OPT_BASELINE: baseline_file = optarg; break;
		case OPT_CI: ci = true; break;
		case OPT_HTML: html = optarg; break;
		case OPT_HISTORY: history = true; break;
		case OPT_BUDGET:
			if (ctxd_budget_parse_size(optarg, &limits.budget) < 0) {
				rc = cli_usage_error(cmd, "report: --budget takes a size such as 500MB, 1.5GiB "
						     "or 2000000, not '%s'", optarg);
				goto out;
			}
			limits.has_budget = true;
			break;
		case OPT_MAX_GROWTH:
			if (ctxd_budget_parse_growth(optarg, &limits) < 0) {
				rc = cli_usage_error(cmd, "report: --max-growth takes a percentage (10%%) or a "
						     "size (50MB), not '%s'", optarg);
				goto out;
			}
			break;
		default:
			rc = cli_usage_error(cmd, "report: invalid option");
			goto out;
		}
	}
	if ((rc = cli_context_finish(cmd, &co, argc, argv)) != CLI_OK)
		goto out;
	if (history) {
		rc = show_history(&co);
		goto out;
	}
	if (write_ignore && !suggest) {
		rc = cli_usage_error(cmd, "report: --write appends what --suggest prints: give both");
		goto out;
	}
	if (co.json + markdown + suggest > 1) {
		rc = cli_usage_error(cmd, "report: choose one of --json, --markdown and --suggest");
		goto out;
	}
	if (limits.has_growth && !baseline_file) {
		rc = cli_usage_error(cmd, "report: --max-growth compares with a --baseline FILE: give one");
		goto out;
	}
	checking = limits.has_budget || baseline_file;
	/* input errors are usage-class here: CI tells them from a budget */
	rc = CLI_USAGE;
	if (baseline_file) {
		if (ctxd_baseline_load(baseline_file, &baseline, &err) < 0)
			goto fail;
		have_baseline = true;
	}
	co.no_summary = true; /* the report asks git for its savings itself */
	co.record = "report";
	if (cli_context_open(&co, NULL, &ctx, &sel) != CLI_OK)
		goto out;
	if (!(allow = ctxd_secrets_allow_load(ctx->root, &err)))
		goto fail;
	ro.allow = allow;
	/* open for the git filter: the report asks the same view */
	ro.git = co.git;
	/* finding duplicates reads every file that may have one: on request */
	ro.no_dedup = !co.dedup;
	if (!(r = ctxd_report_create(ctx, sel, &ro))) {
		ctxd_error_set(&err, "out of memory");
		goto fail;
	}
	so.select = sel;
	so.want_excluded = true;
	so.list_unread = true;
	/* the daemon answers when one is used, as for ls and pack */
	if (cli_scan(&co, ctx, &so, ctxd_report_visit, r, &err) < 0 || ctxd_report_finish(r, &err) < 0)
		goto fail;

	if (checking && ctxd_budget_check(r, have_baseline ? &baseline : NULL, &limits, ro.top ? ro.top : 10,
					  &res, &err) < 0)
		goto fail;
	if (co.json) {
		json_t *j = ctxd_report_json(r);

		if (j && checking)
			json_object_set_new(j, "budget", ctxd_budget_json(&res, &limits));
		char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;

		json_decref(j);
		if (!s) {
			ctxd_error_set(&err, "out of memory");
			goto fail;
		}
		puts(s);
		free(s);
	} else if (markdown) {
		ctxd_report_markdown(r, &out);
		if (checking)
			ctxd_budget_markdown(&res, &limits, &out);
	} else if (suggest) {
		ctxd_report_suggest_text(r, &out);
	} else {
		ctxd_report_text(r, &out);
		if (checking)
			ctxd_budget_text(&res, &limits, &out);
	}
	if (print_buf(&out) < 0)
		goto out;
	if (write_ignore && r->nsuggestions) {
		char *file = ctxd_report_ignore_file(r);

		if (ctxd_report_write_suggestions(r, &err) < 0) {
			free(file);
			goto fail;
		}
		printf("\nAppended %zu lines to %s:\n", r->nsuggestions, file ? file : ".dockerignore");
		for (size_t i = 0; i < r->nsuggestions; i++)
			printf("  %s\n", r->suggestions[i].pattern);
		free(file);
	}
	if (fflush(stdout) != 0) {
		cli_error("standard output: write failed");
		goto out;
	}
	if (ci && github_ci(r, checking ? &res : NULL, &limits) < 0)
		goto out;
	if (html && write_html(r, checking ? &res : NULL, &limits, html, &err) < 0)
		goto fail;
	record_history(&co, r);
	if (save_baseline && ctxd_baseline_save(r, save_baseline, &err) < 0)
		goto fail;
	rc = CLI_OK;
	if (checking && ctxd_budget_over(&res)) {
		cli_error("the context (%llu bytes) is over %s", (unsigned long long)res.now,
			  res.over_budget && res.over_growth ? "its budget and its growth limit"
			  : res.over_budget ? "its budget (--budget)" : "its growth limit (--max-growth)");
		rc = CLI_FAIL;
	}
	if (fail_secrets && r->findings.n) {
		cli_error("%zu %s that look%s like credentials in the context (--fail-on-secrets)",
			  r->findings.n, r->findings.n == 1 ? "file" : "files",
			  r->findings.n == 1 ? "s" : "");
		rc = CLI_FAIL;
	}
	goto out;
fail:
	cli_error("%s", err.msg);
out:
	ctxd_budget_result_clear(&res);
	ctxd_baseline_clear(&baseline);
	ctxd_buf_free(&out);
	ctxd_report_destroy(r);
	ctxd_secrets_allow_destroy(allow);
	ctxd_select_destroy(sel);
	ctxd_context_destroy(ctx);
	cli_context_opts_free(&co);
	return rc;
}

const struct cli_command cli_cmd_report = {
	.name = "report",
	.summary = "what is in the build context, what each filter saves, budgets",
	.help = "Usage: ctxd report [OPTIONS] PATH\n"
		"\n"
		"Reports on the build context of PATH in one pass: files and bytes docker\n"
		"build would send and ctxd sends; what each filter saves (.dockerignore, not\n"
		"read by the Dockerfile, ignored by git, duplicates); the largest directories\n"
		"as a tree, the largest files and extensions; files that look like\n"
		"credentials; advice; and the .dockerignore lines that would cut the most.\n"
		"\n"
		"Options:\n"
		"      --depth=N          levels of the directory tree (default 2)\n"
		"      --top=N            rows per table and children per directory (default 10)\n"
		"      --suggest          print only the .dockerignore lines that would cut the\n"
		"                         most, the bytes each saves and whether the Dockerfile\n"
		"                         reads those paths\n"
		"      --write            with --suggest: append those lines to the ignore file\n"
		"                         in force (PATH/.dockerignore when none) and print them\n"
		"      --markdown         markdown, for CI summaries and PR comments\n"
		"      --fail-on-secrets  exit 1 when a file in docker's context looks like a\n"
		"                         credential (PATH/.ctxdsecretsignore silences one)\n"
		"      --dedup            also find identical files among those sent (what\n"
		"                         --dedup would save; reads each file that may have\n"
		"                         a copy)\n"
		"      --no-git           do not ask git what it ignores\n"
		"      --measure-ignored  also size what is inside the directories .dockerignore\n"
		"                         keeps out (lists them, reads no file)\n"
		"\n"
		"Budgets (the measured context is what ctxd sends; with --exact, docker's):\n"
		"      --save-baseline=FILE  write the totals and per-directory sizes to FILE\n"
		"      --baseline=FILE    compare with a saved baseline; names the directories\n"
		"                         that grew most, with their sizes before and after\n"
		"      --budget=SIZE      exit 1 when the context holds more (500MB, 1.5GiB)\n"
		"      --max-growth=PCT%|SIZE\n"
		"                         exit 1 when it grew more than that over --baseline\n"
		"      --ci               GitHub Actions annotations, and the markdown report\n"
		"                         appended to $GITHUB_STEP_SUMMARY when it is set\n"
		"\n"
		"Other outputs:\n"
		"      --html=FILE        also write one self-contained page: an interactive\n"
		"                         treemap of docker's context (click to zoom, hover\n"
		"                         for sizes; sent against pruned) and the tables\n"
		"      --history          print this context's recorded sizes over time (each\n"
		"                         report, pack and build appends one record to\n"
		"                         $XDG_STATE_HOME/ctxd/history.jsonl, the daemon's\n"
		"                         when it answered) and exit\n"
		CLI_CONTEXT_OPTS_HELP
		"\n"
		"Exit status: 0 ok; 1 over a limit (--budget, --max-growth, --fail-on-secrets);\n"
		"2 a usage or input error (bad option or size, unreadable context, a missing,\n"
		"corrupt or other-version baseline).\n",
	.run = run,
};
