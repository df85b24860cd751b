/* Go regexp syntax (regexp/syntax with Perl flags) parsed and re-emitted as a
 * PCRE2 program built only from explicit code-point ranges, groups and
 * assertions. Follows Go's parser: its escapes, class rules, repeat rules and
 * errors; see include/ctxd/goregex.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "ctxd/goregex.h"

#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/buf.h"
#include "ctxd/utf8.h"

struct ctxd_goregex {
	pcre2_code *code;
	pcre2_match_data *md;
};

#define MAX_RUNE 0x10FFFF

struct range {
	int32_t lo, hi;
};

/* A character class under construction: ranges plus \p items. */
struct cls {
	struct range *r;
	size_t n, cap;
	struct ctxd_buf props;
	bool oom;
};

static void cls_add(struct cls *c, int32_t lo, int32_t hi)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct range *r = realloc(c->r, cap * sizeof *r);

		if (!r) {
			c->oom = true;
			return;
		}
		c->r = r;
		c->cap = cap;
	}
	c->r[c->n++] = (struct range){lo, hi};
}

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Adds table (pairs lo,hi ending in -1), or its complement. */
static void cls_add_table(struct cls *c, const int32_t *t, bool negate)
{
	int32_t next = 0;

	if (!negate) {
		for (; t[0] >= 0; t += 2)
			cls_add(c, t[0], t[1]);
		return;
	}
	for (; t[0] >= 0; t += 2) {
		if (t[0] > next)
			cls_add(c, next, t[0] - 1);
		next = t[1] + 1;
	}
	if (next <= MAX_RUNE)
		cls_add(c, next, MAX_RUNE);
}

static void emit_rune(struct ctxd_buf *b, int32_t r)
{
	ctxd_buf_printf(b, "\\x{%X}", (unsigned)r);
}

/* Writes the class as a PCRE2 class; surrogates (which no decoded subject
 * holds) are dropped because PCRE2 rejects them in UTF mode. */
static void cls_emit(struct cls *c, bool negated, struct ctxd_buf *out)
{
	struct ctxd_buf body = {0};

	if (c->n)
		qsort(c->r, c->n, sizeof *c->r, range_cmp);
	for (size_t i = 0; i < c->n; i++) {
		int32_t lo = c->r[i].lo, hi = c->r[i].hi;

		for (int part = 0; part < 2; part++) {
			int32_t a = part ? (lo > 0xDFFF ? lo : 0xE000) : lo;
			int32_t z = part ? hi : (hi < 0xD800 ? hi : 0xD7FF);

			if (a > z)
				continue;
			emit_rune(&body, a);
			if (z != a) {
				ctxd_buf_putc(&body, '-');
				emit_rune(&body, z);
			}
		}
	}
	if (c->props.len)
		ctxd_buf_append(&body, c->props.data, c->props.len);
	if (body.oom) {
		out->oom = true;
	} else if (body.len == 0) {
		/* only surrogates: nothing (or, negated, anything) */
		ctxd_buf_puts(out, negated ? "[\\x{0}-\\x{D7FF}\\x{E000}-\\x{10FFFF}]" : "(?!)");
	} else {
		ctxd_buf_puts(out, negated ? "[^" : "[");
		ctxd_buf_append(out, body.data, body.len);
		ctxd_buf_putc(out, ']');
	}
	ctxd_buf_free(&body);
}

static const int32_t t_digit[] = {'0', '9', -1};
static const int32_t t_word[] = {'0', '9', 'A', 'Z', '_', '_', 'a', 'z', -1};

static const struct {
	const char *name;
	int32_t t[12];
} posix[] = {
	{"alnum", {'0', '9', 'A', 'Z', 'a', 'z', -1}},
	{"alpha", {'A', 'Z', 'a', 'z', -1}},
	{"ascii", {0, 0x7F, -1}},
	{"blank", {'\t', '\t', ' ', ' ', -1}},
	{"cntrl", {0, 0x1F, 0x7F, 0x7F, -1}},
	{"digit", {'0', '9', -1}},
	{"graph", {'!', '~', -1}},
	{"lower", {'a', 'z', -1}},
	{"print", {' ', '~', -1}},
	{"punct", {'!', '/', ':', '@', '[', '`', '{', '~', -1}},
	{"space", {'\t', '\r', ' ', ' ', -1}},
	{"upper", {'A', 'Z', -1}},
	{"word", {'0', '9', 'A', 'Z', 'a', 'z', '_', '_', -1}},
	{"xdigit", {'0', '9', 'A', 'F', 'a', 'f', -1}},
};

