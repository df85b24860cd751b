/* A single .dockerignore pattern: Go filepath.Match validation, then
 * patternmatcher's translation into one of four matcher kinds. */
#include "ctxd/pattern.h"

#include <stdlib.h>
#include <string.h>

#include "ctxd/buf.h"
#include "ctxd/goregex.h"
#include "ctxd/utf8.h"

enum kind { K_EXACT, K_PREFIX, K_SUFFIX, K_REGEXP };

struct ctxd_pattern {
	char *text;
	size_t len;
	size_t depth;
	enum kind kind;
	struct ctxd_goregex *re;
	const char *bad; /* why the regexp failed, or NULL */
};

/* --- Go filepath.Match(pattern, name), for its syntax check only --- */

static int get_esc(const char **chunk, size_t *n, int32_t *r)
{
	const char *c = *chunk;
	size_t left = *n, sz;

	if (left == 0 || c[0] == '-' || c[0] == ']')
		return -1;
	if (c[0] == '\\') {
		c++;
		left--;
		if (left == 0)
			return -1;
	}
	*r = ctxd_utf8_decode(c, left, &sz);
	if (*r == CTXD_RUNE_ERROR && sz == 1)
		return -1;
	c += sz;
	left -= sz;
	if (left == 0)
		return -1;
	*chunk = c;
	*n = left;
	return 0;
}

/* Returns -1 bad pattern, 0 no match, 1 match; *rest is what s has left. */
static int match_chunk(const char *chunk, size_t cn, const char *s, size_t sn, size_t *rest)
{
	bool failed = false;

	while (cn > 0) {
		if (!failed && sn == 0)
			failed = true;
		switch (chunk[0]) {
		case '[': {
			int32_t r = 0, lo, hi;
			bool negated = false, match = false;
			int nrange = 0;

			if (!failed) {
				size_t sz;

				r = ctxd_utf8_decode(s, sn, &sz);
				s += sz;
				sn -= sz;
			}
			chunk++;
			cn--;
			if (cn > 0 && chunk[0] == '^') {
				negated = true;
				chunk++;
				cn--;
			}
			for (;;) {
				if (cn > 0 && chunk[0] == ']' && nrange > 0) {
					chunk++;
					cn--;
					break;
				}
				if (get_esc(&chunk, &cn, &lo) < 0)
					return -1;
				hi = lo;
				if (chunk[0] == '-') {
					chunk++;
					cn--;
					if (get_esc(&chunk, &cn, &hi) < 0)
						return -1;
				}
				if (lo <= r && r <= hi)
					match = true;
				nrange++;
			}
			if (match == negated)
				failed = true;
			break;
		}
		case '?':
			if (!failed) {
				size_t sz;

				if (s[0] == '/')
					failed = true;
				ctxd_utf8_decode(s, sn, &sz);
				s += sz;
				sn -= sz;
			}
			chunk++;
			cn--;
			break;
		case '\\':
			chunk++;
			cn--;
			if (cn == 0)
				return -1;
			/* fall through */
		default:
			if (!failed) {
				if (chunk[0] != s[0])
					failed = true;
				s++;
				sn--;
			}
			chunk++;
			cn--;
			break;
		}
	}
	if (failed)
		return 0;
	*rest = sn;
	return 1;
}

static void scan_chunk(const char **pat, size_t *pn, bool *star, const char **chunk, size_t *cn)
{
	const char *p = *pat;
	size_t n = *pn, i;
	bool inrange = false;

	*star = false;
	while (n > 0 && p[0] == '*') {
		p++;
		n--;
		*star = true;
	}
	for (i = 0; i < n; i++) {
		if (p[i] == '\\') {
			if (i + 1 < n)
				i++;
		} else if (p[i] == '[') {
			inrange = true;
		} else if (p[i] == ']') {
			inrange = false;
		} else if (p[i] == '*' && !inrange) {
			break;
		}
	}
	*chunk = p;
	*cn = i;
	*pat = p + i;
	*pn = n - i;
}

/* filepath.Match's verdict on syntax: false when it returns ErrBadPattern. */
static bool go_match_ok(const char *pat, size_t pn, const char *name, size_t nn)
{
	while (pn > 0) {
		bool star;
		const char *chunk;
		size_t cn, rest;
		int m;

		scan_chunk(&pat, &pn, &star, &chunk, &cn);
		if (star && cn == 0)
			return true;
		m = match_chunk(chunk, cn, name, nn, &rest);
		if (m > 0 && (rest == 0 || pn > 0)) {
			name += nn - rest;
			nn = rest;
			continue;
		}
		if (m < 0)
			return false;
		if (star) {
			bool advanced = false;

			for (size_t i = 0; i < nn && name[i] != '/'; i++) {
				m = match_chunk(chunk, cn, name + i + 1, nn - i - 1, &rest);
				if (m > 0) {
					if (pn == 0 && rest > 0)
						continue;
					name += nn - rest;
					nn = rest;
					advanced = true;
					break;
				}
				if (m < 0)
					return false;
			}
			if (advanced)
				continue;
		}
		while (pn > 0) {
			scan_chunk(&pat, &pn, &star, &chunk, &cn);
			if (match_chunk(chunk, cn, "", 0, &rest) < 0)
				return false;
		}
		return true;
	}
	return true;
}

