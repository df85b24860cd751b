/* Reading .dockerignore files (ignorefile.ReadAll) and Docker's decision
 * procedures over a pattern list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/ignore.h"
#include "testutil.h"

static struct ctxd_ignore *parse(const char *text)
{
	struct ctxd_ignore *ig = ctxd_ignore_create();
	struct ctxd_error err;

	if (ctxd_ignore_parse(ig, text, strlen(text), "t/.dockerignore", &err) < 0)
		fail_msg("parse failed: %s", err.msg);
	return ig;
}

static void expect_patterns(const char *text, const char *const *want, size_t n)
{
	struct ctxd_ignore *ig = parse(text);
	struct ctxd_ignore_rule r;

	if (ctxd_ignore_count(ig) != n)
		fail_msg("%zu patterns, want %zu", ctxd_ignore_count(ig), n);
	for (size_t i = 0; i < n; i++) {
		ctxd_ignore_rule(ig, i, &r);
		if (strcmp(r.text, want[i]) != 0)
			fail_msg("pattern %zu is '%s', want '%s'", i, r.text, want[i]);
	}
	ctxd_ignore_destroy(ig);
}

static void test_reader(void **state)
{
	(void)state;
	{
		const char *w[] = {"a", "b", "c"};
		expect_patterns("a\r\nb\n\n  \nc", w, 3);
	}
	{
		const char *w[] = {"x"}; /* BOM only on the first line */
		expect_patterns("\xEF\xBB\xBFx\n", w, 1);
	}
	{
		const char *w[] = {"\xEF\xBB\xBFy"};
		expect_patterns("# c\n\xEF\xBB\xBFy\n", w, 1);
	}
	{
		const char *w[] = {"#x", "foo # c"}; /* # only in column 1 */
		expect_patterns("# comment\n #x\nfoo # c\n", w, 2);
	}
	{
		const char *w[] = {"!keep", "!keep2", "foo/bar", "foo", "../foo", "/", ".", "bar"};
		expect_patterns("!  keep\n ! keep2 \n/foo/bar/\n//foo\n../foo\n/\n.\nfoo/../bar\n", w, 8);
	}
	{
		const char *w[] = {"spaced", "tab"}; /* Go TrimSpace: NBSP and NEL too */
		expect_patterns("\xc2\xa0spaced\xc2\x85\n\ttab\v\n", w, 2);
	}
}

static void expect_error(const char *text, const char *want)
{
	struct ctxd_ignore *ig = ctxd_ignore_create();
	struct ctxd_error err;

	if (ctxd_ignore_parse(ig, text, strlen(text), "t/.dockerignore", &err) == 0)
		fail_msg("'%s' was accepted", text);
	if (!strstr(err.msg, want))
		fail_msg("error '%s' lacks '%s'", err.msg, want);
	assert_int_equal(ctxd_ignore_count(ig), 0); /* nothing half-added */
	ctxd_ignore_destroy(ig);
}

static void test_reader_errors(void **state)
{
	char *longline;

	(void)state;
	expect_error("ok\n!\n", "t/.dockerignore:2: !: illegal exclusion pattern");
	expect_error("a\nb\n[\n", "t/.dockerignore:3: [: syntax error in pattern");
	expect_error("bin\\\n", "t/.dockerignore:1");
	longline = malloc(70000);
	memset(longline, 'a', 69999);
	longline[69999] = '\0';
	expect_error(longline, "t/.dockerignore:1: line too long");
	/* 65535 bytes is still a line Docker reads */
	longline[65535] = '\0';
	ctxd_ignore_destroy(parse(longline));
	free(longline);
}

static int walk(const struct ctxd_ignore *ig, const char *path)
{
	/* the tar walker: vectors computed down the path's ancestors */
	size_t n = ctxd_ignore_count(ig), len = strlen(path);
	uint8_t *parent = NULL, *vec = malloc(n ? n : 1);
	struct ctxd_error err;
	int rule, r = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		r = ctxd_ignore_match(ig, path, i, parent, vec, &rule, &err);
		assert_true(r >= 0);
		if (!parent)
			parent = malloc(n ? n : 1);
		memcpy(parent, vec, n);
	}
	free(parent);
	free(vec);
	return r;
}

