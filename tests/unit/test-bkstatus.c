/* Decoding BuildKit's StatusResponse: base64, every field of spec 3.3 from
 * hand-encoded protobuf, unknown fields, and each kind of broken input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/bkstatus.h"
#include "ctxd/buf.h"
#include "pbenc.h"
#include "testutil.h"

static struct ctxd_bkstatus *decode_buf(const struct ctxd_buf *b, struct ctxd_error *err)
{
	return ctxd_bkstatus_decode(b->data ? b->data : "", b->len, err);
}

static void expect_error(const void *data, size_t len, const char *want)
{
	struct ctxd_error err = {""};
	struct ctxd_bkstatus *st = ctxd_bkstatus_decode(data, len, &err);

	if (st) {
		ctxd_bkstatus_destroy(st);
		fail_msg("decoded, expected an error with '%s'", want);
	}
	if (!strstr(err.msg, want))
		fail_msg("error '%s' lacks '%s'", err.msg, want);
}

/* ---- base64 ---- */

static void b64_ok(const char *in, const char *want, size_t wantlen)
{
	struct ctxd_error err;
	unsigned char *out;
	size_t n;

	if (ctxd_bkstatus_base64_decode(in, strlen(in), &out, &n, &err) < 0)
		fail_msg("'%s': %s", in, err.msg);
	assert_int_equal(n, wantlen);
	assert_memory_equal(out, want, wantlen);
	assert_int_equal(out[n], '\0');
	free(out);
}

static void b64_bad(const char *in, const char *want)
{
	struct ctxd_error err = {""};
	unsigned char *out = NULL;
	size_t n;

	if (ctxd_bkstatus_base64_decode(in, strlen(in), &out, &n, &err) == 0)
		fail_msg("'%s' was accepted", in);
	if (!strstr(err.msg, want))
		fail_msg("'%s': error '%s' lacks '%s'", in, err.msg, want);
}

static void test_base64(void **state)
{
	unsigned char raw[300];
	struct ctxd_error err;

	(void)state;
	b64_ok("", "", 0);
	b64_ok("Zm9vYmFy", "foobar", 6);
	b64_ok("Zm9vYmE=", "fooba", 5);
	b64_ok("Zm9vYg==", "foob", 4);
	b64_ok("Zm9v\r\nYmFy\n", "foobar", 6); /* Go skips CR and LF */
	b64_ok("+/+/", "\xfb\xff\xbf", 3);
	b64_ok("Zh==", "f", 1); /* non-zero padding bits: Go's StdEncoding allows them */

	b64_bad("Zm9vY", "truncated");
	b64_bad("Zg=", "truncated");
	b64_bad("Zg", "truncated");
	b64_bad("Zm9v!mFy", "byte 0x21 at byte 4");
	b64_bad("Zm9v-_Fy", "byte 0x2d at byte 4"); /* the URL alphabet is not this one */
	b64_bad("Z===", "misplaced '=' at byte 1");
	b64_bad("====", "misplaced '='");
	b64_bad("Zm=v", "data after the padding at byte 3");
	b64_bad("Zg==Zg==", "data after the padding at byte 4");
	b64_bad("Zm9v YmFy", "byte 0x20 at byte 4");

	/* round trips against OpenSSL's encoder, every length and byte value */
	for (size_t i = 0; i < sizeof raw; i++)
		raw[i] = (unsigned char)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof raw; len++) {
		char *text = pb_base64(raw, len);
		unsigned char *out;
		size_t n;

		if (ctxd_bkstatus_base64_decode(text, strlen(text), &out, &n, &err) < 0)
			fail_msg("len %zu: %s", len, err.msg);
		assert_int_equal(n, len);
		assert_memory_equal(out, raw, len);
		free(out);
		free(text);
	}
}

/* ---- a full StatusResponse ---- */

