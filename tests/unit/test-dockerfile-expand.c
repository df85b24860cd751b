/* Shell-word expansion (dockerfile_expand): BuildKit's envVarTest and
 * wordsTest tables, the ${X#p} / ${X%p} / ${X/p/r} cases of its
 * TestProcessWithMatches, and the unknown-variable rules ctxd adds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/dockerfile_expand.h"
#include "testutil.h"

static const struct ctxd_dockerfile_lex plain = {.escape = '\\'};

static struct ctxd_dockerfile_env *env_of(bool open, const char *const *kv)
{
	struct ctxd_dockerfile_env *env = ctxd_dockerfile_env_create(open);

	assert_non_null(env);
	for (; kv && *kv; kv += 2)
		assert_int_equal(ctxd_dockerfile_env_set(env, kv[0], kv[1]), 0);
	return env;
}

/* NULL want: an error is expected. */
static void expect_word(const struct ctxd_dockerfile_lex *lx, const struct ctxd_dockerfile_env *env,
			const char *in, const char *want)
{
	struct ctxd_dockerfile_word w;
	struct ctxd_error err;
	int rc = ctxd_dockerfile_expand(lx, in, strlen(in), env, false, &w, &err);

	if (!want) {
		if (rc == 0)
			fail_msg("'%s' expanded to '%s', want an error", in, w.value);
		assert_non_null(strstr(err.msg, "failed to process"));
		return;
	}
	if (rc < 0)
		fail_msg("'%s': %s", in, err.msg);
	if (strcmp(w.value, want) != 0)
		fail_msg("'%s' expanded to '%s', want '%s'", in, w.value, want);
	assert_false(w.unknown);
	ctxd_dockerfile_word_clear(&w);
}

