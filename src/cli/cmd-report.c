/* ctxd report: what is in the build context, what each filter saves, and
 * whether it grew past a budget. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctxd/report.h"
#include "ctxd/scan.h"

enum {
	OPT_DEPTH = OPT_FIRST_COMMAND, OPT_TOP, OPT_SUGGEST, OPT_WRITE, OPT_MARKDOWN,
	OPT_FAIL_SECRETS, OPT_NO_GIT, OPT_MEASURE_IGNORED,
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
	bool suggest = false, write_ignore = false, markdown = false, fail_secrets = false;
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
		default:
			rc = cli_usage_error(cmd, "report: invalid option");
			goto out;
		}
	}
	if ((rc = cli_context_finish(cmd, &co, argc, argv)) != CLI_OK)
		goto out;
	if (write_ignore && !suggest) {
		rc = cli_usage_error(cmd, "report: --write appends what --suggest prints: give both");
		goto out;
	}
	if (co.json + markdown + suggest > 1) {
		rc = cli_usage_error(cmd, "report: choose one of --json, --markdown and --suggest");
		goto out;
	}
	/* input errors are usage-class here: CI tells them from a budget */
	rc = CLI_USAGE;
	if (cli_context_open(&co, NULL, &ctx, &sel) != CLI_OK)
		goto out;
	if (!(allow = ctxd_secrets_allow_load(ctx->root, &err)))
		goto fail;
	ro.allow = allow;
	/* finding duplicates reads every file that may have one: on request */
	ro.no_dedup = !co.dedup;
	if (!(r = ctxd_report_create(ctx, sel, &ro))) {
		ctxd_error_set(&err, "out of memory");
		goto fail;
	}
	so.select = sel;
	so.want_excluded = true;
	so.list_unread = true;
	if (ctxd_scan_run(ctx, &so, ctxd_report_visit, r, &err) < 0 || ctxd_report_finish(r, &err) < 0)
		goto fail;

	if (co.json) {
		json_t *j = ctxd_report_json(r);
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
	} else if (suggest) {
		ctxd_report_suggest_text(r, &out);
	} else {
		ctxd_report_text(r, &out);
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
	rc = CLI_OK;
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
		CLI_CONTEXT_OPTS_HELP
		"\n"
		"Exit status: 0 ok; 1 over a limit (--fail-on-secrets); 2 a usage or input\n"
		"error (bad option, unreadable context).\n",
	.run = run,
};
