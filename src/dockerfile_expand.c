/* BuildKit's shell-word lexer (frontend/dockerfile/shell/lex.go) and the
 * variable scopes it reads; see include/ctxd/dockerfile_expand.h. Input is
 * read rune by rune as Go's text/scanner reads it (invalid bytes become
 * U+FFFD, a leading BOM is skipped). */
#include "ctxd/dockerfile_expand.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/goregex.h"
#include "ctxd/utf8.h"

#define LX_EOF (-1)
#define LX_START (-2)
/* Go recurses without bound; a C stack does not. */
#define MAX_DEPTH 200
/* Pattern matching (${X#pat}, ${X/pat/rep}) work allowed per expansion,
 * in VM steps; beyond it the result is reported unknown. */
#define MATCH_BUDGET 20000000u

/* ---- variable scopes ---- */

struct var {
	char *name;
	char *value; /* NULL: unknown */
};

struct ctxd_dockerfile_env {
	struct var *v;
	size_t n, cap;
	bool open;
	bool poisoned;
};

struct ctxd_dockerfile_env *ctxd_dockerfile_env_create(bool open)
{
	struct ctxd_dockerfile_env *env = calloc(1, sizeof *env);

	if (env)
		env->open = open;
	return env;
}

void ctxd_dockerfile_env_destroy(struct ctxd_dockerfile_env *env)
{
	if (!env)
		return;
	for (size_t i = 0; i < env->n; i++) {
		free(env->v[i].name);
		free(env->v[i].value);
	}
	free(env->v);
	free(env);
}

struct ctxd_dockerfile_env *ctxd_dockerfile_env_dup(const struct ctxd_dockerfile_env *env)
{
	struct ctxd_dockerfile_env *d = ctxd_dockerfile_env_create(env->open);

	if (!d)
		return NULL;
	d->poisoned = env->poisoned;
	for (size_t i = 0; i < env->n; i++) {
		if (ctxd_dockerfile_env_set(d, env->v[i].name, env->v[i].value) < 0) {
			ctxd_dockerfile_env_destroy(d);
			return NULL;
		}
	}
	return d;
}

static struct var *env_find(const struct ctxd_dockerfile_env *env, const char *name)
{
	/* EqualEnvKeys is case-sensitive on Linux */
	for (size_t i = 0; i < env->n; i++)
		if (strcmp(env->v[i].name, name) == 0)
			return &env->v[i];
	return NULL;
}

int ctxd_dockerfile_env_set(struct ctxd_dockerfile_env *env, const char *name, const char *value)
{
	struct var *v = env_find(env, name);
	char *copy = NULL;

	if (value && !(copy = strdup(value)))
		return -1;
	if (v) {
		free(v->value);
		v->value = copy;
		return 0;
	}
	if (env->n == env->cap) {
		size_t cap = env->cap ? env->cap * 2 : 16;
		struct var *nv = realloc(env->v, cap * sizeof *nv);

		if (!nv) {
			free(copy);
			return -1;
		}
		env->v = nv;
		env->cap = cap;
	}
	if (!(env->v[env->n].name = strdup(name))) {
		free(copy);
		return -1;
	}
	env->v[env->n++].value = copy;
	return 0;
}

void ctxd_dockerfile_env_poison(struct ctxd_dockerfile_env *env)
{
	env->poisoned = true;
}

enum ctxd_dockerfile_var ctxd_dockerfile_env_get(const struct ctxd_dockerfile_env *env,
						 const char *name, const char **value)
{
	const struct var *v;

	*value = "";
	if (!env)
		return CTXD_DOCKERFILE_UNSET;
	if (env->poisoned)
		return CTXD_DOCKERFILE_UNKNOWN;
	v = env_find(env, name);
	if (!v)
		return env->open ? CTXD_DOCKERFILE_UNKNOWN : CTXD_DOCKERFILE_UNSET;
	if (!v->value)
		return CTXD_DOCKERFILE_UNKNOWN;
	*value = v->value;
	return CTXD_DOCKERFILE_SET;
}

/* ---- Go's %q ---- */

/* unicode.IsPrint, close enough for error messages: the controls, format
 * characters and private-use ranges Go escapes. */
static bool go_isprint(int32_t r)
{
	if (r < 0x80)
		return r >= 0x20 && r < 0x7F;
	if (r < 0xA0 || r == 0xAD || r == 0x61C || r == 0x180E || r == 0xFEFF)
		return false;
	if ((r >= 0x200B && r <= 0x200F) || (r >= 0x2028 && r <= 0x202E) ||
	    (r >= 0x2060 && r <= 0x206F) || (r >= 0xFFF9 && r <= 0xFFFB) ||
	    (r >= 0xE000 && r <= 0xF8FF) || r >= 0xF0000)
		return false;
	return true;
}