static const struct {
	const char *in, *want;
} env_var_test[] = {
	{"hello", "hello"},
	{"he'll'o", "hello"},
	{"he'llo", NULL},
	{"he\\'llo", "he'llo"},
	{"he\\\\'llo", NULL},
	{"abc\\tdef", "abctdef"},
	{"\"abc\\tdef\"", "abc\\tdef"},
	{"\"abc\\\\tdef\"", "abc\\tdef"},
	{"'abc\\tdef'", "abc\\tdef"},
	{"hello\\", "hello"},
	{"hello\\\\", "hello\\"},
	{"\"hello", NULL},
	{"\"hello\\\"", NULL},
	{"\"hel'lo\"", "hel'lo"},
	{"'hello", NULL},
	{"'hello\\'", "hello\\"},
	{"'hello\\there'", "hello\\there"},
	{"'hello\\\\there'", "hello\\\\there"},
	{"\"''\"", "''"},
	{"$.", "$."},
	{"$1", ""},
	{"he$1x", "hex"},
	{"he$.x", "he$.x"},
	{"he$pwd.", "he."},
	{"he$PWD", "he/home"},
	{"he\\$PWD", "he$PWD"},
	{"he\\\\$PWD", "he\\/home"},
	{"\"he\\$PWD\"", "he$PWD"},
	{"\"he\\\\$PWD\"", "he\\/home"},
	{"\\${}", "${}"},
	{"\\${}aaa", "${}aaa"},
	{"he\\${}", "he${}"},
	{"he\\${}xx", "he${}xx"},
	{"${}", NULL},
	{"${}aaa", NULL},
	{"he${}", NULL},
	{"he${}xx", NULL},
	{"he${hi}", "he"},
	{"he${hi}xx", "hexx"},
	{"he${PWD}", "he/home"},
	{"he${.}", NULL},
	{"he${XXX:-000}xx", "he000xx"},
	{"he${PWD:-000}xx", "he/homexx"},
	{"he${XXX:-$PWD}xx", "he/homexx"},
	{"he${XXX:-${PWD:-yyy}}xx", "he/homexx"},
	{"he${XXX:-${YYY:-yyy}}xx", "heyyyxx"},
	{"he${XXX:YYY}", NULL},
	{"he${XXX:+${PWD}}xx", "hexx"},
	{"he${PWD:+${XXX}}xx", "hexx"},
	{"he${PWD:+${SHELL}}xx", "hebashxx"},
	{"he${XXX:+000}xx", "hexx"},
	{"he${PWD:+000}xx", "he000xx"},
	{"'he${XX}'", "he${XX}"},
	{"\"he${PWD}\"", "he/home"},
	{"\"he'$PWD'\"", "he'/home'"},
	{"\"$PWD\"", "/home"},
	{"'$PWD'", "$PWD"},
	{"'\\$PWD'", "\\$PWD"},
	{"'\"hello\"'", "\"hello\""},
	{"he\\$PWD", "he$PWD"},
	{"\"he\\$PWD\"", "he$PWD"},
	{"'he\\$PWD'", "he\\$PWD"},
	{"he${PWD", NULL},
	{"he${PWD:=000}xx", NULL},
	{"he${PWD:+${PWD}:}xx", "he/home:xx"},
	{"he${XXX:-\\$PWD:}xx", "he$PWD:xx"},
	{"he${XXX:-\\${PWD}z}xx", "he${PWDz}xx"},
	{"안녕하세요", "안녕하세요"},
	{"안'녕'하세요", "안녕하세요"},
	{"안'녕하세요", NULL},
	{"안녕\\'하세요", "안녕'하세요"},
	{"안\\\\'녕하세요", NULL},
	{"안녕\\t하세요", "안녕t하세요"},
	{"\"안녕\\t하세요\"", "안녕\\t하세요"},
	{"'안녕\\t하세요", NULL},
	{"안녕하세요\\", "안녕하세요"},
	{"안녕하세요\\\\", "안녕하세요\\"},
	{"\"안녕하세요", NULL},
	{"\"안녕하세요\\\"", NULL},
	{"\"안녕'하세요\"", "안녕'하세요"},
	{"'안녕하세요", NULL},
	{"'안녕하세요\\'", "안녕하세요\\"},
	{"안녕$1x", "안녕x"},
	{"안녕$.x", "안녕$.x"},
	{"안녕$pwd.", "안녕."},
	{"안녕$PWD", "안녕/home"},
	{"안녕\\$PWD", "안녕$PWD"},
	{"안녕\\\\$PWD", "안녕\\/home"},
	{"안녕\\${}", "안녕${}"},
	{"안녕\\${}xx", "안녕${}xx"},
	{"안녕${}", NULL},
	{"안녕${}xx", NULL},
	{"안녕${hi}", "안녕"},
	{"안녕${hi}xx", "안녕xx"},
	{"안녕${PWD}", "안녕/home"},
	{"안녕${.}", NULL},
	{"안녕${XXX:-000}xx", "안녕000xx"},
	{"안녕${PWD:-000}xx", "안녕/homexx"},
	{"안녕${XXX:-$PWD}xx", "안녕/homexx"},
	{"안녕${XXX:-${PWD:-yyy}}xx", "안녕/homexx"},
	{"안녕${XXX:-${YYY:-yyy}}xx", "안녕yyyxx"},
	{"안녕${XXX:YYY}", NULL},
	{"안녕${XXX:+${PWD}}xx", "안녕xx"},
	{"안녕${PWD:+${XXX}}xx", "안녕xx"},
	{"안녕${PWD:+${SHELL}}xx", "안녕bashxx"},
	{"안녕${XXX:+000}xx", "안녕xx"},
	{"안녕${PWD:+000}xx", "안녕000xx"},
	{"'안녕${XX}'", "안녕${XX}"},
	{"\"안녕${PWD}\"", "안녕/home"},
	{"\"안녕'$PWD'\"", "안녕'/home'"},
	{"'\"안녕\"'", "\"안녕\""},
	{"안녕\\$PWD", "안녕$PWD"},
	{"\"안녕\\$PWD\"", "안녕$PWD"},
	{"'안녕\\$PWD'", "안녕\\$PWD"},
	{"안녕${PWD", NULL},
	{"안녕${PWD:=000}xx", NULL},
	{"안녕${PWD:+${PWD}:}xx", "안녕/home:xx"},
	{"안녕${XXX:-\\$PWD:}xx", "안녕$PWD:xx"},
	{"안녕${XXX:-\\${PWD}z}xx", "안녕${PWDz}xx"},
	{"$KOREAN", "한국어"},
	{"안녕$KOREAN", "안녕한국어"},
	{"${{aaa}", NULL},
	{"${aaa}}", "}"},
	{"${aaa", NULL},
	{"${{aaa:-bbb}", NULL},
	{"${aaa:-bbb}}", "bbb}"},
	{"${aaa:-bbb", NULL},
	{"${aaa:-bbb}", "bbb"},
	{"${aaa:-${bbb:-ccc}}", "ccc"},
	{"${aaa:-bbb ${foo}", NULL},
	{"${aaa:-bbb {foo}", "bbb {foo"},
	{"${:}", NULL},
	{"${:-bbb}", NULL},
	{"${:+bbb}", NULL},
};

