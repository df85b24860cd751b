/* The tar writer: Docker's header values, streaming, and aborting rather
 * than lying when a file changes under it; atomic output files. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>

#include "ctxd/buf.h"
#include "ctxd/context.h"
#include "ctxd/outfile.h"
#include "ctxd/pack.h"
#include "ctxd/scan.h"
#include "testutil.h"

static int to_buf(void *ud, const void *data, size_t len, struct ctxd_error *err)
{
	(void)err;
	ctxd_buf_append(ud, data, len);
	return 0;
}

/* Mutates one file just before it is packed. */
struct mutate {
	struct ctxd_pack *pk;
	const char *victim;
	const char *root;
	int how; /* 0 none, 1 shrink, 2 grow */
};

static int mutate_then_add(void *ud, const struct ctxd_entry *e, struct ctxd_error *err)
{
	struct mutate *m = ud;

	if (m->how && strcmp(e->path, m->victim) == 0) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof path, "%s/%s", m->root, m->victim);
		f = fopen(path, m->how == 1 ? "w" : "a");
		fputs(m->how == 1 ? "" : "more bytes", f);
		fclose(f);
	}
	return ctxd_pack_add(m->pk, e, err);
}

static int pack_tree(const char *root, struct ctxd_buf *out, int how, struct ctxd_error *err)
{
	struct ctxd_context_options o = {.dir = root, .classic_ignore = true};
	struct ctxd_context *ctx;
	struct mutate m = {.victim = "big", .root = root, .how = how};
	int rc = -1;

	if (ctxd_context_open(&o, &ctx, err) < 0)
		return -1;
	m.pk = ctxd_pack_create(ctx->rootfd, ctx->root, CTXD_COMPRESS_NONE, to_buf, out, err);
	if (m.pk && ctxd_scan_run(ctx, NULL, mutate_then_add, &m, err) == 0 &&
	    ctxd_pack_finish(m.pk, err) == 0)
		rc = 0;
	ctxd_pack_destroy(m.pk);
	ctxd_context_destroy(ctx);
	return rc;
}

static char *make_tree(void)
{
	char *root = tu_mkdtemp(), *p;
	struct timeval tv[2] = {{1000000000, 0}, {1000000000, 700000}};

	tu_write(root, "Dockerfile", "FROM scratch\n");
	tu_write(root, "big", "0123456789abcdef");
	tu_write(root, "dir/suid", "#!/bin/sh\n");
	assert_true(asprintf(&p, "%s/dir/suid", root) > 0);
	chmod(p, 04755);
	utimes(p, tv);
	free(p);
	return root;
}

static void test_headers(void **state)
{
	char *root = make_tree();
	struct ctxd_buf out = {0};
	struct ctxd_error err;
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	int n = 0;

	(void)state;
	assert_int_equal(pack_tree(root, &out, 0, &err), 0);
	/* no padding to a 10 KiB record: entries + two zero blocks */
	assert_int_equal(out.len % 512, 0);
	assert_true(out.len < 10240);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, out.data, out.len), ARCHIVE_OK);
	while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ae);

		n++;
		assert_int_equal(archive_entry_uid(ae), 0);
		assert_int_equal(archive_entry_gid(ae), 0);
		assert_true(!archive_entry_uname(ae) || !*archive_entry_uname(ae));
		if (strcmp(name, "dir/suid") == 0) {
			assert_int_equal(archive_entry_perm(ae), 04755);
			assert_int_equal(archive_entry_mtime(ae), 1000000000);
			assert_int_equal(archive_entry_mtime_nsec(ae), 0);
		}
		if (strcmp(name, "dir/") == 0)
			assert_int_equal(archive_entry_filetype(ae), AE_IFDIR);
	}
	assert_int_equal(n, 4);
	archive_read_free(a);
	ctxd_buf_free(&out);
	tu_rmtree(root);
	free(root);
}

static void test_changed_file(void **state)
{
	char *root = make_tree();
	struct ctxd_buf out = {0};
	struct ctxd_error err;

	(void)state;
	assert_int_equal(pack_tree(root, &out, 1, &err), -1);
	assert_non_null(strstr(err.msg, "shrank while being packed"));
	/* nothing may follow the broken entry: no padding, no end blocks */
	assert_true(out.len < 2048);
	ctxd_buf_free(&out);
	tu_write(root, "big", "0123456789abcdef");
	assert_int_equal(pack_tree(root, &out, 2, &err), -1);
	assert_non_null(strstr(err.msg, "grew while being packed"));
	ctxd_buf_free(&out);
	tu_rmtree(root);
	free(root);
}

static void test_compressed(void **state)
{
	char *root = make_tree();
	struct ctxd_context_options o = {.dir = root};
	struct ctxd_context *ctx;
	struct ctxd_buf out = {0}, plain = {0};
	struct ctxd_error err;
	struct ctxd_pack *pk;

	(void)state;
	assert_int_equal(ctxd_context_open(&o, &ctx, &err), 0);
	pk = ctxd_pack_create(ctx->rootfd, ctx->root, CTXD_COMPRESS_GZIP, to_buf, &out, &err);
	assert_non_null(pk);
	assert_int_equal(ctxd_scan_run(ctx, NULL, ctxd_pack_visit, pk, &err), 0);
	assert_int_equal(ctxd_pack_finish(pk, &err), 0);
	assert_true(out.len > 10);
	assert_int_equal((unsigned char)out.data[0], 0x1f);
	assert_int_equal((unsigned char)out.data[1], 0x8b);
	assert_int_equal(ctxd_pack_stats(pk)->files, 3);
	/* the progress measure under compression: the plain tar's length */
	assert_int_equal(pack_tree(root, &plain, 0, &err), 0);
	assert_int_equal(ctxd_pack_stats(pk)->tar_bytes, plain.len);
	assert_int_equal(ctxd_pack_stats(pk)->stream_bytes, out.len);
	ctxd_pack_destroy(pk);
	ctxd_context_destroy(ctx);
	ctxd_buf_free(&out);
	ctxd_buf_free(&plain);
	tu_rmtree(root);
	free(root);
}

