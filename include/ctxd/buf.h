/* A growable byte buffer. Appends never fail loudly: an allocation failure
 * sets `oom`, later appends do nothing, and the owner checks `oom` once. */
#ifndef CTXD_BUF_H
#define CTXD_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct ctxd_buf {
	char *data; /* NUL-terminated when len > 0; owned */
	size_t len;
	size_t cap;
	bool oom;
};

void ctxd_buf_append(struct ctxd_buf *b, const void *data, size_t len);
void ctxd_buf_puts(struct ctxd_buf *b, const char *s);
void ctxd_buf_putc(struct ctxd_buf *b, char c);
void ctxd_buf_printf(struct ctxd_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hands the data to the caller (NUL-terminated, never NULL unless oom) and
 * resets the buffer. */
char *ctxd_buf_take(struct ctxd_buf *b);
void ctxd_buf_free(struct ctxd_buf *b);

#endif
