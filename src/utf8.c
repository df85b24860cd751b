/* Go-compatible UTF-8 decoding and white space (see include/ctxd/utf8.h). */
#include "ctxd/utf8.h"

int32_t ctxd_utf8_decode(const char *str, size_t n, size_t *size)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c;
	int32_t r, min;
	size_t need;

	if (n == 0) {
		*size = 0;
		return CTXD_RUNE_ERROR;
	}
	c = s[0];
	if (c < 0x80) {
		*size = 1;
		return c;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
		r = c & 0x1F;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		r = c & 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		r = c & 0x07;
		min = 0x10000;
	} else {
		*size = 1;
		return CTXD_RUNE_ERROR;
	}
	if (n < need) {
		*size = 1;
		return CTXD_RUNE_ERROR;
	}
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*size = 1;
			return CTXD_RUNE_ERROR;
		}
		r = (r << 6) | (s[i] & 0x3F);
	}
	if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) {
		*size = 1;
		return CTXD_RUNE_ERROR;
	}
	*size = need;
	return r;
}

int32_t ctxd_utf8_decode_last(const char *s, size_t n, size_t *size)
{
	size_t start, sz;
	int32_t r;

	if (n == 0) {
		*size = 0;
		return CTXD_RUNE_ERROR;
	}
	start = n - 1;
	if ((unsigned char)s[start] < 0x80) {
		*size = 1;
		return (unsigned char)s[start];
	}
	/* back up over at most three continuation bytes */
	while (start > 0 && n - start < 4 && ((unsigned char)s[start] & 0xC0) == 0x80)
		start--;
	r = ctxd_utf8_decode(s + start, n - start, &sz);
	if (start + sz != n) {
		*size = 1;
		return CTXD_RUNE_ERROR;
	}
	*size = sz;
	return r;
}

size_t ctxd_utf8_encode(int32_t r, char out[4])
{
	if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
		r = CTXD_RUNE_ERROR;
	if (r < 0x80) {
		out[0] = (char)r;
		return 1;
	}
	if (r < 0x800) {
		out[0] = (char)(0xC0 | (r >> 6));
		out[1] = (char)(0x80 | (r & 0x3F));
		return 2;
	}
	if (r < 0x10000) {
		out[0] = (char)(0xE0 | (r >> 12));
		out[1] = (char)(0x80 | ((r >> 6) & 0x3F));
		out[2] = (char)(0x80 | (r & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (r >> 18));
	out[1] = (char)(0x80 | ((r >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((r >> 6) & 0x3F));
	out[3] = (char)(0x80 | (r & 0x3F));
	return 4;
}

bool ctxd_utf8_is_space(int32_t r)
{
	switch (r) {
	case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
	case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202F: case 0x205F: case 0x3000:
		return true;
	default:
		return r >= 0x2000 && r <= 0x200A;
	}
}

const char *ctxd_utf8_trim_space(const char *s, size_t *len)
{
	size_t n = *len, sz;

	while (n > 0) {
		int32_t r = ctxd_utf8_decode(s, n, &sz);

		if (!ctxd_utf8_is_space(r) || (r == CTXD_RUNE_ERROR && sz == 1))
			break;
		s += sz;
		n -= sz;
	}
	while (n > 0) {
		int32_t r = ctxd_utf8_decode_last(s, n, &sz);

		if (!ctxd_utf8_is_space(r) || (r == CTXD_RUNE_ERROR && sz == 1))
			break;
		n -= sz;
	}
	*len = n;
	return s;
}
