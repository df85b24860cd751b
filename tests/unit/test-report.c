/* The report: totals and per-filter savings from one scan, the directory
 * tree, largest files, suggestions and advice, appending suggestions, and
 * the secrets rules with their allow-list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/context.h"
#include "ctxd/manifest.h"
#include "ctxd/report.h"
#include "ctxd/report_baseline.h"
#include "ctxd/report_history.h"
#include "ctxd/scan.h"
#include "ctxd/select.h"
#include "testutil.h"

static char *filled(size_t n)
{
	char *s = malloc(n + 1);

	memset(s, 'x', n);
	s[n] = '\0';
	return s;
}

struct fixture {
	char *dir;
	struct ctxd_context *ctx;
	struct ctxd_select *sel;
	struct ctxd_report *r;
	struct ctxd_secrets_allow *allow;
};

static void report_open(struct fixture *f, bool prune, const struct ctxd_report_options *opt)
{
	struct ctxd_context_options o = {.dir = f->dir};
	struct ctxd_select_options sopt = {0};
	struct ctxd_scan_options so = {.want_excluded = true, .list_unread = true};
	struct ctxd_report_options ro = opt ? *opt : (struct ctxd_report_options){.no_git = true};
	struct ctxd_error err;

	assert_int_equal(ctxd_context_open(&o, &f->ctx, &err), 0);
	if (prune)
		assert_int_equal(ctxd_select_create(f->ctx, &sopt, &f->sel, &err), 0);
	f->allow = ctxd_secrets_allow_load(f->ctx->root, &err);
	assert_non_null(f->allow);
	ro.allow = f->allow;
	f->r = ctxd_report_create(f->ctx, f->sel, &ro);
	assert_non_null(f->r);
	so.select = f->sel;
	if (ctxd_scan_run(f->ctx, &so, ctxd_report_visit, f->r, &err) < 0 ||
	    ctxd_report_finish(f->r, &err) < 0)
		fail_msg("report: %s", err.msg);
}

static void report_close(struct fixture *f)
{
	ctxd_report_destroy(f->r);
	ctxd_secrets_allow_destroy(f->allow);
	ctxd_select_destroy(f->sel);
	ctxd_context_destroy(f->ctx);
	tu_rmtree(f->dir);
	free(f->dir);
}

static char *project(void)
{
	char *d = tu_mkdtemp(), *big = filled(1000), *nm = filled(500), *src = filled(100);

	tu_write(d, "Dockerfile", "FROM scratch\nCOPY src /src\n");
	tu_write(d, ".dockerignore", "tmp\n");
	tu_write(d, "src/a.js", src);
	tu_write(d, "docs/big.bin", big);
	tu_write(d, "node_modules/x/y.js", nm);
	tu_write(d, "node_modules/x/node_modules/z.js", nm);
	tu_write(d, "tmp/junk", big);
	tu_write(d, ".env", "TOKEN=1\n");
	free(big);
	free(nm);
	free(src);
	return d;
}

static const struct ctxd_report_suggestion *find_suggestion(const struct ctxd_report *r,
							    const char *pattern)
{
	for (size_t i = 0; i < r->nsuggestions; i++)
		if (strcmp(r->suggestions[i].pattern, pattern) == 0)
			return &r->suggestions[i];
	return NULL;
}

static void totals_and_savings(void **state)
{
	struct fixture f = {.dir = project()};
	const struct ctxd_report_dir *nm = NULL;
	size_t dockerfile_len = strlen("FROM scratch\nCOPY src /src\n");

	(void)state;
	report_open(&f, true, NULL);
	/* sent: src/a.js, the Dockerfile, .dockerignore */
	assert_int_equal(f.r->sum.sent.files, 3);
	assert_int_equal(f.r->sum.sent.bytes, 100 + dockerfile_len + 4);
	assert_int_equal(f.r->sum.docker.bytes, 100 + 1000 + 1000 + 8 + dockerfile_len + 4);
	assert_int_equal(f.r->sum.by_reason[CTXD_REASON_NOT_READ].bytes, 1000 + 1000 + 8);
	/* tmp is never opened: one directory, not measured */
	assert_int_equal(f.r->unopened_dirs, 1);
	assert_int_equal(f.r->unopened.bytes, 0);
	for (size_t i = 0; i < f.r->root->nkids; i++)
		if (strcmp(f.r->root->kids[i]->name, "node_modules") == 0)
			nm = f.r->root->kids[i];
	assert_non_null(nm);
	assert_int_equal(ctxd_report_dir_docker(nm), 1000);
	/* largest first: docs and node_modules tie at 1000, by name */
	assert_string_equal(f.r->root->kids[0]->name, "docs");
	assert_string_equal(f.r->files[0].path, "docs/big.bin");
	assert_int_equal(f.r->files[0].reason, CTXD_REASON_NOT_READ);
	/* suggestions: the dependency tree once, the unread docs */
	assert_non_null(find_suggestion(f.r, "node_modules"));
	assert_non_null(find_suggestion(f.r, "docs"));
	assert_null(find_suggestion(f.r, "src"));
	assert_int_equal(find_suggestion(f.r, "node_modules")->bytes, 1000);
	assert_int_equal(find_suggestion(f.r, "node_modules")->read_bytes, 0);
	/* the .env file is found by name, not sent by ctxd */
	assert_int_equal(f.r->findings.n, 1);
	assert_string_equal(f.r->findings.items[0].path, ".env");
	assert_string_equal(f.r->findings.items[0].rule, "dotenv");
	assert_false(f.r->findings.items[0].sent);
	report_close(&f);
}