void ctxd_dockerfile_quote(struct ctxd_buf *b, const char *s, size_t len)
{
	ctxd_buf_putc(b, '"');
	for (size_t i = 0; i < len;) {
		size_t sz;
		int32_t r = ctxd_utf8_decode(s + i, len - i, &sz);

		if (r == CTXD_RUNE_ERROR && sz == 1) {
			ctxd_buf_printf(b, "\\x%02x", (unsigned char)s[i]);
		} else if (r == '"' || r == '\\') {
			ctxd_buf_putc(b, '\\');
			ctxd_buf_putc(b, (char)r);
		} else if (go_isprint(r)) {
			ctxd_buf_append(b, s + i, sz);
		} else {
			switch (r) {
			case '\a': ctxd_buf_puts(b, "\\a"); break;
			case '\b': ctxd_buf_puts(b, "\\b"); break;
			case '\f': ctxd_buf_puts(b, "\\f"); break;
			case '\n': ctxd_buf_puts(b, "\\n"); break;
			case '\r': ctxd_buf_puts(b, "\\r"); break;
			case '\t': ctxd_buf_puts(b, "\\t"); break;
			case '\v': ctxd_buf_puts(b, "\\v"); break;
			default:
				if (r < 0x20 || r == 0x7F)
					ctxd_buf_printf(b, "\\x%02x", (unsigned)r);
				else if (r < 0x10000)
					ctxd_buf_printf(b, "\\u%04x", (unsigned)r);
				else
					ctxd_buf_printf(b, "\\U%08x", (unsigned)r);
			}
		}
		i += sz;
	}
	ctxd_buf_putc(b, '"');
}

/* ---- glob patterns of ${X#p}, ${X%p}, ${X/p/r} ----
 * convertShellPatternToRegex gives a Go regexp made of literals, '.' for
 * '?' and '.*' or '.*?' for '*'. Go matches it leftmost-first; a small
 * Pike VM with thread priorities reproduces that in linear time. '.' does
 * not match a newline, as in Go. */

enum { P_CHAR, P_ANY, P_SPLIT, P_JMP, P_MATCH };

struct pinst {
	int op;
	int32_t c;
	size_t x, y;
};

struct prog {
	struct pinst *in;
	size_t n;
};

/* A rune sequence with the byte offset of each rune (off[n] = length). */
struct runes {
	int32_t *r;
	size_t *off;
	size_t n;
};

static int runes_decode(struct runes *rs, const char *s, size_t len)
{
	rs->r = malloc((len + 1) * sizeof *rs->r);
	rs->off = malloc((len + 1) * sizeof *rs->off);
	rs->n = 0;
	if (!rs->r || !rs->off)
		return -1;
	for (size_t i = 0; i < len;) {
		size_t sz;

		rs->off[rs->n] = i;
		rs->r[rs->n++] = ctxd_utf8_decode(s + i, len - i, &sz);
		i += sz;
	}
	rs->off[rs->n] = len;
	return 0;
}

static void runes_free(struct runes *rs)
{
	free(rs->r);
	free(rs->off);
}

static void put_rune(struct ctxd_buf *b, int32_t r)
{
	char tmp[4];

	ctxd_buf_append(b, tmp, ctxd_utf8_encode(r, tmp));
}

/* Compiles pattern as convertShellPatternToRegex reads it (a text/scanner,
 * so a leading BOM is dropped). On a bad escape sets *bad to the rune after
 * the backslash (LX_EOF at the end) and returns 1. */
static int prog_compile(struct prog *p, const char *pat, size_t len, bool greedy, int32_t *bad)
{
	struct runes rs;
	size_t i = 0;

	p->in = NULL;
	p->n = 0;
	if (runes_decode(&rs, pat, len) < 0 ||
	    !(p->in = malloc((4 * rs.n + 1) * sizeof *p->in))) {
		runes_free(&rs);
		return -1;
	}
	if (rs.n > 0 && rs.r[0] == 0xFEFF && rs.off[1] == 3)
		i = 1;
	for (; i < rs.n; i++) {
		int32_t t = rs.r[i];
		size_t at = p->n;

		if (t == '*') {
			p->in[at] = (struct pinst){P_SPLIT, 0, greedy ? at + 1 : at + 3,
						   greedy ? at + 3 : at + 1};
			p->in[at + 1] = (struct pinst){P_ANY, 0, 0, 0};
			p->in[at + 2] = (struct pinst){P_JMP, 0, at, 0};
			p->n += 3;
			continue;
		}
		if (t == '?') {
			p->in[p->n++] = (struct pinst){P_ANY, 0, 0, 0};
			continue;
		}
		if (t == '\\') {
			/* \} and \/ protect ${} syntax: the backslash is dropped */
			if (i + 1 < rs.n && (rs.r[i + 1] == '}' || rs.r[i + 1] == '/'))
				continue;
			t = i + 1 < rs.n ? rs.r[++i] : LX_EOF;
			if (t != '*' && t != '?' && t != '\\') {
				*bad = t;
				runes_free(&rs);
				return 1;
			}
		}
		p->in[p->n++] = (struct pinst){P_CHAR, t, 0, 0};
	}
	p->in[p->n++] = (struct pinst){P_MATCH, 0, 0, 0};
	runes_free(&rs);
	return 0;
}

