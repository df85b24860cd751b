/* Content hashes: XXH3-128 of the whole file whatever the fd's offset, the
 * stat key, and refusing what is not a regular file or changes while read. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "ctxd/hash.h"
#include "testutil.h"

static void write_bytes(const char *root, const char *rel, const char *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", root, rel);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void expect_hash(int dirfd, const char *name, const char *data, size_t len)
{
	XXH128_hash_t want = XXH3_128bits(data, len);
	struct ctxd_hash h;
	struct ctxd_hash_key key;
	struct ctxd_error err;

	assert_int_equal(ctxd_hash_file(dirfd, name, &h, &key, &err), 0);
	assert_true(h.hi == want.high64 && h.lo == want.low64);
	assert_true(key.size == len);
}

static void test_content(void **state)
{
	char *root = tu_mkdtemp();
	size_t big = 200 * 1024 + 7; /* several read chunks, not a multiple */
	char *data = malloc(big);
	int dirfd = open(root, O_RDONLY | O_DIRECTORY);

	(void)state;
	for (size_t i = 0; i < big; i++)
		data[i] = (char)(i * 31 + i / 4096);
	write_bytes(root, "empty", "", 0);
	write_bytes(root, "small", "same content\n", 13);
	write_bytes(root, "big", data, big);
	expect_hash(dirfd, "empty", "", 0);
	expect_hash(dirfd, "small", "same content\n", 13);
	expect_hash(dirfd, "big", data, big);
	free(data);
	close(dirfd);
	tu_rmtree(root);
	free(root);
}

static void test_offset_and_hex(void **state)
{
	char *root = tu_mkdtemp(), path[4096], hex[33], want[33];
	XXH128_canonical_t canon;
	struct ctxd_hash h;
	struct ctxd_hash_key key;
	struct ctxd_error err;
	int fd;

	(void)state;
	write_bytes(root, "f", "0123456789", 10);
	snprintf(path, sizeof path, "%s/f", root);
	fd = open(path, O_RDONLY);
	assert_int_equal(lseek(fd, 5, SEEK_SET), 5);
	assert_int_equal(ctxd_hash_fd(fd, "f", &h, &key, &err), 0);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 5); /* the offset is left alone */
	close(fd);
	XXH128_canonicalFromHash(&canon, XXH3_128bits("0123456789", 10));
	for (int i = 0; i < 16; i++)
		snprintf(want + 2 * i, 3, "%02x", canon.digest[i]);
	assert_string_equal(ctxd_hash_hex(&h, hex), want);
	tu_rmtree(root);
	free(root);
}

static void test_key(void **state)
{
	char *root = tu_mkdtemp(), path[4096];
	struct ctxd_hash_key a, b, c;
	struct stat st;

	(void)state;
	write_bytes(root, "f", "abc", 3);
	snprintf(path, sizeof path, "%s/f", root);
	assert_int_equal(stat(path, &st), 0);
	ctxd_hash_key_from_stat(&st, &a);
	assert_true(a.ino == (uint64_t)st.st_ino && a.dev == (uint64_t)st.st_dev);
	assert_true(a.size == 3 && a.mtime == st.st_mtim.tv_sec &&
		    a.mtime_nsec == (uint32_t)st.st_mtim.tv_nsec &&
		    a.ctime == st.st_ctim.tv_sec && a.ctime_nsec == (uint32_t)st.st_ctim.tv_nsec);
	b = a;
	assert_true(ctxd_hash_key_equal(&a, &b));
	/* any field moving invalidates, ctime alone included */
	c = a;
	c.ctime_nsec ^= 1;
	assert_false(ctxd_hash_key_equal(&a, &c));
	c = a;
	c.mtime++;
	assert_false(ctxd_hash_key_equal(&a, &c));
	c = a;
	c.ino++;
	assert_false(ctxd_hash_key_equal(&a, &c));
	tu_rmtree(root);
	free(root);
}

static void test_refused(void **state)
{
	char *root = tu_mkdtemp(), path[4096];
	int dirfd = open(root, O_RDONLY | O_DIRECTORY), fd;
	struct ctxd_hash h;
	struct ctxd_hash_key key;
	struct ctxd_error err;

	(void)state;
	write_bytes(root, "f", "abc", 3);
	assert_int_equal(symlinkat("f", dirfd, "link"), 0);
	assert_int_equal(mkfifoat(dirfd, "fifo", 0644), 0);
	assert_int_equal(ctxd_hash_file(dirfd, "missing", &h, &key, &err), -1);
	assert_non_null(strstr(err.msg, "missing: cannot open"));
	/* symlinks are never followed */
	assert_int_equal(ctxd_hash_file(dirfd, "link", &h, &key, &err), -1);
	assert_non_null(strstr(err.msg, "link: cannot open"));
	/* a FIFO is neither waited on nor read */
	assert_int_equal(ctxd_hash_file(dirfd, "fifo", &h, &key, &err), -1);
	assert_non_null(strstr(err.msg, "fifo: not a regular file"));
	assert_int_equal(ctxd_hash_fd(-1, "bad fd", &h, &key, &err), -1);
	assert_non_null(strstr(err.msg, "bad fd: cannot stat"));
	/* a regular file that cannot be read */
	snprintf(path, sizeof path, "%s/f", root);
	fd = open(path, O_WRONLY);
	assert_int_equal(ctxd_hash_fd(fd, "f", &h, &key, &err), -1);
	assert_non_null(strstr(err.msg, "f: read failed"));
	close(fd);
	close(dirfd);
	tu_rmtree(root);
	free(root);
}

static void test_size_disagrees(void **state)
{
	struct ctxd_hash h;
	struct ctxd_hash_key key;
	struct ctxd_error err;
	int fd = open("/proc/self/status", O_RDONLY);

	(void)state;
	/* stat says 0 bytes, reading gives more: what a file growing looks like */
	assert_true(fd >= 0);
	assert_int_equal(ctxd_hash_fd(fd, "status", &h, &key, &err), -1);
	assert_non_null(strstr(err.msg, "status: changed while it was hashed"));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content),
		cmocka_unit_test(test_offset_and_hex),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_size_disagrees),
	};

	return TU_RUN("hash", tests);
}
