/* UTF-8 decoding with Go's rules (unicode/utf8): Docker's pattern code sees
 * text as Go strings, so invalid bytes, surrogates and overlong forms must
 * decode the way Go decodes them. */
#ifndef CTXD_UTF8_H
#define CTXD_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTXD_RUNE_ERROR 0xFFFD

/* Decodes the first rune of s[0..n). Invalid input gives CTXD_RUNE_ERROR with
 * *size 1; empty input gives CTXD_RUNE_ERROR with *size 0. */
int32_t ctxd_utf8_decode(const char *s, size_t n, size_t *size);

/* Decodes the last rune of s[0..n), as utf8.DecodeLastRuneInString. */
int32_t ctxd_utf8_decode_last(const char *s, size_t n, size_t *size);

/* Encodes r (invalid runes as U+FFFD) into out; returns 1 to 4. */
size_t ctxd_utf8_encode(int32_t r, char out[4]);

/* unicode.IsSpace: the White_Space property. */
bool ctxd_utf8_is_space(int32_t r);

/* strings.TrimSpace on s[0..*len): returns the new start, updates *len. */
const char *ctxd_utf8_trim_space(const char *s, size_t *len);

#endif
