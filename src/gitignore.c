/* gitignore pattern lists for rule attribution (see include/ctxd/gitignore.h).
 * Parsing and matching follow git's dir.c (add_patterns_from_buffer,
 * parse_path_pattern, match_basename, match_pathname) and wildmatch.c, so the
 * line found is the one `git check-ignore -v` prints. */
#include "ctxd/gitignore.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/buf.h"

struct pattern {
	char *text;       /* the line as kept, for the rule */
	char *pat;        /* without '!' and trailing '/' */
	size_t len;
	size_t nowild;    /* length of the leading part with no wildcard */
	unsigned line;
	bool negative, mustbedir, nodir;
};

struct ctxd_gitignore {
	char *file;
	char *base;       /* "" or "dir/sub" (no trailing '/') */
	size_t baselen;
	struct pattern *pats;
	size_t n;
};

enum { WM_MATCH, WM_NOMATCH, WM_ABORT_ALL, WM_ABORT_TO_STARSTAR };

static bool glob_special(unsigned char c)
{
	return c == '*' || c == '?' || c == '[' || c == '\\';
}

static bool class_match(const unsigned char *name, size_t n, unsigned char c, bool *known)
{
	static const struct {
		const char *name;
		int (*fn)(int);
	} classes[] = {
		{"alnum", isalnum}, {"alpha", isalpha}, {"blank", isblank}, {"cntrl", iscntrl},
		{"digit", isdigit}, {"graph", isgraph}, {"lower", islower}, {"print", isprint},
		{"punct", ispunct}, {"space", isspace}, {"upper", isupper}, {"xdigit", isxdigit},
	};

	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
		if (strlen(classes[i].name) == n && memcmp(classes[i].name, name, n) == 0) {
			*known = true;
			return c < 128 && classes[i].fn(c);
		}
	*known = false;
	return false;
}

/* A bracket expression at p (just after '['), against t_ch; *pp is left on
 * the closing ']'. Returns WM_MATCH, WM_NOMATCH or WM_ABORT_ALL. */
static int bracket(const unsigned char **pp, unsigned char t_ch)
{
	const unsigned char *p = *pp;
	unsigned char p_ch = *p, prev_ch = 0;
	bool negated, matched = false;

	if (p_ch == '^')
		p_ch = '!';
	negated = p_ch == '!';
	if (negated)
		p_ch = *++p;
	do {
		if (!p_ch)
			return WM_ABORT_ALL;
		if (p_ch == '\\') {
			p_ch = *++p;
			if (!p_ch)
				return WM_ABORT_ALL;
			if (t_ch == p_ch)
				matched = true;
		} else if (p_ch == '-' && prev_ch && p[1] && p[1] != ']') {
			p_ch = *++p;
			if (p_ch == '\\') {
				p_ch = *++p;
				if (!p_ch)
					return WM_ABORT_ALL;
			}
			if (t_ch <= p_ch && t_ch >= prev_ch)
				matched = true;
			p_ch = 0; /* a range's end never starts another range */
		} else if (p_ch == '[' && p[1] == ':') {
			const unsigned char *s = p += 2;
			bool known;

			while ((p_ch = *p) && p_ch != ']')
				p++;
			if (!p_ch)
				return WM_ABORT_ALL;
			if (p - s < 1 || p[-1] != ':') {
				/* no ":]": the '[' was an ordinary member */
				p = s - 2;
				p_ch = '[';
				if (t_ch == p_ch)
					matched = true;
				prev_ch = p_ch;
				continue;
			}
			if (class_match(s, (size_t)(p - s - 1), t_ch, &known))
				matched = true;
			if (!known)
				return WM_ABORT_ALL;
			p_ch = 0;
		} else if (t_ch == p_ch) {
			matched = true;
		}
		prev_ch = p_ch;
	} while ((p_ch = *++p) != ']');
	*pp = p;
	if (matched == negated || t_ch == '/')
		return WM_NOMATCH;
	return WM_MATCH;
}

/* Like git's, this backtracks: "**" after "**" multiplies the work. A budget
 * of steps bounds it, so a hostile pattern gives up (no match) where git
 * would spin; no pattern a person writes comes near it. */
#define WILD_BUDGET (1u << 20)

