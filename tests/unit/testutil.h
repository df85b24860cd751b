/* Helpers shared by the unit tests: cmocka includes, temporary trees, and
 * the closing "N passed, N failed" line CI adds up. */
#ifndef CTXD_TESTUTIL_H
#define CTXD_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>

/* A fresh directory under $TMPDIR (or /tmp); removed by tu_rmtree. */
char *tu_mkdtemp(void);
void tu_rmtree(const char *dir);
/* Writes a file (parents created), content NUL-terminated. */
void tu_write(const char *root, const char *rel, const char *content);
void tu_mkdir(const char *root, const char *rel);
/* Reads a whole file into a malloc'd NUL-terminated buffer. */
char *tu_read(const char *path, size_t *len);
/* Runs a shell command built like printf; fails the test unless it exits 0. */
void tu_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs the group and prints "<name>: N passed, N failed"; returns the
 * process exit status. */
#define TU_RUN(name, tests) \
	tu_report(name, sizeof(tests) / sizeof((tests)[0]), \
		  cmocka_run_group_tests(tests, NULL, NULL))
int tu_report(const char *name, size_t total, int failed);

#endif