struct thread {
	size_t pc, start;
};

struct vm {
	const struct prog *p;
	struct thread *list[2];
	size_t len[2];
	uint32_t *mark[2];
	uint32_t gen[2];
	size_t *stack;
	size_t *budget;
};

static int vm_init(struct vm *vm, const struct prog *p, size_t *budget)
{
	memset(vm, 0, sizeof *vm);
	vm->p = p;
	vm->budget = budget;
	for (int k = 0; k < 2; k++) {
		vm->list[k] = malloc(p->n * sizeof *vm->list[k]);
		vm->mark[k] = calloc(p->n, sizeof *vm->mark[k]);
	}
	vm->stack = malloc((2 * p->n + 2) * sizeof *vm->stack);
	return vm->list[0] && vm->list[1] && vm->mark[0] && vm->mark[1] && vm->stack ? 0 : -1;
}

static void vm_free(struct vm *vm)
{
	for (int k = 0; k < 2; k++) {
		free(vm->list[k]);
		free(vm->mark[k]);
	}
	free(vm->stack);
}

/* Adds pc's closure to list k in priority order (first branch first). */
static void vm_add(struct vm *vm, int k, size_t pc, size_t start)
{
	size_t sp = 0;

	vm->stack[sp++] = pc;
	while (sp > 0) {
		const struct pinst *in;

		pc = vm->stack[--sp];
		if (vm->mark[k][pc] == vm->gen[k])
			continue;
		vm->mark[k][pc] = vm->gen[k];
		in = &vm->p->in[pc];
		if (in->op == P_SPLIT) {
			vm->stack[sp++] = in->y;
			vm->stack[sp++] = in->x;
		} else if (in->op == P_JMP) {
			vm->stack[sp++] = in->x;
		} else {
			vm->list[k][vm->len[k]++] = (struct thread){pc, start};
		}
	}
}

static void vm_clear(struct vm *vm, int k)
{
	vm->len[k] = 0;
	if (++vm->gen[k] == 0) { /* wrapped: stale marks could collide */
		memset(vm->mark[k], 0, vm->p->n * sizeof *vm->mark[k]);
		vm->gen[k] = 1;
	}
}

/* The leftmost-first match in v[from..], or only at from when anchored.
 * Returns 1 and the rune span, 0 for none, -1 when over budget. */
static int vm_search(struct vm *vm, const struct runes *v, size_t from, bool anchored,
		     size_t *ms, size_t *me)
{
	int c = 0;
	bool matched = false;

	vm_clear(vm, 0);
	vm_clear(vm, 1);
	for (size_t pos = from;; pos++) {
		int nx = 1 - c;

		if (!matched && (!anchored || pos == from))
			vm_add(vm, c, 0, pos); /* a new start has the lowest priority */
		if (vm->len[c] == 0)
			break;
		if (*vm->budget < vm->len[c])
			return -1;
		*vm->budget -= vm->len[c];
		vm_clear(vm, nx);
		for (size_t i = 0; i < vm->len[c]; i++) {
			struct thread t = vm->list[c][i];
			const struct pinst *in = &vm->p->in[t.pc];

			if (in->op == P_MATCH) {
				matched = true;
				*ms = t.start;
				*me = pos;
				break; /* lower-priority threads lose */
			}
			if (pos < v->n &&
			    ((in->op == P_CHAR && v->r[pos] == in->c) ||
			     (in->op == P_ANY && v->r[pos] != '\n')))
				vm_add(vm, nx, t.pc + 1, t.start);
		}
		if (pos >= v->n)
			break;
		c = nx;
	}
	return matched;
}

/* ---- the lexer ---- */

struct words {
	struct ctxd_buf word;
	char **v;
	size_t n, cap;
	bool in_word;
	bool oom;
};

struct lexer {
	const struct ctxd_dockerfile_lex *o;
	const char *s;
	size_t n, pos;
	int32_t ch;
	size_t chsz;
	bool raw_escapes;
	const struct ctxd_dockerfile_env *env;
	struct ctxd_dockerfile_word *out;
	struct ctxd_goregex *letter, *digit;
	int depth;
	size_t budget;
	bool oom;
	struct ctxd_buf err; /* the reason, before "failed to process" */
};

static void lx_decode(struct lexer *lx)
{
	if (lx->pos >= lx->n) {
		lx->ch = LX_EOF;
		lx->chsz = 0;
	} else {
		lx->ch = ctxd_utf8_decode(lx->s + lx->pos, lx->n - lx->pos, &lx->chsz);
	}
}