/* The \t \n \f \r space table needs pairs: fix it up as ranges. */
static const int32_t t_space_pairs[] = {'\t', '\n', '\f', '\r', ' ', ' ', -1};

struct parser {
	const char *s;
	size_t n, i;
	const char *why;
};

static int32_t next_rune(struct parser *p)
{
	size_t sz;
	int32_t r = ctxd_utf8_decode(p->s + p->i, p->n - p->i, &sz);

	p->i += sz;
	return r;
}

static int unhex(int32_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_alnum(int32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Go parseEscape: p->i is at the backslash. */
static bool parse_escape(struct parser *p, int32_t *out)
{
	int32_t c, r;

	p->i++;
	if (p->i >= p->n) {
		p->why = "trailing backslash at end of expression";
		return false;
	}
	c = next_rune(p);
	switch (c) {
	case '1': case '2': case '3': case '4': case '5': case '6': case '7':
		if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '7')
			break;
		/* fall through */
	case '0':
		r = c - '0';
		for (int k = 1; k < 3; k++) {
			if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '7')
				break;
			r = r * 8 + (p->s[p->i++] - '0');
		}
		*out = r;
		return true;
	case 'x':
		if (p->i >= p->n)
			break;
		c = next_rune(p);
		if (c == '{') {
			int nhex = 0;

			r = 0;
			for (;;) {
				int v;

				if (p->i >= p->n)
					goto bad;
				c = next_rune(p);
				if (c == '}')
					break;
				v = unhex(c);
				if (v < 0)
					goto bad;
				r = r * 16 + v;
				if (r > MAX_RUNE)
					goto bad;
				nhex++;
			}
			if (nhex == 0)
				break;
			*out = r;
			return true;
		} else {
			int x = unhex(c), y;

			if (p->i >= p->n)
				break;
			y = unhex(next_rune(p));
			if (x < 0 || y < 0)
				break;
			*out = x * 16 + y;
			return true;
		}
	case 'a': *out = 7; return true;
	case 'f': *out = '\f'; return true;
	case 'n': *out = '\n'; return true;
	case 'r': *out = '\r'; return true;
	case 't': *out = '\t'; return true;
	case 'v': *out = '\v'; return true;
	default:
		if (c < 0x80 && !is_alnum(c)) {
			*out = c;
			return true;
		}
		break;
	}
bad:
	p->why = "invalid escape sequence";
	return false;
}

/* \d \D \s \S \w \W at p->i; returns false when not one. */
static bool parse_perl_class(struct parser *p, struct cls *c)
{
	const int32_t *t;
	char k;

	if (p->i + 1 >= p->n || p->s[p->i] != '\\')
		return false;
	k = p->s[p->i + 1];
	switch (k) {
	case 'd': case 'D': t = t_digit; break;
	case 's': case 'S': t = t_space_pairs; break;
	case 'w': case 'W': t = t_word; break;
	default: return false;
	}
	cls_add_table(c, t, k >= 'A' && k <= 'Z');
	p->i += 2;
	return true;
}

/* \pN, \p{Name}, \PN, \P{^Name} at p->i. Returns 0 when not one, 1 when
 * parsed, -1 on error. Names are left to PCRE2, which knows Go's set. */
static int parse_unicode_class(struct parser *p, struct ctxd_buf *props)
{
	bool neg;
	const char *name;
	size_t nlen, save = p->i;

	if (p->i + 1 >= p->n || p->s[p->i] != '\\' || (p->s[p->i + 1] != 'p' && p->s[p->i + 1] != 'P'))
		return 0;
	neg = p->s[p->i + 1] == 'P';
	p->i += 2;
	if (p->i < p->n && p->s[p->i] == '{') {
		const char *end = memchr(p->s + p->i, '}', p->n - p->i);

		if (!end) {
			p->why = "invalid character class range";
			return -1;
		}
		name = p->s + p->i + 1;
		nlen = (size_t)(end - name);
		p->i = (size_t)(end - p->s) + 1;
	} else {
		size_t start = p->i;

		next_rune(p);
		name = p->s + start;
		nlen = p->i - start;
	}
	if (nlen > 0 && name[0] == '^') {
		neg = !neg;
		name++;
		nlen--;
	}
	if (nlen == 0 || nlen > 64) {
		p->why = "invalid character class range";
		return -1;
	}
	for (size_t k = 0; k < nlen; k++) {
		unsigned char ch = (unsigned char)name[k];

		if (!(is_alnum(ch) || ch == '_')) {
			p->why = "invalid character class range";
			return -1;
		}
	}
	(void)save;
	ctxd_buf_printf(props, "\\%c{%.*s}", neg ? 'P' : 'p', (int)nlen, name);
	return 1;
}

