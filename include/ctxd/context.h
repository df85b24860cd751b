/* A build context as `docker build` resolves it: the context directory, the
 * Dockerfile (-f is relative to the current directory), the ignore file in
 * force and the pattern lists the CLI derives from it. */
#ifndef CTXD_CONTEXT_H
#define CTXD_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "ctxd/error.h"
#include "ctxd/ignore.h"

struct ctxd_context_options {
	const char *dir;        /* the context argument */
	const char *dockerfile; /* -f as typed, "-" for stdin, NULL for default */
	/* Classic CLI (DOCKER_BUILDKIT=0): only <context>/.dockerignore counts.
	 * Otherwise <Dockerfile>.dockerignore beside the Dockerfile takes
	 * precedence, as in BuildKit. */
	bool classic_ignore;
};

struct ctxd_context {
	char *root;              /* absolute, symlinks resolved */
	int rootfd;              /* open directory fd of root */
	char *dockerfile_path;   /* absolute, symlinks resolved; NULL for stdin */
	char *dockerfile_rel;    /* relative to root; "../x" when outside */
	bool dockerfile_outside; /* outside the context, or from stdin */
	bool dockerfile_stdin;
	char *dockerfile_data;   /* its bytes (sent as a copy when outside) */
	size_t dockerfile_len;
	char *dockerfile_copy;   /* when outside: the copy's name in the context,
				  * ".dockerfile.<20 hex of its XXH3-128>" */
	char *ignore_path;       /* the ignore file read, NULL when none exists */
	struct ctxd_ignore *user;   /* patterns as written (validation pass) */
	struct ctxd_ignore *walk;   /* plus the CLI's forced exceptions */
};

/* Resolves everything; on failure err names the path and the problem.
 * The caller owns *out and frees it with ctxd_context_destroy. */
int ctxd_context_open(const struct ctxd_context_options *opts,
		      struct ctxd_context **out, struct ctxd_error *err);
void ctxd_context_destroy(struct ctxd_context *ctx);

#endif
