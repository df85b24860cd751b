/* The git filter in the scan: what --git-filter=ignored|untracked drops
 * (and the reasons entries carry), what the Dockerfile names and so keeps,
 * directories dropped whole without being opened, what the summary says a
 * filter would save, and the rule ctxd why names. Repositories are built
 * with git: root and subdirectory contexts, no repository, a submodule, a
 * nested repository and a linked worktree. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/buf.h"
#include "ctxd/context.h"
#include "ctxd/explain.h"
#include "ctxd/gitview.h"
#include "ctxd/scan.h"
#include "ctxd/select.h"
#include "ctxd/summary.h"
#include "testutil.h"

#define GIT "git -c user.email=t@example.com -c user.name=t -c protocol.file.allow=always"

/* One scan's results: sent entries ("path\n", dirs with '/'), excluded
 * ones with their reason ("path reason[ pruned]\n"), and the summary. */
struct result {
	struct ctxd_buf sent, excluded;
	struct ctxd_summary sum;
};

static int collect(void *ud, const struct ctxd_entry *e, struct ctxd_error *err)
{
	struct result *r = ud;
	const char *slash = e->type == CTXD_ENTRY_DIR ? "/" : "";

	(void)err;
	if (!e->excluded) {
		ctxd_buf_printf(&r->sent, "%.*s%s\n", (int)e->path_len, e->path, slash);
		return 0;
	}
	if (e->reason == CTXD_REASON_GIT_IGNORED || e->reason == CTXD_REASON_GIT_UNTRACKED)
		ctxd_buf_printf(&r->excluded, "%.*s%s %s%s\n", (int)e->path_len, e->path, slash,
				ctxd_entry_reason_name(e->reason), e->pruned ? " pruned" : "");
	return 0;
}

struct setup {
	struct ctxd_context *ctx;
	struct ctxd_select *sel;
	struct ctxd_gitview *gv;
	struct ctxd_scan_options so;
};

static void open_all(struct setup *s, const char *dir, enum ctxd_git_filter f, bool prune)
{
	struct ctxd_context_options o = {.dir = dir};
	struct ctxd_error err;

	memset(s, 0, sizeof *s);
	if (ctxd_context_open(&o, &s->ctx, &err) < 0)
		fail_msg("context %s: %s", dir, err.msg);
	if (ctxd_select_create(s->ctx, NULL, &s->sel, &err) < 0)
		fail_msg("select: %s", err.msg);
	if (ctxd_gitview_open(s->ctx->root, &s->gv, &err) < 0)
		fail_msg("gitview: %s", err.msg);
	s->so.select = prune ? s->sel : NULL;
	s->so.git = s->gv;
	s->so.git_filter = f;
	s->so.git_keep = s->sel;
}

static void close_all(struct setup *s)
{
	ctxd_gitview_destroy(s->gv);
	ctxd_select_destroy(s->sel);
	ctxd_context_destroy(s->ctx);
}

/* Scans dir with filter f (want_excluded; list_unread as given), no
 * pruning unless prune. */
static void scan(const char *dir, enum ctxd_git_filter f, bool prune, bool list_unread,
		 struct result *r)
{
	struct setup s;
	struct ctxd_error err;

	memset(r, 0, sizeof *r);
	open_all(&s, dir, f, prune);
	s.so.want_excluded = true;
	s.so.list_unread = list_unread;
	r->sum.next = collect;
	r->sum.next_ud = r;
	r->sum.git_filter = f;
	ctxd_buf_puts(&r->sent, "");
	ctxd_buf_puts(&r->excluded, "");
	if (ctxd_scan_run(s.ctx, &s.so, ctxd_summary_visit, &r->sum, &err) < 0)
		fail_msg("scan %s: %s", dir, err.msg);
	close_all(&s);
}

static void result_free(struct result *r)
{
	ctxd_buf_free(&r->sent);
	ctxd_buf_free(&r->excluded);
}

static void expect_text(const char *what, const char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fail_msg("%s:\n%s\nwant:\n%s", what, got, want);
}

/* A repository: tracked src/a.c, .gitignore (build/, *.log), an ignored
 * build/ with out.o and keep.bin, an ignored x.log, an untracked u.txt. */
