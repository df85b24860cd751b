/* The daemon's framing: round trips cut at every byte, every kind of bad
 * message, and the blocking client helpers' timeouts and short reads; and
 * the query's own fields (content hashes, 64-bit values bit for bit). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctxd/protocol.h"
#include "ctxd/query.h"
#include "testutil.h"

#define STR2(x) #x
#define STR(x) STR2(x)
#define V STR(CTXD_PROTOCOL_VERSION)

static int collect(void *ud, json_t *msg, struct ctxd_error *err)
{
	struct ctxd_buf *b = ud;
	char *s = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS);

	(void)err;
	ctxd_buf_puts(b, s);
	ctxd_buf_putc(b, '\n');
	free(s);
	return 0;
}

static void frame(struct ctxd_buf *b, const char *body)
{
	size_t n = strlen(body);
	char head[4] = {(char)(n >> 24), (char)(n >> 16), (char)(n >> 8), (char)n};

	ctxd_buf_append(b, head, 4);
	ctxd_buf_append(b, body, n);
}

/* Decodes wire in one feed; returns the collected lines (caller frees). */
static char *decode(const char *wire, size_t len, size_t max, int *rc, struct ctxd_error *err)
{
	struct ctxd_protocol_decoder *d = ctxd_protocol_decoder_create(max);
	struct ctxd_buf out = {0};

	*rc = ctxd_protocol_decoder_feed(d, wire, len, collect, &out, err);
	if (*rc == 0)
		*rc = ctxd_protocol_decoder_finish(d, err);
	ctxd_protocol_decoder_destroy(d);
	ctxd_buf_putc(&out, '\0');
	return ctxd_buf_take(&out);
}

static void round_trip_every_cut(void **state)
{
	struct ctxd_buf wire = {0};
	struct ctxd_error err;
	json_t *a = ctxd_protocol_message("status"), *b = ctxd_protocol_message("entries");
	const char *want = "{\"type\":\"status\",\"v\":" V "}\n{\"n\":[1,2,\"\xc3\xa9\"],\"type\":\"entries\",\"v\":" V "}\n";

	(void)state;
	json_object_set_new(b, "n", json_pack("[iis]", 1, 2, "\xc3\xa9"));
	assert_int_equal(ctxd_protocol_encode(a, 0, &wire, &err), 0);
	assert_int_equal(ctxd_protocol_encode(b, 0, &wire, &err), 0);
	for (size_t cut1 = 0; cut1 <= wire.len; cut1++)
		for (size_t cut2 = cut1; cut2 <= wire.len; cut2 += 3) {
			struct ctxd_protocol_decoder *d = ctxd_protocol_decoder_create(0);
			struct ctxd_buf out = {0};

			assert_int_equal(ctxd_protocol_decoder_feed(d, wire.data, cut1, collect, &out, &err), 0);
			assert_int_equal(ctxd_protocol_decoder_feed(d, wire.data + cut1, cut2 - cut1, collect,
								    &out, &err), 0);
			assert_int_equal(ctxd_protocol_decoder_feed(d, wire.data + cut2, wire.len - cut2,
								    collect, &out, &err), 0);
			assert_int_equal(ctxd_protocol_decoder_finish(d, &err), 0);
			assert_string_equal(out.data, want);
			ctxd_buf_free(&out);
			ctxd_protocol_decoder_destroy(d);
		}
	json_decref(a);
	json_decref(b);
	ctxd_buf_free(&wire);
}

struct bad {
	const char *body;
	const char *msg;
};

