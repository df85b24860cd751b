/* The daemon's index: a walk over it equals a walk of the disk (excluded
 * directories read from the disk when the walk needs them), refreshes
 * follow creates, deletes, replacements and link counts, hashes are cached
 * by stat key, the hooks see every listed directory, and memory stays
 * under 200 bytes per entry. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "ctxd/index.h"
#include "testutil.h"
#include "treewalk.h"

struct hooks_seen {
	int watched, unwatched, fail_after;
};

static int on_watch(void *ud, struct ctxd_index_node *dir, const char *path)
{
	struct hooks_seen *h = ud;

	(void)path;
	ctxd_index_node_set_tag(dir, ++h->watched);
	if (h->fail_after && h->watched > h->fail_after) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

static void on_unwatch(void *ud, struct ctxd_index_node *dir)
{
	struct hooks_seen *h = ud;

	assert_true(ctxd_index_node_tag(dir) > 0);
	h->unwatched++;
}

static char *path_of(const char *root, const char *rel)
{
	static char p[4][4096];
	static unsigned k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", root, rel);
	return p[k];
}

/* The listed directory whose path is want_path, seen by the hook. */
static struct ctxd_index_node *found;
static const char *want_path;

static int find_hook(void *ud, struct ctxd_index_node *dir, const char *path)
{
	(void)ud;
	if (strcmp(path, want_path) == 0)
		found = dir;
	return 0;
}

static void make_tree(const char *root)
{
	tu_write(root, "Dockerfile", "FROM scratch\nCOPY . /\n");
	tu_write(root, ".dockerignore", "node_modules\nbuild\n!build/keep\n");
	tu_write(root, "src/a.c", "int a;\n");
	tu_write(root, "src/b.c", "int b;\n");
	tu_write(root, "src/deep/x/y.txt", "y\n");
	tu_write(root, "node_modules/pkg/index.js", "x\n");
	tu_write(root, "build/keep/k.o", "k\n");
	tu_write(root, "build/out.o", "o\n");
	assert_int_equal(symlink("src/a.c", path_of(root, "link")), 0);
	assert_int_equal(link(path_of(root, "src/a.c"), path_of(root, "hard")), 0);
}

static void test_walk_equals_disk(void **state)
{
	char *root = tu_mkdtemp();
	struct hooks_seen seen = {0};
	struct ctxd_index_hooks h = {.watch_dir = on_watch, .unwatch_dir = on_unwatch, .ud = &seen};
	struct ctxd_index *idx;
	struct ctxd_index_stats st;
	struct ctxd_error err;

	(void)state;
	make_tree(root);
	assert_int_equal(ctxd_index_create(root, &h, &idx, &err), 0);
	assert_int_equal(ctxd_index_build(idx, &err), 0);
	tw_expect_same(root, idx);
	/* root, src, src/deep, src/deep/x, build (an exception reaches in),
	 * build/keep; node_modules is left to the disk */
	assert_int_equal(seen.watched, 6);
	ctxd_index_stats(idx, &st);
	assert_int_equal(st.files, 8); /* node_modules/pkg/index.js is not held */
	assert_true(st.memory / st.entries <= 200);
	/* a rebuild lets go of every old watch before taking new ones */
	assert_int_equal(ctxd_index_build(idx, &err), 0);
	assert_int_equal(seen.unwatched, 6);
	assert_int_equal(seen.watched, 12);
	tw_expect_same(root, idx);
	ctxd_index_destroy(idx);
	assert_int_equal(seen.unwatched, 12);
	tu_rmtree(root);
	free(root);
}

static void test_refresh(void **state)
{
	char *root = tu_mkdtemp();
	struct ctxd_index_hooks h = {.watch_dir = find_hook};
	struct ctxd_index *idx;
	struct ctxd_index_node *top;
	struct ctxd_error err;

	(void)state;
	make_tree(root);
	assert_int_equal(ctxd_index_create(root, &h, &idx, &err), 0);
	want_path = root;
	assert_int_equal(ctxd_index_build(idx, &err), 0);
	top = found;
	assert_non_null(top);
	/* a new file, a changed one, a removed one */
	tu_write(root, "new.txt", "new\n");
	assert_int_equal(ctxd_index_refresh(idx, top, "new.txt", &err), 0);
	tu_write(root, "Dockerfile", "FROM scratch\nCOPY . /\n# longer\n");
	assert_int_equal(ctxd_index_refresh(idx, top, "Dockerfile", &err), 0);
	tw_expect_same(root, idx);
	/* a directory replaced by a file, a symlink retargeted */
	tu_rmtree(path_of(root, "src/deep"));
	tu_write(root, "src/deep", "now a file\n");
	unlink(path_of(root, "link"));
	assert_int_equal(symlink("elsewhere", path_of(root, "link")), 0);
	assert_int_equal(ctxd_index_refresh(idx, top, "link", &err), 0);
	/* a renamed directory: gone from one name, listed whole at the other */
	rename(path_of(root, "src"), path_of(root, "src2"));
	assert_int_equal(ctxd_index_refresh(idx, top, "src", &err), 0);
	assert_int_equal(ctxd_index_refresh(idx, top, "src2", &err), 0);
	tw_expect_same(root, idx);
	/* the other name of a hard link sees its link count drop */
	unlink(path_of(root, "hard"));
	assert_int_equal(ctxd_index_refresh(idx, top, "hard", &err), 0);
	tw_expect_same(root, idx);
	/* the ignore file changing asks for a rebuild; cookies are ignored */
	assert_int_equal(ctxd_index_refresh(idx, top, ".dockerignore", &err), 1);
	assert_int_equal(ctxd_index_refresh(idx, top, CTXD_INDEX_COOKIE_PREFIX "1", &err), 0);
	ctxd_index_destroy(idx);
	tu_rmtree(root);
	free(root);
}

