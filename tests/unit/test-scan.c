/* Context resolution and the scan: order, pruning, special files, the
 * outside-Dockerfile rewrite, and the errors Docker raises. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctxd/buf.h"
#include "ctxd/context.h"
#include "ctxd/scan.h"
#include "testutil.h"

struct listing {
	struct ctxd_buf names; /* "name\n" per entry; dirs end in '/' */
	int warnings;
};

static int collect(void *ud, const struct ctxd_entry *e, struct ctxd_error *err)
{
	struct listing *l = ud;

	(void)err;
	if (e->excluded)
		return 0;
	ctxd_buf_append(&l->names, e->path, e->path_len);
	if (e->type == CTXD_ENTRY_DIR)
		ctxd_buf_putc(&l->names, '/');
	if (e->type == CTXD_ENTRY_HARDLINK)
		ctxd_buf_printf(&l->names, " => %s", e->link);
	ctxd_buf_putc(&l->names, '\n');
	return 0;
}

static void on_warn(void *ud, const char *msg)
{
	(void)msg;
	((struct listing *)ud)->warnings++;
}

/* Scans and returns the listing, or NULL with err set. */
static char *scan(const char *dir, const char *dockerfile, bool classic, struct ctxd_error *err,
		  int *warnings)
{
	struct ctxd_context_options o = {.dir = dir, .dockerfile = dockerfile, .classic_ignore = classic};
	struct listing l = {0};
	struct ctxd_scan_options so = {.warn = on_warn, .warn_ud = &l};
	struct ctxd_context *ctx;
	int rc;

	if (ctxd_context_open(&o, &ctx, err) < 0)
		return NULL;
	rc = ctxd_scan_run(ctx, &so, collect, &l, err);
	ctxd_context_destroy(ctx);
	if (warnings)
		*warnings = l.warnings;
	if (rc < 0) {
		ctxd_buf_free(&l.names);
		return NULL;
	}
	return ctxd_buf_take(&l.names);
}

static void expect_listing(const char *dir, const char *df, const char *want)
{
	struct ctxd_error err;
	char *got = scan(dir, df, true, &err, NULL);

	if (!got)
		fail_msg("scan failed: %s", err.msg);
	if (strcmp(got, want) != 0)
		fail_msg("listing:\n%s\nwant:\n%s", got, want);
	free(got);
}

static void test_order(void **state)
{
	char *root = tu_mkdtemp();

	(void)state;
	tu_write(root, "Dockerfile", "FROM scratch\n");
	tu_write(root, "B", "");
	tu_write(root, "a/x", "");
	tu_write(root, "a-b", "");
	tu_write(root, "a.txt", "");
	tu_mkdir(root, "empty");
	/* per-directory byte order, not a sort of full paths */
	expect_listing(root, NULL, "B\nDockerfile\na/\na/x\na-b\na.txt\nempty/\n");
	tu_rmtree(root);
	free(root);
}

static void test_special_files(void **state)
{
	char *root = tu_mkdtemp(), *p;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ctxd_error err;
	int s, warnings = 0;
	char *got;

	(void)state;
	tu_write(root, "Dockerfile", "FROM scratch\n");
	tu_write(root, "f", "data");
	assert_true(asprintf(&p, "%s/f", root) > 0);
	{
		char *q;

		assert_true(asprintf(&q, "%s/g", root) > 0);
		assert_int_equal(link(p, q), 0);
		free(q);
		assert_true(asprintf(&q, "%s/l", root) > 0);
		assert_int_equal(symlink("/etc/passwd", q), 0);
		free(q);
		assert_true(asprintf(&q, "%s/p", root) > 0);
		assert_int_equal(mkfifo(q, 0644), 0);
		free(q);
	}
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/s", root);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
	got = scan(root, NULL, true, &err, &warnings);
	assert_non_null(got);
	/* the second name of an inode is a hard link; the socket is skipped */
	assert_string_equal(got, "Dockerfile\nf\ng => f\nl\np\n");
	assert_int_equal(warnings, 1);
	free(got);
	close(s);
	free(p);
	tu_rmtree(root);
	free(root);
}

static void test_forced_files(void **state)
{
	char *root = tu_mkdtemp(), *df;

	(void)state;
	tu_write(root, "Dockerfile", "FROM scratch\n");
	tu_write(root, ".dockerignore", "*\n");
	tu_write(root, "x", "");
	/* the CLI always sends the Dockerfile and .dockerignore */
	expect_listing(root, NULL, ".dockerignore\nDockerfile\n");
	tu_write(root, "docker/app/Dockerfile", "FROM scratch\n");
	tu_write(root, ".dockerignore", "docker\n");
	assert_true(asprintf(&df, "%s/docker/app/Dockerfile", root) > 0);
	/* its directories are walked, not sent */
	expect_listing(root, df, ".dockerignore\nDockerfile\ndocker/app/Dockerfile\nx\n");
	free(df);
	tu_rmtree(root);
	free(root);
}

static void test_lowercase_dockerfile(void **state)
{
	char *root = tu_mkdtemp();
	struct ctxd_context_options o = {0};
	struct ctxd_context *ctx;
	struct ctxd_error err;

	(void)state;
	tu_write(root, "dockerfile", "FROM scratch\n");
	o.dir = root;
	assert_int_equal(ctxd_context_open(&o, &ctx, &err), 0);
	assert_string_equal(ctx->dockerfile_rel, "dockerfile");
	ctxd_context_destroy(ctx);
	tu_rmtree(root);
	free(root);
}

