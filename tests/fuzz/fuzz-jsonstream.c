/* libFuzzer target: arbitrary bytes as a /build response body, cut into
 * chunks at fuzzer-chosen places, split by jsonstream and every message
 * rendered by progress in the mode the first byte picks. Neither may crash,
 * leak or read out of bounds, and every failure must leave an error text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/jsonstream.h"
#include "ctxd/progress.h"

static int on_message(void *ud, json_t *msg, struct ctxd_error *err)
{
	return ctxd_progress_message(ud, msg, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct ctxd_jsonstream *js;
	struct ctxd_progress *p;
	struct ctxd_error err;
	size_t at, step;
	int rc = 0;

	if (size < 2)
		return 0;
	if (!null && !(null = fopen("/dev/null", "w")))
		abort();
	/* byte 0: the mode and a small or default size limit; byte 1: chunking */
	js = ctxd_jsonstream_create(data[0] & 0x80 ? (size_t)(data[0] & 0x3f) * 8 + 1 : 0);
	p = ctxd_progress_create((enum ctxd_progress_mode)(data[0] & 3), null, null, false);
	if (!js || !p)
		abort();
	step = (size_t)data[1] % 17 + 1;
	data += 2;
	size -= 2;
	for (at = 0; at < size && rc == 0; at += step) {
		size_t n = size - at < step ? size - at : step;

		err.msg[0] = '\0';
		rc = ctxd_jsonstream_feed(js, (const char *)data + at, n, on_message, p, &err);
		step = step * 5 % 23 + 1; /* uneven cuts */
	}
	if (rc == 0) {
		err.msg[0] = '\0';
		rc = ctxd_jsonstream_finish(js, &err);
	}
	if (rc < 0 && !err.msg[0])
		abort(); /* a failure must say why */
	ctxd_progress_upload(p, 10, 100, false);
	ctxd_progress_upload(p, 100, 100, true);
	ctxd_progress_tick(p);
	ctxd_progress_finish(p);
	(void)ctxd_progress_error(p);
	(void)ctxd_progress_image_id(p);
	ctxd_progress_destroy(p);
	ctxd_jsonstream_destroy(js);
	return 0;
}