static int32_t peek(struct lexer *lx)
{
	if (lx->ch == LX_START) {
		lx_decode(lx);
		if (lx->ch == 0xFEFF) { /* text/scanner drops a leading BOM */
			lx->pos += lx->chsz;
			lx_decode(lx);
		}
	}
	return lx->ch;
}

static int32_t next(struct lexer *lx)
{
	int32_t c = peek(lx);

	if (c != LX_EOF) {
		lx->pos += lx->chsz;
		lx_decode(lx);
	}
	return c;
}

static int fail(struct lexer *lx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct lexer *lx, const char *fmt, ...)
{
	va_list ap;
	char tmp[512];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (lx->err.len == 0)
		ctxd_buf_puts(&lx->err, tmp);
	return -1;
}

static void mark_unknown(struct lexer *lx, const char *name)
{
	lx->out->unknown = true;
	if (name && !lx->out->unknown_name && !(lx->out->unknown_name = strdup(name)))
		lx->oom = true;
}

static bool unicode_class(struct lexer *lx, struct ctxd_goregex **re, const char *src, int32_t r)
{
	const char *why;
	char tmp[4];
	size_t n;

	if (!*re && !(*re = ctxd_goregex_compile(src, strlen(src), &why))) {
		lx->oom = true;
		return false;
	}
	n = ctxd_utf8_encode(r, tmp);
	return ctxd_goregex_match(*re, tmp, n);
}

/* unicode.IsDigit and unicode.IsLetter */
static bool is_digit(struct lexer *lx, int32_t r)
{
	if (r < 0x80)
		return r >= '0' && r <= '9';
	return unicode_class(lx, &lx->digit, "^\\p{Nd}$", r);
}

static bool is_letter(struct lexer *lx, int32_t r)
{
	if (r < 0x80)
		return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
	return unicode_class(lx, &lx->letter, "^\\p{L}$", r);
}

static bool is_space(int32_t r)
{
	return r >= 0 && ctxd_utf8_is_space(r);
}

static void words_push(struct words *w)
{
	char *s;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 8;
		char **v = realloc(w->v, cap * sizeof *v);

		if (!v) {
			w->oom = true;
			return;
		}
		w->v = v;
		w->cap = cap;
	}
	if (!(s = ctxd_buf_take(&w->word))) {
		w->oom = true;
		return;
	}
	w->v[w->n++] = s;
}

static void words_raw_char(struct words *w, int32_t ch)
{
	if (!w)
		return;
	put_rune(&w->word, ch);
	w->in_word = true;
}

static void words_char(struct words *w, int32_t ch)
{
	if (!w)
		return;
	if (is_space(ch) && w->in_word) {
		if (w->word.len != 0) {
			words_push(w);
			w->in_word = false;
		}
	} else if (!is_space(ch)) {
		words_raw_char(w, ch);
	}
}

static void words_string(struct words *w, const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t sz;
		int32_t r = ctxd_utf8_decode(s + i, len - i, &sz);

		words_char(w, r);
		i += sz;
	}
}

static void words_raw_string(struct words *w, const char *s, size_t len)
{
	if (!w)
		return;
	ctxd_buf_append(&w->word, s, len);
	w->in_word = true;
}

static int stop_on(struct lexer *lx, int32_t stop, bool raw_escapes, struct ctxd_buf *res,
		   struct words *w);

static const char *buf_str(const struct ctxd_buf *b)
{
	return b->data ? b->data : "";
}