static char *project(const char *dockerfile)
{
	char *d = tu_mkdtemp();

	tu_write(d, "Dockerfile", dockerfile);
	tu_write(d, ".gitignore", "build/\n*.log\n");
	tu_write(d, "src/a.c", "int a;\n");
	tu_write(d, "build/out.o", "object");
	tu_write(d, "build/keep.bin", "keep");
	tu_write(d, "x.log", "log");
	tu_write(d, "u.txt", "untracked");
	tu_sh("cd '%s' && git init -q && git add Dockerfile .gitignore src && " GIT " commit -qm i", d);
	return d;
}

static void test_filter_levels(void **state)
{
	char *d = project("FROM scratch\nCOPY . /app\n");
	struct result r;

	(void)state;
	/* off: everything goes; the summary counts what each filter would save */
	scan(d, CTXD_GIT_FILTER_OFF, false, false, &r);
	assert_non_null(strstr(r.sent.data, ".git/HEAD\n"));
	assert_non_null(strstr(r.sent.data, "build/out.o\n"));
	expect_text("excluded", r.excluded.data, "");
	assert_true(r.sum.git.ignored_files > 4); /* .git's files, build's two, x.log */
	assert_int_equal(r.sum.git.untracked_files, 1);
	assert_int_equal(r.sum.git.untracked_bytes, 9);
	assert_int_equal(ctxd_summary_git_would_save(&r.sum, CTXD_GIT_FILTER_UNTRACKED).files,
			 r.sum.git.ignored_files + 1);
	{
		struct ctxd_buf line = {0};

		ctxd_summary_format(&r.sum, &line);
		assert_non_null(strstr(line.data, "; --git-filter=ignored would save "));
		assert_non_null(strstr(line.data, ", --git-filter=untracked "));
		ctxd_buf_free(&line);
	}
	result_free(&r);

	/* ignored: .git, build/ (not opened) and x.log are dropped */
	scan(d, CTXD_GIT_FILTER_IGNORED, false, false, &r);
	expect_text("sent", r.sent.data, ".gitignore\nDockerfile\nsrc/\nsrc/a.c\nu.txt\n");
	expect_text("excluded", r.excluded.data,
		    ".git/ git-ignored pruned\nbuild/ git-ignored pruned\nx.log git-ignored\n");
	assert_int_equal(r.sum.by_reason[CTXD_REASON_GIT_IGNORED].files, 1);
	assert_int_equal(r.sum.git.ignored_files, 0);
	assert_int_equal(ctxd_summary_git_would_save(&r.sum, CTXD_GIT_FILTER_UNTRACKED).files, 1);
	assert_int_equal(ctxd_summary_git_would_save(&r.sum, CTXD_GIT_FILTER_IGNORED).files, 0);
	result_free(&r);

	/* listing what is not sent looks inside (stat only), with the reason */
	scan(d, CTXD_GIT_FILTER_IGNORED, false, true, &r);
	assert_non_null(strstr(r.excluded.data, "build/ git-ignored\nbuild/keep.bin git-ignored\n"));
	assert_non_null(strstr(r.excluded.data, ".git/HEAD git-ignored\n"));
	assert_null(strstr(r.sent.data, ".git/"));
	result_free(&r);

	/* untracked: u.txt too */
	scan(d, CTXD_GIT_FILTER_UNTRACKED, false, false, &r);
	expect_text("sent", r.sent.data, ".gitignore\nDockerfile\nsrc/\nsrc/a.c\n");
	assert_non_null(strstr(r.excluded.data, "u.txt git-untracked\n"));
	result_free(&r);
	tu_rmtree(d);
	free(d);
}

/* A path the Dockerfile names (or lies under one it names) by a literal
 * source stays; a wildcard does not keep it. */
