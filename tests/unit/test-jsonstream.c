/* Splitting the daemon's /build answer into JSON messages, whatever the
 * chunking; truncated, invalid and oversized input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/buf.h"
#include "ctxd/jsonstream.h"
#include "testutil.h"

/* The messages seen, one compact JSON text per line. */
static int collect(void *ud, json_t *msg, struct ctxd_error *err)
{
	struct ctxd_buf *b = ud;
	char *s = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	(void)err;
	ctxd_buf_puts(b, s);
	ctxd_buf_putc(b, '\n');
	free(s);
	return 0;
}

/* Feeds text in the chunks given by the cut offsets; returns the lines. */
static char *run_cuts(const char *text, size_t len, const size_t *cuts, size_t ncuts, size_t max,
		      int *rc, struct ctxd_error *err)
{
	struct ctxd_jsonstream *js = ctxd_jsonstream_create(max);
	struct ctxd_buf b = {0};
	size_t at = 0;

	*rc = 0;
	for (size_t i = 0; i <= ncuts && *rc == 0; i++) {
		size_t end = i < ncuts ? cuts[i] : len;

		*rc = ctxd_jsonstream_feed(js, text + at, end - at, collect, &b, err);
		at = end;
	}
	if (*rc == 0)
		*rc = ctxd_jsonstream_finish(js, err);
	ctxd_jsonstream_destroy(js);
	ctxd_buf_putc(&b, '\0');
	return ctxd_buf_take(&b);
}

static char *run(const char *text, size_t max, int *rc, struct ctxd_error *err)
{
	return run_cuts(text, strlen(text), NULL, 0, max, rc, err);
}

static const char stream[] =
	"{\"stream\":\"Step 1/3 : FROM scratch\"}\r\n"
	"{\"stream\":\"\\n\"}\r\n"
	"{\"stream\":\"a } ] { [ \\\" \\\\\"}\r\n"
	"{\"aux\":{\"ID\":\"sha256:0123\"},\"x\":[1,[2,{\"y\":\"}\"}]]}\r\n"
	"{\"errorDetail\":{\"message\":\"M\"},\"error\":\"M\"}\r\n";

static const char want[] =
	"{\"stream\":\"Step 1/3 : FROM scratch\"}\n"
	"{\"stream\":\"\\n\"}\n"
	"{\"stream\":\"a } ] { [ \\\" \\\\\"}\n"
	"{\"aux\":{\"ID\":\"sha256:0123\"},\"x\":[1,[2,{\"y\":\"}\"}]]}\n"
	"{\"error\":\"M\",\"errorDetail\":{\"message\":\"M\"}}\n";

static void test_whole(void **state)
{
	struct ctxd_error err;
	char *got;
	int rc;

	(void)state;
	got = run(stream, 0, &rc, &err);
	assert_int_equal(rc, 0);
	assert_string_equal(got, want);
	free(got);
}

/* One cut at every position, then two cuts at every pair of positions. */
static void test_every_split(void **state)
{
	size_t len = strlen(stream);
	struct ctxd_error err;
	size_t cuts[2];
	char *got;
	int rc;

	(void)state;
	for (size_t i = 0; i <= len; i++) {
		cuts[0] = i;
		got = run_cuts(stream, len, cuts, 1, 0, &rc, &err);
		if (rc != 0 || strcmp(got, want) != 0)
			fail_msg("cut at %zu: rc %d (%s), got\n%s", i, rc, rc ? err.msg : "", got);
		free(got);
	}
	for (size_t i = 0; i <= len; i++) {
		for (size_t j = i; j <= len; j++) {
			cuts[0] = i;
			cuts[1] = j;
			got = run_cuts(stream, len, cuts, 2, 0, &rc, &err);
			if (rc != 0 || strcmp(got, want) != 0)
				fail_msg("cuts at %zu,%zu: rc %d, got\n%s", i, j, rc, got);
			free(got);
		}
	}
}

static void test_byte_at_a_time(void **state)
{
	size_t len = strlen(stream);
	size_t *cuts = malloc(len * sizeof *cuts);
	struct ctxd_error err;
	char *got;
	int rc;

	(void)state;
	for (size_t i = 0; i < len; i++)
		cuts[i] = i + 1;
	got = run_cuts(stream, len, cuts, len, 0, &rc, &err);
	assert_int_equal(rc, 0);
	assert_string_equal(got, want);
	free(got);
	free(cuts);
}

static void test_separators(void **state)
{
	struct ctxd_error err;
	char *got;
	int rc;

	(void)state;
	/* \r\n, bare \n, none, spaces and tabs: Go's decoder takes them all */
	got = run("{\"a\":1}\r\n{\"a\":2}\n{\"a\":3}{\"a\":4} \t {\"a\":5}\r\n\r\n", 0, &rc, &err);
	assert_int_equal(rc, 0);
	assert_string_equal(got, "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n{\"a\":4}\n{\"a\":5}\n");
	free(got);
	/* whitespace only, and nothing at all, are empty streams */
	got = run(" \r\n\r\n", 0, &rc, &err);
	assert_int_equal(rc, 0);
	assert_string_equal(got, "");
	free(got);
	got = run("", 0, &rc, &err);
	assert_int_equal(rc, 0);
	free(got);
	/* top-level scalars are values too (progress rejects them, not this) */
	got = run("1 \"x\" true [] null\n", 0, &rc, &err);
	assert_int_equal(rc, 0);
	assert_string_equal(got, "1\n\"x\"\ntrue\n[]\nnull\n");
	free(got);
	/* \u0000 inside a string, which jansson refuses by default */
	got = run("{\"s\":\"a\\u0000b\"}\r\n", 0, &rc, &err);
	assert_int_equal(rc, 0);
	assert_string_equal(got, "{\"s\":\"a\\u0000b\"}\n");
	free(got);
}

