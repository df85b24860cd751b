/* A protobuf writer for the tests, enough to hand-encode BuildKit's
 * StatusResponse (spec 3.3) without protoc; and trace messages made of it. */
#ifndef CTXD_TEST_PBENC_H
#define CTXD_TEST_PBENC_H

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/buf.h"

static inline void pb_varint(struct ctxd_buf *b, uint64_t v)
{
	do {
		unsigned char c = v & 0x7f;

		v >>= 7;
		if (v)
			c |= 0x80;
		ctxd_buf_append(b, &c, 1);
	} while (v);
}

static inline void pb_tag(struct ctxd_buf *b, unsigned field, unsigned wt)
{
	pb_varint(b, (uint64_t)field << 3 | wt);
}

static inline void pb_int(struct ctxd_buf *b, unsigned field, uint64_t v)
{
	pb_tag(b, field, 0);
	pb_varint(b, v);
}

static inline void pb_bytes(struct ctxd_buf *b, unsigned field, const void *data, size_t len)
{
	pb_tag(b, field, 2);
	pb_varint(b, len);
	ctxd_buf_append(b, data, len);
}

static inline void pb_str(struct ctxd_buf *b, unsigned field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

/* Appends sub as a length-delimited field and frees it. */
static inline void pb_msg(struct ctxd_buf *b, unsigned field, struct ctxd_buf *sub)
{
	pb_bytes(b, field, sub->data ? sub->data : "", sub->len);
	ctxd_buf_free(sub);
}

static inline void pb_time(struct ctxd_buf *b, unsigned field, int64_t sec, int32_t nsec)
{
	struct ctxd_buf t = {0};

	pb_int(&t, 1, (uint64_t)sec);
	pb_int(&t, 2, (uint64_t)(int64_t)nsec); /* negative int32: 10 bytes, as protobuf does */
	pb_msg(b, field, &t);
}

/* Standard padded base64, malloc'd. */
static inline char *pb_base64(const void *data, size_t len)
{
	char *out = malloc(len / 3 * 4 + 8);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

#endif
