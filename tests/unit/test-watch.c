/* The watcher keeps the index equal to the disk through events alone
 * (no rescan): a directory deleted and made again, which ext4 gives the
 * same inode number, a directory whose mode changes, one renamed into a
 * directory made just before, a file rewritten many times, one written
 * through a name in a directory nobody watches, and one given a name in a
 * directory listed whole. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "ctxd/watch.h"
#include "testutil.h"
#include "treewalk.h"

struct fixture {
	uv_loop_t loop;
	char *tmp, root[4096];
	struct ctxd_watch *w;
};

static char *at(struct fixture *f, const char *rel)
{
	static char p[2][8192];
	static unsigned k;

	k = (k + 1) % 2;
	snprintf(p[k], sizeof p[k], "%s/%s", f->root, rel);
	return p[k];
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct ctxd_error err;

	assert_non_null(f);
	f->tmp = tu_mkdtemp();
	assert_non_null(realpath(f->tmp, f->root));
	tu_write(f->root, "Dockerfile", "FROM scratch\nCOPY . /\n");
	tu_write(f->root, ".dockerignore", "logs\n");
	tu_write(f->root, "d/old.txt", "old\n");
	tu_write(f->root, "d/sub/x.txt", "x\n");
	tu_write(f->root, "logs/l.txt", "l\n");
	assert_int_equal(uv_loop_init(&f->loop), 0);
	if (ctxd_watch_create(&f->loop, f->root, &f->w, &err) < 0)
		fail_msg("watch: %s", err.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ctxd_watch_destroy(f->w);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	tu_rmtree(f->tmp);
	free(f->tmp);
	free(f);
	return 0;
}

/* Syncs and checks the index against the disk, and that events, not a
 * rescan, got it there. */
static void expect_synced(struct fixture *f)
{
	struct ctxd_watch_status st;
	struct ctxd_error err;

	if (ctxd_watch_sync(f->w, 2000, &err) < 0)
		fail_msg("sync: %s", err.msg);
	ctxd_watch_status(f->w, &st);
	assert_string_equal(st.state, "watching");
	assert_int_equal(st.rescans, 0);
	tw_expect_same(f->root, ctxd_watch_index(f->w));
}

static void test_recreated_dir(void **state)
{
	struct fixture *f = *state;

	for (int round = 0; round < 3; round++) {
		tu_rmtree(at(f, "d"));
		tu_mkdir(f->root, "d");
		tu_write(f->root, "d/new.txt", "new\n");
		tu_write(f->root, "d/sub/y.txt", "y\n");
		expect_synced(f);
		/* the new directory is watched: a later write is seen */
		tu_write(f->root, "d/sub/y.txt", "y, longer\n");
		tu_write(f->root, "d/later.txt", "later\n");
		expect_synced(f);
	}
}

static void test_dir_mode(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(chmod(at(f, "d"), 0700), 0);
	expect_synced(f);
	tu_write(f->root, "d/after.txt", "after\n");
	assert_int_equal(chmod(at(f, "d/sub"), 0750), 0);
	expect_synced(f);
}

static void test_rename_into_new_dir(void **state)
{
	struct fixture *f = *state;

	tu_mkdir(f->root, "n");
	assert_int_equal(rename(at(f, "d"), at(f, "n/d")), 0);
	tu_write(f->root, "n/d/moved.txt", "moved\n");
	expect_synced(f);
	assert_int_equal(rename(at(f, "n/d"), at(f, "d")), 0);
	tu_mkdir(f->root, "n/d");
	tu_write(f->root, "d/back.txt", "back\n");
	expect_synced(f);
}

static void test_rewrites(void **state)
{
	struct fixture *f = *state;
	char body[64];

	for (int i = 0; i < 200; i++) {
		snprintf(body, sizeof body, "%.*s\n", i % 40, "0123456789012345678901234567890123456789");
		tu_write(f->root, i % 2 ? "d/old.txt" : "d/sub/x.txt", body);
		if (i % 3 == 0)
			assert_int_equal(truncate(at(f, "d/old.txt"), i % 5), 0);
	}
	expect_synced(f);
}

static void test_link_in_unread_dir(void **state)
{
	struct fixture *f = *state;

	/* logs/ is ignored, so unwatched: writes through its name of a
	 * shared inode bring no event */
	assert_int_equal(link(at(f, "logs/l.txt"), at(f, "d/shared.txt")), 0);
	expect_synced(f);
	tu_write(f->root, "logs/l.txt", "written through the unwatched name\n");
	expect_synced(f);
	assert_int_equal(unlink(at(f, "logs/l.txt")), 0);
	expect_synced(f);
}

static void test_link_in_new_dir(void **state)
{
	struct fixture *f = *state;

	/* the new directory is listed whole: no event tells d/old.txt that
	 * it has a second name now */
	tu_mkdir(f->root, "n");
	assert_int_equal(link(at(f, "d/old.txt"), at(f, "n/h")), 0);
	expect_synced(f);
	tu_write(f->root, "n/h", "through the new name\n");
	expect_synced(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_recreated_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_into_new_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewrites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_in_unread_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_in_new_dir, setup, teardown),
	};

	return TU_RUN("watch", tests);
}