static int dowild(const unsigned char *pattern, const unsigned char *p, const unsigned char *text,
		  unsigned *budget)
{
	unsigned char p_ch;

	if (!*budget)
		return WM_ABORT_ALL;
	--*budget;

	for (; (p_ch = *p) != '\0'; text++, p++) {
		unsigned char t_ch = *text;
		bool match_slash;
		int r;

		if (t_ch == '\0' && p_ch != '*')
			return WM_ABORT_ALL;
		switch (p_ch) {
		case '\\':
			p_ch = *++p;
			/* FALLTHROUGH */
		default:
			if (t_ch != p_ch)
				return WM_NOMATCH;
			continue;
		case '?':
			if (t_ch == '/')
				return WM_NOMATCH;
			continue;
		case '[':
			p++;
			r = bracket(&p, t_ch);
			if (r != WM_MATCH)
				return r;
			continue;
		case '*':
			if (*++p == '*') {
				const unsigned char *prev_p = p - 2;

				while (*++p == '*')
					;
				if ((prev_p < pattern || *prev_p == '/') &&
				    (*p == '\0' || *p == '/' || (p[0] == '\\' && p[1] == '/'))) {
					/* "**" as a whole component: it may match no directory at all */
					if (p[0] == '/' && dowild(pattern, p + 1, text, budget) == WM_MATCH)
						return WM_MATCH;
					match_slash = true;
				} else {
					match_slash = false;
				}
			} else {
				match_slash = false;
			}
			if (*p == '\0') {
				if (!match_slash && strchr((const char *)text, '/'))
					return WM_NOMATCH;
				return WM_MATCH;
			}
			if (!match_slash && *p == '/') {
				const char *slash = strchr((const char *)text, '/');

				if (!slash)
					return WM_NOMATCH;
				text = (const unsigned char *)slash;
				break; /* the loop consumes both slashes */
			}
			for (;;) {
				if (t_ch == '\0')
					break;
				if (!glob_special(*p)) {
					/* what precedes the next literal belongs to the '*' */
					p_ch = *p;
					while ((t_ch = *text) != '\0' && (match_slash || t_ch != '/')) {
						if (t_ch == p_ch)
							break;
						text++;
					}
					if (t_ch != p_ch)
						return WM_NOMATCH;
				}
				r = dowild(pattern, p, text, budget);
				if (r != WM_NOMATCH) {
					if (!match_slash || r != WM_ABORT_TO_STARSTAR)
						return r;
				} else if (!match_slash && t_ch == '/') {
					return WM_ABORT_TO_STARSTAR;
				}
				t_ch = *++text;
			}
			return WM_ABORT_ALL;
		}
	}
	return *text ? WM_NOMATCH : WM_MATCH;
}

bool ctxd_gitignore_wildmatch(const char *pattern, const char *text)
{
	const unsigned char *p = (const unsigned char *)pattern;
	unsigned budget = WILD_BUDGET;

	return dowild(p, p, (const unsigned char *)text, &budget) == WM_MATCH;
}

/* wildmatch over two counted strings (git's fnmatch_icase_mem). */
static bool wildmatch_mem(const char *pat, size_t plen, const char *text, size_t tlen)
{
	char sp[256], st[256];
	char *p = plen < sizeof sp ? sp : malloc(plen + 1);
	char *t = tlen < sizeof st ? st : malloc(tlen + 1);
	bool m = false;

	if (p && t) {
		memcpy(p, pat, plen);
		p[plen] = '\0';
		memcpy(t, text, tlen);
		t[tlen] = '\0';
		m = ctxd_gitignore_wildmatch(p, t);
	}
	if (p != sp)
		free(p);
	if (t != st)
		free(t);
	return m;
}

static size_t simple_length(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && !glob_special((unsigned char)s[i]))
		i++;
	return i;
}

/* git's trim_trailing_spaces: drops trailing ' ' unless backslash-escaped. */
static size_t trim_trailing(const char *s, size_t len)
{
	size_t keep = len;
	bool run = false;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ') {
			if (!run) {
				keep = i;
				run = true;
			}
			continue;
		}
		run = false;
		if (s[i] == '\\' && i + 1 < len)
			i++;
		keep = len;
	}
	return run ? keep : len;
}