static void build_full(struct ctxd_buf *b)
{
	struct ctxd_buf v = {0}, g = {0}, s = {0}, l = {0}, w = {0}, info = {0}, rng = {0}, pos = {0};

	pb_str(&v, 1, "sha256:aaaa");
	pb_str(&v, 2, "sha256:in1");
	pb_str(&v, 2, "sha256:in2");
	pb_str(&v, 3, "[2/3] RUN make");
	pb_int(&v, 4, 1);
	pb_time(&v, 5, 1700000000, 250000000);
	pb_time(&v, 6, 1700000002, 750000000);
	pb_str(&v, 7, "process \"/bin/sh -c make\" did not complete successfully: exit code: 2");
	pb_str(&g, 1, "grp1");
	pb_str(&g, 2, "pulling");
	pb_int(&g, 3, 1);
	pb_msg(&v, 8, &g);
	pb_msg(b, 1, &v);

	pb_str(&s, 1, "transferring context:");
	pb_str(&s, 2, "sha256:aaaa");
	pb_str(&s, 3, "ctx");
	pb_int(&s, 4, 1234567);
	pb_int(&s, 5, 9876543);
	pb_time(&s, 6, 1700000001, 1);
	pb_time(&s, 7, 1700000000, 2);
	pb_time(&s, 8, 1700000003, 3);
	pb_msg(b, 2, &s);

	pb_str(&l, 1, "sha256:aaaa");
	pb_time(&l, 2, 1700000001, 500);
	pb_int(&l, 3, 2);
	pb_bytes(&l, 4, "err\0or\npart", 11);
	pb_msg(b, 3, &l);

	pb_str(&w, 1, "sha256:aaaa");
	pb_int(&w, 2, 1);
	pb_str(&w, 3, "JSONArgsRecommended: JSON arguments recommended (line 3)");
	pb_str(&w, 4, "detail one");
	pb_str(&w, 4, "detail two");
	pb_str(&w, 5, "https://docs.docker.com/go/dockerfile/rule/json-args-recommended/");
	pb_str(&info, 1, "Dockerfile");
	pb_str(&info, 2, "FROM scratch\nCMD x\n");
	pb_str(&info, 4, "Dockerfile");
	pb_msg(&w, 6, &info);
	pb_int(&pos, 1, 3);
	pb_int(&pos, 2, 0);
	pb_msg(&rng, 1, &pos);
	pb_int(&pos, 1, 3);
	pb_int(&pos, 2, 5);
	pb_msg(&rng, 2, &pos);
	pb_msg(&w, 7, &rng);
	pb_int(&pos, 1, 7);
	pb_msg(&rng, 1, &pos);
	pb_msg(&w, 7, &rng);
	pb_msg(b, 4, &w);
}

static void check_full(const struct ctxd_bkstatus *st)
{
	const struct ctxd_bkstatus_vertex *v;
	const struct ctxd_bkstatus_status *s;
	const struct ctxd_bkstatus_log *l;
	const struct ctxd_bkstatus_warning *w;

	assert_int_equal(st->nvertexes, 1);
	v = &st->vertexes[0];
	assert_string_equal(v->digest, "sha256:aaaa");
	assert_int_equal(v->ninputs, 2);
	assert_string_equal(v->inputs[0], "sha256:in1");
	assert_string_equal(v->inputs[1], "sha256:in2");
	assert_string_equal(v->name, "[2/3] RUN make");
	assert_true(v->cached);
	assert_true(v->started.set);
	assert_int_equal(v->started.sec, 1700000000);
	assert_int_equal(v->started.nsec, 250000000);
	assert_int_equal(v->completed.sec, 1700000002);
	assert_non_null(strstr(v->error, "exit code: 2"));
	assert_string_equal(v->group_id, "grp1");
	assert_string_equal(v->group_name, "pulling");
	assert_true(v->group_weak);

	assert_int_equal(st->nstatuses, 1);
	s = &st->statuses[0];
	assert_string_equal(s->id, "transferring context:");
	assert_string_equal(s->vertex, "sha256:aaaa");
	assert_string_equal(s->name, "ctx");
	assert_int_equal(s->current, 1234567);
	assert_int_equal(s->total, 9876543);
	assert_int_equal(s->timestamp.sec, 1700000001);
	assert_int_equal(s->timestamp.nsec, 1);
	assert_int_equal(s->started.nsec, 2);
	assert_int_equal(s->completed.sec, 1700000003);

	assert_int_equal(st->nlogs, 1);
	l = &st->logs[0];
	assert_string_equal(l->vertex, "sha256:aaaa");
	assert_int_equal(l->timestamp.nsec, 500);
	assert_int_equal(l->stream, 2);
	assert_int_equal(l->msg.len, 11);
	assert_memory_equal(l->msg.data, "err\0or\npart", 11);

	assert_int_equal(st->nwarnings, 1);
	w = &st->warnings[0];
	assert_string_equal(w->vertex, "sha256:aaaa");
	assert_int_equal(w->level, 1);
	assert_string_equal(w->short_text.data, "JSONArgsRecommended: JSON arguments recommended (line 3)");
	assert_int_equal(w->ndetails, 2);
	assert_string_equal(w->details[1].data, "detail two");
	assert_non_null(strstr(w->url, "json-args-recommended"));
	assert_string_equal(w->filename, "Dockerfile");
	assert_int_equal(w->nranges, 2);
	assert_int_equal(w->ranges[0].start_line, 3);
	assert_int_equal(w->ranges[0].end_line, 3);
	assert_int_equal(w->ranges[0].end_char, 5);
	assert_int_equal(w->ranges[1].start_line, 7);
}