static void bad_messages(void **state)
{
	static const struct bad cases[] = {
		{"{\"v\":" V ",\"type\":", "protocol: invalid JSON at byte"},
		{"[1]", "protocol: a message must be a JSON object"},
		{"{\"type\":\"x\"}", "protocol: the message has no integer \"v\" (protocol version)"},
		{"{\"v\":\"1\",\"type\":\"x\"}", "protocol: the message has no integer \"v\""},
		{"{\"v\":99,\"type\":\"x\"}", "protocol: version 99 is not the supported version " V},
		{"{\"v\":" V "}", "protocol: the message has no string \"type\""},
		{"{\"v\":" V ",\"type\":3}", "protocol: the message has no string \"type\""},
		{"{\"v\":" V ",\"v\":" V ",\"type\":\"x\"}", "protocol: invalid JSON"},
		{"{\"v\":" V ",\"type\":\"x\"} {}", "protocol: invalid JSON"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ctxd_buf wire = {0};
		struct ctxd_error err = {{0}};
		int rc;
		char *out;

		frame(&wire, "{\"v\":" V ",\"type\":\"ok\"}");
		frame(&wire, cases[i].body);
		frame(&wire, "{\"v\":" V ",\"type\":\"after\"}");
		out = decode(wire.data, wire.len, 0, &rc, &err);
		assert_int_equal(rc, -1);
		/* what came before the bad message was delivered, nothing after */
		assert_string_equal(out, "{\"type\":\"ok\",\"v\":" V "}\n");
		if (strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
			fail_msg("case %zu: got '%s', want '%s...'", i, err.msg, cases[i].msg);
		free(out);
		ctxd_buf_free(&wire);
	}
}

static void bad_lengths(void **state)
{
	struct ctxd_error err;
	struct ctxd_protocol_decoder *d;
	struct ctxd_buf out = {0};
	int rc;
	char *got;

	(void)state;
	got = decode("\0\0\0\0", 4, 0, &rc, &err);
	assert_int_equal(rc, -1);
	assert_string_equal(err.msg, "protocol: empty message (length 0)");
	free(got);
	got = decode("\0\0\0\x21", 4, 32, &rc, &err);
	assert_int_equal(rc, -1);
	assert_string_equal(err.msg, "protocol: message length 33 is over the 32-byte limit");
	free(got);
	got = decode("\xff\xff\xff\xff", 4, 0, &rc, &err);
	assert_int_equal(rc, -1);
	assert_string_equal(err.msg, "protocol: message length 4294967295 is over the 4194304-byte limit");
	free(got);

	/* a dead decoder repeats its error and takes nothing more */
	d = ctxd_protocol_decoder_create(0);
	assert_int_equal(ctxd_protocol_decoder_feed(d, "\0\0\0\0", 4, collect, &out, &err), -1);
	strcpy(err.msg, "changed");
	assert_int_equal(ctxd_protocol_decoder_feed(d, "\0\0\0\2{}", 6, collect, &out, &err), -1);
	assert_string_equal(err.msg, "protocol: empty message (length 0)");
	assert_int_equal(ctxd_protocol_decoder_finish(d, &err), -1);
	assert_string_equal(err.msg, "protocol: empty message (length 0)");
	assert_null(out.data);
	ctxd_protocol_decoder_destroy(d);
}

static void short_messages(void **state)
{
	struct ctxd_error err;
	int rc;
	char *got;

	(void)state;
	got = decode("\0\0", 2, 0, &rc, &err);
	assert_int_equal(rc, -1);
	assert_string_equal(err.msg, "protocol: connection closed inside a message's length (2 of 4 bytes)");
	free(got);
	got = decode("\0\0\0\x10{\"v\":" V "", 11, 0, &rc, &err);
	assert_int_equal(rc, -1);
	assert_string_equal(err.msg, "protocol: connection closed inside a message (7 of 16 bytes)");
	free(got);
	got = decode("", 0, 0, &rc, &err);
	assert_int_equal(rc, 0);
	assert_string_equal(got, "");
	free(got);
}

static int refuse(void *ud, json_t *msg, struct ctxd_error *err)
{
	(void)ud;
	(void)msg;
	ctxd_error_set(err, "refused by the handler");
	return -1;
}

static void handler_error_stops(void **state)
{
	struct ctxd_protocol_decoder *d = ctxd_protocol_decoder_create(0);
	struct ctxd_buf wire = {0};
	struct ctxd_error err;

	(void)state;
	frame(&wire, "{\"v\":" V ",\"type\":\"a\"}");
	assert_int_equal(ctxd_protocol_decoder_feed(d, wire.data, wire.len, refuse, NULL, &err), -1);
	assert_string_equal(err.msg, "refused by the handler");
	assert_int_equal(ctxd_protocol_decoder_feed(d, wire.data, wire.len, collect, NULL, &err), -1);
	assert_string_equal(err.msg, "refused by the handler");
	ctxd_protocol_decoder_destroy(d);
	ctxd_buf_free(&wire);
}

static void encode_errors(void **state)
{
	struct ctxd_buf wire = {0};
	struct ctxd_error err;
	json_t *arr = json_array(), *notype = json_object(), *big = ctxd_protocol_message("x");

	(void)state;
	assert_int_equal(ctxd_protocol_encode(arr, 0, &wire, &err), -1);
	assert_string_equal(err.msg, "protocol: a message must be an object with a string \"type\"");
	assert_int_equal(ctxd_protocol_encode(notype, 0, &wire, &err), -1);
	json_object_set_new(big, "pad", json_string("0123456789"));
	assert_int_equal(ctxd_protocol_encode(big, 20, &wire, &err), -1);
	assert_string_equal(err.msg, "protocol: a message of 37 bytes is over the 20-byte limit");
	assert_int_equal(wire.len, 0);
	assert_string_equal(ctxd_protocol_type(big), "x");
	json_decref(arr);
	json_decref(notype);
	json_decref(big);
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void blocking_helpers(void **state)
{
	int sv[2];
	struct ctxd_error err;
	json_t *m = ctxd_protocol_message("hello"), *got;
	struct timespec t0;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(ctxd_protocol_write(sv[0], m, 1000, &err), 0);
	assert_int_equal(ctxd_protocol_read(sv[1], &got, NULL, 1000, &err), 0);
	assert_string_equal(ctxd_protocol_type(got), "hello");
	json_decref(got);

	/* nothing arrives: the read gives up at its deadline */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ctxd_protocol_read(sv[1], &got, NULL, 150, &err), -1);
	assert_true(elapsed_ms(&t0) >= 140 && elapsed_ms(&t0) < 2000);
	assert_string_equal(err.msg, "the daemon did not answer in time (reading)");
	assert_null(got);

	/* a message cut short, then the peer goes away */
	assert_int_equal(write(sv[0], "\0\0\0\x20{\"v\"", 8), 8);
	close(sv[0]);
	assert_int_equal(ctxd_protocol_read(sv[1], &got, NULL, 1000, &err), -1);
	assert_string_equal(err.msg, "protocol: message cut short after 4 of 32 bytes: the daemon closed the connection");
	assert_int_equal(ctxd_protocol_read(sv[1], &got, NULL, 1000, &err), -1);
	assert_string_equal(err.msg, "the daemon closed the connection");
	/* writing to a closed peer fails without SIGPIPE */
	assert_int_equal(ctxd_protocol_write(sv[1], m, 1000, &err), -1);
	assert_non_null(strstr(err.msg, "sending to the daemon: "));
	close(sv[1]);

	/* a bad message read by the blocking reader gets the decoder's words */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], "\0\0\0\x02[]", 6), 6);
	assert_int_equal(ctxd_protocol_read(sv[1], &got, NULL, 1000, &err), -1);
	assert_string_equal(err.msg, "protocol: a message must be a JSON object");
	assert_int_equal(write(sv[0], "\x7f\0\0\0", 4), 4);
	assert_int_equal(ctxd_protocol_read(sv[1], &got, NULL, 1000, &err), -1);
	assert_string_equal(err.msg, "protocol: message length 2130706432 is over the 4194304-byte limit");
	assert_int_equal(write(sv[0], "\0\0", 2), 2);
	close(sv[0]);
	assert_int_equal(ctxd_protocol_read(sv[1], &got, NULL, 1000, &err), -1);
	assert_string_equal(err.msg, "protocol: message cut short after 2 of 4 length bytes: the daemon closed the connection");
	close(sv[1]);
	json_decref(m);
}