/* Watches every directory but d, as if d vanished between its stat and
 * its watch; remembers the root. */
static int lose_d(void *ud, struct ctxd_index_node *dir, const char *path)
{
	size_t len = strlen(path);

	(void)ud;
	if (strcmp(path, want_path) == 0)
		found = dir;
	if (len >= 2 && strcmp(path + len - 2, "/d") == 0)
		return 0;
	ctxd_index_node_set_tag(dir, 1);
	return 0;
}

static void test_unwatched_dir_relisted(void **state)
{
	char *root = tu_mkdtemp();
	struct ctxd_index_hooks h = {.watch_dir = lose_d};
	struct ctxd_index *idx;
	struct ctxd_error err;

	(void)state;
	tu_write(root, "Dockerfile", "FROM scratch\n");
	tu_write(root, "d/old.txt", "old\n");
	assert_int_equal(ctxd_index_create(root, &h, &idx, &err), 0);
	want_path = root;
	assert_int_equal(ctxd_index_build(idx, &err), 0);
	/* the directory at d (same inode, as ext4 would give a new one) gets
	 * a file nothing reported; the next event naming d lists it again */
	tu_write(root, "d/new.txt", "new\n");
	assert_int_equal(ctxd_index_refresh(idx, found, "d", &err), 0);
	tw_expect_same(root, idx);
	ctxd_index_destroy(idx);
	tu_rmtree(root);
	free(root);
}

static void test_hash_cache(void **state)
{
	char *root = tu_mkdtemp();
	struct ctxd_index *idx;
	struct ctxd_hash h1, h2;
	struct ctxd_hash_key k1, k2;
	struct ctxd_index_stats st;
	struct ctxd_error err;
	XXH128_hash_t want = XXH3_128bits("int a;\n", 7);
	struct timespec old[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};

	(void)state;
	make_tree(root);
	/* an old ctime cannot be set; the cache needs the clock past it, so
	 * only the value is checked when the file is fresh */
	utimensat(AT_FDCWD, path_of(root, "src/b.c"), old, 0);
	assert_int_equal(ctxd_index_create(root, NULL, &idx, &err), 0);
	assert_int_equal(ctxd_index_build(idx, &err), 0);
	assert_int_equal(ctxd_index_hash(idx, "src/a.c", &h1, &k1, &err), 0);
	assert_true(h1.hi == want.high64 && h1.lo == want.low64);
	assert_int_equal(ctxd_index_hash(idx, "src/a.c", &h2, &k2, &err), 0);
	assert_true(ctxd_hash_equal(&h1, &h2) && ctxd_hash_key_equal(&k1, &k2));
	assert_int_equal(ctxd_index_hash(idx, "missing", &h1, &k1, &err), -1);
	ctxd_index_stats(idx, &st);
	assert_true(st.hashed <= 1);
	ctxd_index_destroy(idx);
	tu_rmtree(root);
	free(root);
}

static void test_hook_failure(void **state)
{
	char *root = tu_mkdtemp();
	struct hooks_seen seen = {.fail_after = 2};
	struct ctxd_index_hooks h = {.watch_dir = on_watch, .unwatch_dir = on_unwatch, .ud = &seen};
	struct ctxd_index *idx;
	struct ctxd_error err;
	int e = 0;

	(void)state;
	make_tree(root);
	assert_int_equal(ctxd_index_create(root, &h, &idx, &err), 0);
	assert_int_equal(ctxd_index_build(idx, &err), 0);
	assert_int_equal(ctxd_index_hook_failed(idx, &e), 4);
	assert_int_equal(e, ENOSPC);
	/* the index is still whole */
	tw_expect_same(root, idx);
	ctxd_index_destroy(idx);
	tu_rmtree(root);
	free(root);
}

static void test_missing_root(void **state)
{
	struct ctxd_index *idx;
	struct ctxd_error err;

	(void)state;
	assert_int_equal(ctxd_index_create("/nonexistent/ctxd-root", NULL, &idx, &err), 0);
	assert_int_equal(ctxd_index_build(idx, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/ctxd-root"));
	ctxd_index_destroy(idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_equals_disk),
		cmocka_unit_test(test_refresh),
		cmocka_unit_test(test_unwatched_dir_relisted),
		cmocka_unit_test(test_hash_cache),
		cmocka_unit_test(test_hook_failure),
		cmocka_unit_test(test_missing_root),
	};

	return TU_RUN("index", tests);
}
