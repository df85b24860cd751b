/* What the Docker daemon knows about a local image that matters before a
 * build: whether its config carries ONBUILD triggers, which run COPY/ADD
 * of the build's context that the Dockerfile itself does not show. */
#ifndef CTXD_IMAGE_H
#define CTXD_IMAGE_H

#include <stdbool.h>

#include "ctxd/docker.h"
#include "ctxd/error.h"

/* Inspects image (as written after FROM, e.g. "node:20"). Returns 0 with
 * *has set when the image is local, 1 when the daemon does not have it (a
 * build would pull it), -1 on any other error (err set). */
int ctxd_image_has_onbuild(struct ctxd_docker *d, const char *image, bool *has,
			   struct ctxd_error *err);

#endif