/* Pattern removal: trimPrefix (#), trimSuffix (%, on reversed runes). */
static int trim_pattern(struct lexer *lx, bool suffix, const char *word, size_t wlen,
			const char *value, bool greedy, struct ctxd_buf *res)
{
	struct runes v = {0}, pr = {0};
	struct ctxd_buf pat = {0};
	struct prog p = {0};
	struct vm vm;
	size_t ms, me;
	int32_t bad = 0;
	int rc = -1, m;

	if (runes_decode(&v, value, strlen(value)) < 0 || runes_decode(&pr, word, wlen) < 0) {
		lx->oom = true;
		goto out;
	}
	if (suffix) {
		/* reverseString and reversePattern: runes reversed, an escape
		 * pair kept in order */
		int32_t *out = malloc((pr.n + 1) * sizeof *out);

		if (!out) {
			lx->oom = true;
			goto out;
		}
		for (size_t i = 0; i < pr.n;) {
			size_t oi = pr.n - 1 - i;

			if (pr.r[i] == '\\' && i != pr.n - 1) {
				out[oi - 1] = '\\';
				out[oi] = pr.r[i + 1];
				i += 2;
			} else {
				out[oi] = pr.r[i++];
			}
		}
		for (size_t i = 0; i < pr.n; i++)
			put_rune(&pat, out[i]);
		free(out);
		for (size_t i = 0; i < v.n / 2; i++) {
			int32_t t = v.r[i];

			v.r[i] = v.r[v.n - 1 - i];
			v.r[v.n - 1 - i] = t;
		}
	} else {
		ctxd_buf_append(&pat, word, wlen);
	}
	m = prog_compile(&p, buf_str(&pat), pat.len, greedy, &bad);
	if (m < 0) {
		lx->oom = true;
		goto out;
	}
	if (m > 0) {
		char tmp[4];
		size_t tn = ctxd_utf8_encode(bad == LX_EOF ? CTXD_RUNE_ERROR : bad, tmp);

		fail(lx, "invalid pattern (%s) in substitution: invalid escape '\\%.*s'",
		     buf_str(&pat), (int)tn, tmp);
		goto out;
	}
	if (vm_init(&vm, &p, &lx->budget) < 0) {
		vm_free(&vm);
		lx->oom = true;
		goto out;
	}
	m = vm_search(&vm, &v, 0, true, &ms, &me);
	vm_free(&vm);
	if (m < 0) {
		mark_unknown(lx, NULL);
		me = 0;
	} else if (m == 0) {
		me = 0;
	}
	if (suffix) {
		/* the kept runes, back in order; invalid bytes are U+FFFD now */
		for (size_t i = v.n; i > me; i--)
			put_rune(res, v.r[i - 1]);
	} else {
		ctxd_buf_append(res, value + v.off[me], strlen(value) - v.off[me]);
	}
	rc = 0;
out:
	free(p.in);
	ctxd_buf_free(&pat);
	runes_free(&v);
	runes_free(&pr);
	return rc;
}

/* regexp's Expand for ReplaceAllString's template: $0 is the match, other
 * groups do not exist, $$ is '$'. */
static void expand_template(struct ctxd_buf *res, const char *t, const char *match, size_t mlen)
{
	size_t tl = strlen(t);

	for (size_t i = 0; i < tl;) {
		size_t j, k;
		bool brace;

		if (t[i] != '$') {
			ctxd_buf_putc(res, t[i++]);
			continue;
		}
		i++;
		if (i < tl && t[i] == '$') {
			ctxd_buf_putc(res, '$');
			i++;
			continue;
		}
		brace = i < tl && t[i] == '{';
		j = k = i + brace;
		while (k < tl && (t[k] == '_' || (t[k] >= '0' && t[k] <= '9') ||
				  (t[k] >= 'a' && t[k] <= 'z') || (t[k] >= 'A' && t[k] <= 'Z')))
			k++;
		if (k == j || (brace && (k >= tl || t[k] != '}'))) {
			ctxd_buf_putc(res, '$'); /* malformed: a plain '$' */
			continue;
		}
		{
			bool all_digits = true;
			unsigned long num = 0;

			for (size_t q = j; q < k; q++) {
				if (t[q] < '0' || t[q] > '9') {
					all_digits = false;
					break;
				}
				if (num < 100000000)
					num = num * 10 + (unsigned long)(t[q] - '0');
			}
			if (all_digits && num == 0)
				ctxd_buf_append(res, match, mlen);
		}
		i = k + brace;
	}
}

static int replace_pattern(struct lexer *lx, bool all, const char *pattern, size_t plen,
			   const char *repl, const char *value, struct ctxd_buf *res)
{
	struct runes v = {0};
	struct prog p = {0};
	struct vm vm;
	size_t vlen = strlen(value), ms, me;
	int32_t bad = 0;
	int rc = -1, m;

	m = prog_compile(&p, pattern, plen, true, &bad);
	if (m < 0) {
		lx->oom = true;
		goto out;
	}
	if (m > 0) {
		char tmp[4];
		size_t tn = ctxd_utf8_encode(bad == LX_EOF ? CTXD_RUNE_ERROR : bad, tmp);

		fail(lx, "invalid pattern (%.*s) in substitution: invalid escape '\\%.*s'",
		     (int)plen, pattern, (int)tn, tmp);
		goto out;
	}
	if (runes_decode(&v, value, vlen) < 0) {
		lx->oom = true;
		goto out;
	}
	if (vm_init(&vm, &p, &lx->budget) < 0) {
		vm_free(&vm);
		lx->oom = true;
		goto out;
	}
	if (!all) {
		m = vm_search(&vm, &v, 0, false, &ms, &me);
		if (m > 0) {
			ctxd_buf_append(res, value, v.off[ms]);
			ctxd_buf_puts(res, repl);
			ctxd_buf_append(res, value + v.off[me], vlen - v.off[me]);
		} else {
			if (m < 0)
				mark_unknown(lx, NULL);
			ctxd_buf_puts(res, value);
		}
	} else {
		/* regexp.ReplaceAllString's loop, in runes */
		size_t search = 0, last = 0;

		while (search <= v.n) {
			m = vm_search(&vm, &v, search, false, &ms, &me);
			if (m < 0)
				mark_unknown(lx, NULL);
			if (m <= 0)
				break;
			ctxd_buf_append(res, value + v.off[last], v.off[ms] - v.off[last]);
			if (me > last || ms == 0)
				expand_template(res, repl, value + v.off[ms], v.off[me] - v.off[ms]);
			last = me;
			if (search + 1 > me)
				search++;
			else
				search = me;
		}
		ctxd_buf_append(res, value + v.off[last], vlen - v.off[last]);
	}
	vm_free(&vm);
	rc = 0;
out:
	free(p.in);
	runes_free(&v);
	return rc;
}

