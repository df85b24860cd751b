/* The Dockerfile filter and the pruned walk: what is sent, what is listed
 * as not read, which directories are never opened, symlinks along named
 * paths, and the cases that must keep the whole context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctxd/buf.h"
#include "ctxd/context.h"
#include "ctxd/scan.h"
#include "ctxd/select.h"
#include "ctxd/summary.h"
#include "testutil.h"

struct listing {
	struct ctxd_buf sent;     /* "name\n"; dirs end in '/' */
	struct ctxd_buf unread;   /* excluded as not read, "name\n" ("name/!" if not opened) */
	int warnings;
};

static int collect(void *ud, const struct ctxd_entry *e, struct ctxd_error *err)
{
	struct listing *l = ud;
	struct ctxd_buf *b = e->excluded ? &l->unread : &l->sent;

	(void)err;
	if (e->excluded && e->reason != CTXD_REASON_NOT_READ)
		return 0;
	ctxd_buf_append(b, e->path, e->path_len);
	if (e->type == CTXD_ENTRY_DIR)
		ctxd_buf_putc(b, '/');
	if (e->pruned)
		ctxd_buf_putc(b, '!');
	ctxd_buf_putc(b, '\n');
	return 0;
}

static void on_warn(void *ud, const char *msg)
{
	(void)msg;
	((struct listing *)ud)->warnings++;
}

struct run {
	const char *target;
	const char *const *args;
	size_t nargs;
	bool list_unread;
};

/* Scans dir with the Dockerfile filter; fills l; returns the select's
 * "everything" reason (strdup'd) or NULL. */
static char *prune(const char *dir, const struct run *r, struct listing *l)
{
	struct ctxd_context_options o = {.dir = dir};
	struct ctxd_select_options sopt = {.warn = on_warn, .ud = l};
	struct ctxd_scan_options so = {.warn = on_warn, .warn_ud = l, .want_excluded = true};
	struct ctxd_context *ctx;
	struct ctxd_select *sel;
	struct ctxd_error err;
	char *why;

	if (r) {
		sopt.target = r->target;
		sopt.build_args = r->args;
		sopt.nbuild_args = r->nargs;
		so.list_unread = r->list_unread;
	}
	assert_int_equal(ctxd_context_open(&o, &ctx, &err), 0);
	assert_int_equal(ctxd_select_create(ctx, &sopt, &sel, &err), 0);
	so.select = sel;
	if (ctxd_scan_run(ctx, &so, collect, l, &err) < 0)
		fail_msg("scan: %s", err.msg);
	why = ctxd_select_all(sel) ? strdup(ctxd_select_all_reason(sel)) : NULL;
	ctxd_select_destroy(sel);
	ctxd_context_destroy(ctx);
	ctxd_buf_putc(&l->sent, '\0');
	ctxd_buf_putc(&l->unread, '\0');
	return why;
}

static void free_listing(struct listing *l)
{
	ctxd_buf_free(&l->sent);
	ctxd_buf_free(&l->unread);
}

static char *tree(const char *dockerfile)
{
	char *d = tu_mkdtemp();

	tu_write(d, "Dockerfile", dockerfile);
	tu_write(d, "package.json", "{}");
	tu_write(d, "src/a.js", "a");
	tu_write(d, "src/lib/b.js", "b");
	tu_write(d, "src/lib/c.ts", "c");
	tu_write(d, "docs/readme.md", "r");
	tu_write(d, "data/big/blob", "blob");
	return d;
}

static void test_copy_sources(void **state)
{
	char *d = tree("FROM scratch\nCOPY package.json /app/\nCOPY src/lib /app/lib\n");
	struct listing l = {0};

	(void)state;
	assert_null(prune(d, NULL, &l));
	assert_string_equal(l.sent.data, "Dockerfile\npackage.json\nsrc/\nsrc/lib/\nsrc/lib/b.js\nsrc/lib/c.ts\n");
	/* unread directories are listed unopened; src is opened and its file listed */
	assert_string_equal(l.unread.data, "data/!\ndocs/!\nsrc/a.js\n");
	free_listing(&l);
	tu_rmtree(d);
	free(d);
}

static void test_wildcards(void **state)
{
	char *d = tree("FROM scratch\nCOPY src/*/*.js /app/\nCOPY *.json /app/\n");
	struct listing l = {0};

	(void)state;
	assert_null(prune(d, NULL, &l));
	assert_string_equal(l.sent.data, "Dockerfile\npackage.json\nsrc/\nsrc/lib/\nsrc/lib/b.js\n");
	free_listing(&l);
	tu_rmtree(d);
	free(d);
}

