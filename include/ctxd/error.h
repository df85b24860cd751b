/* Error reporting shared by every libctxd call: a fixed buffer the caller
 * owns, filled by the callee on failure, so no call allocates to fail. */
#ifndef CTXD_ERROR_H
#define CTXD_ERROR_H

#include <stdarg.h>

#define CTXD_ERROR_MAX 1024

struct ctxd_error {
	char msg[CTXD_ERROR_MAX];
};

/* Replaces the message; fmt is printf-style. NULL err is allowed. */
void ctxd_error_set(struct ctxd_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Same, taking a va_list. */
void ctxd_error_setv(struct ctxd_error *err, const char *fmt, va_list ap);

/* Puts "prefix: " in front of the current message. */
void ctxd_error_prefix(struct ctxd_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