static int process_name(struct lexer *lx, struct ctxd_buf *name)
{
	while (peek(lx) != LX_EOF) {
		int32_t ch = peek(lx);

		if (name->len == 0 && is_digit(lx, ch)) {
			while (peek(lx) != LX_EOF && is_digit(lx, peek(lx)))
				put_rune(name, next(lx));
			break;
		}
		if (name->len == 0 && (ch == '@' || ch == '*' || ch == '#' || ch == '?' ||
				       ch == '-' || ch == '$' || ch == '!' || ch == '0')) {
			put_rune(name, next(lx));
			break;
		}
		if (!is_letter(lx, ch) && !is_digit(lx, ch) && ch != '_')
			break;
		put_rune(name, next(lx));
	}
	if (name->oom)
		lx->oom = true;
	return 0;
}

static enum ctxd_dockerfile_var get_env(struct lexer *lx, const char *name, const char **value)
{
	enum ctxd_dockerfile_var st = ctxd_dockerfile_env_get(lx->env, name, value);

	if (st == CTXD_DOCKERFILE_UNKNOWN)
		mark_unknown(lx, name);
	return st;
}

static int process_dollar(struct lexer *lx, struct ctxd_buf *res)
{
	struct ctxd_buf name = {0}, word = {0}, chs = {0};
	const char *value;
	enum ctxd_dockerfile_var st;
	bool null_is_unset = false;
	int32_t ch;
	int rc = -1;

	next(lx);
	if (peek(lx) != '{') {
		process_name(lx, &name);
		if (name.len == 0) {
			ctxd_buf_putc(res, '$');
			return 0;
		}
		st = get_env(lx, name.data, &value);
		if (st == CTXD_DOCKERFILE_UNSET && lx->o->skip_unset_env) {
			ctxd_buf_putc(res, '$');
			ctxd_buf_append(res, name.data, name.len);
		} else {
			ctxd_buf_puts(res, value);
		}
		ctxd_buf_free(&name);
		return 0;
	}
	next(lx);
	switch (peek(lx)) {
	case LX_EOF:
		return fail(lx, "syntax error: missing '}'");
	case '{': case '}': case ':':
		return fail(lx, "syntax error: bad substitution");
	}
	process_name(lx, &name);
	ch = next(lx);
	put_rune(&chs, ch == LX_EOF ? CTXD_RUNE_ERROR : ch);
	switch (ch) {
	case '}':
		st = get_env(lx, buf_str(&name), &value);
		if (st == CTXD_DOCKERFILE_UNSET && lx->o->skip_unset_env)
			ctxd_buf_printf(res, "${%s}", buf_str(&name));
		else
			ctxd_buf_puts(res, value);
		rc = 0;
		break;
	case ':':
		null_is_unset = true;
		ch = next(lx);
		put_rune(&chs, ch == LX_EOF ? CTXD_RUNE_ERROR : ch);
		/* fall through */
	case '+': case '-': case '?': case '#': case '%': {
		bool raw = ch == '#' || ch == '%';

		if (stop_on(lx, '}', raw, &word, NULL) < 0) {
			if (peek(lx) == LX_EOF) {
				lx->err.len = 0;
				fail(lx, "syntax error: missing '}'");
			}
			break;
		}
		st = get_env(lx, buf_str(&name), &value);
		if (lx->o->skip_unset_env && st == CTXD_DOCKERFILE_UNSET) {
			ctxd_buf_printf(res, "${%s%s%s}", buf_str(&name), buf_str(&chs), buf_str(&word));
			rc = 0;
			break;
		}
		switch (ch) {
		case '-':
			if (st != CTXD_DOCKERFILE_SET || (null_is_unset && value[0] == '\0'))
				ctxd_buf_append(res, buf_str(&word), word.len);
			else
				ctxd_buf_puts(res, value);
			rc = 0;
			break;
		case '+':
			if (!(st != CTXD_DOCKERFILE_SET || (null_is_unset && value[0] == '\0')))
				ctxd_buf_append(res, buf_str(&word), word.len);
			rc = 0;
			break;
		case '?':
			if (st == CTXD_DOCKERFILE_UNKNOWN) { /* may or may not fail */
				rc = 0;
				break;
			}
			if (st == CTXD_DOCKERFILE_UNSET) {
				fail(lx, "%s: %s", buf_str(&name),
				     word.len ? buf_str(&word) : "is not allowed to be unset");
				break;
			}
			if (null_is_unset && value[0] == '\0') {
				fail(lx, "%s: %s", buf_str(&name),
				     word.len ? buf_str(&word) : "is not allowed to be empty");
				break;
			}
			ctxd_buf_puts(res, value);
			rc = 0;
			break;
		case '%': case '#': {
			const char *w = buf_str(&word);
			size_t wl = word.len;
			bool greedy = wl > 0 && (unsigned char)w[0] == (unsigned)ch;

			if (greedy) {
				w++;
				wl--;
			}
			rc = trim_pattern(lx, ch == '%', w, wl, value, greedy, res);
			break;
		}
		default:
			fail(lx, "unsupported modifier (%s) in substitution", buf_str(&chs));
		}
		break;
	}
	case '/': {
		bool all = peek(lx) == '/';
		struct ctxd_buf pat = {0};

		if (all)
			next(lx);
		if (stop_on(lx, '/', true, &pat, NULL) < 0) {
			if (peek(lx) == LX_EOF) {
				lx->err.len = 0;
				fail(lx, "syntax error: missing '/' in ${}");
			}
			ctxd_buf_free(&pat);
			break;
		}
		if (stop_on(lx, '}', true, &word, NULL) < 0) {
			if (peek(lx) == LX_EOF) {
				lx->err.len = 0;
				fail(lx, "syntax error: missing '}'");
			}
			ctxd_buf_free(&pat);
			break;
		}
		st = get_env(lx, buf_str(&name), &value);
		if (lx->o->skip_unset_env && st == CTXD_DOCKERFILE_UNSET) {
			ctxd_buf_printf(res, "${%s/%s/%s}", buf_str(&name), buf_str(&pat), buf_str(&word));
			rc = 0;
		} else {
			rc = replace_pattern(lx, all, buf_str(&pat), pat.len, buf_str(&word), value, res);
		}
		ctxd_buf_free(&pat);
		break;
	}
	default:
		fail(lx, "unsupported modifier (%s) in substitution", buf_str(&chs));
	}
	ctxd_buf_free(&name);
	ctxd_buf_free(&word);
	ctxd_buf_free(&chs);
	return rc;
}