static void test_list_unread(void **state)
{
	char *d = tree("FROM scratch\nCOPY package.json /\n");
	struct listing l = {0};
	struct run r = {.list_unread = true};

	(void)state;
	assert_null(prune(d, &r, &l));
	assert_string_equal(l.sent.data, "Dockerfile\npackage.json\n");
	assert_string_equal(l.unread.data, "data/\ndata/big/\ndata/big/blob\ndocs/\ndocs/readme.md\n"
					   "src/\nsrc/a.js\nsrc/lib/\nsrc/lib/b.js\nsrc/lib/c.ts\n");
	free_listing(&l);
	tu_rmtree(d);
	free(d);
}

static void test_unread_dir_never_opened(void **state)
{
	char *d = tree("FROM scratch\nCOPY src /src\n");
	char path[4096];
	int status;
	pid_t pid;

	(void)state;
	snprintf(path, sizeof path, "%s/data", d);
	assert_int_equal(chmod(d, 0755), 0);
	assert_int_equal(chmod(path, 0), 0);
	/* root opens anything: the check runs as nobody */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct listing l = {0};

		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(2);
		if (prune(d, NULL, &l) || l.warnings ||
		    strcmp(l.sent.data, "Dockerfile\nsrc/\nsrc/a.js\nsrc/lib/\nsrc/lib/b.js\nsrc/lib/c.ts\n"))
			_exit(1);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	chmod(path, 0755);
	tu_rmtree(d);
	free(d);
}

static void test_symlinks_followed(void **state)
{
	char *d = tree("FROM scratch\nCOPY app/ /app/\nCOPY conf/*.cfg /etc/\n");
	struct listing l = {0};
	char link[4096];

	(void)state;
	snprintf(link, sizeof link, "%s/app", d);
	assert_int_equal(symlink("src/lib", link), 0);
	tu_write(d, "real/x.cfg", "x");
	tu_write(d, "real/y.txt", "y");
	tu_mkdir(d, "conf");
	snprintf(link, sizeof link, "%s/conf/x.cfg", d);
	assert_int_equal(symlink("/real/x.cfg", link), 0); /* absolute: re-rooted at the context */
	assert_null(prune(d, NULL, &l));
	assert_string_equal(l.sent.data, "Dockerfile\napp\nconf/\nconf/x.cfg\nreal/\nreal/x.cfg\n"
					 "src/\nsrc/lib/\nsrc/lib/b.js\nsrc/lib/c.ts\n");
	free_listing(&l);
	tu_rmtree(d);
	free(d);
}

/* COPY cfg/app.ini where cfg is a link: the daemon resolves the path
 * through the link, so the link goes along with its target's file (corpus
 * case symlinks); a link met through a wildcard component too. */
static void test_symlink_in_the_middle(void **state)
{
	char *d = tree("FROM scratch\nCOPY cfg/app.ini /etc/\nCOPY pkg*/x.js /x/\n");
	struct listing l = {0};
	char link[4096];

	(void)state;
	tu_write(d, "config/app.ini", "i");
	tu_write(d, "config/other.ini", "o");
	snprintf(link, sizeof link, "%s/cfg", d);
	assert_int_equal(symlink("config", link), 0);
	tu_write(d, "lib/x.js", "x");
	tu_write(d, "lib/y.js", "y");
	snprintf(link, sizeof link, "%s/pkg1", d);
	assert_int_equal(symlink("lib", link), 0);
	assert_null(prune(d, NULL, &l));
	assert_string_equal(l.sent.data, "Dockerfile\ncfg\nconfig/\nconfig/app.ini\nlib/\nlib/x.js\n"
					 "pkg1\n");
	free_listing(&l);
	tu_rmtree(d);
	free(d);
}

static void test_stages_and_args(void **state)
{
	char *d = tree("ARG DIR=docs\n"
		       "FROM scratch AS docs\nARG DIR\nCOPY $DIR /d\n"
		       "FROM scratch AS app\nCOPY src/a.js /\n"
		       "FROM scratch\nCOPY --from=app /a.js /\n");
	const char *args[] = {"DIR=data"};
	struct listing l = {0};
	struct run r = {.target = "docs", .args = args, .nargs = 1};

	(void)state;
	assert_null(prune(d, NULL, &l));
	assert_string_equal(l.sent.data, "Dockerfile\nsrc/\nsrc/a.js\n");
	free_listing(&l);
	memset(&l, 0, sizeof l);
	assert_null(prune(d, &r, &l));
	assert_string_equal(l.sent.data, "Dockerfile\ndata/\ndata/big/\ndata/big/blob\n");
	free_listing(&l);
	tu_rmtree(d);
	free(d);
}