static void test_outside_dockerfile(void **state)
{
	char *top = tu_mkdtemp(), *ctxdir, *df, *got;
	struct ctxd_error err;

	(void)state;
	tu_write(top, "ctx/a", "");
	tu_write(top, "Dockerfile.out", "FROM scratch\n");
	assert_true(asprintf(&ctxdir, "%s/ctx", top) > 0);
	assert_true(asprintf(&df, "%s/Dockerfile.out", top) > 0);
	got = scan(ctxdir, df, true, &err, NULL);
	assert_non_null(got);
	/* a copy named by content, and a .dockerignore naming it */
	assert_non_null(strstr(got, "a\n.dockerfile."));
	assert_non_null(strstr(got, "\n.dockerignore\n"));
	free(got);
	free(ctxdir);
	free(df);
	tu_rmtree(top);
	free(top);
}

static void test_ignore_file_choice(void **state)
{
	char *root = tu_mkdtemp(), *got;
	struct ctxd_error err;

	(void)state;
	tu_write(root, "Dockerfile", "FROM scratch\n");
	tu_write(root, "Dockerfile.dockerignore", "b\n");
	tu_write(root, ".dockerignore", "a\n");
	tu_write(root, "a", "");
	tu_write(root, "b", "");
	/* BuildKit: <Dockerfile>.dockerignore replaces the root file */
	got = scan(root, NULL, false, &err, NULL);
	assert_string_equal(got, ".dockerignore\nDockerfile\nDockerfile.dockerignore\na\n");
	free(got);
	/* classic CLI: only the root file counts */
	got = scan(root, NULL, true, &err, NULL);
	assert_string_equal(got, ".dockerignore\nDockerfile\nDockerfile.dockerignore\nb\n");
	free(got);
	tu_rmtree(root);
	free(root);
}

static void expect_open_error(const char *dir, const char *df, const char *want)
{
	struct ctxd_context_options o = {.dir = dir, .dockerfile = df};
	struct ctxd_context *ctx;
	struct ctxd_error err;

	if (ctxd_context_open(&o, &ctx, &err) == 0)
		fail_msg("context %s opened", dir);
	if (!strstr(err.msg, want))
		fail_msg("error '%s' lacks '%s'", err.msg, want);
}

static void test_context_errors(void **state)
{
	char *root = tu_mkdtemp(), *f, *bad;

	(void)state;
	tu_write(root, "file", "");
	assert_true(asprintf(&f, "%s/file", root) > 0);
	assert_true(asprintf(&bad, "%s/nope", root) > 0);
	expect_open_error(bad, NULL, "not found");
	expect_open_error(f, NULL, "context must be a directory");
	expect_open_error(root, NULL, "cannot locate Dockerfile");
	expect_open_error(root, bad, "cannot locate Dockerfile");
	tu_write(root, "Dockerfile", "FROM scratch\n");
	tu_write(root, ".dockerignore", "ok\n[\n");
	expect_open_error(root, NULL, ".dockerignore:2: [: syntax error in pattern");
	free(f);
	free(bad);
	tu_rmtree(root);
	free(root);
}

/* Runs a scan as uid/gid 65534 in a child; returns its message. */
static char *scan_as_nobody(const char *root)
{
	int fds[2];
	pid_t pid;
	char buf[2048] = "";
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		struct ctxd_error err;
		char *got;

		close(fds[0]);
		if (setgid(65534) || setuid(65534))
			_exit(3);
		got = scan(root, NULL, true, &err, NULL);
		if (!got && write(fds[1], err.msg, strlen(err.msg)) < 0)
			_exit(4);
		_exit(got ? 0 : 1);
	}
	close(fds[1]);
	n = read(fds[0], buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	waitpid(pid, NULL, 0);
	return strdup(buf);
}

static void test_permission_errors(void **state)
{
	char *root, *p, *msg;

	(void)state;
	if (geteuid() != 0) {
		skip(); /* needs to become another user */
		return;
	}
	root = tu_mkdtemp();
	chmod(root, 0755);
	tu_write(root, "Dockerfile", "FROM scratch\n");
	tu_write(root, "secret", "x");
	assert_true(asprintf(&p, "%s/secret", root) > 0);
	chmod(p, 0600);
	msg = scan_as_nobody(root);
	assert_non_null(strstr(msg, "no permission to read from"));
	assert_non_null(strstr(msg, "secret"));
	free(msg);
	/* excluded, an unreadable file is fine ... */
	tu_write(root, ".dockerignore", "secret\nlocked\n");
	msg = scan_as_nobody(root);
	assert_string_equal(msg, "");
	free(msg);
	/* ... but an unreadable excluded directory fails, as in Docker */
	tu_mkdir(root, "locked");
	free(p);
	assert_true(asprintf(&p, "%s/locked", root) > 0);
	chmod(p, 0700);
	msg = scan_as_nobody(root);
	assert_non_null(strstr(msg, "can't stat"));
	assert_non_null(strstr(msg, "locked"));
	free(msg);
	free(p);
	tu_rmtree(root);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_special_files),
		cmocka_unit_test(test_forced_files),
		cmocka_unit_test(test_lowercase_dockerfile),
		cmocka_unit_test(test_outside_dockerfile),
		cmocka_unit_test(test_ignore_file_choice),
		cmocka_unit_test(test_context_errors),
		cmocka_unit_test(test_permission_errors),
	};

	return TU_RUN("unit-scan", tests);
}