static int process_single_quote(struct lexer *lx, struct ctxd_buf *res)
{
	int32_t ch = next(lx);

	if (lx->o->raw_quotes)
		put_rune(res, ch);
	for (;;) {
		ch = next(lx);
		if (ch == LX_EOF)
			return fail(lx, "unexpected end of statement while looking for matching single-quote");
		if (ch == '\'') {
			if (lx->o->raw_quotes)
				put_rune(res, ch);
			return 0;
		}
		put_rune(res, ch);
	}
}

static int process_double_quote(struct lexer *lx, struct ctxd_buf *res)
{
	int32_t ch = next(lx);

	if (lx->o->raw_quotes)
		put_rune(res, ch);
	for (;;) {
		switch (peek(lx)) {
		case LX_EOF:
			return fail(lx, "unexpected end of statement while looking for matching double-quote");
		case '"':
			ch = next(lx);
			if (lx->o->raw_quotes)
				put_rune(res, ch);
			return 0;
		case '$':
			if (process_dollar(lx, res) < 0)
				return -1;
			break;
		default:
			ch = next(lx);
			if (ch == (unsigned char)lx->o->escape) {
				int32_t p;

				if (lx->raw_escapes)
					put_rune(res, ch);
				p = peek(lx);
				if (p == LX_EOF)
					continue; /* a trailing escape is dropped */
				if (p == '"' || p == '$' || p == (unsigned char)lx->o->escape)
					ch = next(lx);
			}
			put_rune(res, ch);
		}
	}
}

/* '<': a "<<" takes the blanks after it into the same word, so that
 * "<<  EOF" reads as one heredoc word. */
static int process_possible_heredoc(struct lexer *lx, struct ctxd_buf *res)
{
	next(lx);
	if (peek(lx) != '<') {
		ctxd_buf_putc(res, '<');
		return 0;
	}
	next(lx);
	ctxd_buf_puts(res, "<<");
	while (peek(lx) == ' ' || peek(lx) == '\t' || peek(lx) == '\r')
		put_rune(res, next(lx));
	return 0;
}

static int stop_on(struct lexer *lx, int32_t stop, bool raw_escapes, struct ctxd_buf *res,
		   struct words *w)
{
	bool saved = lx->raw_escapes;
	int rc = 0;

