/* Go filepath.Clean and Rel semantics. */
#include <stdlib.h>
#include <string.h>

#include "ctxd/path.h"
#include "testutil.h"

static void check_clean(const char *in, const char *want)
{
	char *got = ctxd_path_clean_dup(in);

	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fail_msg("Clean(%s) = %s, want %s", in, got, want);
	free(got);
}

/* The vectors of Go's path/filepath TestClean (Unix). */
static void test_clean(void **state)
{
	(void)state;
	check_clean("abc", "abc");
	check_clean("abc/def", "abc/def");
	check_clean("a/b/c", "a/b/c");
	check_clean(".", ".");
	check_clean("..", "..");
	check_clean("../..", "../..");
	check_clean("../../abc", "../../abc");
	check_clean("/abc", "/abc");
	check_clean("/", "/");
	check_clean("", ".");
	check_clean("abc/", "abc");
	check_clean("abc/def/", "abc/def");
	check_clean("/abc/", "/abc");
	check_clean("abc//def//ghi", "abc/def/ghi");
	check_clean("//abc", "/abc");
	check_clean("///abc", "/abc");
	check_clean("//abc//", "/abc");
	check_clean("abc/./def", "abc/def");
	check_clean("/./abc/def", "/abc/def");
	check_clean("abc/.", "abc");
	check_clean("abc/def/ghi/../jkl", "abc/def/jkl");
	check_clean("abc/def/../ghi/../jkl", "abc/jkl");
	check_clean("abc/def/..", "abc");
	check_clean("abc/def/../..", ".");
	check_clean("/abc/def/../..", "/");
	check_clean("abc/def/../../..", "..");
	check_clean("/abc/def/../../..", "/");
	check_clean("abc/def/../../../ghi/jkl/../../../mno", "../../mno");
	check_clean("/../abc", "/abc");
	check_clean("abc/./../def", "def");
	check_clean("abc//./../def", "def");
	check_clean("abc/../../././../def", "../../def");
	check_clean("!foo/../bar", "bar");
	check_clean("*/", "*");
}

static void check_rel(const char *base, const char *target, const char *want)
{
	char *got = ctxd_path_rel(base, target);

	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fail_msg("Rel(%s, %s) = %s, want %s", base, target, got, want);
	free(got);
}

static void test_rel(void **state)
{
	(void)state;
	check_rel("/a/b", "/a/b", ".");
	check_rel("/a/b", "/a/b/c", "c");
	check_rel("/a/b", "/a/b/c/d", "c/d");
	check_rel("/a/b", "/a/bc/d", "../bc/d");
	check_rel("/a/b", "/a/x", "../x");
	check_rel("/a/b", "/x/y", "../../x/y");
	check_rel("/", "/a", "a");
	check_rel("/a", "/", "..");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_rel),
	};

	return TU_RUN("unit-path", tests);
}