static void measure_ignored_and_copy_all(void **state)
{
	struct fixture f = {.dir = project()};
	struct ctxd_report_options o = {.no_git = true, .measure_ignored = true};
	struct ctxd_buf text = {0};

	(void)state;
	tu_write(f.dir, "Dockerfile", "FROM scratch\nCOPY . .\n");
	report_open(&f, true, &o);
	assert_int_equal(f.r->unopened.files, 1);
	assert_int_equal(f.r->unopened.bytes, 1000);
	assert_int_equal(f.r->sum.by_reason[CTXD_REASON_DOCKERIGNORE].bytes, 1000);
	assert_non_null(f.r->prune_all);
	assert_int_equal(f.r->sum.sent.bytes, f.r->sum.docker.bytes);
	/* with COPY . . everything is read, and the image loses it */
	assert_int_equal(find_suggestion(f.r, "node_modules")->read_bytes, 1000);
	assert_null(find_suggestion(f.r, "docs"));
	ctxd_report_text(f.r, &text);
	assert_false(text.oom);
	assert_non_null(strstr(text.data, "reads the whole context"));
	assert_non_null(strstr(text.data, "node_modules is in docker's context"));
	ctxd_buf_free(&text);
	report_close(&f);
}

static void write_appends(void **state)
{
	struct fixture f = {.dir = project()};
	struct ctxd_error err;
	char path[4096], *data;

	(void)state;
	tu_write(f.dir, ".dockerignore", "tmp");   /* no final newline */
	report_open(&f, true, NULL);
	assert_int_equal(ctxd_report_write_suggestions(f.r, &err), 0);
	snprintf(path, sizeof path, "%s/.dockerignore", f.dir);
	data = tu_read(path, NULL);
	assert_non_null(strstr(data, "tmp\n# added by ctxd report --suggest --write\n"));
	assert_non_null(strstr(data, "\nnode_modules\n"));
	assert_non_null(strstr(data, "\ndocs\n"));
	free(data);
	report_close(&f);
}

static void nested_junk_becomes_one_pattern(void **state)
{
	struct fixture f = {.dir = tu_mkdtemp()};

	(void)state;
	tu_write(f.dir, "Dockerfile", "FROM scratch\nCOPY . .\n");
	tu_write(f.dir, "a/__pycache__/x.pyc", "12345");
	tu_write(f.dir, "b/__pycache__/y.pyc", "123");
	report_open(&f, true, NULL);
	assert_non_null(find_suggestion(f.r, "**/__pycache__"));
	assert_int_equal(find_suggestion(f.r, "**/__pycache__")->bytes, 8);
	assert_int_equal(find_suggestion(f.r, "**/__pycache__")->files, 2);
	report_close(&f);
}