static void query_hashes(void **state)
{
	struct ctxd_query q = {.root = "/r", .want_hashes = true}, back;
	struct ctxd_hash h = {.hi = 0xfedcba9876543210ull, .lo = 1}, h2;
	struct ctxd_hash_key key = {.dev = 1ull << 63, .ino = 42, .size = 7, .mtime = -5,
				    .mtime_nsec = 999999999, .ctime = 1700000000, .ctime_nsec = 3};
	struct ctxd_hash_key key2;
	struct ctxd_error err;
	const char **args;
	json_t *m, *a, *bad;
	size_t n;

	(void)state;
	m = ctxd_query_encode(&q);
	assert_int_equal(ctxd_query_decode(m, &back, &args, &err), 0);
	assert_true(back.want_hashes);
	json_decref(m);
	q.want_hashes = false;
	m = ctxd_query_encode(&q);
	assert_int_equal(ctxd_query_decode(m, &back, &args, &err), 0);
	assert_false(back.want_hashes);
	json_decref(m);

	a = ctxd_query_hash_encode(12, &h, &key);
	assert_int_equal(ctxd_query_hash_decode(a, &n, &h2, &key2, &err), 0);
	assert_int_equal(n, 12);
	assert_true(ctxd_hash_equal(&h, &h2));
	assert_true(ctxd_hash_key_equal(&key, &key2));
	json_decref(a);

	bad = json_pack("[i,i]", 1, 2);
	assert_int_equal(ctxd_query_hash_decode(bad, &n, &h2, &key2, &err), -1);
	assert_string_equal(err.msg, "the daemon sent a hash that does not parse");
	json_decref(bad);
	bad = json_pack("[i,i,i,i,i,i,i,i,i,i]", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_int_equal(ctxd_query_hash_decode(bad, &n, &h2, &key2, &err), -1);
	json_decref(bad);
}

/* git, the git filter and the history's command travel; a filter or a
 * command the daemon does not know is an error naming the field. */
static void query_fields(void **state)
{
	struct ctxd_query q = {.root = "/r", .git = true, .git_filter = CTXD_GIT_FILTER_UNTRACKED,
			       .record = "build"}, back;
	struct ctxd_error err;
	const char **args;
	json_t *m;

	(void)state;
	m = ctxd_query_encode(&q);
	assert_int_equal(ctxd_query_decode(m, &back, &args, &err), 0);
	assert_true(back.git);
	assert_int_equal(back.git_filter, CTXD_GIT_FILTER_UNTRACKED);
	assert_string_equal(back.record, "build");
	json_object_set_new(m, "git_filter", json_string("some"));
	assert_int_equal(ctxd_query_decode(m, &back, &args, &err), -1);
	assert_string_equal(err.msg, "query: \"git_filter\" must be off, ignored or untracked");
	json_object_del(m, "git_filter");
	assert_int_equal(ctxd_query_decode(m, &back, &args, &err), 0);
	assert_int_equal(back.git_filter, CTXD_GIT_FILTER_OFF);
	json_object_set_new(m, "record", json_string("ls"));
	assert_int_equal(ctxd_query_decode(m, &back, &args, &err), -1);
	assert_string_equal(err.msg, "query: \"record\" must be build, pack or report");
	json_decref(m);
}

/* A payload travels after the JSON and its NUL; a reader that expects
 * none refuses it, and the daemon-side decoder takes none. */
static void payloads(void **state)
{
	int sv[2];
	struct ctxd_error err;
	struct ctxd_buf payload = {0}, wire = {0};
	json_t *m = ctxd_protocol_message("entries"), *got;
	static const char bin[] = {'a', '\0', '\xff', 'b'};
	int rc;
	char *lines;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(ctxd_protocol_encode_payload(m, bin, sizeof bin, 0, &wire, &err), 0);
	assert_int_equal(write(sv[0], wire.data, wire.len), (ssize_t)wire.len);
	assert_int_equal(ctxd_protocol_read(sv[1], &got, &payload, 1000, &err), 0);
	assert_string_equal(ctxd_protocol_type(got), "entries");
	assert_int_equal(payload.len, sizeof bin);
	assert_memory_equal(payload.data, bin, sizeof bin);
	json_decref(got);
	/* a message without one empties the payload */
	assert_int_equal(ctxd_protocol_write(sv[0], m, 1000, &err), 0);
	assert_int_equal(ctxd_protocol_read(sv[1], &got, &payload, 1000, &err), 0);
	assert_int_equal(payload.len, 0);
	json_decref(got);
	/* an empty payload is still one */
	wire.len = 0;
	assert_int_equal(ctxd_protocol_encode_payload(m, "", 0, 0, &wire, &err), 0);
	assert_int_equal(write(sv[0], wire.data, wire.len), (ssize_t)wire.len);
	assert_int_equal(ctxd_protocol_read(sv[1], &got, NULL, 1000, &err), -1);
	assert_string_equal(err.msg, "protocol: a message with a payload where none is expected");
	assert_null(got);
	lines = decode(wire.data, wire.len, 0, &rc, &err);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err.msg, "protocol: invalid JSON"));
	free(lines);
	/* the payload counts towards the limit */
	wire.len = 0;
	assert_int_equal(ctxd_protocol_encode_payload(m, bin, sizeof bin, 26, &wire, &err), -1);
	assert_non_null(strstr(err.msg, "over the 26-byte limit"));
	close(sv[0]);
	close(sv[1]);
	json_decref(m);
	ctxd_buf_free(&payload);
	ctxd_buf_free(&wire);
}

