/* Dedup: which files are marked as copies (size and mode, hash, bytes), a
 * planted hash collision, files that change before or while they are
 * packed, and the link entries in the tar. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "ctxd/buf.h"
#include "ctxd/context.h"
#include "ctxd/dedup.h"
#include "ctxd/manifest.h"
#include "ctxd/scan.h"
#include "testutil.h"

#define BIG (300 * 1024)

struct fixture {
	char *root;
	struct ctxd_context *ctx;
	struct ctxd_manifest *m;
};

static void write_big(const char *root, const char *rel, char salt)
{
	char path[4096];
	char *data = malloc(BIG);
	FILE *f;

	for (size_t i = 0; i < BIG; i++)
		data[i] = (char)(i * 7 + i / 1000);
	data[BIG - 1] = salt;
	snprintf(path, sizeof path, "%s/%s", root, rel);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, BIG, f), BIG);
	fclose(f);
	free(data);
}

static void set_mtime(const char *root, const char *rel, time_t t)
{
	char path[4096];
	struct timeval tv[2] = {{t, 0}, {t, 0}};

	snprintf(path, sizeof path, "%s/%s", root, rel);
	assert_int_equal(utimes(path, tv), 0);
}

static char *make_tree(void)
{
	char *root = tu_mkdtemp(), a[4096], b[4096];

	tu_write(root, "Dockerfile", "FROM scratch\n");
	tu_mkdir(root, "a");
	tu_mkdir(root, "b");
	write_big(root, "a/big", 'x');
	write_big(root, "b/big", 'x');
	write_big(root, "c", 'x');
	tu_write(root, "a/s", "hi\n");
	tu_write(root, "b/s", "hi\n");
	tu_write(root, "b/t", "ho\n");  /* same size, other bytes */
	tu_write(root, "x.sh", "hi\n"); /* same bytes, other mode */
	tu_write(root, "e1", "");
	tu_write(root, "e2", "");
	tu_write(root, "u", "a size of its own\n");
	tu_write(root, "h1", "hi\n");
	snprintf(a, sizeof a, "%s/h1", root);
	snprintf(b, sizeof b, "%s/h2", root);
	assert_int_equal(link(a, b), 0); /* a real hard link stays docker's */
	snprintf(a, sizeof a, "%s/x.sh", root);
	chmod(a, 0755);
	set_mtime(root, "a/big", 1000000000);
	set_mtime(root, "b/big", 1700000000);
	return root;
}

static void scan(struct fixture *f)
{
	struct ctxd_context_options o = {.dir = f->root};
	struct ctxd_error err;

	assert_int_equal(ctxd_context_open(&o, &f->ctx, &err), 0);
	f->m = ctxd_manifest_create();
	assert_non_null(f->m);
	assert_int_equal(ctxd_scan_run(f->ctx, NULL, ctxd_manifest_visit, f->m, &err), 0);
}

static void done(struct fixture *f)
{
	ctxd_manifest_destroy(f->m);
	ctxd_context_destroy(f->ctx);
	tu_rmtree(f->root);
	free(f->root);
}

static size_t idx(const struct ctxd_manifest *m, const char *path)
{
	for (size_t i = 0; i < ctxd_manifest_count(m); i++)
		if (strcmp(ctxd_manifest_entry(m, i)->path, path) == 0)
			return i;
	fail_msg("%s not in the manifest", path);
	return 0;
}

static void expect_copy(const struct ctxd_manifest *m, const char *path, const char *of)
{
	size_t d = ctxd_manifest_duplicate_of(m, idx(m, path));

	if (!of) {
		assert_true(d == CTXD_MANIFEST_NONE);
		return;
	}
	assert_true(d != CTXD_MANIFEST_NONE);
	assert_string_equal(ctxd_manifest_entry(m, d)->path, of);
}

static void run_dedup(struct fixture *f, struct ctxd_dedup_stats *st)
{
	struct ctxd_error err;

	assert_int_equal(ctxd_dedup_run(f->m, f->ctx->rootfd, st, &err), 0);
}