static void secrets_rules(void **state)
{
	static const struct { const char *path, *content, *rule; } cases[] = {
		{".env", "", "dotenv"},
		{"app/.env.production", "", "dotenv"},
		{".env.example", "", NULL},
		{"certs/server.pem", "", "private-key-file"},
		{"deploy/id_ed25519", "", "private-key-file"},
		{"deploy/id_ed25519.pub", "", NULL},
		{"home/.aws/credentials", "", "aws-credentials"},
		{".docker/config.json", "", "docker-config"},
		{"ops/prod.kubeconfig", "", "kubeconfig"},
		{".git-credentials", "", "git-credentials"},
		{".npmrc", "registry=https://r/\n//r/:_authToken=abc\n", "npmrc-token"},
		{".npmrc", "registry=https://r/\n", NULL},
		{".pypirc", "[pypi]\n  password = s3cret\n", "pypirc-password"},
		{".pypirc", "[pypi]\nusername = me\n", NULL},
		{"conf/key.txt", "x\n-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n", "private-key-pem"},
		{"conf/app.yaml", "aws_key: AKIAABCDEFGHIJKLMNOP\n", "aws-access-key-id"},
		{"conf/app.yaml", "aws_key: AKIAshort\n", NULL},
		{"conf/ci.json", "{\"t\": \"ghp_0123456789abcdefghijABCDEFGHIJ012345\"}", "github-token"},
		/* the one-pass scan: a token right at the end, inside a longer
		 * word (no), the first rule in order when several match */
		{"conf/a.txt", "k=ASIAABCDEFGHIJKLMNOP", "aws-access-key-id"},
		{"conf/b.txt", "k=XAKIAABCDEFGHIJKLMNOP", NULL},
		{"conf/c.txt", "k=AKIAABCDEFGHIJKLMNO", NULL},
		{"conf/d.ini", "t=github_pat_0123456789_abcdefghij_ABCDEFGHIJ_0123456", "github-token"},
		{"conf/e.env", "SLACK=xoxb-0123-4567-abcdefghij", "slack-token"},
		{"conf/f.env", "SLACK=xoxb-short", NULL},
		{"conf/g.yml", "a: xoxp-0123456789abcdefghij\nb: AKIAABCDEFGHIJKLMNOP\n", "aws-access-key-id"},
		{"conf/h.yml", "k: AKIAABCDEFGHIJKLMNOP\nPRIVATE KEY-----\n-----BEGIN \n", "private-key-pem"},
		{"conf/i.yml", "-----BEGIN PGP PRIVATE KEY BLOCK-----", "private-key-pem"},
		{"conf/j.yml", "-----BEGIN CERTIFICATE-----\n", NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		size_t len = strlen(cases[i].path);
		const char *rule = ctxd_secrets_name_rule(cases[i].path, len);

		if (!rule && ctxd_secrets_wants_content(cases[i].path, len, strlen(cases[i].content) + 1))
			rule = ctxd_secrets_content_rule(cases[i].path, len, cases[i].content,
							 strlen(cases[i].content));
		if (cases[i].rule == NULL && rule)
			fail_msg("%s: unexpected %s", cases[i].path, rule);
		if (cases[i].rule && (!rule || strcmp(rule, cases[i].rule)))
			fail_msg("%s: want %s, got %s", cases[i].path, cases[i].rule, rule ? rule : "none");
		assert_true(!rule || ctxd_secrets_rule_text(rule));
	}
	/* vendored trees are not read, nor code, nor big files */
	assert_false(ctxd_secrets_wants_content("node_modules/x/k.json", 21, 10));
	assert_false(ctxd_secrets_wants_content("a/.venv/k", 9, 10));
	assert_false(ctxd_secrets_wants_content("src/app.js", 10, 10));
	assert_false(ctxd_secrets_wants_content("conf/app.json", 13, 65537));
	assert_true(ctxd_secrets_wants_content("conf/app.json", 13, 65536));
	assert_true(ctxd_secrets_wants_content("node_modules/.npmrc", 19, 10));
	assert_true(ctxd_secrets_wants_content("bin/LICENSE", 11, 10));
}

static void allow_list(void **state)
{
	struct ctxd_error err;
	const char *ok = "# test keys\n*.pem private-key-file\nfixtures/.env\n\n";
	struct ctxd_secrets_allow *a = ctxd_secrets_allow_parse(ok, strlen(ok), "F", &err);
	struct ctxd_secrets s = {0};

	(void)state;
	assert_non_null(a);
	assert_int_equal(ctxd_secrets_check(&s, a, "certs/x.pem", 11, 5, -1, true), 0);
	assert_int_equal(ctxd_secrets_check(&s, a, "fixtures/.env", 13, 5, -1, true), 0);
	assert_int_equal(ctxd_secrets_check(&s, a, "app/.env", 8, 5, -1, false), 1);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.items[0].rule, "dotenv");
	ctxd_secrets_clear(&s);
	ctxd_secrets_allow_destroy(a);

	assert_null(ctxd_secrets_allow_parse("x.pem no-such-rule\n", 19, "F", &err));
	assert_non_null(strstr(err.msg, "F:1: no secrets rule is named 'no-such-rule'"));
	assert_null(ctxd_secrets_allow_parse("\na b c\n", 7, "F", &err));
	assert_non_null(strstr(err.msg, "F:2:"));
}