static void test_env_var_table(void **state)
{
	static const char *const kv[] = {"PWD", "/home", "SHELL", "bash", "KOREAN", "한국어",
					 "NULL", "", NULL};
	struct ctxd_dockerfile_env *env = env_of(false, kv);

	(void)state;
	for (size_t i = 0; i < sizeof env_var_test / sizeof env_var_test[0]; i++)
		expect_word(&plain, env, env_var_test[i].in, env_var_test[i].want);
	ctxd_dockerfile_env_destroy(env);
}

/* words: "a,b,c" lists the expected ProcessWords result, "error" an error */
static void expect_words(const struct ctxd_dockerfile_env *env, const char *in, const char *want)
{
	struct ctxd_dockerfile_word w;
	struct ctxd_error err;
	char got[512] = "";

	if (ctxd_dockerfile_expand(&plain, in, strlen(in), env, true, &w, &err) < 0) {
		strcpy(got, "error");
	} else {
		for (size_t i = 0; i < w.nwords; i++) {
			if (i)
				strcat(got, ",");
			strcat(got, w.words[i]);
		}
		ctxd_dockerfile_word_clear(&w);
	}
	if (strcmp(got, want) != 0)
		fail_msg("words of '%s' are '%s', want '%s'", in, got, want);
}

static void test_words_table(void **state)
{
	static const char *const kv[] = {"hi", "hi", "space", "abc  def", "leading", "  ab c",
					 "trailing", "ab c   ", NULL};
	struct ctxd_dockerfile_env *env = env_of(false, kv);

	(void)state;
	expect_words(NULL, "hello", "hello");
	expect_words(NULL, "hello${hi}bye", "hellobye");
	expect_words(env, "hello${hi}bye", "hellohibye");
	expect_words(env, "hello${space}bye", "helloabc,defbye");
	expect_words(env, "hello\"${space}\"bye", "helloabc  defbye");
	expect_words(env, "hello \"${space}\"bye", "hello,abc  defbye");
	expect_words(env, "hello${leading}def", "hello,ab,cdef");
	expect_words(env, "hello\"${leading}\" def", "hello  ab c,def");
	expect_words(env, "hello\"${leading}\"", "hello  ab c");
	expect_words(env, "hello${leading}", "hello,ab,c");
	expect_words(env, "hello${trailing}", "helloab,c");
	expect_words(env, "hello${trailing}d", "helloab,c,d");
	expect_words(env, "hello\"${trailing}\"d", "helloab c   d");
	expect_words(env, "hel\"lo${trailing}\"", "helloab c   ");
	expect_words(NULL, "hello\" there  \"", "hello there  ");
	expect_words(NULL, "hello there     ", "hello,there");
	expect_words(NULL, "hello\\ there", "hello there");
	expect_words(NULL, "hello\" there", "error");
	expect_words(NULL, "hello\\\" there", "hello\",there");
	expect_words(NULL, "hello\"\\\\there\"", "hello\\there");
	expect_words(NULL, "hello\"\\there\"", "hello\\there");
	expect_words(NULL, "hello'\\\\there'", "hello\\\\there");
	expect_words(NULL, "hello'\\there'", "hello\\there");
	expect_words(NULL, "hello'$there'", "hello$there");
	/* an empty quoted string is no word; "<<" keeps blanks in its word */
	expect_words(NULL, "a \"\" b", "a,b");
	expect_words(NULL, "RUN <<  EOF  > foo", "RUN,<<  EOF,>,foo");
	ctxd_dockerfile_env_destroy(env);
}

