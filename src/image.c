/* Image inspect for ONBUILD triggers (see include/ctxd/image.h). */
#include "ctxd/image.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/buf.h"

/* An inspect answer is a few KB; more means something else answered. */
#define MAX_INSPECT (4u << 20)

static int collect(void *ud, const char *buf, size_t len, struct ctxd_error *err)
{
	struct ctxd_buf *b = ud;

	if (b->len + len > MAX_INSPECT) {
		ctxd_error_set(err, "image inspect answer larger than %u bytes", MAX_INSPECT);
		return -1;
	}
	ctxd_buf_append(b, buf, len);
	if (b->oom) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	return 0;
}

int ctxd_image_has_onbuild(struct ctxd_docker *d, const char *image, bool *has,
			   struct ctxd_error *err)
{
	struct ctxd_buf body = {0}, path = {0};
	struct ctxd_docker_request r = {.method = "GET", .response = collect, .response_ud = &body};
	json_error_t jerr;
	json_t *root, *onbuild;
	long status = 0;
	int rc;

	/* names hold only [a-z0-9._/:@-]; anything else cannot be local */
	if (!*image || strspn(image, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789._/:@-") != strlen(image))
		return 1;
	ctxd_buf_printf(&path, "/images/%s/json", image);
	if (path.oom) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	r.path = path.data;
	r.status = &status;
	rc = ctxd_docker_request(d, &r, NULL, err);
	ctxd_buf_free(&path);
	if (rc < 0) {
		ctxd_buf_free(&body);
		return status == 404 ? 1 : -1;
	}
	root = json_loadb(body.data ? body.data : "", body.len, 0, &jerr);
	ctxd_buf_free(&body);
	if (!root) {
		ctxd_error_set(err, "inspecting image %s: the daemon's answer is not JSON (%s)", image,
			       jerr.text);
		return -1;
	}
	onbuild = json_object_get(json_object_get(root, "Config"), "OnBuild");
	*has = json_is_array(onbuild) && json_array_size(onbuild) > 0;
	json_decref(root);
	return 0;
}