static void expect_marks(struct fixture *f, const struct ctxd_dedup_stats *st)
{
	struct ctxd_dedup_savings sv;

	expect_copy(f->m, "a/big", NULL);
	expect_copy(f->m, "b/big", "a/big");
	expect_copy(f->m, "c", "a/big");
	expect_copy(f->m, "a/s", NULL);
	expect_copy(f->m, "b/s", "a/s");
	expect_copy(f->m, "h1", "a/s");
	expect_copy(f->m, "b/t", NULL);
	expect_copy(f->m, "x.sh", NULL);
	expect_copy(f->m, "e2", NULL);
	expect_copy(f->m, "h2", NULL);
	/* only sizes (and modes) seen twice are hashed */
	assert_non_null(ctxd_manifest_hash(f->m, idx(f->m, "b/t"), NULL));
	assert_null(ctxd_manifest_hash(f->m, idx(f->m, "x.sh"), NULL));
	assert_null(ctxd_manifest_hash(f->m, idx(f->m, "u"), NULL));
	assert_null(ctxd_manifest_hash(f->m, idx(f->m, "Dockerfile"), NULL));
	assert_null(ctxd_manifest_hash(f->m, idx(f->m, "e1"), NULL));
	assert_int_equal(st->candidates, 7);
	assert_int_equal(st->hashed_files, 7);
	assert_int_equal(st->hashed_bytes, 3 * BIG + 4 * 3);
	assert_int_equal(st->collisions, 0);
	assert_int_equal(st->unreadable, 0);
	ctxd_dedup_savings(f->m, &sv);
	assert_int_equal(sv.files, 4);
	assert_int_equal(sv.bytes, 2 * BIG + 2 * 3);
}

/* Moves every file's ctime to now (chmod to the mode it has). */
static void touch_ctimes(const char *root)
{
	const char *files[] = {"a/big", "b/big", "c", "a/s", "b/s", "b/t", "h1"};

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof path, "%s/%s", root, files[i]);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(chmod(path, st.st_mode & 07777), 0);
	}
}

static void test_marks_fresh_files(void **state)
{
	struct fixture f = {.root = make_tree()};
	struct ctxd_dedup_stats st;

	(void)state;
	scan(&f);
	touch_ctimes(f.root);
	run_dedup(&f, &st);
	expect_marks(&f, &st);
	/* just written: every pair is compared again once the clock moved on */
	assert_int_equal(st.recompared, 4);
	assert_int_equal(st.compared_bytes, 2 * 2 * (2 * BIG + 2 * 3));
	done(&f);
}

static void test_marks_settled_files(void **state)
{
	struct fixture f = {.root = make_tree()};
	struct ctxd_dedup_stats st;

	(void)state;
	usleep(1100000); /* out of the margin for just-written files */
	scan(&f);
	run_dedup(&f, &st);
	expect_marks(&f, &st);
	assert_int_equal(st.recompared, 0);
	assert_int_equal(st.compared_bytes, 2 * (2 * BIG + 2 * 3));
	done(&f);
}

static void plant(struct fixture *f, const char *rel, const struct ctxd_hash *h, bool stale)
{
	char path[4096];
	struct stat st;
	struct ctxd_hash_key key;

	snprintf(path, sizeof path, "%s/%s", f->root, rel);
	assert_int_equal(lstat(path, &st), 0);
	ctxd_hash_key_from_stat(&st, &key);
	if (stale)
		key.mtime--;
	ctxd_manifest_set_hash(f->m, idx(f->m, rel), h, &key);
}

