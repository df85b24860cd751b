/* One pattern: Go filepath.Match syntax errors, the four matcher kinds,
 * and Go regexp semantics where the pattern becomes a regexp. */
#include <string.h>

#include "ctxd/pattern.h"
#include "testutil.h"

static int m(const char *pat, const char *path)
{
	struct ctxd_error err;
	struct ctxd_pattern *p = ctxd_pattern_create(pat, strlen(pat), &err);
	int r;

	if (!p)
		fail_msg("pattern %s rejected: %s", pat, err.msg);
	r = ctxd_pattern_match(p, path, strlen(path), &err);
	ctxd_pattern_destroy(p);
	return r;
}

#define MATCH(pat, path) do { if (m(pat, path) != 1) fail_msg("%s should match %s", pat, path); } while (0)
#define NOMATCH(pat, path) do { if (m(pat, path) != 0) fail_msg("%s should not match %s", pat, path); } while (0)

static void bad(const char *pat)
{
	struct ctxd_error err;
	struct ctxd_pattern *p = ctxd_pattern_create(pat, strlen(pat), &err);

	if (p) {
		/* a regexp error surfaces at the first match, as in Docker */
		int r = ctxd_pattern_match(p, "x", 1, &err);

		ctxd_pattern_destroy(p);
		if (r != -1)
			fail_msg("%s should be a syntax error", pat);
	}
	assert_non_null(strstr(err.msg, "syntax error in pattern"));
}

static void test_kinds(void **state)
{
	(void)state;
	MATCH("foo", "foo");
	NOMATCH("foo", "foo/bar");
	MATCH("dir/**", "dir/file");
	NOMATCH("dir/**", "dir");
	MATCH("abc**", "abc");
	MATCH("abc**", "abcd");
	MATCH("abc**", "abc2/x");
	NOMATCH("abc**", "abd");
	MATCH("**", "anything/at/all");
	MATCH("**/foo", "foo");
	MATCH("**/foo", "a/b/foo");
	NOMATCH("**/foo", "afoo");
	MATCH("**file", "myfile");
	MATCH("**.txt", "d/x.txt");
	MATCH("**/*.txt", "x.txt");
	MATCH("**/*.txt", "a/b/x.txt");
	NOMATCH("**/*.txt", "a/b/x.txtx");
	MATCH("a/**/b", "a/b");
	MATCH("a/**/b", "a/x/y/b");
	MATCH("**/dir2/*", "dir/dir2/file");
	MATCH("**/**/*.txt", "dir/dir/file.txt");
}

static void test_globs(void **state)
{
	(void)state;
	MATCH("*.txt", "a.txt");
	NOMATCH("*.txt", "d/a.txt");
	MATCH("a?c", "abc");
	NOMATCH("a?c", "a/c");
	MATCH("?.txt", "\xc3\xbc.txt"); /* one rune, two bytes */
	MATCH("a[b-d]e", "ace");
	NOMATCH("a[b-d]e", "ae");
	MATCH("a[^b-d]e", "aze");
	NOMATCH("a[^b-d]e", "ace");
	MATCH("[!a].txt", "!.txt"); /* ! is a member, not negation */
	NOMATCH("[!a].txt", "b.txt");
	MATCH("[\\]a]", "]");
	MATCH("a\\*b", "a*b");
	NOMATCH("a\\*b", "axb");
	MATCH("a\\\\", "a\\");
	MATCH("abc.def", "abc.def");
	NOMATCH("abc.def", "abcxdef");
	MATCH("a.|)$(}+{bc", "a.|)$(}+{bc");
	MATCH("\\#foo", "#foo");
	MATCH("foo\\ bar", "foo bar");
	NOMATCH("*^x", "a^x"); /* ^ is an anchor in a regexp pattern */
	MATCH("a^b", "a^b"); /* but literal in an exact one */
	MATCH("\xc3\xbc" "n\xc3\xaf*", "\xc3\xbc" "n\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9.txt");
}

static void test_go_regexp(void **state)
{
	(void)state;
	MATCH("a\\d", "a1");
	NOMATCH("a\\d", "ad");
	MATCH("a\\w", "a_");
	MATCH("a\\s", "a ");
	NOMATCH("a\\s", "a\v"); /* Go's \s has no \v */
	MATCH("x[[:digit:]]", "x7");
	MATCH("x[[:^digit:]]", "xa");
	MATCH("x[\\d]", "x3");
	MATCH("x\\x41", "xA");
	MATCH("x\\101", "xA");
	MATCH("x\\pL", "x\xc3\xa9");
	/* '{' reaches Go raw (see pattern.c), '*' has become [^/]* */
	MATCH("x\\p{Greek}", "x\xce\xb1");
	NOMATCH("x\\p{Greek}", "xa");
	MATCH("x\\x{42}", "xB");
	MATCH("a\\Q*\\Eb", "a[^/]*b");
	MATCH("a{2}*", "aa");
	NOMATCH("a{2}*", "a{2}x");
	MATCH("x|y*", "d/ay"); /* alternation: the y branch is unanchored */
	MATCH("x|y*", "xzz");
	MATCH("(a|b)*", "(azzz"); /* ( is escaped, | is not */
	MATCH("a{,2}*", "a{,2}"); /* not a repeat: literal */
	MATCH("[*]", "[]"); /* becomes [[^/]*]: class, star, literal ] */
	MATCH("x\\b", "x");
}

static void test_syntax_errors(void **state)
{
	(void)state;
	bad("[");
	bad("a[");
	bad("[-]");
	bad("[x-]");
	bad("[-x]");
	bad("[a-b-c]");
	bad("[^");
	bad("bin\\");
	bad("[]a]");
	bad("[z-a]");
	bad("[Local-Only]");
	bad("a\\yb");
	bad("a\\1");
	bad("x\\C");
	bad("x[[:nope:]]");
	bad("x\\p{NoSuchScript}");
	bad("a{2,1}*");
	bad("b{1001}*");
	bad("*{2}");
	bad("[\\b]");
}

static void test_literal(void **state)
{
	struct ctxd_error err;
	struct ctxd_pattern *p;

	(void)state;
	p = ctxd_pattern_create("a/b/c", 5, &err);
	assert_true(ctxd_pattern_is_literal(p));
	assert_int_equal(ctxd_pattern_depth(p), 3);
	ctxd_pattern_destroy(p);
	p = ctxd_pattern_create("a/*", 3, &err);
	assert_false(ctxd_pattern_is_literal(p));
	ctxd_pattern_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_globs),
		cmocka_unit_test(test_go_regexp),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_literal),
	};

	return TU_RUN("unit-pattern", tests);
}
