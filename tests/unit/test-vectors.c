/* The .dockerignore vector tables (tests/data/ignore-vectors.tsv and
 * ignore-errors.tsv, verified against the docker CLI): every row becomes a
 * real tree that the scanner walks, so pruning and the CLI's forced
 * exceptions are tested along with the matcher. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/context.h"
#include "ctxd/scan.h"
#include "testutil.h"

static const char *vectors_path, *errors_path;

/* The patterns column joins lines with the two characters '\' 'n'. */
static char *unjoin(const char *s)
{
	char *out = malloc(strlen(s) + 2), *w = out;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 'n') {
			*w++ = '\n';
			s++;
		} else {
			*w++ = *s;
		}
	}
	*w++ = '\n';
	*w = '\0';
	return out;
}

struct found {
	const char *want;
	bool seen;
};

static int visit(void *ud, const struct ctxd_entry *e, struct ctxd_error *err)
{
	struct found *f = ud;
	size_t wl = strlen(f->want);
	bool dir = wl > 0 && f->want[wl - 1] == '/';

	(void)err;
	if (dir)
		wl--;
	if (e->path_len == wl && memcmp(e->path, f->want, wl) == 0 &&
	    (e->type == CTXD_ENTRY_DIR) == dir)
		f->seen = true;
	return 0;
}

/* Builds the tree for one row; returns its root. */
static char *make_tree(const char *patterns, const char *path)
{
	char *root = tu_mkdtemp(), *ign = unjoin(patterns);

	tu_write(root, "Dockerfile", "FROM scratch\nCOPY . /c/\n");
	tu_write(root, ".dockerignore", ign);
	if (path[strlen(path) - 1] == '/')
		tu_mkdir(root, path);
	else if (strcmp(path, "Dockerfile") && strcmp(path, ".dockerignore"))
		tu_write(root, path, "x\n");
	free(ign);
	return root;
}

static int scan_tree(const char *root, struct found *f, struct ctxd_error *err)
{
	struct ctxd_context_options o = {.dir = root, .classic_ignore = true};
	struct ctxd_context *ctx;
	int rc;

	if (ctxd_context_open(&o, &ctx, err) < 0)
		return -1;
	rc = ctxd_scan_run(ctx, NULL, visit, f, err);
	ctxd_context_destroy(ctx);
	return rc;
}

static FILE *open_table(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		fail_msg("cannot open %s", path);
	if (getline(&line, &cap, f) < 0) /* header */
		fail_msg("%s is empty", path);
	free(line);
	return f;
}

static void test_vectors(void **state)
{
	FILE *f = open_table(vectors_path);
	char *line = NULL;
	size_t cap = 0;
	int rows = 0, bad = 0;

	(void)state;
	while (getline(&line, &cap, f) > 0) {
		char *id, *pats, *path, *exp, *save;
		struct found fd = {0};
		struct ctxd_error err;
		char *root;

		line[strcspn(line, "\n")] = '\0';
		id = strtok_r(line, "\t", &save);
		pats = strtok_r(NULL, "\t", &save);
		path = strtok_r(NULL, "\t", &save);
		exp = strtok_r(NULL, "\t", &save);
		if (!id || !pats || !path || !exp)
			continue;
		rows++;
		root = make_tree(pats, path);
		fd.want = path;
		if (scan_tree(root, &fd, &err) < 0) {
			printf("%s: scan failed: %s\n", id, err.msg);
			bad++;
		} else if (fd.seen != (exp[0] == '0')) {
			printf("%s: patterns [%s] path %s: got %s, want %s\n", id, pats, path,
			       fd.seen ? "sent" : "excluded", exp[0] == '0' ? "sent" : "excluded");
			bad++;
		}
		tu_rmtree(root);
		free(root);
	}
	free(line);
	fclose(f);
	printf("vectors: %d rows, %d wrong\n", rows, bad);
	assert_true(rows >= 100);
	assert_int_equal(bad, 0);
}

static void test_errors(void **state)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	int rows = 0, bad = 0;

	(void)state;
	if (!errors_path) {
		skip();
		return;
	}
	f = open_table(errors_path);
	while (getline(&line, &cap, f) > 0) {
		char *id, *pats, *save;
		struct found fd = {.want = "x"};
		struct ctxd_error err;
		char *root;

		line[strcspn(line, "\n")] = '\0';
		id = strtok_r(line, "\t", &save);
		pats = strtok_r(NULL, "\t", &save);
		if (!id || !pats)
			continue;
		rows++;
		/* the tree verify_vectors.py gave docker for these rows */
		root = make_tree(pats, "a");
		tu_write(root, "sub/b", "x\n");
		tu_write(root, "x.txt", "x\n");
		if (scan_tree(root, &fd, &err) == 0) {
			printf("%s: patterns [%s] accepted; docker rejects them\n", id, pats);
			bad++;
		}
		tu_rmtree(root);
		free(root);
	}
	free(line);
	fclose(f);
	printf("error vectors: %d rows, %d wrong\n", rows, bad);
	assert_int_equal(bad, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_errors),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: test-vectors VECTORS.tsv [ERRORS.tsv]\n");
		return 2;
	}
	vectors_path = argv[1];
	errors_path = argc > 2 ? argv[2] : NULL;
	return TU_RUN("unit-vectors", tests);
}