/* Go parseClass: p->i is at '['. */
static bool parse_class(struct parser *p, struct ctxd_buf *out)
{
	struct cls c = {0};
	bool negated = false, first = true, ok = false;

	p->i++;
	if (p->i < p->n && p->s[p->i] == '^') {
		negated = true;
		p->i++;
	}
	while (p->i >= p->n || p->s[p->i] != ']' || first) {
		int32_t lo, hi;
		int u;

		first = false;
		if (p->i + 2 < p->n && p->s[p->i] == '[' && p->s[p->i + 1] == ':') {
			const char *end = NULL;

			for (size_t k = p->i + 2; k + 1 < p->n; k++)
				if (p->s[k] == ':' && p->s[k + 1] == ']') {
					end = p->s + k;
					break;
				}
			if (end) {
				const char *nm = p->s + p->i + 2;
				size_t len = (size_t)(end - nm);
				bool neg = len > 0 && nm[0] == '^';
				bool found = false;

				if (neg) {
					nm++;
					len--;
				}
				for (size_t k = 0; k < sizeof posix / sizeof posix[0]; k++)
					if (strlen(posix[k].name) == len && memcmp(posix[k].name, nm, len) == 0) {
						cls_add_table(&c, posix[k].t, neg);
						found = true;
					}
				if (!found) {
					p->why = "invalid character class range";
					goto out;
				}
				p->i = (size_t)(end - p->s) + 2;
				continue;
			}
		}
		u = parse_unicode_class(p, &c.props);
		if (u < 0)
			goto out;
		if (u > 0)
			continue;
		if (parse_perl_class(p, &c))
			continue;
		/* single character or range */
		if (p->i >= p->n) {
			p->why = "missing closing ]";
			goto out;
		}
		if (p->s[p->i] == '\\') {
			if (!parse_escape(p, &lo))
				goto out;
		} else {
			lo = next_rune(p);
		}
		hi = lo;
		if (p->i + 1 < p->n && p->s[p->i] == '-' && p->s[p->i + 1] != ']') {
			p->i++;
			if (p->i >= p->n) {
				p->why = "missing closing ]";
				goto out;
			}
			if (p->s[p->i] == '\\') {
				if (!parse_escape(p, &hi))
					goto out;
			} else {
				hi = next_rune(p);
			}
			if (hi < lo) {
				p->why = "invalid character class range";
				goto out;
			}
		}
		cls_add(&c, lo, hi);
	}
	p->i++; /* the ']' */
	if (c.oom || c.props.oom) {
		p->why = "out of memory";
		goto out;
	}
	cls_emit(&c, negated, out);
	ok = true;
out:
	free(c.r);
	ctxd_buf_free(&c.props);
	return ok;
}

enum last { L_NONE, L_ATOM, L_ASSERT, L_REPEAT };

/* Go parseInt: decimal, no leading zeros; -1 when too big. */
static size_t parse_int(const char *s, size_t n, size_t i, int *v)
{
	size_t start = i;
	long val = 0;

	if (i >= n || s[i] < '0' || s[i] > '9')
		return 0;
	if (n - i >= 2 && s[i] == '0' && s[i + 1] >= '0' && s[i + 1] <= '9')
		return 0;
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		if (val < 100000000)
			val = val * 10 + (s[i] - '0');
		if (i - start >= 8)
			val = 100000000;
		i++;
	}
	*v = val >= 100000000 ? -1 : (int)val;
	return i;
}

/* Go parseRepeat at s[i] == '{': {n}, {n,} or {n,m}. Returns the index after
 * '}', or 0 when the text is not a repeat (then '{' is a literal). max is -1
 * for "no limit"; a too-big number makes min -1. */