/* Entries as records: every field back bit for bit, strings pointing into
 * the payload, and every cut or bad byte an error, never a crash. */
static void query_entries(void **state)
{
	struct ctxd_entry in[3] = {
		{.path = "dir/f\xff.txt", .path_len = 10, .type = CTXD_ENTRY_FILE, .mode = 04755,
		 .size = 3, .mtime = -5, .mtime_nsec = 999999999, .dev = UINT64_MAX, .ino = 1ull << 40,
		 .nlink = 2, .data = "abc", .rule = -1, .git = CTXD_GIT_IGNORED},
		{.path = "l", .path_len = 1, .type = CTXD_ENTRY_SYMLINK, .mode = 0777, .mtime = INT64_MAX,
		 .link = "../x", .link_len = 4, .excluded = true, .reason = CTXD_REASON_DOCKERIGNORE,
		 .rule = 7},
		{.path = "d", .path_len = 1, .type = CTXD_ENTRY_DIR, .mode = 0755, .mtime = INT64_MIN,
		 .rdev_major = 8, .rdev_minor = 1, .excluded = true, .pruned = true,
		 .reason = CTXD_REASON_GIT_UNTRACKED, .rule = 0},
	};
	struct ctxd_buf pl = {0};
	struct ctxd_entry e;
	struct ctxd_error err;
	const char *p, *end;
	size_t n = 0;
	int r;

	(void)state;
	for (size_t i = 0; i < 3; i++)
		ctxd_query_entry_append(&pl, &in[i]);
	p = pl.data;
	end = pl.data + pl.len;
	while ((r = ctxd_query_entry_next(&p, end, &e, &err)) > 0) {
		const struct ctxd_entry *w = &in[n++];

		assert_int_equal(e.path_len, w->path_len);
		assert_memory_equal(e.path, w->path, w->path_len);
		assert_int_equal(e.path[e.path_len], '\0');
		assert_true(e.path >= pl.data && e.path < end);
		assert_int_equal(e.type, w->type);
		assert_int_equal(e.mode, w->mode);
		assert_int_equal(e.size, w->size);
		assert_true(e.mtime == w->mtime);
		assert_int_equal(e.mtime_nsec, w->mtime_nsec);
		assert_true(e.dev == w->dev && e.ino == w->ino);
		assert_int_equal(e.nlink, w->nlink);
		assert_int_equal(e.rdev_major, w->rdev_major);
		assert_int_equal(e.rdev_minor, w->rdev_minor);
		assert_int_equal(e.excluded, w->excluded);
		assert_int_equal(e.pruned, w->pruned);
		assert_int_equal(e.reason, w->reason);
		assert_int_equal(e.rule, w->rule);
		assert_int_equal(e.git, w->git);
		assert_int_equal(e.dirfd, -1);
		assert_int_equal(!e.link, !w->link);
		if (w->link) {
			assert_int_equal(e.link_len, w->link_len);
			assert_string_equal(e.link, w->link);
		}
		assert_int_equal(!e.data, !w->data);
		if (w->data)
			assert_memory_equal(e.data, w->data, (size_t)w->size);
	}
	if (r < 0)
		fail_msg("entry %zu: %s", n, err.msg);
	assert_int_equal(n, 3);

	/* cut anywhere inside the first record: an error, never a read past */
	for (size_t cut = 1; cut < pl.len; cut++) {
		p = pl.data;
		end = pl.data + cut;
		while ((r = ctxd_query_entry_next(&p, end, &e, &err)) > 0)
			;
		if (r < 0)
			assert_non_null(strstr(err.msg, "the daemon sent an entry that does not parse"));
		else
			assert_ptr_equal(p, end); /* a cut between records */
	}
	/* a NUL inside the path, an unknown type, a varint past 64 bits */
	{
		static const char nul_in_path[] = "\x03a\0b\0";
		static const char bad_type[] = "\x01a\0\x09";
		static const char long_varint[] = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f";
		static const char empty_path[] = "\x00\0\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
		/* data of 2^64-1 bytes in a payload of a few (found by fuzz-entries) */
		static const char huge_data[] = "\x01" "a\0\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"
						"\x00\x00\x00\x00\x00\x00\x00\x08\x00\x00\x00xyz";
		const char *bad[] = {nul_in_path, bad_type, long_varint, empty_path, huge_data};
		size_t len[] = {sizeof nul_in_path - 1, sizeof bad_type - 1, sizeof long_varint - 1,
				sizeof empty_path - 1, sizeof huge_data - 1};

		for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
			p = bad[i];
			assert_int_equal(ctxd_query_entry_next(&p, bad[i] + len[i], &e, &err), -1);
			assert_ptr_equal(p, bad[i]);
		}
	}
	ctxd_buf_free(&pl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_every_cut),
		cmocka_unit_test(bad_messages),
		cmocka_unit_test(bad_lengths),
		cmocka_unit_test(short_messages),
		cmocka_unit_test(handler_error_stops),
		cmocka_unit_test(encode_errors),
		cmocka_unit_test(blocking_helpers),
		cmocka_unit_test(query_hashes),
		cmocka_unit_test(query_fields),
		cmocka_unit_test(payloads),
		cmocka_unit_test(query_entries),
	};

	return TU_RUN("protocol", tests);
}