static void test_planted_hashes(void **state)
{
	struct fixture f = {.root = tu_mkdtemp()};
	struct ctxd_hash fake = {1, 2};
	struct ctxd_dedup_stats st;
	const struct ctxd_hash *h;

	(void)state;
	tu_write(f.root, "Dockerfile", "FROM scratch\n");
	tu_write(f.root, "p", "aaaa");
	tu_write(f.root, "q", "bbbb");
	tu_write(f.root, "r", "cccccc");
	tu_write(f.root, "s", "cccccc");
	scan(&f);
	/* p and q: a collision, as the daemon's cache could hand in */
	plant(&f, "p", &fake, false);
	plant(&f, "q", &fake, false);
	/* r: a hash whose key no longer matches the file is not used */
	plant(&f, "r", &fake, true);
	run_dedup(&f, &st);
	expect_copy(f.m, "q", NULL);
	expect_copy(f.m, "s", "r");
	assert_int_equal(st.collisions, 1);
	assert_int_equal(st.reused, 2);
	assert_int_equal(st.hashed_files, 2);
	h = ctxd_manifest_hash(f.m, idx(f.m, "r"), NULL);
	assert_false(ctxd_hash_equal(h, &fake));
	done(&f);
}

static void test_changed_before_run(void **state)
{
	struct fixture f = {.root = make_tree()};
	struct ctxd_dedup_stats st;

	(void)state;
	scan(&f);
	tu_write(f.root, "b/big", "now something else");
	run_dedup(&f, &st);
	assert_int_equal(st.unreadable, 1);
	expect_copy(f.m, "b/big", NULL);
	expect_copy(f.m, "c", "a/big");
	done(&f);
}

struct sink {
	struct ctxd_buf out;
	const char *mutate; /* rewrite this file at the first write */
	bool mutated;
};

static int to_sink(void *ud, const void *data, size_t len, struct ctxd_error *err)
{
	struct sink *s = ud;

	(void)err;
	if (s->mutate && !s->mutated) {
		int fd = open(s->mutate, O_WRONLY);

		assert_int_equal(pwrite(fd, "!", 1, 10), 1);
		close(fd);
		s->mutated = true;
	}
	ctxd_buf_append(&s->out, data, len);
	return 0;
}

static int pack(struct fixture *f, struct sink *s, struct ctxd_error *err)
{
	struct ctxd_pack *pk = ctxd_pack_create(f->ctx->rootfd, f->ctx->root, CTXD_COMPRESS_NONE,
						to_sink, s, err);
	int rc;

	assert_non_null(pk);
	rc = ctxd_dedup_pack(f->m, f->ctx->rootfd, f->ctx->root, pk, err);
	if (rc == 0)
		rc = ctxd_pack_finish(pk, err);
	ctxd_pack_destroy(pk);
	return rc;
}

static void test_pack_links(void **state)
{
	struct fixture f = {.root = make_tree()};
	struct sink s = {0};
	struct ctxd_error err;
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	int links = 0;

	(void)state;
	scan(&f);
	run_dedup(&f, NULL);
	assert_int_equal(pack(&f, &s, &err), 0);
	/* the big content goes once */
	assert_true(s.out.len < BIG + 20 * 1024);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, s.out.data, s.out.len), ARCHIVE_OK);
	while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ae), *hl = archive_entry_hardlink(ae);

		if (!hl) {
			if (strcmp(name, "a/big") == 0)
				assert_int_equal(archive_entry_size(ae), BIG);
			continue;
		}
		links++;
		assert_int_equal(archive_entry_size(ae), 0);
		if (strcmp(name, "b/big") == 0 || strcmp(name, "c") == 0) {
			assert_string_equal(hl, "a/big");
			/* the first copy's mtime, not its own */
			assert_int_equal(archive_entry_mtime(ae), 1000000000);
		} else if (strcmp(name, "b/s") == 0 || strcmp(name, "h1") == 0) {
			assert_string_equal(hl, "a/s");
		} else {
			assert_string_equal(name, "h2");
			assert_string_equal(hl, "h1");
		}
	}
	assert_int_equal(links, 5);
	archive_read_free(a);
	ctxd_buf_free(&s.out);
	done(&f);
}