static void test_outfile(void **state)
{
	char *root = tu_mkdtemp(), *path, *got;
	struct ctxd_outfile *of;
	struct ctxd_error err;
	struct stat st;

	(void)state;
	assert_true(asprintf(&path, "%s/out.tar", root) > 0);
	of = ctxd_outfile_open(path, true, &err);
	assert_non_null(of);
	assert_int_equal(ctxd_outfile_write(of, "abc", 3, &err), 0);
	assert_int_equal(stat(path, &st), -1); /* not there until committed */
	ctxd_outfile_abort(of);
	assert_int_equal(stat(path, &st), -1);
	of = ctxd_outfile_open(path, true, &err);
	assert_int_equal(ctxd_outfile_write(of, "abc", 3, &err), 0);
	assert_int_equal(ctxd_outfile_commit(of, &err), 0);
	got = tu_read(path, NULL);
	assert_string_equal(got, "abc");
	free(got);
	free(path);
	/* a device is written in place, not replaced by a regular file */
	of = ctxd_outfile_open("/dev/null", true, &err);
	assert_non_null(of);
	assert_null(ctxd_outfile_temp_path(of));
	assert_int_equal(ctxd_outfile_write(of, "abc", 3, &err), 0);
	assert_int_equal(ctxd_outfile_commit(of, &err), 0);
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	of = ctxd_outfile_open("/dev/null", true, &err);
	ctxd_outfile_abort(of);
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	/* a device that cannot be opened fails up front (mknod needs root) */
	assert_true(asprintf(&path, "%s/dev", root) > 0);
	if (mknod(path, S_IFCHR | 0600, makedev(240, 0)) == 0) {
		assert_null(ctxd_outfile_open(path, true, &err));
		assert_non_null(strstr(err.msg, "No such device"));
	}
	free(path);
	/* an unwritable place fails up front, naming the path */
	assert_null(ctxd_outfile_open("/nonexistent-dir/x.tar", true, &err));
	assert_non_null(strstr(err.msg, "/nonexistent-dir/x.tar"));
	tu_rmtree(root);
	free(root);
}

/* A writer that counts its calls, and fails on demand. */
struct sink {
	struct ctxd_buf buf;
	int calls;
	bool fail;
};

static int to_sink(void *ud, const void *data, size_t len, struct ctxd_error *err)
{
	struct sink *s = ud;

	s->calls++;
	if (s->fail) {
		ctxd_error_set(err, "disk full");
		return -1;
	}
	ctxd_buf_append(&s->buf, data, len);
	return 0;
}

static struct ctxd_entry mem_file(const char *path, const char *data)
{
	return (struct ctxd_entry){.path = path, .path_len = strlen(path), .type = CTXD_ENTRY_FILE,
				   .mode = 0644, .size = strlen(data), .data = data, .dirfd = -1};
}

/* The first entry goes out at once, later ones when a buffer fills or the
 * caller flushes before it waits: never held while the input is slow. */
static void test_flush(void **state)
{
	struct sink s = {0};
	struct ctxd_error err;
	struct ctxd_pack *pk = ctxd_pack_create(-1, "/nowhere", CTXD_COMPRESS_NONE, to_sink, &s, &err);
	struct ctxd_entry a = mem_file("a", "first"), b = mem_file("b", "second");
	size_t after_first;

	(void)state;
	assert_non_null(pk);
	assert_int_equal(ctxd_pack_add(pk, &a, &err), 0);
	assert_int_equal(s.calls, 1);
	after_first = s.buf.len;
	assert_int_equal(after_first, 512 + 5); /* header and content (padding comes later) */
	assert_int_equal(ctxd_pack_add(pk, &b, &err), 0);
	assert_int_equal(s.buf.len, after_first);
	assert_int_equal(ctxd_pack_flush(pk, &err), 0);
	assert_int_equal(s.buf.len, 1024 + 512 + 6);
	assert_int_equal(ctxd_pack_stats(pk)->stream_bytes, s.buf.len);
	assert_int_equal(ctxd_pack_flush(pk, &err), 0); /* nothing held: no call */
	assert_int_equal(s.calls, 2);
	/* a writer's failure is the flush's error, and the stream's end */
	assert_int_equal(ctxd_pack_add(pk, &a, &err), 0);
	s.fail = true;
	assert_int_equal(ctxd_pack_flush(pk, &err), -1);
	assert_string_equal(err.msg, "disk full");
	assert_int_equal(ctxd_pack_finish(pk, &err), -1);
	assert_int_equal(s.buf.len, 1024 + 512 + 6);
	ctxd_pack_destroy(pk);
	ctxd_buf_free(&s.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_changed_file),
		cmocka_unit_test(test_compressed),
		cmocka_unit_test(test_outfile),
		cmocka_unit_test(test_flush),
	};

	return TU_RUN("unit-pack", tests);
}