/* --- patternmatcher's Pattern.compile --- */

/* patternmatcher means to escape . + ( ) | { } $ but builds its table as
 * `escapeBytes[b%8] |= 1 << (b/8)` in bytes, so the bits for '|', '{' and
 * '}' (>= 64) shift out: those reach Go's regexp raw, as alternation and
 * counted repeats. Docker behaves that way, so ctxd does too. */
static bool should_escape(int32_t c)
{
	return c == '.' || c == '+' || c == '(' || c == ')' || c == '$';
}

static void put_rune(struct ctxd_buf *b, int32_t r)
{
	char u[4];

	ctxd_buf_append(b, u, ctxd_utf8_encode(r, u));
}

static int compile(struct ctxd_pattern *p)
{
	struct ctxd_buf re = {0};
	const char *s = p->text;
	size_t n = p->len, i = 0, sz;
	int32_t ch;

	p->kind = K_EXACT;
	ctxd_buf_putc(&re, '^');
	/* text/scanner skips one BOM at the very start */
	if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	for (int tok = 0; i < n; tok++) {
		ch = ctxd_utf8_decode(s + i, n - i, &sz);
		i += sz;
		if (ch == '*') {
			if (i < n && s[i] == '*') {
				i++;
				if (i < n && s[i] == '/')
					i++;
				if (i == n) {
					if (p->kind == K_EXACT) {
						p->kind = K_PREFIX;
					} else {
						ctxd_buf_puts(&re, ".*");
						p->kind = K_REGEXP;
					}
				} else {
					ctxd_buf_puts(&re, "(.*/)?");
					p->kind = K_REGEXP;
				}
				if (tok == 0)
					p->kind = K_SUFFIX;
			} else {
				ctxd_buf_puts(&re, "[^/]*");
				p->kind = K_REGEXP;
			}
		} else if (ch == '?') {
			ctxd_buf_puts(&re, "[^/]");
			p->kind = K_REGEXP;
		} else if (should_escape(ch)) {
			ctxd_buf_putc(&re, '\\');
			put_rune(&re, ch);
		} else if (ch == '\\') {
			if (i < n) {
				ctxd_buf_putc(&re, '\\');
				put_rune(&re, ctxd_utf8_decode(s + i, n - i, &sz));
				i += sz;
				p->kind = K_REGEXP;
			} else {
				ctxd_buf_putc(&re, '\\');
			}
		} else if (ch == '[' || ch == ']') {
			put_rune(&re, ch);
			p->kind = K_REGEXP;
		} else {
			put_rune(&re, ch);
		}
	}
	if (p->kind == K_REGEXP) {
		ctxd_buf_putc(&re, '$');
		if (re.oom) {
			ctxd_buf_free(&re);
			return -1;
		}
		p->re = ctxd_goregex_compile(re.data, re.len, &p->bad);
		if (!p->re && !p->bad)
			p->bad = "out of memory";
	}
	ctxd_buf_free(&re);
	return 0;
}

struct ctxd_pattern *ctxd_pattern_create(const char *text, size_t len, struct ctxd_error *err)
{
	struct ctxd_pattern *p;

	if (!go_match_ok(text, len, ".", 1)) {
		ctxd_error_set(err, "syntax error in pattern");
		return NULL;
	}
	p = calloc(1, sizeof *p);
	if (!p || !(p->text = malloc(len + 1))) {
		free(p);
		ctxd_error_set(err, "out of memory");
		return NULL;
	}
	memcpy(p->text, text, len);
	p->text[len] = '\0';
	p->len = len;
	p->depth = 1;
	for (size_t i = 0; i < len; i++)
		p->depth += text[i] == '/';
	if (compile(p) < 0) {
		ctxd_pattern_destroy(p);
		ctxd_error_set(err, "out of memory");
		return NULL;
	}
	return p;
}

void ctxd_pattern_destroy(struct ctxd_pattern *p)
{
	if (!p)
		return;
	ctxd_goregex_destroy(p->re);
	free(p->text);
	free(p);
}

int ctxd_pattern_match(const struct ctxd_pattern *p, const char *path, size_t len,
		       struct ctxd_error *err)
{
	switch (p->kind) {
	case K_EXACT:
		return len == p->len && memcmp(path, p->text, len) == 0;
	case K_PREFIX:
		return len >= p->len - 2 && memcmp(path, p->text, p->len - 2) == 0;
	case K_SUFFIX: {
		const char *suf = p->text + 2;
		size_t sl = p->len - 2;

		if (len >= sl && memcmp(path + len - sl, suf, sl) == 0)
			return 1;
		return sl > 0 && suf[0] == '/' && len == sl - 1 && memcmp(path, suf + 1, len) == 0;
	}
	case K_REGEXP:
		if (p->bad) {
			ctxd_error_set(err, "syntax error in pattern (%s)", p->bad);
			return -1;
		}
		return ctxd_goregex_match(p->re, path, len);
	}
	return 0;
}

const char *ctxd_pattern_text(const struct ctxd_pattern *p)
{
	return p->text;
}

size_t ctxd_pattern_depth(const struct ctxd_pattern *p)
{
	return p->depth;
}

bool ctxd_pattern_is_literal(const struct ctxd_pattern *p)
{
	return strpbrk(p->text, "*?[]^\\") == NULL;
}