static size_t parse_repeat(const char *s, size_t n, size_t i, int *min, int *max)
{
	size_t j = parse_int(s, n, i + 1, min);

	if (!j || j >= n)
		return 0;
	if (s[j] != ',') {
		*max = *min;
	} else {
		j++;
		if (j >= n)
			return 0;
		if (s[j] == '}') {
			*max = -1;
		} else {
			size_t k = parse_int(s, n, j, max);

			if (!k)
				return 0;
			j = k;
			if (*max < 0)
				*min = -1;
		}
	}
	if (j >= n || s[j] != '}')
		return 0;
	return j + 1;
}

/* PCRE2 will not repeat a bare assertion; Go will. Wraps out[at..] in a
 * group so the repeat applies to the same thing. */
static bool wrap_assert(struct ctxd_buf *out, size_t at)
{
	size_t tail = out->len - at;

	ctxd_buf_append(out, "(?:", 3);
	if (out->oom)
		return false;
	memmove(out->data + at + 3, out->data + at, tail);
	memcpy(out->data + at, "(?:", 3);
	ctxd_buf_putc(out, ')');
	return !out->oom;
}

static bool translate(struct parser *p, struct ctxd_buf *out)
{
	enum last last = L_NONE;
	size_t atom_at = 0; /* where the last atom starts in out */
	size_t groups[64]; /* where each open group starts in out */
	int depth = 0;

	while (p->i < p->n) {
		char ch = p->s[p->i];
		size_t start = out->len;
		enum last now = L_ATOM;

		switch (ch) {
		case '(':
			if (depth == (int)(sizeof groups / sizeof groups[0])) {
				p->why = "expression nests too deeply";
				return false;
			}
			groups[depth++] = out->len;
			ctxd_buf_puts(out, "(?:");
			p->i++;
			last = L_NONE;
			continue;
		case ')':
			if (depth == 0) {
				p->why = "unexpected )";
				return false;
			}
			atom_at = groups[--depth];
			ctxd_buf_putc(out, ')');
			p->i++;
			last = L_ATOM;
			continue;
		case '|':
			ctxd_buf_putc(out, '|');
			p->i++;
			last = L_NONE;
			continue;
		case '^':
			ctxd_buf_puts(out, "\\A");
			p->i++;
			now = L_ASSERT;
			break;
		case '$':
			ctxd_buf_puts(out, "\\z");
			p->i++;
			now = L_ASSERT;
			break;
		case '.':
			ctxd_buf_puts(out, "[^\\n]");
			p->i++;
			break;
		case '[':
			if (!parse_class(p, out))
				return false;
			break;
		case '*': case '+': case '?': {
			p->i++;
			if (last == L_REPEAT) {
				p->why = "invalid nested repetition operator";
				return false;
			}
			if (last == L_NONE) {
				p->why = "missing argument to repetition operator";
				return false;
			}
			if (last == L_ASSERT && !wrap_assert(out, atom_at))
				return false;
			ctxd_buf_putc(out, ch);
			if (p->i < p->n && p->s[p->i] == '?') {
				ctxd_buf_putc(out, '?');
				p->i++;
			}
			last = L_REPEAT;
			continue;
		}
		case '{': {
			int min, max;
			size_t after = parse_repeat(p->s, p->n, p->i, &min, &max);

			if (!after) { /* not a repeat: a literal '{' */
				emit_rune(out, '{');
				p->i++;
				break;
			}
			if (min < 0 || min > 1000 || max > 1000 || (max >= 0 && min > max)) {
				p->why = "invalid repeat count";
				return false;
			}
			if (last == L_REPEAT) {
				p->why = "invalid nested repetition operator";
				return false;
			}
			if (last == L_NONE) {
				p->why = "missing argument to repetition operator";
				return false;
			}
			if (last == L_ASSERT && !wrap_assert(out, atom_at))
				return false;
			if (max < 0)
				ctxd_buf_printf(out, "{%d,}", min);
			else
				ctxd_buf_printf(out, "{%d,%d}", min, max);
			p->i = after;
			if (p->i < p->n && p->s[p->i] == '?') {
				ctxd_buf_putc(out, '?');
				p->i++;
			}
			last = L_REPEAT;
			continue;
		}
		case '\\':
			if (p->i + 1 < p->n) {
				char e = p->s[p->i + 1];

				if (e == 'A' || e == 'z' || e == 'b' || e == 'B') {
					ctxd_buf_printf(out, "\\%c", e);
					p->i += 2;
					now = L_ASSERT;
					break;
				}
				if (e == 'C') {
					p->why = "invalid escape sequence";
					return false;
				}
				if (e == 'Q') {
					const char *lit = p->s + p->i + 2, *end = lit;
					size_t left = p->n - p->i - 2;
					bool any = false;

					while ((size_t)(end - lit) + 1 < left && !(end[0] == '\\' && end[1] == 'E'))
						end++;
					if ((size_t)(end - lit) + 1 >= left || !(end[0] == '\\' && end[1] == 'E'))
						end = lit + left;
					p->i += 2;
					while (p->s + p->i < end) {
						atom_at = out->len;
						emit_rune(out, next_rune(p));
						any = true;
					}
					if (p->i + 1 < p->n && p->s[p->i] == '\\' && p->s[p->i + 1] == 'E')
						p->i += 2;
					if (any)
						last = L_ATOM;
					continue;
				}
			}
			{
				struct cls c = {0};
				int u = parse_unicode_class(p, &c.props);
				bool ok = true;

				if (u < 0) {
					ok = false;
				} else if (u > 0 || parse_perl_class(p, &c)) {
					if (c.oom || c.props.oom) {
						p->why = "out of memory";
						ok = false;
					} else {
						cls_emit(&c, false, out);
					}
				} else {
					int32_t r;

					ok = parse_escape(p, &r);
					if (ok)
						emit_rune(out, r);
				}
				free(c.r);
				ctxd_buf_free(&c.props);
				if (!ok)
					return false;
			}
			break;
		default:
			emit_rune(out, next_rune(p));
			break;
		}
		atom_at = start;
		last = now;
	}
	if (depth != 0) {
		p->why = "missing closing )";
		return false;
	}
	return !out->oom;
}