static void test_truncated(void **state)
{
	const char *cases[] = {"{\"stream\":\"abc", "{\"a\":1}\r\n{", "{\"a\":{\"b\":1}",
			       "\"open string", "12"};
	struct ctxd_error err;
	char *got;
	int rc;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = run(cases[i], 0, &rc, &err);
		if (rc != -1 || !strstr(err.msg, "truncated message from the daemon"))
			fail_msg("'%s': rc %d, err '%s'", cases[i], rc, err.msg);
		free(got);
	}
	/* never closed, but no JSON could start so: invalid, where it goes wrong */
	got = run("{\"a\":1}\r\n{not json\r\n", 0, &rc, &err);
	assert_int_equal(rc, -1);
	if (!strstr(err.msg, "invalid JSON from the daemon (message 2, at byte ") || !strstr(err.msg, "near 'not'"))
		fail_msg("err '%s'", err.msg);
	free(got);
	/* the first whole message still arrived */
	got = run("{\"a\":1}\r\n{\"b\":", 0, &rc, &err);
	assert_int_equal(rc, -1);
	assert_string_equal(got, "{\"a\":1}\n");
	assert_non_null(strstr(err.msg, "{\"b\":"));
	free(got);
}

static void test_invalid(void **state)
{
	struct ctxd_jsonstream *js;
	struct ctxd_buf b = {0};
	struct ctxd_error err;
	char *got;
	int rc;

	(void)state;
	got = run("{\"a\":1}\r\n{\"stream\":oops}\r\n{\"b\":2}\r\n", 0, &rc, &err);
	assert_int_equal(rc, -1);
	assert_string_equal(got, "{\"a\":1}\n");
	if (!strstr(err.msg, "invalid JSON from the daemon (message 2") ||
	    !strstr(err.msg, "{\"stream\":oops}"))
		fail_msg("error: %s", err.msg);
	free(got);

	got = run("{\"a\":1}}\r\n", 0, &rc, &err);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err.msg, "unexpected '}'"));
	free(got);

	got = run("{\"a\" 1]\r\n", 0, &rc, &err);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err.msg, "invalid JSON"));
	free(got);

	/* control bytes in the excerpt are escaped, never echoed raw */
	got = run("{\"a\":\x01\x1b[2J}\r\n", 0, &rc, &err);
	assert_int_equal(rc, -1);
	assert_null(strchr(err.msg, '\x1b'));
	assert_non_null(strstr(err.msg, "\\x1b"));
	free(got);

	/* a dead stream stays dead */
	js = ctxd_jsonstream_create(0);
	assert_int_equal(ctxd_jsonstream_feed(js, "[}", 2, collect, &b, &err), -1);
	err.msg[0] = '\0';
	assert_int_equal(ctxd_jsonstream_feed(js, "{}", 2, collect, &b, &err), -1);
	assert_non_null(strstr(err.msg, "invalid JSON"));
	assert_int_equal(ctxd_jsonstream_finish(js, &err), -1);
	assert_int_equal(ctxd_jsonstream_count(js), 0);
	ctxd_jsonstream_destroy(js);
	ctxd_buf_free(&b);
}

static void test_oversize(void **state)
{
	const char *msg = "{\"stream\":\"0123456789abcdef\"}"; /* 29 bytes */
	size_t len = strlen(msg), cuts[1];
	struct ctxd_error err;
	char *got, text[512];
	int rc;

	(void)state;
	snprintf(text, sizeof text, "%s\r\n%s\r\n", msg, msg);
	got = run(text, len, &rc, &err); /* exactly the limit */
	assert_int_equal(rc, 0);
	free(got);
	got = run(text, len - 1, &rc, &err);
	assert_int_equal(rc, -1);
	if (!strstr(err.msg, "message 1 from the daemon is larger than 28 bytes") ||
	    !strstr(err.msg, "{\"stream\":\"0123"))
		fail_msg("error: %s", err.msg);
	free(got);
	/* caught while still arriving, before the end is seen */
	for (size_t i = 1; i < len; i++) {
		cuts[0] = i;
		got = run_cuts(text, strlen(text), cuts, 1, 10, &rc, &err);
		if (rc != -1 || !strstr(err.msg, "larger than 10 bytes"))
			fail_msg("cut %zu: rc %d err %s", i, rc, err.msg);
		free(got);
	}
	/* whitespace between messages does not count */
	snprintf(text, sizeof text, "%s%200s%s", msg, "", msg);
	got = run(text, len, &rc, &err);
	assert_int_equal(rc, 0);
	free(got);
}

static int refuse_second(void *ud, json_t *msg, struct ctxd_error *err)
{
	int *n = ud;

	(void)msg;
	if (++*n == 2) {
		ctxd_error_set(err, "callback said no");
		return -1;
	}
	return 0;
}

static void test_callback_error(void **state)
{
	struct ctxd_jsonstream *js = ctxd_jsonstream_create(0);
	struct ctxd_error err;
	int n = 0;

	(void)state;
	assert_int_equal(ctxd_jsonstream_feed(js, "{}\r\n{}\r\n{}\r\n", 12, refuse_second, &n, &err), -1);
	assert_string_equal(err.msg, "callback said no");
	assert_int_equal(n, 2); /* stopped there */
	assert_int_equal(ctxd_jsonstream_finish(js, &err), -1);
	assert_string_equal(err.msg, "callback said no");
	ctxd_jsonstream_destroy(js);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_separators),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_callback_error),
	};

	return TU_RUN("unit-jsonstream", tests);
}