/* TestProcessWithMatches: pattern removal and replacement */
static void test_modifiers(void **state)
{
	static const struct {
		const char *in;
		const char *kv[7];
		const char *want;
	} t[] = {
		{"${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", {"FOO", "xxx", "BAR", ""}, "xxx  ccc"},
		{"${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", {"FOO", "xxx", "BAR", ""}, "xxx bbb ccc"},
		{"${FOO:-}", {"FOO", "xxx", "BAR", ""}, "xxx"},
		{"${FOO:-}", {0}, ""},
		{"${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", {"FOO", "xxx", "BAR", ""}, "aaa bbb "},
		{"${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", {"FOO", "xxx", "BAR", ""}, "aaa  "},
		{"${FOO?aaa}", {"FOO", "xxx", "BAR", ""}, "xxx"},
		{"${BAR?bbb}", {"FOO", "xxx", "BAR", ""}, ""},
		{"${BAZ?ccc}", {"FOO", "xxx", "BAR", ""}, NULL},
		{"${FOO:?aaa}", {"FOO", "xxx", "BAR", ""}, "xxx"},
		{"${BAR:?bbb}", {"FOO", "xxx", "BAR", ""}, NULL},
		{"${BAZ:?ccc}", {"FOO", "xxx", "BAR", ""}, NULL},
		{"${BAZ:?}", {"FOO", "xxx", "BAR", ""}, NULL},
		{"${FOO=aaa}", {"FOO", "xxx", "BAR", ""}, NULL},
		{"${FOO=:aaa}", {"FOO", "xxx", "BAR", ""}, NULL},
		{"${FOO=}", {0}, NULL},
		{"${FOO#()[]{\\}^$.\\*\\?|\\\\}", {"FOO", "()[]{}^$.*?|\\x"}, "x"},
		{"${FOO%%\\**}", {"FOO", "xx**"}, "xx"},
		{"${FOO#*x*y}", {"FOO", "xxyy"}, "y"},
		{"${FOO#*}", {"FOO", "xxyy"}, "xxyy"},
		{"${FOO#$BAR}", {"FOO", "xxyy", "BAR", "x"}, "xyy"},
		{"${FOO#$BAR}", {"FOO", "xxyy", "BAR", ""}, "xxyy"},
		{"${FOO#}", {"FOO", "xxyy"}, "xxyy"},
		{"${FOO##*x}", {"FOO", "xxyy"}, "yy"},
		{"${FOO##}", {"FOO", "xxyy"}, "xxyy"},
		{"${FOO#?\\?}", {"FOO", "???y"}, "?y"},
		{"${ABC:-.}${FOO%x}${ABC:-.}", {"FOO", "xxyy"}, ".xxyy."},
		{"${FOO%%\\**\\*}", {"FOO", "a***yy*"}, "a"},
		{"${FOO%}", {"FOO", "xxyy"}, "xxyy"},
		{"${FOO%%$BAR}", {"FOO", "xxyy", "BAR", ""}, "xxyy"},
		{"${FOO%y*}", {"FOO", "xxyyzy"}, "xxyyz"},
		{"${FOO%%y*}", {"FOO", "xxyyzy"}, "xx"},
		{"${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}", {"FOO", "/foo*/*/*.txt", "NEEDLE", "\\*/"},
		 "/foo.*/*.txt - /foo..*.txt"},
		{"${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}", {"FOO", "/tmp/tmp/bar.txt", "NEEDLE", "/tmp"},
		 "/tmp/bar.txt - /bar.txt"},
		{"${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
		 {"FOO", "/a/foo/b/c.txt", "NEEDLE", "/?/", "REPLACEMENT", "/"}, "/foo/b/c.txt - /foo/c.txt"},
		{"${FOO/$NEEDLE/$REPLACEMENT}",
		 {"FOO", "http://google.de", "NEEDLE", "http://", "REPLACEMENT", "https://"},
		 "https://google.de"},
		{"${FOO//\\//\\/}", {"FOO", "/tmp/foo.txt"}, "\\/tmp\\/foo.txt"},
		{"${FOO/$BAR/ww}", {"FOO", "xxyy", "BAR", ""}, "wwxxyy"},
		{"${FOO//ww}", {"FOO", "xxyy"}, NULL},
		{"${FOO//}", {"FOO", "xxyy"}, NULL},
		{"${FOO///}", {"FOO", "xxyy"}, "xxyy"},
		{"${FOO///}", {0}, ""},
		{"${FOO#\\x}", {"FOO", "xxyy"}, NULL},
		/* the replacement is expanded first ($0 and $$ are variables)... */
		{"${FOO//x/<$0>}", {"FOO", "axbx"}, "a<>b<>"},
		{"${FOO//?/$$}", {"FOO", "ab"}, ""},
		/* ...and then a regexp template for ReplaceAllString */
		{"${FOO//x/<\\$0>}", {"FOO", "axbx"}, "a<\\x>b<\\x>"},
		{"${FOO//?/\\$\\$}", {"FOO", "ab"}, "\\$\\$\\$\\$"},
		{"${FOO/x/<\\$0>}", {"FOO", "axbx"}, "a<\\$0>bx"},
		{"something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz",
		 {"VERSION", "v1.2.3", "TARGETOS", "linux", "TARGETARCH", "arm"},
		 "something-v1.2.3.linux-arm.tar.gz"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		const char *kv[8] = {0};
		struct ctxd_dockerfile_env *env;

		memcpy(kv, t[i].kv, sizeof t[i].kv);
		env = env_of(false, kv);
		expect_word(&plain, env, t[i].in, t[i].want);
		ctxd_dockerfile_env_destroy(env);
	}
}

static void test_mandatory(void **state)
{
	static const char *const set[] = {"VAR", "plain", "ARG", "x", NULL};
	static const char *const empty[] = {"VAR", "", "ARG", "x", NULL};
	static const char *const unset[] = {"ARG", "x", NULL};
	const char *const *envs[] = {set, empty, unset};
	struct ctxd_dockerfile_word w;
	struct ctxd_error err;

	(void)state;
	for (int k = 0; k < 3; k++) {
		struct ctxd_dockerfile_env *env = env_of(false, envs[k]);
		const char *no_empty = "${VAR:?message here$ARG}", *no_unset = "${VAR?message here$ARG}";
		int a = ctxd_dockerfile_expand(&plain, no_empty, strlen(no_empty), env, false, &w, &err);

		if (k == 0) {
			assert_int_equal(a, 0);
			assert_string_equal(w.value, "plain");
			ctxd_dockerfile_word_clear(&w);
		} else {
			assert_int_equal(a, -1);
			assert_non_null(strstr(err.msg, "VAR: message herex"));
		}
		a = ctxd_dockerfile_expand(&plain, no_unset, strlen(no_unset), env, false, &w, &err);
		if (k < 2) {
			assert_int_equal(a, 0);
			assert_string_equal(w.value, k == 0 ? "plain" : "");
			ctxd_dockerfile_word_clear(&w);
		} else {
			assert_int_equal(a, -1);
			assert_non_null(strstr(err.msg, "VAR: message herex"));
		}
		ctxd_dockerfile_env_destroy(env);
	}
	/* the message when none is given, and the wrapper */
	assert_int_equal(ctxd_dockerfile_expand(&plain, "${X:?}", 6, NULL, false, &w, &err), -1);
	assert_string_equal(err.msg, "failed to process \"${X:?}\": X: is not allowed to be unset");
}

static void test_errors(void **state)
{
	static const struct {
		const char *in, *msg;
	} t[] = {
		{"'abc", "failed to process \"'abc\": unexpected end of statement while looking for matching single-quote"},
		{"\"abc", "failed to process \"\\\"abc\": unexpected end of statement while looking for matching double-quote"},
		{"${", "syntax error: missing '}'"},
		{"${}", "syntax error: bad substitution"},
		{"${X:=y}", "unsupported modifier (:=) in substitution"},
		{"${X^}", "unsupported modifier (^) in substitution"},
		{"${X/a}", "syntax error: missing '/' in ${}"},
		{"${X#\\y}", "invalid pattern (\\y) in substitution: invalid escape '\\y'"},
	};
	static const char *const kv[] = {"X", "abc", NULL};
	struct ctxd_dockerfile_env *env = env_of(false, kv);
	struct ctxd_dockerfile_word w;
	struct ctxd_error err;

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (ctxd_dockerfile_expand(&plain, t[i].in, strlen(t[i].in), env, false, &w, &err) == 0)
			fail_msg("'%s' expanded to '%s'", t[i].in, w.value);
		if (!strstr(err.msg, t[i].msg))
			fail_msg("'%s': '%s' lacks '%s'", t[i].in, err.msg, t[i].msg);
	}
	ctxd_dockerfile_env_destroy(env);
}