	if (++lx->depth > MAX_DEPTH) {
		lx->depth--;
		return fail(lx, "expression nested too deeply");
	}
	lx->raw_escapes = raw_escapes;
	while (peek(lx) != LX_EOF) {
		int32_t ch = peek(lx);

		if (lx->oom || res->oom) {
			lx->oom = true;
			rc = -1;
			goto out;
		}
		if (res->len > CTXD_DOCKERFILE_MAX_WORD) {
			/* keep scanning for errors, drop the growing text */
			mark_unknown(lx, NULL);
			res->len = 0;
		}
		if (stop != LX_EOF && ch == stop) {
			next(lx);
			goto out;
		}
		if (ch == '$' || ch == '<' ||
		    (!lx->o->skip_process_quotes && (ch == '\'' || ch == '"'))) {
			struct ctxd_buf tmp = {0};
			int r;

			if (ch == '$')
				r = process_dollar(lx, &tmp);
			else if (ch == '<')
				r = process_possible_heredoc(lx, &tmp);
			else if (ch == '\'')
				r = process_single_quote(lx, &tmp);
			else
				r = process_double_quote(lx, &tmp);
			if (r < 0) {
				ctxd_buf_free(&tmp);
				rc = -1;
				goto out;
			}
			ctxd_buf_append(res, buf_str(&tmp), tmp.len);
			if (ch == '$')
				words_string(w, buf_str(&tmp), tmp.len);
			else
				words_raw_string(w, buf_str(&tmp), tmp.len);
			if (tmp.oom)
				lx->oom = true;
			ctxd_buf_free(&tmp);
			continue;
		}
		ch = next(lx);
		if (ch == (unsigned char)lx->o->escape) {
			if (lx->raw_escapes) {
				words_raw_char(w, ch);
				put_rune(res, ch);
			}
			ch = next(lx);
			if (ch == LX_EOF)
				break; /* a trailing escape is dropped */
			words_raw_char(w, ch);
		} else {
			words_char(w, ch);
		}
		put_rune(res, ch);
	}
	if (stop != LX_EOF) {
		char tmp[4];
		size_t tn = ctxd_utf8_encode(stop, tmp);

		rc = fail(lx, "unexpected end of statement while looking for matching %.*s", (int)tn, tmp);
	}
out:
	lx->raw_escapes = saved;
	lx->depth--;
	return rc;
}

void ctxd_dockerfile_word_clear(struct ctxd_dockerfile_word *out)
{
	free(out->value);
	for (size_t i = 0; i < out->nwords; i++)
		free(out->words[i]);
	free(out->words);
	free(out->unknown_name);
	memset(out, 0, sizeof *out);
}

int ctxd_dockerfile_expand(const struct ctxd_dockerfile_lex *o, const char *s, size_t len,
			   const struct ctxd_dockerfile_env *env, bool split,
			   struct ctxd_dockerfile_word *out, struct ctxd_error *err)
{
	struct lexer lx = {0};
	struct ctxd_buf res = {0};
	struct words w = {0};
	int rc;

	memset(out, 0, sizeof *out);
	lx.o = o;
	lx.s = s;
	lx.n = len;
	lx.ch = LX_START;
	lx.raw_escapes = o->raw_escapes;
	lx.env = env;
	lx.out = out;
	lx.budget = MATCH_BUDGET;
	rc = stop_on(&lx, LX_EOF, o->raw_escapes, &res, split ? &w : NULL);
	if (split && rc == 0 && w.word.len > 0)
		words_push(&w);
	if (lx.oom || res.oom || w.oom || w.word.oom) {
		ctxd_error_set(err, "out of memory");
		rc = -1;
	} else if (rc < 0) {
		struct ctxd_buf m = {0};

		ctxd_buf_puts(&m, "failed to process ");
		ctxd_dockerfile_quote(&m, s, len);
		ctxd_error_set(err, "%s: %s", m.oom ? "" : buf_str(&m), buf_str(&lx.err));
		ctxd_buf_free(&m);
	}
	ctxd_goregex_destroy(lx.letter);
	ctxd_goregex_destroy(lx.digit);
	ctxd_buf_free(&lx.err);
	if (rc == 0 && res.len > CTXD_DOCKERFILE_MAX_WORD) {
		mark_unknown(&lx, NULL);
		res.len = 0;
	}
	if (rc == 0 && !(out->value = ctxd_buf_take(&res))) {
		ctxd_error_set(err, "out of memory");
		rc = -1;
	}
	if (rc == 0 && split) {
		out->words = w.v;
		out->nwords = w.n;
		w.v = NULL;
		w.n = 0;
	}
	for (size_t i = 0; i < w.n; i++)
		free(w.v[i]);
	free(w.v);
	ctxd_buf_free(&w.word);
	ctxd_buf_free(&res);
	if (rc < 0)
		ctxd_dockerfile_word_clear(out);
	return rc;
}
