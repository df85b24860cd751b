/* Growable byte buffer (see include/ctxd/buf.h). */
#include "ctxd/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(struct ctxd_buf *b, size_t extra)
{
	size_t want, cap;
	char *p;

	if (b->oom)
		return false;
	want = b->len + extra + 1;
	if (want <= b->cap)
		return true;
	cap = b->cap ? b->cap : 64;
	while (cap < want)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void ctxd_buf_append(struct ctxd_buf *b, const void *data, size_t len)
{
	if (!reserve(b, len))
		return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void ctxd_buf_puts(struct ctxd_buf *b, const char *s)
{
	ctxd_buf_append(b, s, strlen(s));
}

void ctxd_buf_putc(struct ctxd_buf *b, char c)
{
	ctxd_buf_append(b, &c, 1);
}

void ctxd_buf_printf(struct ctxd_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *ctxd_buf_take(struct ctxd_buf *b)
{
	char *p;

	if (!b->oom && !b->data)
		reserve(b, 0);
	if (b->oom) {
		ctxd_buf_free(b);
		return NULL;
	}
	b->data[b->len] = '\0';
	p = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void ctxd_buf_free(struct ctxd_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}