static void test_dockerfile_names_keep(void **state)
{
	char *d = project("FROM scratch\nCOPY build/keep.bin *.log /\nCOPY src /src\n");
	struct result r;

	(void)state;
	scan(d, CTXD_GIT_FILTER_IGNORED, true, false, &r);
	/* build/ is entered only for keep.bin and goes as its parent */
	expect_text("sent", r.sent.data, "Dockerfile\nbuild/\nbuild/keep.bin\nsrc/\nsrc/a.c\n");
	/* out.o is not read by the Dockerfile: that filter decides first */
	expect_text("excluded", r.excluded.data, "x.log git-ignored\n");
	/* a kept file is no saving */
	assert_int_equal(r.sum.git.ignored_files, 0);
	result_free(&r);
	/* the whole context read (COPY . .) still keeps a literal source */
	tu_write(d, "Dockerfile", "FROM scratch\nCOPY . /app\nCOPY build/keep.bin /\n");
	scan(d, CTXD_GIT_FILTER_UNTRACKED, true, false, &r);
	expect_text("sent", r.sent.data, ".gitignore\nDockerfile\nbuild/\nbuild/keep.bin\nsrc/\nsrc/a.c\n");
	result_free(&r);
	/* a git-ignored Dockerfile is sent all the same */
	tu_write(d, ".gitignore", "build/\n*.log\nDockerfile\n");
	scan(d, CTXD_GIT_FILTER_IGNORED, true, false, &r);
	assert_non_null(strstr(r.sent.data, "Dockerfile\n"));
	result_free(&r);
	tu_rmtree(d);
	free(d);
}

static void test_subdirectory_and_no_repo(void **state)
{
	char *d = project("FROM scratch\nCOPY . /app\n"), *sub;
	struct result r;

	(void)state;
	tu_write(d, "app/Dockerfile", "FROM scratch\nCOPY . /\n");
	tu_write(d, "app/main.c", "");
	tu_write(d, "app/debug.log", "");
	tu_write(d, "app/.gitignore", "tmp/\n");
	tu_write(d, "app/tmp/t", "");
	tu_sh("cd '%s' && git add app/Dockerfile app/main.c app/.gitignore", d);
	assert_true(asprintf(&sub, "%s/app", d) > 0);
	/* the rules of the repository root and of the subdirectory apply */
	scan(sub, CTXD_GIT_FILTER_IGNORED, true, false, &r);
	expect_text("sent", r.sent.data, ".gitignore\nDockerfile\nmain.c\n");
	expect_text("excluded", r.excluded.data, "debug.log git-ignored\ntmp/ git-ignored pruned\n");
	result_free(&r);
	free(sub);
	tu_rmtree(d);
	free(d);

	/* no repository: nothing is dropped, nothing would be saved */
	d = tu_mkdtemp();
	tu_write(d, "Dockerfile", "FROM scratch\nCOPY . /\n");
	tu_write(d, ".gitignore", "*.log\n");
	tu_write(d, "x.log", "");
	scan(d, CTXD_GIT_FILTER_UNTRACKED, true, false, &r);
	expect_text("sent", r.sent.data, ".gitignore\nDockerfile\nx.log\n");
	assert_int_equal(r.sum.git.ignored_files + r.sum.git.untracked_files, 0);
	result_free(&r);
	tu_rmtree(d);
	free(d);
}

