/* Error buffers: formatting helpers behind include/ctxd/error.h. */
#include "ctxd/error.h"

#include <stdio.h>
#include <string.h>

void ctxd_error_setv(struct ctxd_error *err, const char *fmt, va_list ap)
{
	if (!err)
		return;
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

void ctxd_error_set(struct ctxd_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctxd_error_setv(err, fmt, ap);
	va_end(ap);
}

void ctxd_error_prefix(struct ctxd_error *err, const char *fmt, ...)
{
	char old[CTXD_ERROR_MAX];
	va_list ap;
	int n;

	if (!err)
		return;
	memcpy(old, err->msg, sizeof old);
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof err->msg - 2)
		return;
	/* the message is cut, never the prefix */
	err->msg[n] = ':';
	err->msg[n + 1] = ' ';
	strncpy(err->msg + n + 2, old, sizeof err->msg - (size_t)n - 3);
	err->msg[sizeof err->msg - 1] = '\0';
}