static void secrets_in_manifest(void **state)
{
	char *d = tu_mkdtemp();
	struct ctxd_context_options o = {.dir = d};
	struct ctxd_scan_options so = {0};
	struct ctxd_context *ctx;
	struct ctxd_manifest *m = ctxd_manifest_create();
	struct ctxd_secrets s = {0};
	struct ctxd_error err;

	(void)state;
	tu_write(d, "Dockerfile", "FROM scratch\nCOPY . .\n");
	tu_write(d, "conf/app.yaml", "key: AKIAABCDEFGHIJKLMNOP\n");
	tu_write(d, "conf/ok.yaml", "key: value\n");
	tu_write(d, "id_rsa", "x");
	assert_int_equal(ctxd_context_open(&o, &ctx, &err), 0);
	assert_int_equal(ctxd_scan_run(ctx, &so, ctxd_manifest_visit, m, &err), 0);
	assert_int_equal(ctxd_secrets_scan_manifest(&s, NULL, m, ctx->rootfd), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.items[0].path, "conf/app.yaml");
	assert_string_equal(s.items[0].rule, "aws-access-key-id");
	assert_string_equal(s.items[1].rule, "private-key-file");
	assert_true(s.items[1].sent);
	ctxd_secrets_clear(&s);
	ctxd_manifest_destroy(m);
	ctxd_context_destroy(ctx);
	tu_rmtree(d);
	free(d);
}

