/* The daemon's wire format: each message is a 4-byte big-endian length and
 * that many bytes of one JSON object carrying "v" (the protocol version) and
 * "type". A message from the daemon may follow its JSON with a NUL byte and
 * a binary payload (the entries of an answer, include/ctxd/query.h): JSON
 * text never holds a raw NUL, so the split is unambiguous. A bad, short or
 * oversized message is an error for that one connection; the decoder never
 * grows past its limit. */
#ifndef CTXD_PROTOCOL_H
#define CTXD_PROTOCOL_H

#include <stddef.h>

#include <jansson.h>

#include "ctxd/buf.h"
#include "ctxd/error.h"

#define CTXD_PROTOCOL_VERSION 2
/* Used when ctxd_protocol_decoder_create is given 0. A manifest travels as
 * many messages, so no single one needs to be large. */
#define CTXD_PROTOCOL_DEFAULT_MAX ((size_t)4 << 20)

/* A new message {"v": CTXD_PROTOCOL_VERSION, "type": type}; the caller owns
 * the reference. NULL on ENOMEM. */
json_t *ctxd_protocol_message(const char *type);

/* The message's "type" (never NULL for a decoded message). */
const char *ctxd_protocol_type(const json_t *msg);

/* Appends msg's frame to out. Fails if msg is not an object with a string
 * "type", or its text is longer than max (0: the default). */
int ctxd_protocol_encode(const json_t *msg, size_t max, struct ctxd_buf *out,
			 struct ctxd_error *err);
/* The same with a payload of len bytes after the JSON (counted in max). */
int ctxd_protocol_encode_payload(const json_t *msg, const void *payload, size_t len, size_t max,
				 struct ctxd_buf *out, struct ctxd_error *err);

struct ctxd_protocol_decoder;

/* A decoder that refuses a message longer than max bytes (0: the default).
 * NULL on ENOMEM. */
struct ctxd_protocol_decoder *ctxd_protocol_decoder_create(size_t max);
void ctxd_protocol_decoder_destroy(struct ctxd_protocol_decoder *d);

/* Takes the next len bytes and calls fn for each message they complete, in
 * order. msg is borrowed (json_incref to keep it); fn returns 0, or -1 with
 * err set to stop. A zero or oversized length, text that is not one JSON
 * object, a missing or other "v", or a missing "type" is an error that says
 * which; after any error the decoder is dead and repeats it. */
int ctxd_protocol_decoder_feed(struct ctxd_protocol_decoder *d, const void *buf, size_t len,
			       int (*fn)(void *ud, json_t *msg, struct ctxd_error *err), void *ud,
			       struct ctxd_error *err);

/* The end of the stream: an error if a message was cut short. */
int ctxd_protocol_decoder_finish(struct ctxd_protocol_decoder *d, struct ctxd_error *err);

/* Blocking helpers for clients, on a connected socket. Each waits at most
 * timeout_ms (< 0: forever) for the peer, so a client never hangs on a dead
 * daemon. */
int ctxd_protocol_write(int fd, const json_t *msg, int timeout_ms, struct ctxd_error *err);
/* Reads exactly one message into *out (the caller owns it), and its
 * payload into *payload (emptied when there is none); with payload NULL a
 * payload is an error. The peer closing before any byte is an error
 * saying so. */
int ctxd_protocol_read(int fd, json_t **out, struct ctxd_buf *payload, int timeout_ms,
		       struct ctxd_error *err);

#endif