static void test_full(void **state)
{
	struct ctxd_buf b = {0};
	struct ctxd_bkstatus *st;
	struct ctxd_error err;
	char *text;

	(void)state;
	build_full(&b);
	st = decode_buf(&b, &err);
	if (!st)
		fail_msg("%s", err.msg);
	check_full(st);
	ctxd_bkstatus_destroy(st);

	text = pb_base64(b.data, b.len);
	st = ctxd_bkstatus_decode_base64(text, strlen(text), &err);
	if (!st)
		fail_msg("%s", err.msg);
	check_full(st);
	ctxd_bkstatus_destroy(st);
	free(text);
	ctxd_buf_free(&b);
}

static void test_empty(void **state)
{
	struct ctxd_bkstatus *st;
	struct ctxd_error err;

	(void)state;
	st = ctxd_bkstatus_decode(NULL, 0, &err);
	assert_non_null(st);
	assert_int_equal(st->nvertexes + st->nstatuses + st->nlogs + st->nwarnings, 0);
	ctxd_bkstatus_destroy(st);
	st = ctxd_bkstatus_decode_base64("", 0, &err);
	assert_non_null(st);
	ctxd_bkstatus_destroy(st);
}

/* The spec's tar-upload build: a vertex without optional fields. */
static void test_minimal_vertex(void **state)
{
	struct ctxd_buf b = {0}, v = {0};
	struct ctxd_bkstatus *st;
	struct ctxd_error err;

	(void)state;
	pb_str(&v, 1, "sha256:bbbb");
	pb_str(&v, 3, "[internal] load remote build context");
	pb_msg(&b, 1, &v);
	st = decode_buf(&b, &err);
	assert_non_null(st);
	assert_int_equal(st->nvertexes, 1);
	assert_null(st->vertexes[0].error);
	assert_false(st->vertexes[0].started.set);
	assert_false(st->vertexes[0].cached);
	assert_int_equal(st->vertexes[0].ninputs, 0);
	ctxd_bkstatus_destroy(st);
	ctxd_buf_free(&b);
}