struct ctxd_goregex *ctxd_goregex_compile(const char *src, size_t len, const char **why)
{
	struct parser p = {src, len, 0, NULL};
	struct ctxd_buf out = {0};
	struct ctxd_goregex *re;
	int errcode;
	PCRE2_SIZE erroff;

	if (!translate(&p, &out)) {
		*why = p.why ? p.why : "out of memory";
		ctxd_buf_free(&out);
		return NULL;
	}
	re = calloc(1, sizeof *re);
	if (!re) {
		*why = "out of memory";
		ctxd_buf_free(&out);
		return NULL;
	}
	re->code = pcre2_compile((PCRE2_SPTR)(out.data ? out.data : ""), out.len,
				 PCRE2_UTF | PCRE2_NO_UTF_CHECK, &errcode, &erroff, NULL);
	ctxd_buf_free(&out);
	if (!re->code) {
		*why = "invalid character class range";
		free(re);
		return NULL;
	}
	pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
	re->md = pcre2_match_data_create(1, NULL);
	if (!re->md) {
		pcre2_code_free(re->code);
		free(re);
		*why = "out of memory";
		return NULL;
	}
	return re;
}

/* Rewrites invalid UTF-8 as U+FFFD, one per bad byte, as Go's decoder sees it. */
static char *sanitize(const char *s, size_t len, size_t *outlen)
{
	char *o = malloc(len * 3 + 1);
	size_t w = 0;

	if (!o)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t sz;
		int32_t r = ctxd_utf8_decode(s + i, len - i, &sz);

		if (r == CTXD_RUNE_ERROR && sz == 1) {
			w += ctxd_utf8_encode(CTXD_RUNE_ERROR, o + w);
		} else {
			memcpy(o + w, s + i, sz);
			w += sz;
		}
		i += sz;
	}
	*outlen = w;
	return o;
}

static bool valid_utf8(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t sz;

		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		if (ctxd_utf8_decode(s + i, len - i, &sz) == CTXD_RUNE_ERROR && sz == 1)
			return false;
		i += sz;
	}
	return true;
}

bool ctxd_goregex_match(const struct ctxd_goregex *re, const char *s, size_t len)
{
	char *clean = NULL;
	int rc;

	if (!valid_utf8(s, len)) {
		clean = sanitize(s, len, &len);
		if (!clean)
			return false;
		s = clean;
	}
	rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, PCRE2_NO_UTF_CHECK, re->md, NULL);
	free(clean);
	return rc >= 0;
}

void ctxd_goregex_destroy(struct ctxd_goregex *re)
{
	if (!re)
		return;
	pcre2_match_data_free(re->md);
	pcre2_code_free(re->code);
	free(re);
}