static void budget_sizes(void **state)
{
	uint64_t v;
	struct ctxd_budget b = {0};

	(void)state;
	assert_int_equal(ctxd_budget_parse_size("500MB", &v), 0);
	assert_int_equal(v, 500000000);
	assert_int_equal(ctxd_budget_parse_size("1.5GiB", &v), 0);
	assert_int_equal(v, 1610612736);
	assert_int_equal(ctxd_budget_parse_size("20kb", &v), 0);
	assert_int_equal(v, 20000);
	assert_int_equal(ctxd_budget_parse_size("12", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(ctxd_budget_parse_size("12XB", &v), -1);
	assert_int_equal(ctxd_budget_parse_size("-5MB", &v), -1);
	assert_int_equal(ctxd_budget_parse_size("", &v), -1);
	assert_int_equal(ctxd_budget_parse_size("MB", &v), -1);
	assert_int_equal(ctxd_budget_parse_size("1e30", &v), -1);
	assert_int_equal(ctxd_budget_parse_growth("10%", &b), 0);
	assert_true(b.has_growth && b.growth_is_pct);
	assert_true(b.growth_pct > 9.99 && b.growth_pct < 10.01);
	assert_int_equal(ctxd_budget_parse_growth("5MB", &b), 0);
	assert_true(!b.growth_is_pct && b.growth_bytes == 5000000);
	assert_int_equal(ctxd_budget_parse_growth("x%", &b), -1);
	assert_int_equal(ctxd_budget_parse_growth("%", &b), -1);
}

static void baseline_roundtrip_and_growth(void **state)
{
	struct fixture f = {.dir = project()};
	struct ctxd_baseline b;
	struct ctxd_budget lim = {.has_growth = true, .growth_is_pct = true, .growth_pct = 10};
	struct ctxd_budget_result res;
	struct ctxd_error err;
	char path[4096], *big = filled(2000);

	(void)state;
	report_open(&f, true, NULL);
	snprintf(path, sizeof path, "%s/base.json", f.dir);
	assert_int_equal(ctxd_baseline_save(f.r, path, &err), 0);
	ctxd_report_destroy(f.r);
	ctxd_secrets_allow_destroy(f.allow);
	ctxd_select_destroy(f.sel);
	ctxd_context_destroy(f.ctx);
	f.sel = NULL;
	assert_int_equal(ctxd_baseline_load(path, &b, &err), 0);
	assert_int_equal(b.bytes, 100 + strlen("FROM scratch\nCOPY src /src\n") + 4);
	tu_write(f.dir, "src/deep/new.js", big);
	report_open(&f, true, NULL);
	assert_int_equal(ctxd_budget_check(f.r, &b, &lim, 5, &res, &err), 0);
	assert_true(res.over_growth && !res.over_budget);
	/* src/deep explains all of src's and the root's growth */
	assert_int_equal(res.ngrew, 1);
	assert_string_equal(res.grew[0].path, "src/deep");
	assert_int_equal(res.grew[0].before, 0);
	assert_int_equal(res.grew[0].after, 2000);
	ctxd_budget_result_clear(&res);
	ctxd_baseline_clear(&b);
	free(big);
	report_close(&f);
}

static void baseline_bad_files(void **state)
{
	char *d = tu_mkdtemp(), path[4096];
	struct ctxd_baseline b;
	struct ctxd_error err;
	static const struct { const char *content, *msg; } cases[] = {
		{"", "not a ctxd baseline"},
		{"[1]", "not a ctxd baseline"},
		{"{\"schema\":\"ctxd-baseline\",\"version\":0}", "is older"},
		{"{\"schema\":\"ctxd-baseline\",\"version\":1}", "corrupt"},
	};

	(void)state;
	snprintf(path, sizeof path, "%s/missing.json", d);
	assert_int_equal(ctxd_baseline_load(path, &b, &err), -1);
	assert_non_null(strstr(err.msg, "No such file"));
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		tu_write(d, "b.json", cases[i].content);
		snprintf(path, sizeof path, "%s/b.json", d);
		assert_int_equal(ctxd_baseline_load(path, &b, &err), -1);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("%s: %s", cases[i].content, err.msg);
	}
	tu_rmtree(d);
	free(d);
}

/* The history's directories tallied as entries stream by: sent files
 * only, by top-level directory, the largest first, files at the top in
 * none; every entry passed on. */
static int count_visit(void *ud, const struct ctxd_entry *e, struct ctxd_error *err)
{
	(void)e;
	(void)err;
	++*(int *)ud;
	return 0;
}

static void history_tally(void **state)
{
	int passed = 0;
	struct ctxd_history_tally t = {.next = count_visit, .next_ud = &passed};
	struct ctxd_history_dir top[CTXD_HISTORY_TOP + 1];
	struct {
		const char *path;
		uint64_t size;
		bool excluded;
		enum ctxd_entry_type type;
	} es[] = {
		{"src/a.c", 10, false, CTXD_ENTRY_FILE}, {"lib/x/y.c", 30, false, CTXD_ENTRY_FILE},
		{"src/b.c", 25, false, CTXD_ENTRY_FILE}, {"top.txt", 99, false, CTXD_ENTRY_FILE},
		{"node_modules/z", 500, true, CTXD_ENTRY_FILE}, {"src", 0, false, CTXD_ENTRY_DIR},
	};
	struct ctxd_error err;

	(void)state;
	for (size_t i = 0; i < sizeof es / sizeof *es; i++) {
		struct ctxd_entry e = {.path = es[i].path, .path_len = strlen(es[i].path), .size = es[i].size,
				       .excluded = es[i].excluded, .type = es[i].type};

		assert_int_equal(ctxd_history_tally_visit(&t, &e, &err), 0);
	}
	assert_int_equal(passed, 6);
	ctxd_history_tally_top(&t, top);
	assert_string_equal(top[0].name, "src");
	assert_int_equal(top[0].bytes, 35);
	assert_string_equal(top[1].name, "lib");
	assert_int_equal(top[1].bytes, 30);
	assert_null(top[2].name);
	ctxd_history_tally_free(&t);
}

static void history_records_and_warns(void **state)
{
	char *d = tu_mkdtemp(), path[4096];
	struct ctxd_history_record a = {.time = 1700000000, .context = "/p", .dockerfile = "Dockerfile",
					.cmd = "build", .files = 10, .bytes = 10000000};
	struct ctxd_history_record b = a, other = a, *v;
	struct ctxd_buf w = {0}, t = {0};
	struct ctxd_error err;
	size_t n;

	(void)state;
	a.top[0] = (struct ctxd_history_dir){"src", 9000000};
	b.time += 60;
	b.bytes = 15000000;
	b.top[0] = (struct ctxd_history_dir){"src", 9000000};
	b.top[1] = (struct ctxd_history_dir){"data", 5000000};
	other.context = "/q";
	snprintf(path, sizeof path, "%s/state/ctxd/history.jsonl", d);
	assert_int_equal(ctxd_history_append(path, &a, &err), 0);
	assert_int_equal(ctxd_history_append(path, &other, &err), 0);
	assert_int_equal(ctxd_history_load(path, "/p", "Dockerfile", &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ctxd_history_growth_warning(v, n, &b, 10.0, 1000000, &w), 1);
	assert_non_null(strstr(w.data, "grew from 10MB to 15MB"));
	assert_non_null(strstr(w.data, "most in data/ (+5MB)"));
	ctxd_history_free(v, n);
	assert_int_equal(ctxd_history_append(path, &b, &err), 0);
	assert_int_equal(ctxd_history_load(path, "/p", "Dockerfile", &v, &n, &err), 0);
	assert_int_equal(n, 2);
	/* under the threshold: no warning */
	w.len = 0;
	assert_int_equal(ctxd_history_growth_warning(v, n, &b, 10.0, 1000000, &w), 0);
	ctxd_history_text(v, n, &t);
	assert_non_null(strstr(t.data, "+5MB"));
	assert_non_null(strstr(t.data, "data/ +5MB"));
	ctxd_history_free(v, n);
	ctxd_buf_free(&w);
	ctxd_buf_free(&t);
	tu_rmtree(d);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(totals_and_savings),
		cmocka_unit_test(measure_ignored_and_copy_all),
		cmocka_unit_test(write_appends),
		cmocka_unit_test(nested_junk_becomes_one_pattern),
		cmocka_unit_test(secrets_rules),
		cmocka_unit_test(allow_list),
		cmocka_unit_test(secrets_in_manifest),
		cmocka_unit_test(budget_sizes),
		cmocka_unit_test(baseline_roundtrip_and_growth),
		cmocka_unit_test(baseline_bad_files),
		cmocka_unit_test(history_records_and_warns),
		cmocka_unit_test(history_tally),
	};

	return TU_RUN("report", tests);
}