static void test_unknown_fields(void **state)
{
	struct ctxd_buf b = {0}, v = {0}, junk = {0};
	struct ctxd_bkstatus *st;
	struct ctxd_error err;
	uint64_t fixed = 0x0102030405060708ull;
	uint32_t fixed32 = 7;

	(void)state;
	/* every wire type, at the top level and inside a Vertex, before and after */
	pb_int(&b, 99, 12345);
	pb_tag(&b, 98, 1);
	ctxd_buf_append(&b, &fixed, 8);
	pb_tag(&b, 97, 5);
	ctxd_buf_append(&b, &fixed32, 4);
	pb_str(&b, 96, "not for us");
	pb_tag(&b, 95, 3); /* a group holding a field and a nested group */
	pb_int(&b, 1, 5);
	pb_tag(&b, 94, 3);
	pb_str(&b, 2, "x");
	pb_tag(&b, 94, 4);
	pb_tag(&b, 95, 4);
	pb_int(&v, 1, 7);        /* digest sent as a varint: skipped, as protobuf does */
	pb_str(&v, 1, "sha256:cccc");
	pb_int(&v, 100, 1);
	pb_str(&v, 3, "first");
	pb_str(&v, 3, "second"); /* the last one wins */
	pb_int(&v, 4, 2);        /* any non-zero is true */
	pb_time(&v, 5, 10, 20);
	pb_int(&junk, 1, 30);    /* a second occurrence merges */
	pb_msg(&v, 5, &junk);
	pb_str(&v, 5, "");       /* an empty Timestamp: sets nothing new */
	pb_msg(&b, 1, &v);
	pb_int(&b, 2, 1);        /* statuses as a varint: skipped */
	pb_str(&b, 536870911, "largest field number");
	st = decode_buf(&b, &err);
	if (!st)
		fail_msg("%s", err.msg);
	assert_int_equal(st->nvertexes, 1);
	assert_int_equal(st->nstatuses, 0);
	assert_string_equal(st->vertexes[0].digest, "sha256:cccc");
	assert_string_equal(st->vertexes[0].name, "second");
	assert_true(st->vertexes[0].cached);
	assert_int_equal(st->vertexes[0].started.sec, 30);
	assert_int_equal(st->vertexes[0].started.nsec, 20);
	ctxd_bkstatus_destroy(st);
	ctxd_buf_free(&b);
}

static void test_integers(void **state)
{
	struct ctxd_buf b = {0}, s = {0};
	struct ctxd_bkstatus *st;
	struct ctxd_error err;
	static const unsigned char long_zero[] = {0x20, 0x80, 0x80, 0x80, 0x80, 0x80,
						  0x80, 0x80, 0x80, 0x80, 0x00};

	(void)state;
	pb_str(&s, 1, "id");
	pb_int(&s, 4, (uint64_t)-5);            /* int64 two's complement */
	pb_int(&s, 5, UINT64_MAX);
	pb_time(&s, 6, -1, -1);                 /* int32 from a 10-byte varint */
	pb_msg(&b, 2, &s);
	st = decode_buf(&b, &err);
	if (!st)
		fail_msg("%s", err.msg);
	assert_int_equal(st->statuses[0].current, -5);
	assert_int_equal(st->statuses[0].total, -1);
	assert_int_equal(st->statuses[0].timestamp.sec, -1);
	assert_int_equal(st->statuses[0].timestamp.nsec, -1);
	ctxd_bkstatus_destroy(st);
	ctxd_buf_free(&b);

	/* a 10-byte varint that is not minimal is still valid (field 4, wire 0) */
	st = ctxd_bkstatus_decode(long_zero, sizeof long_zero, &err);
	if (!st)
		fail_msg("%s", err.msg);
	ctxd_bkstatus_destroy(st);
}

static void test_bad_varints(void **state)
{
	static const unsigned char trunc_tag[] = {0x80};
	static const unsigned char trunc_len[] = {0x0a, 0x80, 0x80};
	static const unsigned char eleven[] = {0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					       0xff, 0xff, 0xff, 0x81, 0x00};
	static const unsigned char overflow[] = {0x20, 0xff, 0xff, 0xff, 0xff, 0xff,
						 0xff, 0xff, 0xff, 0xff, 0x02};
	static const unsigned char in_vertex[] = {0x0a, 0x02, 0x20, 0x80};

	(void)state;
	expect_error(trunc_tag, sizeof trunc_tag, "truncated varint at byte 0");
	expect_error(trunc_len, sizeof trunc_len, "truncated varint at byte 1");
	expect_error(eleven, sizeof eleven, "varint longer than 10 bytes at byte 1");
	expect_error(overflow, sizeof overflow, "varint overflows 64 bits at byte 1");
	/* the submessage's end is the limit, not the buffer's */
	expect_error(in_vertex, sizeof in_vertex, "truncated varint at byte 3");
}

