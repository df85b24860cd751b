/* Resolving a build context the way the docker CLI does (GetContextFromLocalDir,
 * ReadDockerignore, TrimBuildFilesFromExcludes). */
#include "ctxd/context.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctxd/path.h"

#include <stdio.h>
#include <xxhash.h>

static char *read_all_fd(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		return NULL;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *b = realloc(buf, cap *= 2);

			if (!b) {
				free(buf);
				return NULL;
			}
			buf = b;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return buf;
}

static char *absolute(const char *p)
{
	char cwd[PATH_MAX];
	char *joined, *clean;

	if (p[0] == '/')
		return ctxd_path_clean_dup(p);
	if (!getcwd(cwd, sizeof cwd))
		return NULL;
	joined = ctxd_path_join(cwd, p);
	if (!joined)
		return NULL;
	clean = ctxd_path_clean_dup(joined);
	free(joined);
	return clean;
}

static int open_root(struct ctxd_context *ctx, const char *dir, struct ctxd_error *err)
{
	struct stat st;
	char *abs;

	if (stat(dir, &st) < 0) {
		ctxd_error_set(err, "unable to prepare context: path \"%s\" not found", dir);
		return -1;
	}
	abs = absolute(dir);
	ctx->root = abs ? realpath(abs, NULL) : NULL;
	free(abs);
	if (!ctx->root) {
		ctxd_error_set(err, "%s: cannot resolve context path: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		ctxd_error_set(err, "context must be a directory: %s", ctx->root);
		return -1;
	}
	ctx->rootfd = open(ctx->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx->rootfd < 0) {
		ctxd_error_set(err, "%s: cannot open context directory: %s", ctx->root, strerror(errno));
		return -1;
	}
	return 0;
}

/* The Dockerfile path before symlinks are resolved: -f made absolute, or
 * <root>/Dockerfile, or <root>/dockerfile when only that exists. */
static char *dockerfile_given(const struct ctxd_context *ctx, const char *f)
{
	struct stat st;
	char *p, *alt;

	if (f)
		return absolute(f);
	p = ctxd_path_join(ctx->root, "Dockerfile");
	if (p && lstat(p, &st) < 0 && errno == ENOENT) {
		alt = ctxd_path_join(ctx->root, "dockerfile");
		if (alt && lstat(alt, &st) == 0) {
			free(p);
			return alt;
		}
		free(alt);
	}
	return p;
}

static int resolve_dockerfile(struct ctxd_context *ctx, const struct ctxd_context_options *o,
			      char **given_out, struct ctxd_error *err)
{
	char *given;
	int fd;

	if (o->dockerfile && strcmp(o->dockerfile, "-") == 0) {
		ctx->dockerfile_stdin = ctx->dockerfile_outside = true;
		ctx->dockerfile_data = read_all_fd(STDIN_FILENO, &ctx->dockerfile_len);
		if (!ctx->dockerfile_data) {
			ctxd_error_set(err, "cannot read Dockerfile from stdin: %s", strerror(errno));
			return -1;
		}
		ctx->dockerfile_rel = strdup("-");
		*given_out = NULL;
		return ctx->dockerfile_rel ? 0 : -1;
	}
	given = dockerfile_given(ctx, o->dockerfile);
	if (!given) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	*given_out = given;
	ctx->dockerfile_path = realpath(given, NULL);
	if (!ctx->dockerfile_path) {
		ctxd_error_set(err, "cannot locate Dockerfile: %s: %s", given, strerror(errno));
		return -1;
	}
	ctx->dockerfile_rel = ctxd_path_rel(ctx->root, ctx->dockerfile_path);
	if (!ctx->dockerfile_rel) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	ctx->dockerfile_outside = strncmp(ctx->dockerfile_rel, "../", 3) == 0;
	if (ctx->dockerfile_outside && !o->dockerfile) {
		/* the CLI then opens the -f value, which is empty */
		ctxd_error_set(err, "%s is a symlink to %s, outside the context; docker build fails on "
			       "this (unable to open Dockerfile: open : no such file or directory): "
			       "name it with -f instead", given, ctx->dockerfile_path);
		return -1;
	}
	fd = open(ctx->dockerfile_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ctxd_error_set(err, "cannot read Dockerfile %s: %s", ctx->dockerfile_path, strerror(errno));
		return -1;
	}
	ctx->dockerfile_data = read_all_fd(fd, &ctx->dockerfile_len);
	if (!ctx->dockerfile_data) {
		ctxd_error_set(err, "cannot read Dockerfile %s: %s", ctx->dockerfile_path,
			       errno ? strerror(errno) : "out of memory");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int load_ignore(struct ctxd_context *ctx, const struct ctxd_context_options *o,
		       const char *given, struct ctxd_error *err)
{
	bool found = false;
	char *path;

	ctx->user = ctxd_ignore_create();
	if (!ctx->user) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	if (!o->classic_ignore && given) {
		/* BuildKit: <dir of -f>/<name of -f>.dockerignore first */
		size_t n = strlen(given);

		path = malloc(n + sizeof ".dockerignore");
		if (!path) {
			ctxd_error_set(err, "out of memory");
			return -1;
		}
		memcpy(path, given, n);
		memcpy(path + n, ".dockerignore", sizeof ".dockerignore");
		if (ctxd_ignore_load(ctx->user, path, &found, err) < 0) {
			free(path);
			return -1;
		}
		if (found) {
			ctx->ignore_path = path;
			return 0;
		}
		free(path);
	}
	path = ctxd_path_join(ctx->root, ".dockerignore");
	if (!path) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	if (ctxd_ignore_load(ctx->user, path, &found, err) < 0) {
		free(path);
		return -1;
	}
	if (found)
		ctx->ignore_path = path;
	else
		free(path);
	return 0;
}

/* TrimBuildFilesFromExcludes: the CLI force-includes .dockerignore and the
 * Dockerfile when its legacy matcher says they are excluded. */
static int add_forced(struct ctxd_context *ctx, struct ctxd_error *err)
{
	ctx->walk = ctxd_ignore_dup(ctx->user);
	if (!ctx->walk) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	if (ctxd_ignore_match_legacy(ctx->walk, ".dockerignore", 13, NULL) > 0 &&
	    ctxd_ignore_add(ctx->walk, "!.dockerignore", NULL, 0, err) < 0)
		return -1;
	if (!ctx->dockerfile_stdin &&
	    ctxd_ignore_match_legacy(ctx->walk, ctx->dockerfile_rel, strlen(ctx->dockerfile_rel), NULL) > 0) {
		size_t n = strlen(ctx->dockerfile_rel);
		char *pat = malloc(n + 2);
		int rc;

		if (!pat) {
			ctxd_error_set(err, "out of memory");
			return -1;
		}
		pat[0] = '!';
		memcpy(pat + 1, ctx->dockerfile_rel, n + 1);
		rc = ctxd_ignore_add(ctx->walk, pat, NULL, 0, err);
		free(pat);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int ctxd_context_open(const struct ctxd_context_options *o, struct ctxd_context **out,
		      struct ctxd_error *err)
{
	struct ctxd_context *ctx = calloc(1, sizeof *ctx);
	char *given = NULL;

	*out = NULL;
	if (!ctx) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	ctx->rootfd = -1;
	if (open_root(ctx, o->dir, err) < 0 ||
	    resolve_dockerfile(ctx, o, &given, err) < 0 ||
	    load_ignore(ctx, o, given, err) < 0 ||
	    add_forced(ctx, err) < 0) {
		free(given);
		ctxd_context_destroy(ctx);
		return -1;
	}
	free(given);
	if (ctx->dockerfile_outside) {
		/* Docker names its copy randomly; ctxd by content, to be reproducible */
		XXH128_hash_t h = XXH3_128bits(ctx->dockerfile_data, ctx->dockerfile_len);

		if (asprintf(&ctx->dockerfile_copy, ".dockerfile.%016llx%04llx",
			     (unsigned long long)h.high64, (unsigned long long)(h.low64 >> 48)) < 0) {
			ctxd_error_set(err, "out of memory");
			ctxd_context_destroy(ctx);
			return -1;
		}
	}
	*out = ctx;
	return 0;
}

void ctxd_context_destroy(struct ctxd_context *ctx)
{
	if (!ctx)
		return;
	if (ctx->rootfd >= 0)
		close(ctx->rootfd);
	free(ctx->root);
	free(ctx->dockerfile_path);
	free(ctx->dockerfile_rel);
	free(ctx->dockerfile_data);
	free(ctx->dockerfile_copy);
	free(ctx->ignore_path);
	ctxd_ignore_destroy(ctx->user);
	ctxd_ignore_destroy(ctx->walk);
	free(ctx);
}