static void expect_abort(struct fixture *f, struct sink *s, const char *needle)
{
	struct ctxd_error err;

	assert_int_equal(pack(f, s, &err), -1);
	if (!strstr(err.msg, needle))
		fail_msg("'%s' not in '%s'", needle, err.msg);
	assert_non_null(strstr(err.msg, "the stream was aborted"));
	ctxd_buf_free(&s->out);
}

static void test_pack_aborts(void **state)
{
	struct fixture f = {.root = make_tree()};
	struct sink s = {0};
	char path[4096];

	(void)state;
	scan(&f);
	run_dedup(&f, NULL);
	/* a copy rewritten after the comparison, even with the same bytes */
	write_big(f.root, "b/big", 'x');
	expect_abort(&f, &s, "b/big: changed after it was found identical to a/big");
	/* a copy gone */
	run_dedup(&f, NULL);
	snprintf(path, sizeof path, "%s/c", f.root);
	unlink(path);
	expect_abort(&f, &s, "c: cannot stat");
	/* a first copy changed before it is sent */
	write_big(f.root, "c", 'x');
	run_dedup(&f, NULL);
	write_big(f.root, "a/big", 'y');
	expect_abort(&f, &s, "a/big: changed after it was compared with its duplicates");
	/* a first copy changed while it is sent */
	write_big(f.root, "a/big", 'x');
	run_dedup(&f, NULL);
	expect_copy(f.m, "b/big", "a/big");
	snprintf(path, sizeof path, "%s/a/big", f.root);
	s.mutate = path;
	expect_abort(&f, &s, "a/big: changed after it was compared with its duplicates");
	assert_true(s.mutated);
	done(&f);
}

static void test_link_needs_a_file(void **state)
{
	struct fixture f = {.root = make_tree()};
	struct sink s = {0};
	struct ctxd_error err;
	struct ctxd_pack *pk;

	(void)state;
	scan(&f);
	pk = ctxd_pack_create(f.ctx->rootfd, f.ctx->root, CTXD_COMPRESS_NONE, to_sink, &s, &err);
	assert_int_equal(ctxd_pack_add_link(pk, ctxd_manifest_entry(f.m, idx(f.m, "a")), "b",
					    &err), -1);
	assert_non_null(strstr(err.msg, "a: only a regular file can be sent as a link"));
	ctxd_pack_destroy(pk);
	ctxd_buf_free(&s.out);
	done(&f);
}

static void add_candidate(void *ud, size_t i)
{
	struct ctxd_buf *b = ud;

	ctxd_buf_printf(b, "%zu,", i);
}

/* What the daemon hashes for a deduplicating client is what the run hashes. */
static void test_candidates(void **state)
{
	struct fixture f = {.root = make_tree()};
	struct ctxd_dedup_stats st;
	struct ctxd_buf got = {0};
	struct ctxd_error err;
	const char *const names[] = {"a/big", "b/big", "c", "a/s", "b/s", "b/t", "h1"};
	unsigned count = 0;

	(void)state;
	scan(&f);
	assert_int_equal(ctxd_dedup_candidates(f.m, add_candidate, &got, &err), 0);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char at[32];

		snprintf(at, sizeof at, "%zu,", idx(f.m, names[i]));
		assert_non_null(strstr(got.data, at));
	}
	for (const char *p = got.data; (p = strchr(p, ',')); p++)
		count++;
	assert_int_equal(count, sizeof names / sizeof names[0]);
	run_dedup(&f, &st);
	assert_int_equal(st.candidates, count);
	ctxd_buf_free(&got);
	done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_marks_fresh_files),
		cmocka_unit_test(test_marks_settled_files),
		cmocka_unit_test(test_planted_hashes),
		cmocka_unit_test(test_changed_before_run),
		cmocka_unit_test(test_pack_links),
		cmocka_unit_test(test_pack_aborts),
		cmocka_unit_test(test_link_needs_a_file),
		cmocka_unit_test(test_candidates),
	};

	return TU_RUN("dedup", tests);
}
