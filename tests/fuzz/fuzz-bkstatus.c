/* libFuzzer target: arbitrary bytes as BuildKit StatusResponse protobuf, as
 * base64 text, and as a series of length-prefixed StatusResponses fed to
 * progress as trace messages, so its merging and printing of untrusted
 * steps, statuses and logs is fuzzed with the decoder. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctxd/bkstatus.h"
#include "ctxd/progress.h"

static void trace(struct ctxd_progress *p, const uint8_t *data, size_t len)
{
	char *text = malloc(len / 3 * 4 + 8);
	struct ctxd_error err;
	json_t *msg;

	if (!text)
		abort();
	EVP_EncodeBlock((unsigned char *)text, data, (int)len);
	msg = json_pack("{s:s, s:s}", "id", "moby.buildkit.trace", "aux", text);
	if (!msg || ctxd_progress_message(p, msg, &err) < 0)
		abort(); /* only memory can fail here */
	json_decref(msg);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct ctxd_bkstatus *st;
	struct ctxd_progress *p;
	struct ctxd_error err;
	size_t at;

	if (!null && !(null = fopen("/dev/null", "w")))
		abort();

	err.msg[0] = '\0';
	st = ctxd_bkstatus_decode(data, size, &err);
	if (!st && !err.msg[0])
		abort();
	ctxd_bkstatus_destroy(st);
	err.msg[0] = '\0';
	st = ctxd_bkstatus_decode_base64((const char *)data, size, &err);
	if (!st && !err.msg[0])
		abort();
	ctxd_bkstatus_destroy(st);

	if (size < 1)
		return 0;
	/* byte 0: the mode; then records of a 2-byte length and that many bytes */
	p = ctxd_progress_create((enum ctxd_progress_mode)(data[0] & 3), null, null, false);
	if (!p)
		abort();
	for (at = 1; at + 2 <= size;) {
		size_t n = (size_t)data[at] << 8 | data[at + 1];

		at += 2;
		if (n > size - at)
			n = size - at;
		trace(p, data + at, n);
		at += n;
	}
	ctxd_progress_finish(p);
	(void)ctxd_progress_error(p);
	ctxd_progress_destroy(p);
	return 0;
}