static void test_options(void **state)
{
	struct ctxd_dockerfile_lex raw = {.escape = '\\', .raw_quotes = true, .raw_escapes = true,
					  .skip_unset_env = true};
	struct ctxd_dockerfile_lex tick = {.escape = '`'};
	struct ctxd_dockerfile_lex noquotes = {.escape = '\\', .skip_process_quotes = true};
	static const char *const kv[] = {"A", "1", NULL};
	struct ctxd_dockerfile_env *env = env_of(false, kv);

	(void)state;
	expect_word(&raw, env, "'a' \"$A\" \\x $B ${C} ${D:-e} ${E/x/y}",
		    "'a' \"1\" \\x $B ${C} ${D:-e} ${E/x/y}");
	expect_word(&tick, env, "a`$A\\b", "a$A\\b");
	expect_word(&tick, env, "\"`\"x\"", "\"x");
	expect_word(&noquotes, env, "'$A' \"$A\"", "'1' \"1\"");
	/* text/scanner drops a leading BOM, and reads bad bytes as U+FFFD */
	expect_word(&plain, env, "\xEF\xBB\xBFx", "x");
	expect_word(&plain, env, "a\xFF", "a\xEF\xBF\xBD");
	/* $$, $@, a digit name */
	expect_word(&plain, env, "$$ $@ $0 $12x", "   x");
	ctxd_dockerfile_env_destroy(env);
	/* names are Unicode letters, digits and '_' (unicode.IsLetter/IsDigit) */
	{
		static const char *const u[] = {"ÄÖ_1", "x", "名前", "y", NULL};
		struct ctxd_dockerfile_env *ue = env_of(false, u);

		expect_word(&plain, ue, "$ÄÖ_1-${名前}.$名前€", "x-y.y€");
		/* a name may not start with a non-ASCII digit's run: "١٢" is a
		 * digit name, unset */
		expect_word(&plain, ue, "a$١٢b", "ab");
		ctxd_dockerfile_env_destroy(ue);
	}
}

