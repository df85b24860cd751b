/* The daemon's /build answer is a stream of JSON values ("{...}\r\n" each)
 * that arrives in chunks cut anywhere; this splits it back into messages.
 * Values may be separated by any JSON whitespace, as the docker CLI's Go
 * decoder accepts. */
#ifndef CTXD_JSONSTREAM_H
#define CTXD_JSONSTREAM_H

#include <stddef.h>

#include <jansson.h>

#include "ctxd/error.h"

/* Used when ctxd_jsonstream_create is given 0. */
#define CTXD_JSONSTREAM_DEFAULT_MAX ((size_t)16 << 20)

struct ctxd_jsonstream;

/* A splitter that refuses any single value longer than max_message bytes
 * (0: CTXD_JSONSTREAM_DEFAULT_MAX), so a broken daemon cannot make it grow
 * without bound. NULL on ENOMEM. */
struct ctxd_jsonstream *ctxd_jsonstream_create(size_t max_message);
void ctxd_jsonstream_destroy(struct ctxd_jsonstream *js);

/* Takes the next len bytes and calls fn once for each value they complete,
 * in order. msg is borrowed: fn must json_incref it to keep it. fn returns
 * 0, or -1 with err set to stop. Invalid JSON or an oversized value is an
 * error naming what was wrong with an excerpt of the value. After any error
 * the stream is dead: every later call returns the same error. */
int ctxd_jsonstream_feed(struct ctxd_jsonstream *js, const char *buf, size_t len,
			 int (*fn)(void *ud, json_t *msg, struct ctxd_error *err), void *ud,
			 struct ctxd_error *err);

/* The end of the body: an error ("truncated message from the daemon") if a
 * value was left unfinished. */
int ctxd_jsonstream_finish(struct ctxd_jsonstream *js, struct ctxd_error *err);

/* Values delivered so far. */
size_t ctxd_jsonstream_count(const struct ctxd_jsonstream *js);

#endif