static void test_whole_context(void **state)
{
	static const char *const files[] = {
		"FROM scratch\nCOPY . /app\n",
		"FROM scratch\nARG X\nCOPY $X /app\n",
		"FROM busybox\nRUN --mount=type=bind,target=/src cat /src/x\n",
		"# syntax=example.com/custom:1\nFROM scratch\nCOPY a /\n",
		"FROM scratch\nCOPY [ /\n",
		"FROM scratch\nNOTANINSTRUCTION x\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		char *d = tree(files[i]);
		struct listing l = {0};
		char *why = prune(d, NULL, &l);

		if (!why)
			fail_msg("case %zu: pruned: %s", i, l.sent.data);
		assert_non_null(strstr(l.sent.data, "docs/readme.md"));
		free(why);
		free_listing(&l);
		tu_rmtree(d);
		free(d);
	}
}

static void test_dockerignore_still_applies(void **state)
{
	char *d = tree("FROM scratch\nCOPY src /src\n");
	struct listing l = {0};

	(void)state;
	tu_write(d, ".dockerignore", "src/lib\n");
	assert_null(prune(d, NULL, &l));
	assert_string_equal(l.sent.data, ".dockerignore\nDockerfile\nsrc/\nsrc/a.js\n");
	free_listing(&l);
	tu_rmtree(d);
	free(d);
}

static void test_explain_and_names(void **state)
{
	char *d = tree("FROM scratch\nCOPY src/lib /lib\nCOPY *.json /\n");
	struct ctxd_context_options o = {.dir = d};
	struct ctxd_context *ctx;
	struct ctxd_select *sel;
	struct ctxd_error err;
	const char *why;

	(void)state;
	assert_int_equal(ctxd_context_open(&o, &ctx, &err), 0);
	assert_int_equal(ctxd_select_create(ctx, NULL, &sel, &err), 0);
	why = ctxd_select_explain(sel, "src/lib/b.js", 12);
	assert_non_null(why);
	assert_non_null(strstr(why, "read by COPY at "));
	assert_non_null(strstr(why, "Dockerfile:2"));
	assert_non_null(strstr(why, "names src/lib"));
	assert_null(ctxd_select_explain(sel, "docs/readme.md", 14));
	assert_true(ctxd_select_names(sel, "src/lib/b.js", 12));
	assert_false(ctxd_select_names(sel, "package.json", 12)); /* only through a wildcard */
	assert_true(ctxd_select_names(sel, "Dockerfile", 10));
	assert_int_equal(ctxd_select_path(sel, "src", 3, true, &err), CTXD_SELECT_BELOW);
	assert_int_equal(ctxd_select_path(sel, "docs", 4, true, &err), CTXD_SELECT_OUT);
	assert_int_equal(ctxd_select_path(sel, "package.json", 12, false, &err), CTXD_SELECT_IN);
	ctxd_select_destroy(sel);
	ctxd_context_destroy(ctx);
	tu_rmtree(d);
	free(d);
}

static void test_summary(void **state)
{
	char *d = tree("FROM scratch\nCOPY package.json /\n");
	struct ctxd_context_options o = {.dir = d};
	struct ctxd_context *ctx;
	struct ctxd_select *sel;
	struct ctxd_summary sum = {0};
	struct ctxd_scan_options so = {.want_excluded = true, .list_unread = true};
	struct ctxd_buf line = {0};
	struct ctxd_error err;

	(void)state;
	tu_write(d, ".dockerignore", "docs\n");
	assert_int_equal(ctxd_context_open(&o, &ctx, &err), 0);
	assert_int_equal(ctxd_select_create(ctx, NULL, &sel, &err), 0);
	so.select = sel;
	assert_int_equal(ctxd_scan_run(ctx, &so, ctxd_summary_visit, &sum, &err), 0);
	/* .dockerignore, Dockerfile, package.json sent; a, b, c, blob not read */
	assert_int_equal(sum.sent.files, 3);
	assert_int_equal(sum.docker.files, 7);
	assert_int_equal(sum.by_reason[CTXD_REASON_NOT_READ].files, 4);
	assert_int_equal(sum.by_reason[CTXD_REASON_NOT_READ].bytes, 7);
	assert_int_equal(sum.by_reason[CTXD_REASON_DOCKERIGNORE].files, 0); /* docs not opened */
	ctxd_summary_format(&sum, &line);
	assert_non_null(strstr(line.data, "not read by the Dockerfile: 4 files, 7B"));
	ctxd_buf_free(&line);
	ctxd_select_destroy(sel);
	ctxd_context_destroy(ctx);
	tu_rmtree(d);
	free(d);
}