static void test_unknown(void **state)
{
	struct ctxd_dockerfile_env *closed = ctxd_dockerfile_env_create(false);
	struct ctxd_dockerfile_env *open = ctxd_dockerfile_env_create(true), *dup;
	struct ctxd_dockerfile_word w;
	struct ctxd_error err;
	const char *v;

	(void)state;
	assert_int_equal(ctxd_dockerfile_env_set(closed, "DIR", NULL), 0);
	assert_int_equal(ctxd_dockerfile_env_set(closed, "K", "v"), 0);
	assert_int_equal(ctxd_dockerfile_env_get(closed, "DIR", &v), CTXD_DOCKERFILE_UNKNOWN);
	assert_int_equal(ctxd_dockerfile_env_get(closed, "NOPE", &v), CTXD_DOCKERFILE_UNSET);
	assert_int_equal(ctxd_dockerfile_env_get(open, "NOPE", &v), CTXD_DOCKERFILE_UNKNOWN);

	/* any use of an unknown variable makes the word unknown */
	static const char *const uses[] = {"$DIR", "${DIR}/x", "${DIR:-d}", "${DIR+d}", "${DIR:?}",
					   "${DIR#*/}", "${DIR/a/b}", "\"$DIR\""};
	for (size_t i = 0; i < sizeof uses / sizeof uses[0]; i++) {
		assert_int_equal(ctxd_dockerfile_expand(&plain, uses[i], strlen(uses[i]), closed, false,
							&w, &err), 0);
		assert_true(w.unknown);
		assert_string_equal(w.unknown_name, "DIR");
		ctxd_dockerfile_word_clear(&w);
	}
	/* unset in a closed scope is known; in an open one it is not */
	assert_int_equal(ctxd_dockerfile_expand(&plain, "${NOPE:-d}$K", 12, closed, false, &w, &err), 0);
	assert_false(w.unknown);
	assert_string_equal(w.value, "dv");
	ctxd_dockerfile_word_clear(&w);
	assert_int_equal(ctxd_dockerfile_expand(&plain, "${NOPE:-d}", 10, open, false, &w, &err), 0);
	assert_true(w.unknown);
	ctxd_dockerfile_word_clear(&w);
	/* a scope copy is independent; poisoning makes everything unknown */
	dup = ctxd_dockerfile_env_dup(closed);
	assert_non_null(dup);
	ctxd_dockerfile_env_poison(dup);
	assert_int_equal(ctxd_dockerfile_env_get(dup, "K", &v), CTXD_DOCKERFILE_UNKNOWN);
	assert_int_equal(ctxd_dockerfile_env_get(closed, "K", &v), CTXD_DOCKERFILE_SET);
	assert_string_equal(v, "v");
	ctxd_dockerfile_env_destroy(dup);
	ctxd_dockerfile_env_destroy(closed);
	ctxd_dockerfile_env_destroy(open);
}

