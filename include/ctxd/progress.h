/* Showing a /build response the way the docker CLI does: the classic
 * builder's JSON messages (stream text to `out`, pull status lines), and
 * BuildKit traces merged into per-step state and printed in the style of
 * buildx's plain printer, or as a redrawn terminal view. Also the context
 * upload's progress line, the image ID and the build's error. */
#ifndef CTXD_PROGRESS_H
#define CTXD_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "ctxd/error.h"

enum ctxd_progress_mode {
	CTXD_PROGRESS_AUTO,  /* TTY when err is a terminal, else PLAIN */
	CTXD_PROGRESS_PLAIN, /* "#3 [2/3] RUN make" lines, as `--progress=plain` */
	CTXD_PROGRESS_TTY,   /* a view of the running steps redrawn in place on err */
	CTXD_PROGRESS_QUIET, /* nothing, unless the build fails: then what PLAIN
			      * would have shown goes to err, as `docker build -q` */
};

struct ctxd_progress;

/* Writes only through out (the build's own output: classic stream text,
 * "Successfully tagged") and err (BuildKit steps, upload progress), which
 * stay the caller's. Whether out is a terminal is asked of fileno(out):
 * when it is not, the ESC[91m ... ESC[0m the classic builder wraps RUN's
 * stderr in is removed. NULL on ENOMEM. */
struct ctxd_progress *ctxd_progress_create(enum ctxd_progress_mode mode, FILE *out, FILE *err,
					   bool err_is_tty);
void ctxd_progress_destroy(struct ctxd_progress *p);

/* One message of the response stream (borrowed). Only a message that is not
 * a JSON object is an error; a BuildKit trace that cannot be decoded is
 * skipped with one warning, since a display problem must not cancel the
 * build the daemon is running. */
int ctxd_progress_message(struct ctxd_progress *p, json_t *msg, struct ctxd_error *err);

/* The context upload: bytes sent of an estimated total. On a terminal, a
 * one-line bar with bytes, rate and ETA redrawn in place; in PLAIN mode one
 * line when done. Nothing in QUIET mode. */
void ctxd_progress_upload(struct ctxd_progress *p, uint64_t sent, uint64_t total, bool done);

/* Redraws the terminal view if it is due (step timers run between
 * messages); a no-op in the other modes. Optional: call it while waiting. */
void ctxd_progress_tick(struct ctxd_progress *p);

/* The end of the stream: ends an unfinished log line, draws the final view,
 * prints the logs of failed steps and BuildKit's warnings, and in QUIET mode
 * shows the held-back output if the build failed. The build's error itself
 * is not printed: the caller reports ctxd_progress_error(), as the docker
 * CLI's main does. Idempotent. */
void ctxd_progress_finish(struct ctxd_progress *p);

/* "sha256:<64 hex>" from {"aux":{"ID":...}}, {"id":"moby.image.id","aux":
 * {"ID":...}} or the q=1 {"stream":"sha256:...\n"}; NULL if none came. */
const char *ctxd_progress_image_id(const struct ctxd_progress *p);

/* Why the build failed: the first errorDetail.message (or "error") in the
 * stream, else, if no image ID came, the error of the first BuildKit step
 * that failed other than by cancellation. NULL on success. Valid until the
 * next ctxd_progress_message or destroy. */
const char *ctxd_progress_error(const struct ctxd_progress *p);

#endif