static void test_decisions(void **state)
{
	struct ctxd_ignore *ig;
	struct ctxd_error err;

	(void)state;
	/* the parent-result quirk: D, !D/f, D sends D/f */
	ig = parse("D\n!D/f\nD\n");
	assert_int_equal(walk(ig, "D/f"), 0);
	assert_int_equal(walk(ig, "D/g"), 1);
	assert_int_equal(ctxd_ignore_match_or_parent(ig, "D/f", 3, &err), 1);
	ctxd_ignore_destroy(ig);

	/* last matching line wins otherwise */
	ig = parse("*.md\n!README*.md\nREADME-secret.md\n");
	assert_int_equal(walk(ig, "README-secret.md"), 1);
	assert_int_equal(walk(ig, "README-public.md"), 0);
	ctxd_ignore_destroy(ig);

	/* an exception before the rule it should undo does nothing */
	ig = parse("!keep\n*\n");
	assert_int_equal(walk(ig, "keep"), 1);
	ctxd_ignore_destroy(ig);

	/* legacy Matches looks at one ancestor only: the pattern's depth */
	ig = parse("docker/*\n");
	assert_int_equal(ctxd_ignore_match_legacy(ig, "docker/a/Dockerfile", 19, &err), 1);
	ctxd_ignore_destroy(ig);
	ig = parse("a\n");
	assert_int_equal(ctxd_ignore_match_legacy(ig, "a/b/c", 5, &err), 1);
	assert_int_equal(ctxd_ignore_match_legacy(ig, ".", 1, &err), 0);
	ctxd_ignore_destroy(ig);
	ig = parse("a/b\n");
	assert_int_equal(ctxd_ignore_match_legacy(ig, "x/a/b/c", 7, &err), 0);
	ctxd_ignore_destroy(ig);
}

static void test_reach_inside(void **state)
{
	struct ctxd_ignore *ig;

	(void)state;
	ig = parse("vendor\n!vendor/**/LICENSE\n");
	assert_true(ctxd_ignore_may_reach_inside(ig, "vendor", 6));
	assert_false(ctxd_ignore_may_reach_inside(ig, "vendor/x", 8));
	assert_true(ctxd_ignore_has_exceptions(ig));
	ctxd_ignore_destroy(ig);
	ig = parse("a*\n!ab/keep\n");
	assert_false(ctxd_ignore_may_reach_inside(ig, "a", 1));
	assert_true(ctxd_ignore_may_reach_inside(ig, "ab", 2));
	ctxd_ignore_destroy(ig);
	ig = parse("dir\n");
	assert_false(ctxd_ignore_has_exceptions(ig));
	ctxd_ignore_destroy(ig);
}

static void test_lazy_regexp_error(void **state)
{
	struct ctxd_ignore *ig;
	struct ctxd_error err;
	uint8_t vec[2];
	int rule;

	(void)state;
	/* [z-a] passes filepath.Match but not Go's regexp: an error only once
	 * the pattern is used */
	ig = parse("!a[z-a]\nfoo\n");
	assert_int_equal(ctxd_ignore_match(ig, "bar", 3, NULL, vec, &rule, &err), 0);
	ctxd_ignore_destroy(ig);
	ig = parse("x[z-a]\n");
	assert_int_equal(ctxd_ignore_match(ig, "bar", 3, NULL, vec, &rule, &err), -1);
	assert_non_null(strstr(err.msg, "t/.dockerignore:1: x[z-a]: syntax error in pattern"));
	ctxd_ignore_destroy(ig);
}

static void test_load(void **state)
{
	char *root = tu_mkdtemp(), *p;
	struct ctxd_ignore *ig = ctxd_ignore_create();
	struct ctxd_error err;
	bool found = true;

	(void)state;
	assert_int_equal(asprintf(&p, "%s/missing", root) > 0, 1);
	assert_int_equal(ctxd_ignore_load(ig, p, &found, &err), 0);
	assert_false(found);
	free(p);
	tu_mkdir(root, "d");
	assert_int_equal(asprintf(&p, "%s/d", root) > 0, 1);
	assert_int_equal(ctxd_ignore_load(ig, p, &found, &err), -1);
	assert_non_null(strstr(err.msg, "is a directory"));
	free(p);
	ctxd_ignore_destroy(ig);
	tu_rmtree(root);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader),
		cmocka_unit_test(test_reader_errors),
		cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_reach_inside),
		cmocka_unit_test(test_lazy_regexp_error),
		cmocka_unit_test(test_load),
	};

	return TU_RUN("unit-ignore", tests);
}
