/* libFuzzer target: arbitrary bytes as what a client sends the daemon, cut
 * into chunks at fuzzer-chosen places. The decoder must not crash, leak or
 * grow past its limit; every failure must say why; and every message it
 * accepts must encode and decode back to the same JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/protocol.h"

static int keep(void *ud, json_t *msg, struct ctxd_error *err)
{
	(void)err;
	*(json_t **)ud = json_incref(msg);
	return 0;
}

static int round_trip(void *ud, json_t *msg, struct ctxd_error *err)
{
	struct ctxd_protocol_decoder *d = ctxd_protocol_decoder_create(0);
	struct ctxd_buf wire = {0};
	json_t *again = NULL;

	(void)ud;
	if (!d || ctxd_protocol_encode(msg, 0, &wire, err) < 0)
		abort();
	if (ctxd_protocol_decoder_feed(d, wire.data, wire.len, keep, &again, err) < 0 ||
	    ctxd_protocol_decoder_finish(d, err) < 0 || !again || !json_equal(again, msg))
		abort();
	json_decref(again);
	ctxd_buf_free(&wire);
	ctxd_protocol_decoder_destroy(d);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctxd_protocol_decoder *d;
	struct ctxd_error err;
	size_t at, step;
	int rc = 0;

	if (size < 2)
		return 0;
	/* byte 0: a small or the default limit; byte 1: the chunking */
	d = ctxd_protocol_decoder_create(data[0] & 0x80 ? (size_t)(data[0] & 0x7f) + 1 : 0);
	if (!d)
		abort();
	step = (size_t)data[1] % 13 + 1;
	data += 2;
	size -= 2;
	for (at = 0; at < size && rc == 0; at += step) {
		size_t n = size - at < step ? size - at : step;

		err.msg[0] = '\0';
		rc = ctxd_protocol_decoder_feed(d, data + at, n, round_trip, NULL, &err);
		step = step * 7 % 19 + 1;
	}
	if (rc == 0) {
		err.msg[0] = '\0';
		rc = ctxd_protocol_decoder_finish(d, &err);
	}
	if (rc < 0 && !err.msg[0])
		abort();
	ctxd_protocol_decoder_destroy(d);
	return 0;
}
