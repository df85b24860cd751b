/* Go regexp (RE2, Perl flags) syntax, translated to an equivalent PCRE2
 * program. Docker's .dockerignore matcher compiles its patterns with Go's
 * regexp package; parsing Go's syntax here keeps Go's errors errors and gives
 * PCRE2 only explicit ranges, so no PCRE-only meaning can leak in. */
#ifndef CTXD_GOREGEX_H
#define CTXD_GOREGEX_H

#include <stdbool.h>
#include <stddef.h>

struct ctxd_goregex;

/* Compiles Go regexp source src[0..len) (valid UTF-8). Returns NULL and sets
 * *why (a static string) when Go's regexp.Compile would fail, or on ENOMEM. */
struct ctxd_goregex *ctxd_goregex_compile(const char *src, size_t len,
					  const char **why);

/* Whether s[0..len) matches (unanchored search, as Go's MatchString). Bytes
 * that are not valid UTF-8 are read as U+FFFD, as Go does. */
bool ctxd_goregex_match(const struct ctxd_goregex *re, const char *s, size_t len);

void ctxd_goregex_destroy(struct ctxd_goregex *re);

#endif