struct hidden {
	struct ctxd_buf paths;   /* "path\n" each */
	struct ctxd_buf readers; /* "reader\n" each, "?" for none */
};

static void on_hidden(void *ud, const char *path, const char *reader)
{
	struct hidden *h = ud;

	ctxd_buf_printf(&h->paths, "%s\n", path);
	ctxd_buf_printf(&h->readers, "%s\n", reader ? reader : "?");
}

/* ctxd_select_hidden_reads on a tree; with analyse off (as with --exact)
 * there is no selection. */
static void hidden(const char *dir, const char *dockerfile, bool analyse, struct hidden *h)
{
	struct ctxd_context_options o = {.dir = dir, .dockerfile = dockerfile};
	struct ctxd_context *ctx;
	struct ctxd_select *sel = NULL;
	struct ctxd_error err;

	ctxd_buf_free(&h->paths);
	ctxd_buf_free(&h->readers);
	assert_int_equal(ctxd_context_open(&o, &ctx, &err), 0);
	if (analyse)
		assert_int_equal(ctxd_select_create(ctx, NULL, &sel, &err), 0);
	assert_int_equal(ctxd_select_hidden_reads(sel, ctx, on_hidden, h, &err), 0);
	ctxd_select_destroy(sel);
	ctxd_context_destroy(ctx);
	ctxd_buf_putc(&h->paths, '\0');
	ctxd_buf_putc(&h->readers, '\0');
}

static void test_hidden_reads(void **state)
{
	char *d = tree("FROM scratch\nCOPY . /c/\n");
	char *out = tu_mkdtemp(), path[4096];
	struct hidden h = {0};

	(void)state;
	/* nothing excluded: docker's BuildKit shows them to COPY too */
	hidden(d, NULL, true, &h);
	assert_string_equal(h.paths.data, "");
	tu_write(d, ".dockerignore", "Dockerfile\n.dockerignore\ndocs\n");
	hidden(d, NULL, true, &h);
	assert_string_equal(h.paths.data, "Dockerfile\n.dockerignore\n");
	assert_non_null(strstr(h.readers.data, "COPY . (line 2) reads the whole context\n"));
	hidden(d, NULL, false, &h);
	assert_string_equal(h.paths.data, "Dockerfile\n.dockerignore\n");
	assert_string_equal(h.readers.data, "?\n?\n");
	/* no step reads them */
	tu_write(d, "Dockerfile", "FROM scratch\nCOPY src /src\n");
	hidden(d, NULL, true, &h);
	assert_string_equal(h.paths.data, "");
	/* a wildcard matching the Dockerfile, not .dockerignore */
	tu_write(d, "Dockerfile", "FROM scratch\nCOPY Docker* /x/\n");
	hidden(d, NULL, true, &h);
	assert_string_equal(h.paths.data, "Dockerfile\n");
	assert_non_null(strstr(h.readers.data, "read by COPY at "));
	/* an outside Dockerfile travels as a copy, with a .dockerignore naming it */
	tu_write(out, "Dockerfile", "FROM scratch\nCOPY . /c/\n");
	snprintf(path, sizeof path, "%s/.dockerignore", d);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof path, "%s/Dockerfile", out);
	hidden(d, path, true, &h);
	assert_true(strncmp(h.paths.data, ".dockerfile.", 12) == 0);
	assert_non_null(strstr(h.paths.data, "\n.dockerignore\n"));
	ctxd_buf_free(&h.paths);
	ctxd_buf_free(&h.readers);
	tu_rmtree(out);
	free(out);
	tu_rmtree(d);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_sources),
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_list_unread),
		cmocka_unit_test(test_unread_dir_never_opened),
		cmocka_unit_test(test_symlinks_followed),
		cmocka_unit_test(test_symlink_in_the_middle),
		cmocka_unit_test(test_stages_and_args),
		cmocka_unit_test(test_whole_context),
		cmocka_unit_test(test_dockerignore_still_applies),
		cmocka_unit_test(test_explain_and_names),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_hidden_reads),
	};

	return TU_RUN("select", tests);
}
