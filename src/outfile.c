/* Atomic output files (see include/ctxd/outfile.h). */
#include "ctxd/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ctxd_outfile {
	int fd;
	bool own_fd; /* a device or FIFO opened in place: closed on commit */
	char *path;
	char *tmp;
};

struct ctxd_outfile *ctxd_outfile_open(const char *path, bool binary, struct ctxd_error *err)
{
	struct ctxd_outfile *of = calloc(1, sizeof *of);
	const char *slash;
	size_t dirlen;
	mode_t mask;
	struct stat st;

	if (!of) {
		ctxd_error_set(err, "out of memory");
		return NULL;
	}
	if (strcmp(path, "-") == 0) {
		if (binary && isatty(STDOUT_FILENO)) {
			ctxd_error_set(err, "refusing to write a tar stream to a terminal (use -o FILE or a pipe)");
			free(of);
			return NULL;
		}
		of->fd = STDOUT_FILENO;
		return of;
	}
	/* a device or a FIFO (-o /dev/null) has nothing to replace atomically,
	 * and renaming over it would put a regular file in its place */
	if (stat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode))) {
		of->fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (of->fd < 0 || !(of->path = strdup(path))) {
			ctxd_error_set(err, "%s: %s", path, of->fd < 0 ? strerror(errno) : "out of memory");
			if (of->fd >= 0)
				close(of->fd);
			free(of);
			return NULL;
		}
		of->own_fd = true;
		return of;
	}
	slash = strrchr(path, '/');
	dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	of->path = strdup(path);
	of->tmp = malloc(strlen(path) + 32);
	if (!of->path || !of->tmp) {
		ctxd_error_set(err, "out of memory");
		goto fail;
	}
	memcpy(of->tmp, path, dirlen);
	strcpy(of->tmp + dirlen, ".");
	strcat(of->tmp, path + dirlen);
	strcat(of->tmp, ".ctxd-XXXXXX");
	of->fd = mkostemp(of->tmp, O_CLOEXEC);
	if (of->fd < 0) {
		ctxd_error_set(err, "%s: cannot create output file: %s", path, strerror(errno));
		free(of->tmp);
		of->tmp = NULL;
		goto fail;
	}
	mask = umask(0);
	umask(mask);
	if (fchmod(of->fd, 0666 & ~mask) < 0) {
		ctxd_error_set(err, "%s: %s", of->tmp, strerror(errno));
		ctxd_outfile_abort(of);
		return NULL;
	}
	return of;
fail:
	free(of->path);
	free(of->tmp);
	free(of);
	return NULL;
}

int ctxd_outfile_write(void *ud, const void *buf, size_t len, struct ctxd_error *err)
{
	struct ctxd_outfile *of = ud;
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(of->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ctxd_error_set(err, "%s: write failed: %s", of->path ? of->path : "standard output",
				       strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void outfile_free(struct ctxd_outfile *of)
{
	free(of->path);
	free(of->tmp);
	free(of);
}

int ctxd_outfile_commit(struct ctxd_outfile *of, struct ctxd_error *err)
{
	if (!of->tmp) {
		int rc = of->own_fd && close(of->fd) < 0 ? -1 : 0;

		if (rc < 0)
			ctxd_error_set(err, "%s: write failed: %s", of->path, strerror(errno));
		outfile_free(of);
		return rc;
	}
	if (close(of->fd) < 0) {
		ctxd_error_set(err, "%s: write failed: %s", of->path, strerror(errno));
		of->fd = -1;
		ctxd_outfile_abort(of);
		return -1;
	}
	of->fd = -1;
	if (rename(of->tmp, of->path) < 0) {
		ctxd_error_set(err, "%s: cannot move output into place: %s", of->path, strerror(errno));
		ctxd_outfile_abort(of);
		return -1;
	}
	outfile_free(of);
	return 0;
}

void ctxd_outfile_abort(struct ctxd_outfile *of)
{
	if (!of)
		return;
	if (of->tmp) {
		if (of->fd >= 0)
			close(of->fd);
		unlink(of->tmp);
	} else if (of->own_fd) {
		close(of->fd);
	}
	outfile_free(of);
}

const char *ctxd_outfile_temp_path(const struct ctxd_outfile *of)
{
	return of->tmp;
}