static void test_submodule_nested_worktree(void **state)
{
	char *d = project("FROM scratch\nCOPY . /app\n"), *lib = tu_mkdtemp(), *wt;
	struct result r;

	(void)state;
	tu_write(lib, "lib.c", "");
	tu_write(lib, ".gitignore", "*.o\n");
	tu_sh("cd '%s' && git init -q && git add . && " GIT " commit -qm l", lib);
	tu_sh("cd '%s' && " GIT " submodule -q add '%s' mod && " GIT " commit -qm s && "
	   "echo o > mod/x.o && echo n > mod/new.c", d, lib);
	/* a nested repository that is not a submodule: one untracked entry */
	tu_sh("mkdir -p '%s/nest' && cd '%s/nest' && git init -q && echo f > f && git add f && "
	   GIT " commit -qm n", d, d);
	scan(d, CTXD_GIT_FILTER_IGNORED, true, false, &r);
	/* the submodule's own .gitignore and .git gitfile count */
	assert_non_null(strstr(r.sent.data, "mod/\nmod/.gitignore\nmod/lib.c\nmod/new.c\n"));
	assert_non_null(strstr(r.excluded.data, "mod/.git git-ignored\nmod/x.o git-ignored\n"));
	assert_non_null(strstr(r.sent.data, "nest/\nnest/f\n"));
	assert_non_null(strstr(r.excluded.data, "nest/.git/ git-ignored pruned\n"));
	result_free(&r);
	scan(d, CTXD_GIT_FILTER_UNTRACKED, true, false, &r);
	assert_non_null(strstr(r.excluded.data, "mod/new.c git-untracked\n"));
	assert_non_null(strstr(r.excluded.data, "nest/ git-untracked pruned\n"));
	result_free(&r);

	/* a linked worktree: its .git is a file, the rules are the branch's */
	assert_true(asprintf(&wt, "%s-wt", d) > 0);
	tu_sh("cd '%s' && " GIT " worktree add -q '%s' && echo l > '%s/y.log' && echo u > '%s/u2'", d, wt,
	   wt, wt);
	scan(wt, CTXD_GIT_FILTER_UNTRACKED, true, false, &r);
	assert_null(strstr(r.sent.data, ".git\n"));
	assert_non_null(strstr(r.excluded.data, ".git git-ignored\n"));
	assert_non_null(strstr(r.excluded.data, "u2 git-untracked\n"));
	assert_non_null(strstr(r.excluded.data, "y.log git-ignored\n"));
	assert_non_null(strstr(r.sent.data, "src/a.c\n"));
	result_free(&r);
	tu_rmtree(wt);
	free(wt);
	tu_rmtree(lib);
	free(lib);
	tu_rmtree(d);
	free(d);
}

/* ctxd why's answer: the .gitignore rule, the ignored directory that
 * decided, "untracked", and a named file kept. */
static void test_explain(void **state)
{
	char *d = project("FROM scratch\nCOPY . /app\nCOPY build/keep.bin /\n"), rp[PATH_MAX], *want;
	const char *paths[] = {"build/out.o", "x.log", "u.txt", "build/keep.bin", ".git/HEAD", "src/a.c"};
	struct ctxd_explain x;
	struct ctxd_error err;
	struct setup s;

	(void)state;
	open_all(&s, d, CTXD_GIT_FILTER_IGNORED, true);
	if (ctxd_explain_run(s.ctx, &s.so, NULL, paths, 6, &x, &err) < 0)
		fail_msg("explain: %s", err.msg);
	assert_non_null(realpath(d, rp));
	assert_true(asprintf(&want, "%s/.gitignore", rp) > 0);
	/* build/ is entered for keep.bin, so out.o is decided by itself */
	assert_false(x.items[0].sent);
	assert_int_equal(x.items[0].reason, CTXD_REASON_GIT_IGNORED);
	assert_string_equal(x.items[0].rule_file, want);
	assert_int_equal(x.items[0].rule_line, 1);
	assert_string_equal(x.items[0].rule_text, "build/");
	assert_int_equal(x.items[1].rule_line, 2);
	assert_string_equal(x.items[1].rule_text, "*.log");
	assert_true(x.items[2].sent);
	assert_int_equal(x.items[2].git, CTXD_GIT_UNTRACKED);
	assert_true(x.items[3].sent && x.items[3].git_named);
	assert_int_equal(x.items[3].git, CTXD_GIT_IGNORED);
	assert_string_equal(x.items[3].git_rule_pattern, "build/");
	assert_false(x.items[4].sent);
	assert_int_equal(x.items[4].reason, CTXD_REASON_GIT_IGNORED);
	assert_null(x.items[4].rule_file);
	assert_string_equal(x.items[4].rule_text, ".git");
	assert_true(x.items[5].sent);
	assert_int_equal(x.items[5].git, CTXD_GIT_TRACKED);
	ctxd_explain_clear(&x);
	close_all(&s);
	free(want);
	tu_rmtree(d);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_levels),
		cmocka_unit_test(test_dockerfile_names_keep),
		cmocka_unit_test(test_subdirectory_and_no_repo),
		cmocka_unit_test(test_submodule_nested_worktree),
		cmocka_unit_test(test_explain),
	};

	return TU_RUN("gitfilter", tests);
}