static int add_pattern(struct ctxd_gitignore *gi, const char *s, size_t len, unsigned line)
{
	struct pattern *np, *pt;
	size_t i;

	if (gi->n % 16 == 0) {
		np = realloc(gi->pats, (gi->n + 16) * sizeof *np);
		if (!np)
			return -1;
		gi->pats = np;
	}
	pt = &gi->pats[gi->n];
	memset(pt, 0, sizeof *pt);
	pt->line = line;
	pt->text = strndup(s, len);
	if (!pt->text)
		return -1;
	if (len && *s == '!') {
		pt->negative = true;
		s++;
		len--;
	}
	if (len && s[len - 1] == '/') {
		pt->mustbedir = true;
		len--;
	}
	for (i = 0; i < len && s[i] != '/'; i++)
		;
	pt->nodir = i == len;
	pt->nowild = simple_length(s, len);
	pt->pat = strndup(s, len);
	if (!pt->pat) {
		free(pt->text);
		return -1;
	}
	pt->len = len;
	gi->n++;
	return 0;
}

int ctxd_gitignore_parse(const char *data, size_t len, const char *file, const char *base,
			 struct ctxd_gitignore **out, struct ctxd_error *err)
{
	struct ctxd_gitignore *gi = calloc(1, sizeof *gi);
	size_t start = 0;
	unsigned line = 1;

	if (!gi || !(gi->file = strdup(file)) || !(gi->base = strdup(base)))
		goto oom;
	gi->baselen = strlen(base);
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		start = 3;
	/* git appends a missing final newline, so the last line counts */
	for (size_t i = start; i <= len; i++) {
		size_t n;

		if (i < len && data[i] != '\n')
			continue;
		if (i == len && i == start)
			break;
		n = i - start;
		if (n && data[start] != '#') {
			if (data[i - 1] == '\r')
				n--;
			/* git keeps lines as C strings: a NUL ends the pattern */
			n = strnlen(data + start, n);
			n = trim_trailing(data + start, n);
			if (add_pattern(gi, data + start, n, line) < 0)
				goto oom;
		}
		line++;
		start = i + 1;
	}
	*out = gi;
	return 0;
oom:
	ctxd_gitignore_destroy(gi);
	ctxd_error_set(err, "out of memory");
	return -1;
}

void ctxd_gitignore_destroy(struct ctxd_gitignore *gi)
{
	if (!gi)
		return;
	for (size_t i = 0; i < gi->n; i++) {
		free(gi->pats[i].text);
		free(gi->pats[i].pat);
	}
	free(gi->pats);
	free(gi->file);
	free(gi->base);
	free(gi);
}

static bool match_pathname(const struct ctxd_gitignore *gi, const struct pattern *pt,
			   const char *path, size_t len)
{
	const char *pat = pt->pat, *name;
	size_t plen = pt->len, prefix = pt->nowild, namelen;

	if (*pat == '/') {
		pat++;
		plen--;
		prefix--;
	}
	if (len < gi->baselen + 1 || (gi->baselen && path[gi->baselen] != '/') ||
	    memcmp(path, gi->base, gi->baselen) != 0)
		return false;
	namelen = gi->baselen ? len - gi->baselen - 1 : len;
	name = path + len - namelen;
	if (prefix) {
		if (prefix > namelen || memcmp(pat, name, prefix) != 0)
			return false;
		pat += prefix;
		plen -= prefix;
		name += prefix;
		namelen -= prefix;
		if (!plen && !namelen)
			return true;
	}
	/* git matches what follows the literal prefix on its own, so a "**"
	 * right after it counts as a whole component */
	return wildmatch_mem(pat, plen, name, namelen);
}

int ctxd_gitignore_match(const struct ctxd_gitignore *gi, const char *path, size_t len,
			 bool is_dir)
{
	const char *slash = memrchr(path, '/', len);
	const char *basename = slash ? slash + 1 : path;
	size_t blen = len - (size_t)(basename - path);

	for (size_t i = gi->n; i-- > 0;) {
		const struct pattern *pt = &gi->pats[i];

		if (pt->mustbedir && !is_dir)
			continue;
		if (pt->nodir) {
			if (wildmatch_mem(pt->pat, pt->len, basename, blen))
				return (int)i;
			continue;
		}
		if (match_pathname(gi, pt, path, len))
			return (int)i;
	}
	return -1;
}

void ctxd_gitignore_rule(const struct ctxd_gitignore *gi, int i, struct ctxd_gitignore_rule *out)
{
	const struct pattern *pt = &gi->pats[i];

	out->file = gi->file;
	out->line = pt->line;
	out->text = pt->text;
	out->negative = pt->negative;
}
