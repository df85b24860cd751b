/* ctxd_explain_run: each asked path gets the walk's own decision and the
 * rule behind it (ignore-file line, the unopened directory that decided it,
 * the instruction that reads it, the identical file it duplicates), and
 * paths that are not in the context are errors. */
#include <stdlib.h>
#include <string.h>

#include "ctxd/context.h"
#include "ctxd/explain.h"
#include "ctxd/scan.h"
#include "ctxd/select.h"
#include "testutil.h"

struct fixture {
	char *dir;
	struct ctxd_context *ctx;
	struct ctxd_select *sel;
};

static void fixture_open(struct fixture *f, bool prune)
{
	struct ctxd_context_options o = {0};
	struct ctxd_select_options sopt = {0};
	struct ctxd_error err;

	f->dir = tu_mkdtemp();
	tu_write(f->dir, "Dockerfile", "FROM scratch\nCOPY app/ /app/\nCOPY conf/a.txt /etc/\n");
	tu_write(f->dir, ".dockerignore", "# caches\nlogs\n**/*.tmp\n!keep.tmp\n");
	tu_write(f->dir, "app/main.py", "print('hi')\n");
	tu_write(f->dir, "app/copy.py", "print('hi')\n");
	tu_write(f->dir, "app/x.tmp", "scratch\n");
	tu_write(f->dir, "keep.tmp", "kept\n");
	tu_write(f->dir, "logs/today/run.log", "log\n");
	tu_write(f->dir, "conf/a.txt", "a\n");
	tu_write(f->dir, "conf/b.txt", "b\n");
	tu_write(f->dir, "data/big.bin", "0123456789\n");
	o.dir = f->dir;
	assert_int_equal(ctxd_context_open(&o, &f->ctx, &err), 0);
	f->sel = NULL;
	if (prune)
		assert_int_equal(ctxd_select_create(f->ctx, &sopt, &f->sel, &err), 0);
}

static void fixture_close(struct fixture *f)
{
	ctxd_select_destroy(f->sel);
	ctxd_context_destroy(f->ctx);
	tu_rmtree(f->dir);
	free(f->dir);
}

static void explain(struct fixture *f, const char *const *paths, size_t n, struct ctxd_explain *x)
{
	struct ctxd_scan_options so = {.select = f->sel};
	struct ctxd_error err;

	if (ctxd_explain_run(f->ctx, &so, NULL, paths, n, x, &err) < 0)
		fail_msg("explain: %s", err.msg);
	assert_int_equal(x->n, n);
}

static void test_ignore_rule_named(void **state)
{
	static const char *const paths[] = {"app/x.tmp", "keep.tmp"};
	struct fixture f;
	struct ctxd_explain x;

	(void)state;
	fixture_open(&f, false);
	explain(&f, paths, 2, &x);
	assert_true(x.items[0].exists);
	assert_false(x.items[0].sent);
	assert_int_equal(x.items[0].reason, CTXD_REASON_DOCKERIGNORE);
	assert_non_null(x.items[0].rule_file);
	assert_string_equal(x.items[0].rule_text, "**/*.tmp");
	assert_int_equal(x.items[0].rule_line, 3);
	assert_null(x.items[0].via);
	/* re-included by the exception: sent, and no pruning means no reader */
	assert_true(x.items[1].sent);
	assert_null(x.items[1].read_by);
	ctxd_explain_clear(&x);
	fixture_close(&f);
}

static void test_unopened_directory_decides(void **state)
{
	static const char *const paths[] = {"logs/today/run.log"};
	struct fixture f;
	struct ctxd_explain x;

	(void)state;
	fixture_open(&f, false);
	explain(&f, paths, 1, &x);
	assert_true(x.items[0].exists);
	assert_false(x.items[0].sent);
	assert_int_equal(x.items[0].reason, CTXD_REASON_DOCKERIGNORE);
	assert_non_null(x.items[0].via);
	assert_string_equal(x.items[0].via, "logs");
	assert_string_equal(x.items[0].rule_text, "logs");
	assert_int_equal(x.items[0].rule_line, 2);
	ctxd_explain_clear(&x);
	fixture_close(&f);
}

static void test_reader_and_not_read(void **state)
{
	static const char *const paths[] = {"app/main.py", "conf/a.txt", "conf/b.txt", "data/big.bin",
					    "Dockerfile"};
	struct fixture f;
	struct ctxd_explain x;

	(void)state;
	fixture_open(&f, true);
	explain(&f, paths, 5, &x);
	assert_true(x.items[0].sent);
	assert_non_null(x.items[0].read_by);
	assert_non_null(strstr(x.items[0].read_by, "COPY"));
	assert_non_null(strstr(x.items[0].read_by, ":2"));
	assert_true(x.items[1].sent);
	assert_non_null(strstr(x.items[1].read_by, ":3"));
	assert_false(x.items[2].sent);
	assert_int_equal(x.items[2].reason, CTXD_REASON_NOT_READ);
	assert_false(x.items[3].sent);
	assert_int_equal(x.items[3].reason, CTXD_REASON_NOT_READ);
	/* the Dockerfile goes whatever the filter says */
	assert_true(x.items[4].sent);
	assert_non_null(x.items[4].read_by);
	ctxd_explain_clear(&x);
	fixture_close(&f);
}

static void test_duplicate_named(void **state)
{
	static const char *const paths[] = {"app/copy.py", "app/main.py"};
	struct fixture f;
	struct ctxd_explain x;
	const char *dup;

	(void)state;
	fixture_open(&f, false);
	explain(&f, paths, 2, &x);
	/* one of the pair names the other; which one is first is walk order */
	dup = x.items[0].duplicate_of ? x.items[0].duplicate_of : x.items[1].duplicate_of;
	assert_non_null(dup);
	assert_true(strcmp(dup, "app/copy.py") == 0 || strcmp(dup, "app/main.py") == 0);
	assert_false(x.items[0].duplicate_of && x.items[1].duplicate_of);
	ctxd_explain_clear(&x);
	fixture_close(&f);
}

static void test_missing_path_is_not_an_error(void **state)
{
	static const char *const paths[] = {"no/such/file"};
	struct fixture f;
	struct ctxd_explain x;

	(void)state;
	fixture_open(&f, false);
	explain(&f, paths, 1, &x);
	assert_false(x.items[0].exists);
	assert_false(x.items[0].sent);
	ctxd_explain_clear(&x);
	fixture_close(&f);
}

static void test_path_outside_context_fails(void **state)
{
	static const char *const paths[] = {"../escape"};
	struct fixture f;
	struct ctxd_explain x;
	struct ctxd_scan_options so = {0};
	struct ctxd_error err;

	(void)state;
	fixture_open(&f, false);
	assert_int_equal(ctxd_explain_run(f.ctx, &so, NULL, paths, 1, &x, &err), -1);
	assert_non_null(strstr(err.msg, "not a path inside the context"));
	fixture_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ignore_rule_named),
		cmocka_unit_test(test_unopened_directory_decides),
		cmocka_unit_test(test_reader_and_not_read),
		cmocka_unit_test(test_duplicate_named),
		cmocka_unit_test(test_missing_path_is_not_an_error),
		cmocka_unit_test(test_path_outside_context_fails),
	};
	return TU_RUN("explain", tests);
}