static void test_bad_lengths(void **state)
{
	static const unsigned char past[] = {0x0a, 0x05, 'a', 'b'};
	static const unsigned char inner[] = {0x0a, 0x04, 0x0a, 0x09, 'a', 'b'};
	static const unsigned char huge[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
	static const unsigned char i64[] = {0x09, 1, 2, 3};
	static const unsigned char i32[] = {0x0d, 1, 2};

	(void)state;
	expect_error(past, sizeof past, "length 5 past the end (2 bytes left) at byte 1");
	expect_error(inner, sizeof inner, "length 9 past the end (2 bytes left) at byte 3");
	expect_error(huge, sizeof huge, "past the end");
	expect_error(i64, sizeof i64, "truncated 64-bit field at byte 1");
	expect_error(i32, sizeof i32, "truncated 32-bit field at byte 1");
}

static void test_bad_wire(void **state)
{
	static const unsigned char wt6[] = {0x0e, 0x00};
	static const unsigned char wt7[] = {0x0f, 0x00};
	static const unsigned char field0[] = {0x02, 0x00};
	static const unsigned char too_big[] = {0x82, 0x80, 0x80, 0x80, 0x10, 0x00}; /* field 2^29 */
	static const unsigned char lone_end[] = {0x0c};
	static const unsigned char open_group[] = {0x0b, 0x08, 0x01};
	static const unsigned char wrong_end[] = {0x0b, 0x14};
	static const unsigned char in_status[] = {0x12, 0x02, 0x0f, 0x00};

	(void)state;
	expect_error(wt6, sizeof wt6, "invalid wire type 6 at byte 0");
	expect_error(wt7, sizeof wt7, "invalid wire type 7");
	expect_error(field0, sizeof field0, "invalid field number 0 at byte 0");
	expect_error(too_big, sizeof too_big, "invalid field number 536870912");
	expect_error(lone_end, sizeof lone_end, "end of group 1 that was never started");
	expect_error(open_group, sizeof open_group, "unterminated group 1 at byte 3");
	expect_error(wrong_end, sizeof wrong_end, "group 1 ended as 2 at byte 1");
	expect_error(in_status, sizeof in_status, "invalid wire type 7 at byte 2");
}

static void test_nesting(void **state)
{
	struct ctxd_buf b = {0};
	struct ctxd_bkstatus *st;
	struct ctxd_error err;

	(void)state;
	for (int i = 0; i < 32; i++)
		pb_tag(&b, 5, 3);
	for (int i = 0; i < 32; i++)
		pb_tag(&b, 5, 4);
	st = decode_buf(&b, &err);
	if (!st)
		fail_msg("32 levels: %s", err.msg);
	ctxd_bkstatus_destroy(st);
	ctxd_buf_free(&b);

	/* one-byte tags: the 33rd group's contents start at byte 33 */
	for (int i = 0; i < 100000; i++)
		pb_tag(&b, 5, 3);
	expect_error(b.data, b.len, "nested deeper than 32 at byte 33");
	ctxd_buf_free(&b);
}

/* Every prefix of a valid message either decodes (it ends on a field
 * boundary) or fails with a located error; never more. */
static void test_every_truncation(void **state)
{
	struct ctxd_buf b = {0};
	struct ctxd_error err;
	size_t ok = 0;

	(void)state;
	build_full(&b);
	for (size_t len = 0; len < b.len; len++) {
		char *copy = malloc(len ? len : 1);
		struct ctxd_bkstatus *st;

		memcpy(copy, b.data, len);
		err.msg[0] = '\0';
		st = ctxd_bkstatus_decode(copy, len, &err);
		if (st)
			ok++;
		else if (!strstr(err.msg, "at byte"))
			fail_msg("prefix %zu: '%s'", len, err.msg);
		ctxd_bkstatus_destroy(st);
		free(copy);
	}
	assert_int_equal(ok, 4); /* empty, and after each of the first three top-level fields */
	ctxd_buf_free(&b);
}

static void test_bad_base64_message(void **state)
{
	struct ctxd_error err;

	(void)state;
	assert_null(ctxd_bkstatus_decode_base64("CgA*", 4, &err));
	assert_non_null(strstr(err.msg, "bad BuildKit status from the daemon: invalid base64"));
	/* good base64 of bad protobuf */
	assert_null(ctxd_bkstatus_decode_base64("Dg==", 4, &err));
	assert_non_null(strstr(err.msg, "invalid wire type 6"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_minimal_vertex),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_bad_varints),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_bad_wire),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_bad_base64_message),
	};

	return TU_RUN("unit-bkstatus", tests);
}
