/* An output file written atomically: bytes go to a temporary file beside
 * the target, renamed over it only on commit, so an error or a signal never
 * leaves a half-written file. "-" means standard output; an existing
 * device or FIFO (/dev/null) is written in place, never replaced. */
#ifndef CTXD_OUTFILE_H
#define CTXD_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "ctxd/error.h"

struct ctxd_outfile;

/* Refuses a terminal as standard output when binary is true. */
struct ctxd_outfile *ctxd_outfile_open(const char *path, bool binary,
				       struct ctxd_error *err);

/* A ctxd_pack_write_fn: ud is the ctxd_outfile. */
int ctxd_outfile_write(void *ud, const void *buf, size_t len, struct ctxd_error *err);

/* Flushes and renames into place; the outfile is freed either way. */
int ctxd_outfile_commit(struct ctxd_outfile *of, struct ctxd_error *err);

/* Removes the temporary file and frees the outfile. */
void ctxd_outfile_abort(struct ctxd_outfile *of);

/* The temporary file's path (NULL for stdout), for a signal handler that
 * must unlink it; valid until commit or abort. */
const char *ctxd_outfile_temp_path(const struct ctxd_outfile *of);

#endif