static void test_limits(void **state)
{
	struct ctxd_dockerfile_env *env = ctxd_dockerfile_env_create(false);
	struct ctxd_dockerfile_word w;
	struct ctxd_error err;
	char *big = malloc(CTXD_DOCKERFILE_MAX_WORD / 2 + 1), *deep;
	size_t n = 0;

	(void)state;
	memset(big, 'a', CTXD_DOCKERFILE_MAX_WORD / 2);
	big[CTXD_DOCKERFILE_MAX_WORD / 2] = '\0';
	assert_int_equal(ctxd_dockerfile_env_set(env, "A", big), 0);
	/* a result past the limit is not kept: it is unknown */
	assert_int_equal(ctxd_dockerfile_expand(&plain, "$A$A$A", 6, env, false, &w, &err), 0);
	assert_true(w.unknown);
	assert_null(w.unknown_name);
	ctxd_dockerfile_word_clear(&w);
	free(big);
	/* nesting deeper than the C stack should go is an error, not a crash */
	deep = malloc(6 * 1000 + 2);
	for (int i = 0; i < 1000; i++) {
		memcpy(deep + n, "${X:-", 5);
		n += 5;
	}
	deep[n] = '\0';
	assert_int_equal(ctxd_dockerfile_expand(&plain, deep, n, env, false, &w, &err), -1);
	free(deep);
	ctxd_dockerfile_env_destroy(env);
}

static void test_quote(void **state)
{
	struct ctxd_buf b = {0};

	(void)state;
	ctxd_dockerfile_quote(&b, "a\"b\\c\n\t\x01\xff\xc3\xa9\xc2\x85", 13);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\t\\x01\\xff\xc3\xa9\\u0085\"");
	ctxd_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_var_table),
		cmocka_unit_test(test_words_table),
		cmocka_unit_test(test_modifiers),
		cmocka_unit_test(test_mandatory),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_quote),
	};

	return TU_RUN("dockerfile-expand", tests);
}
