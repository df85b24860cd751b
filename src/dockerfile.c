/* The Dockerfile parser (BuildKit's frontend/dockerfile/parser): lines,
 * parser directives, continuations, comments, heredoc bodies, and the
 * per-instruction argument splitting (line_parsers.go); then the stage
 * grouping of instructions.Parse. See include/ctxd/dockerfile.h. */
#include "ctxd/dockerfile.h"

#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctxd/buf.h"
#include "ctxd/dockerfile_expand.h"
#include "ctxd/dockerfile_instr.h"
#include "ctxd/utf8.h"

/* bufio.Scanner's limit: a longer line stops the scan */
#define MAX_LINE 65535
/* ONBUILD nesting the parser follows; deeper ones are refused anyway */
#define MAX_SUB_DEPTH 8

enum { D_SYNTAX, D_ESCAPE, D_CHECK, D_N };

static const char *const directive_keys[D_N] = {"syntax", "escape", "check"};

struct ctxd_dockerfile {
	char *filename;
	char escape;
	char *directive[D_N];
	char *syntax;
	struct ctxd_dockerfile_instr *in;
	size_t n, cap;
	struct ctxd_dockerfile_stage *st;
	size_t nst;
};

/* ---- small string helpers ---- */

struct strvec {
	const char **v;
	size_t n, cap;
	bool oom;
};

static void sv_push_n(struct strvec *sv, const char *s, size_t len)
{
	char *c;

	if (sv->oom)
		return;
	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 4;
		const char **v = realloc(sv->v, cap * sizeof *v);

		if (!v) {
			sv->oom = true;
			return;
		}
		sv->v = v;
		sv->cap = cap;
	}
	if (!(c = strndup(s, len))) {
		sv->oom = true;
		return;
	}
	sv->v[sv->n++] = c;
}

static void sv_push(struct strvec *sv, const char *s)
{
	sv_push_n(sv, s, strlen(s));
}

static void sv_free(struct strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free((void *)sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof *sv);
}

/* unicode.IsSpace on a byte taken as a rune, as BuildKit's byte loops do */
static bool latin1_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xA0;
}

/* [\t\v\f\r ] (reWhitespace) */
static bool ascii_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/* Go regexp \s: [\t\n\f\r ] */
static bool re_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static const char *trim_left_space(const char *s, size_t *len)
{
	while (*len > 0) {
		size_t sz;
		int32_t r = ctxd_utf8_decode(s, *len, &sz);

		if (!ctxd_utf8_is_space(r) || (r == CTXD_RUNE_ERROR && sz == 1))
			break;
		s += sz;
		*len -= sz;
	}
	return s;
}

static size_t trim_newline(const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == '\n'))
		len--;
	return len;
}

/* ---- instructions ---- */

static void instr_free(struct ctxd_dockerfile_instr *in)
{
	if (!in)
		return;
	free((void *)in->keyword);
	free((void *)in->name);
	free((void *)in->original);
	for (size_t i = 0; i < in->nflags; i++)
		free((void *)in->flags[i]);
	free(in->flags);
	for (size_t i = 0; i < in->nargs; i++)
		free((void *)in->args[i]);
	free(in->args);
	for (size_t i = 0; i < in->nheredocs; i++) {
		free((void *)in->heredocs[i].name);
		free((void *)in->heredocs[i].content);
	}
	free((void *)in->heredocs);
	if (in->trigger) {
		instr_free((struct ctxd_dockerfile_instr *)in->trigger);
		free((void *)in->trigger);
	}
	free((void *)in->trigger_error);
	memset(in, 0, sizeof *in);
}

/* A list of parsed instructions (nodes) with their errors. */
struct nodes {
	struct ctxd_dockerfile_instr *v;
	size_t n, cap;
};

static void nodes_free(struct nodes *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		instr_free(&ns->v[i]);
	free(ns->v);
	memset(ns, 0, sizeof *ns);
}

/* ---- parser directives (DirectiveParser.ParseLine) ---- */

struct directives {
	char escape;
	bool done;
	bool seen[D_N];
	char *value[D_N];
};

/* Matches ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ on s[0..n). */
static bool directive_match(const char *s, size_t n, size_t *klen, const char **val, size_t *vlen)
{
	size_t i = 0, k, rest, lead = 0, trail = 0;

	if (n == 0 || !isalpha((unsigned char)s[0]))
		return false;
	while (i < n && isalnum((unsigned char)s[i]))
		i++;
	k = i;
	while (i < n && re_space(s[i]))
		i++;
	if (i >= n || s[i] != '=')
		return false;
	i++;
	rest = n - i;
	if (rest == 0)
		return false;
	while (lead < rest && re_space(s[i + lead]))
		lead++;
	for (size_t j = i; j < n; j++)
		if (s[j] == '\n') /* '.' stops at a newline */
			return false;
	if (lead == rest) {
		/* all blank: the lazy group still needs one character */
		*val = s + n - 1;
		*vlen = 1;
	} else {
		while (trail < rest && re_space(s[n - 1 - trail]))
			trail++;
		*val = s + i + lead;
		*vlen = rest - lead - trail;
	}
	*klen = k;
	return true;
}

/* One line through the directive parser with comment prefix cp. Returns
 * 1 with *key set for a directive, 0 when not (the block ends), -1 for a
 * repeated directive (err set). */
static int directive_line(struct directives *d, const char *s, size_t n, const char *cp,
			  int *key, const char **val, size_t *vlen, struct ctxd_error *err)
{
	size_t cl = strlen(cp), klen;

	if (d->done)
		return 0;
	if (n < cl || memcmp(s, cp, cl) != 0) {
		d->done = true;
		return 0;
	}
	s += cl;
	n -= cl;
	s = trim_left_space(s, &n);
	if (!directive_match(s, n, &klen, val, vlen)) {
		d->done = true;
		return 0;
	}
	*key = -1;
	for (int k = 0; k < D_N; k++)
		if (strlen(directive_keys[k]) == klen && strncasecmp(s, directive_keys[k], klen) == 0)
			*key = k;
	if (*key < 0) {
		d->done = true;
		return 0;
	}
	if (d->seen[*key]) {
		ctxd_error_set(err, "only one %s parser directive can be used", directive_keys[*key]);
		return -1;
	}
	d->seen[*key] = true;
	return 1;
}

/* possibleParserDirective: escape= changes the escape character. */
static int parser_directive(struct directives *d, const char *s, size_t n, struct ctxd_error *err)
{
	const char *val;
	size_t vlen;
	int key, r = directive_line(d, s, n, "#", &key, &val, &vlen, err);

	if (r <= 0)
		return r;
	free(d->value[key]);
	if (!(d->value[key] = strndup(val, vlen))) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	if (key == D_ESCAPE) {
		if (vlen != 1 || (val[0] != '`' && val[0] != '\\')) {
			ctxd_error_set(err, "invalid escape token '%s' does not match ` or \\",
				       d->value[key]);
			return -1;
		}
		d->escape = val[0];
	}
	return 0;
}

/* ---- DetectSyntax ---- */

static char *first_word(const char *v, size_t n)
{
	const char *sp = memchr(v, ' ', n);

	return strndup(v, sp ? (size_t)(sp - v) : n);
}

static char *detect_with(const char *dt, size_t len, const char *cp)
{
	struct directives d = {0};
	struct ctxd_error err;

	for (size_t pos = 0; pos < len && !d.done;) {
		const char *nl = memchr(dt + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - dt) : len, n = end - pos;
		const char *val;
		size_t vlen;
		int key;

		if (n > 0 && dt[end - 1] == '\r')
			n--;
		if (n > MAX_LINE)
			break;
		int r = directive_line(&d, dt + pos, n, cp, &key, &val, &vlen, &err);

		if (r < 0)
			break; /* ParseAll keeps what it found before the error */
		if (r == 1 && key == D_SYNTAX) {
			char *w = first_word(val, vlen);

			return w ? w : strdup("");
		}
		pos = nl ? end + 1 : len;
	}
	return NULL;
}

static char *detect_syntax(const char *dt, size_t len)
{
	char *s;
	json_t *j;

	if (len >= 3 && memcmp(dt, "\xEF\xBB\xBF", 3) == 0) {
		dt += 3;
		len -= 3;
	}
	if (len >= 2 && dt[0] == '#' && dt[1] == '!') {
		const char *nl = memchr(dt, '\n', len);
		size_t skip = nl ? (size_t)(nl - dt) + 1 : len;

		dt += skip;
		len -= skip;
	}
	if ((s = detect_with(dt, len, "#")) || (s = detect_with(dt, len, "//")))
		return s;
	j = json_loadb(dt, len, JSON_ALLOW_NUL, NULL);
	if (j) {
		json_t *v = json_is_object(j) ? json_object_get(j, "syntax") : NULL;

		if (json_is_string(v)) {
			const char *str = json_string_value(v);

			s = first_word(str, strlen(str));
		}
		json_decref(j);
	}
	return s;
}

/* ---- argument splitting (line_parsers.go) ---- */

/* extractBuilderFlags: leading --words, byte by byte. Returns the offset
 * where the arguments start. */
static size_t extract_flags(const char *line, size_t len, struct strvec *flags)
{
	enum { SPACES, WORD, QUOTE } phase = SPACES;
	struct ctxd_buf w = {0};
	bool blank_ok = false;
	char quote = 0;
	size_t pos;

	for (pos = 0; pos <= len; pos++) {
		unsigned char ch = pos < len ? (unsigned char)line[pos] : 0;

		if (phase == SPACES) {
			if (pos == len)
				break;
			if (latin1_space(ch))
				continue;
			if (ch != '-' || pos + 1 == len || line[pos + 1] != '-')
				goto done;
			phase = WORD;
		}
		if (pos == len) {
			if (!(w.len == 2 && memcmp(w.data, "--", 2) == 0) && (blank_ok || w.len > 0))
				sv_push_n(flags, w.data ? w.data : "", w.len);
			break;
		}
		if (phase == WORD) {
			if (latin1_space(ch)) {
				phase = SPACES;
				if (w.len == 2 && memcmp(w.data, "--", 2) == 0)
					goto done;
				if (blank_ok || w.len > 0)
					sv_push_n(flags, w.data ? w.data : "", w.len);
				w.len = 0;
				blank_ok = false;
				continue;
			}
			if (ch == '\'' || ch == '"') {
				quote = (char)ch;
				blank_ok = true;
				phase = QUOTE;
				continue;
			}
			if (ch == '\\') {
				if (pos + 1 == len)
					continue;
				ch = (unsigned char)line[++pos];
			}
		} else {
			if (ch == (unsigned char)quote) {
				phase = WORD;
				continue;
			}
			if (ch == '\\') {
				if (pos + 1 == len) {
					phase = WORD;
					continue;
				}
				ch = (unsigned char)line[++pos];
			}
		}
		/* each byte becomes a rune: bytes >= 0x80 are re-encoded */
		if (ch < 0x80) {
			ctxd_buf_putc(&w, (char)ch);
		} else {
			ctxd_buf_putc(&w, (char)(0xC0 | (ch >> 6)));
			ctxd_buf_putc(&w, (char)(0x80 | (ch & 0x3F)));
		}
	}
	pos = len;
done:
	if (w.oom)
		flags->oom = true;
	ctxd_buf_free(&w);
	return pos;
}

/* parseWords: quote-aware, escape-aware, quotes and escapes kept */
static void parse_words(const char *s, size_t len, char esc, struct strvec *out)
{
	enum { SPACES, WORD, QUOTE } phase = SPACES;
	struct ctxd_buf sb = {0};
	bool blank_ok = false;
	int32_t quote = 0, ch = 0;
	size_t w = 0;
	char tmp[4];

	for (size_t pos = 0; pos <= len; pos += w) {
		if (pos != len)
			ch = ctxd_utf8_decode(s + pos, len - pos, &w);
		if (phase == SPACES) {
			if (pos == len)
				break;
			if (ctxd_utf8_is_space(ch) && !(ch == CTXD_RUNE_ERROR && w == 1))
				continue;
			phase = WORD;
		}
		if (pos == len) {
			if (blank_ok || sb.len > 0)
				sv_push_n(out, sb.data ? sb.data : "", sb.len);
			break;
		}
		if (phase == WORD) {
			if (ctxd_utf8_is_space(ch) && !(ch == CTXD_RUNE_ERROR && w == 1)) {
				phase = SPACES;
				if (blank_ok || sb.len > 0)
					sv_push_n(out, sb.data ? sb.data : "", sb.len);
				sb.len = 0;
				blank_ok = false;
				continue;
			}
			if (ch == '\'' || ch == '"') {
				quote = ch;
				blank_ok = true;
				phase = QUOTE;
			}
			if (ch == esc) {
				if (pos + w == len)
					continue;
				ctxd_buf_append(&sb, tmp, ctxd_utf8_encode(ch, tmp));
				pos += w;
				ch = ctxd_utf8_decode(s + pos, len - pos, &w);
			}
			ctxd_buf_append(&sb, tmp, ctxd_utf8_encode(ch, tmp));
			continue;
		}
		if (ch == quote)
			phase = WORD;
		if (ch == esc && quote != '\'') {
			if (pos + w == len) {
				phase = WORD;
				continue;
			}
			pos += w;
			ctxd_buf_append(&sb, tmp, ctxd_utf8_encode(ch, tmp));
			ch = ctxd_utf8_decode(s + pos, len - pos, &w);
		}
		ctxd_buf_append(&sb, tmp, ctxd_utf8_encode(ch, tmp));
	}
	if (sb.oom)
		out->oom = true;
	ctxd_buf_free(&sb);
}

/* Replaces invalid UTF-8 with U+FFFD, as Go's JSON decoder reads it. */
static char *valid_utf8(const char *s, size_t len, size_t *outlen)
{
	struct ctxd_buf b = {0};

	for (size_t i = 0; i < len;) {
		size_t sz;
		int32_t r = ctxd_utf8_decode(s + i, len - i, &sz);

		if (r == CTXD_RUNE_ERROR && sz == 1)
			ctxd_buf_puts(&b, "\xEF\xBF\xBD");
		else
			ctxd_buf_append(&b, s + i, sz);
		i += sz;
	}
	*outlen = b.len;
	return ctxd_buf_take(&b);
}

/* parseJSON: 1 an array of strings (args filled), 0 not JSON, -1 a JSON
 * array with a non-string (err set). */
static int parse_json(const char *s, size_t len, struct strvec *args, struct ctxd_error *err)
{
	char *text;
	size_t tlen;
	json_t *j;
	int rc = 0;

	s = trim_left_space(s, &len);
	if (len == 0 || s[0] != '[')
		return 0;
	if (!(text = valid_utf8(s, len, &tlen))) {
		args->oom = true;
		return 0;
	}
	j = json_loadb(text, tlen, JSON_ALLOW_NUL, NULL);
	free(text);
	if (!j)
		return 0;
	if (json_is_array(j)) {
		rc = 1;
		for (size_t i = 0; i < json_array_size(j); i++) {
			json_t *e = json_array_get(j, i);

			if (!json_is_string(e)) {
				ctxd_error_set(err, "when using JSON array syntax, arrays must be "
					       "comprised of strings only");
				sv_free(args);
				rc = -1;
				break;
			}
			sv_push_n(args, json_string_value(e), strlen(json_string_value(e)));
		}
	}
	json_decref(j);
	return rc;
}

/* parseStringsWhitespaceDelimited */
static void split_ws(const char *s, size_t len, struct strvec *args)
{
	size_t i = 0;

	if (len == 0)
		return;
	for (;;) {
		size_t j = i;

		while (j < len && !ascii_ws(s[j]))
			j++;
		sv_push_n(args, s + i, j - i);
		if (j == len)
			break;
		while (j < len && ascii_ws(s[j]))
			j++;
		i = j;
	}
}

static int parse_maybe_json(const char *s, size_t len, bool to_list, struct strvec *args,
			    bool *json, struct ctxd_error *err)
{
	int r;

	if (len == 0 && !to_list)
		return 0;
	r = parse_json(s, len, args, err);
	if (r < 0)
		return -1;
	if (r > 0) {
		*json = true;
		return 0;
	}
	if (to_list)
		split_ws(s, len, args);
	else
		sv_push_n(args, s, len);
	return 0;
}

/* parseNameVal for ENV and LABEL: pairs key, value */
static int parse_name_val(const char *s, size_t len, char esc, const char *key,
			  struct strvec *args, struct ctxd_error *err)
{
	struct strvec words = {0};
	int rc = 0;

	parse_words(s, len, esc, &words);
	if (words.n == 0)
		goto out;
	if (!strchr(words.v[0], '=')) {
		size_t i = 0, j;

		while (i < len && !ascii_ws(s[i]))
			i++;
		if (i == len) {
			ctxd_error_set(err, "%s must have two arguments", key);
			rc = -1;
			goto out;
		}
		j = i;
		while (j < len && ascii_ws(s[j]))
			j++;
		sv_push_n(args, s, i);
		sv_push_n(args, s + j, len - j);
		goto out;
	}
	for (size_t i = 0; i < words.n; i++) {
		const char *eq = strchr(words.v[i], '=');

		if (!eq) {
			struct ctxd_buf q = {0};

			ctxd_dockerfile_quote(&q, words.v[i], strlen(words.v[i]));
			ctxd_error_set(err, "Syntax error - can't find = in %s. Must be of the form: "
				       "name=value", q.data ? q.data : "");
			ctxd_buf_free(&q);
			rc = -1;
			goto out;
		}
		sv_push_n(args, words.v[i], (size_t)(eq - words.v[i]));
		sv_push(args, eq + 1);
	}
out:
	if (words.oom)
		args->oom = true;
	sv_free(&words);
	return rc;
}

static int new_node(const char *line, size_t len, char esc, int depth,
		    struct ctxd_dockerfile_instr *in, bool *heredoc_ok, struct ctxd_error *err);

/* parseHealthConfig: the type, then the command as parseMaybeJSON */
static int parse_health(const char *s, size_t len, struct strvec *args, bool *json,
			struct ctxd_error *err)
{
	size_t sep = 0, next;

	while (sep < len && !latin1_space((unsigned char)s[sep]))
		sep++;
	next = sep;
	while (next < len && latin1_space((unsigned char)s[next]))
		next++;
	if (sep == 0)
		return 0;
	sv_push_n(args, s, sep);
	return parse_maybe_json(s + next, len - next, false, args, json, err);
}

/* newNodeFromLine: keyword, flags, then the keyword's line parser. */
static int new_node(const char *line, size_t len, char esc, int depth,
		    struct ctxd_dockerfile_instr *in, bool *heredoc_ok, struct ctxd_error *err)
{
	struct strvec flags = {0}, args = {0};
	const char *s = line, *rest = "";
	size_t n = len, kl, restlen = 0;
	char *name;
	bool json = false;
	int rc = -1;

	memset(in, 0, sizeof *in);
	*heredoc_ok = false;
	s = ctxd_utf8_trim_space(s, &n);
	for (kl = 0; kl < n && !ascii_ws(s[kl]); kl++)
		;
	if (kl < n) {
		size_t r = kl, off;

		while (r < n && ascii_ws(s[r]))
			r++;
		off = extract_flags(s + r, n - r, &flags);
		rest = s + r + off;
		restlen = n - r - off;
		rest = ctxd_utf8_trim_space(rest, &restlen);
	}
	in->keyword = strndup(s, kl);
	in->original = strndup(line, len);
	if (!in->keyword || !in->original || !(name = strdup(in->keyword)))
		goto oom;
	for (char *p = name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	in->name = name;

	if (!strcmp(name, "add") || !strcmp(name, "copy") || !strcmp(name, "volume")) {
		if (parse_maybe_json(rest, restlen, true, &args, &json, err) < 0)
			goto out;
		*heredoc_ok = strcmp(name, "volume") != 0 && !json;
	} else if (!strcmp(name, "cmd") || !strcmp(name, "entrypoint") || !strcmp(name, "run") ||
		   !strcmp(name, "shell")) {
		if (parse_maybe_json(rest, restlen, false, &args, &json, err) < 0)
			goto out;
		*heredoc_ok = !strcmp(name, "run") && !json;
	} else if (!strcmp(name, "arg")) {
		parse_words(rest, restlen, esc, &args);
	} else if (!strcmp(name, "env") || !strcmp(name, "label")) {
		if (parse_name_val(rest, restlen, esc, name[0] == 'e' ? "ENV" : "LABEL", &args, err) < 0)
			goto out;
	} else if (!strcmp(name, "expose") || !strcmp(name, "from")) {
		split_ws(rest, restlen, &args);
	} else if (!strcmp(name, "healthcheck")) {
		if (parse_health(rest, restlen, &args, &json, err) < 0)
			goto out;
	} else if (!strcmp(name, "maintainer") || !strcmp(name, "stopsignal") ||
		   !strcmp(name, "user") || !strcmp(name, "workdir")) {
		if (restlen > 0)
			sv_push_n(&args, rest, restlen);
	} else if (!strcmp(name, "onbuild")) {
		if (restlen > 0 && depth < MAX_SUB_DEPTH) {
			struct ctxd_dockerfile_instr child;
			bool child_ok;

			if (new_node(rest, restlen, esc, depth + 1, &child, &child_ok, err) < 0)
				goto out;
			sv_push(&args, child.keyword);
			for (size_t i = 0; i < child.nargs; i++)
				sv_push(&args, child.args[i]);
			(void)child_ok;
			*heredoc_ok = (!strcmp(child.name, "add") || !strcmp(child.name, "copy") ||
				       !strcmp(child.name, "run")) && !child.json;
			instr_free(&child);
		}
	}
	if (flags.oom || args.oom)
		goto oom;
	in->flags = flags.v;
	in->nflags = flags.n;
	in->args = args.v;
	in->nargs = args.n;
	in->json = json;
	return 0;
oom:
	ctxd_error_set(err, "out of memory");
out:
	sv_free(&flags);
	sv_free(&args);
	instr_free(in);
	return rc;
}

/* ---- heredocs ---- */

static const struct ctxd_dockerfile_lex heredoc_lex = {.escape = '\\', .skip_unset_env = true};

/* ParseHeredoc: 1 with *hd filled, 0 when word is not one, -1 on error. */
static int parse_heredoc(const char *word, struct ctxd_dockerfile_heredoc *hd,
			 struct ctxd_error *err)
{
	const char *p = word, *digits = word, *rest;
	struct ctxd_dockerfile_lex lx = heredoc_lex;
	struct ctxd_dockerfile_word w = {0}, raw = {0};
	unsigned long fd = 0;
	bool chomp;
	size_t qa = 0, qb = 0;
	int rc = -1;

	while (*p >= '0' && *p <= '9')
		p++;
	if (p[0] != '<' || p[1] != '<')
		return 0;
	for (const char *d = digits; d < p; d++)
		fd = fd > (~0ul - 9) / 10 ? ~0ul : fd * 10 + (unsigned long)(*d - '0');
	p += 2;
	chomp = *p == '-';
	if (chomp)
		p++;
	while (re_space(*p))
		p++;
	rest = p;
	if (*rest == '\0' || strchr(rest, '<'))
		return 0;
	if (ctxd_dockerfile_expand(&lx, rest, strlen(rest), NULL, true, &w, err) < 0)
		return -1;
	if (w.nwords != 1) {
		rc = 0;
		goto out;
	}
	lx.raw_quotes = true;
	if (ctxd_dockerfile_expand(&lx, rest, strlen(rest), NULL, true, &raw, err) < 0)
		goto out;
	if (raw.nwords != w.nwords) {
		ctxd_error_set(err, "internal lexing of heredoc produced inconsistent results: %s", rest);
		goto out;
	}
	for (const char *c = w.words[0]; *c; c++)
		qa += *c == '\'' || *c == '"';
	for (const char *c = raw.words[0]; *c; c++)
		qb += *c == '\'' || *c == '"';
	if (hd) {
		memset(hd, 0, sizeof *hd);
		hd->name = w.words[0];
		w.words[0] = NULL;
		w.nwords = 0;
		hd->fd = fd;
		hd->chomp = chomp;
		hd->expand = qa == qb;
	}
	rc = 1;
out:
	ctxd_dockerfile_word_clear(&w);
	ctxd_dockerfile_word_clear(&raw);
	return rc;
}

bool ctxd_dockerfile_is_heredoc(const char *word)
{
	struct ctxd_error err;

	return parse_heredoc(word, NULL, &err) == 1;
}

/* heredocsFromLine: the line split as the shell would, each word tried. */
static int heredocs_from_line(const char *line, size_t len, struct ctxd_dockerfile_heredoc **out,
			      size_t *n, struct ctxd_error *err)
{
	struct ctxd_dockerfile_lex lx = heredoc_lex;
	struct ctxd_dockerfile_word w = {0};
	struct ctxd_error ignored;
	int rc = 0;

	*out = NULL;
	*n = 0;
	lx.raw_quotes = lx.raw_escapes = true;
	if (ctxd_dockerfile_expand(&lx, line, len, NULL, true, &w, &ignored) < 0)
		return strcmp(ignored.msg, "out of memory") == 0 ? (ctxd_error_set(err, "out of memory"), -1) : 0;
	for (size_t i = 0; i < w.nwords; i++) {
		struct ctxd_dockerfile_heredoc hd, *v;
		int r = parse_heredoc(w.words[i], &hd, err);

		if (r < 0) {
			rc = -1;
			break;
		}
		if (r == 0)
			continue;
		v = realloc(*out, (*n + 1) * sizeof *v);
		if (!v) {
			free((void *)hd.name);
			ctxd_error_set(err, "out of memory");
			rc = -1;
			break;
		}
		*out = v;
		v[(*n)++] = hd;
	}
	ctxd_dockerfile_word_clear(&w);
	if (rc < 0) {
		for (size_t i = 0; i < *n; i++)
			free((void *)(*out)[i].name);
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* ---- the line loop (parser.Parse) ---- */

struct scanner {
	const char *data;
	size_t len, pos;
	bool too_long;
};

/* The next line with its '\n' (scanLines keeps it). */
static bool scan(struct scanner *sc, const char **tok, size_t *n)
{
	const char *nl;
	size_t end, content;

	if (sc->too_long || sc->pos >= sc->len)
		return false;
	nl = memchr(sc->data + sc->pos, '\n', sc->len - sc->pos);
	end = nl ? (size_t)(nl - sc->data) + 1 : sc->len;
	content = end - sc->pos - (nl != NULL);
	if (content > MAX_LINE) {
		sc->too_long = true;
		return false;
	}
	*tok = sc->data + sc->pos;
	*n = end - sc->pos;
	sc->pos = end;
	return true;
}

static bool is_comment(const char *s, size_t n)
{
	s = trim_left_space(s, &n);
	return n > 0 && s[0] == '#';
}

/* trimContinuationCharacter: ([^E])E[ \t]*$ or ^E[ \t]*$ */
static bool trim_continuation(const char *s, size_t *n, char esc)
{
	size_t e = *n;

	while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t'))
		e--;
	if (e == 0 || s[e - 1] != esc)
		return false;
	if (e >= 2 && s[e - 2] == esc)
		return false;
	*n = e - 1;
	return true;
}

static void set_error(struct ctxd_error *err, const char *file, unsigned line, const char *msg)
{
	ctxd_error_set(err, "%s:%u: %s", file, line, msg);
}

/* Parses data into nodes (no instruction checks). Errors are "FILE:LINE:
 * msg". escape_out receives the escape character in force. */
static int parse_nodes(const char *data, size_t len, const char *file, struct directives *d,
		       struct nodes *ns, struct ctxd_error *err)
{
	struct scanner sc = {data, len, 0, false};
	struct ctxd_error e;
	const char *tok;
	size_t tn;
	unsigned cur = 0;

	while (scan(&sc, &tok, &tn)) {
		struct ctxd_buf line = {0};
		struct ctxd_dockerfile_instr in;
		const char *p = tok;
		size_t n = tn;
		unsigned start;
		bool end, heredoc_ok;

		if (cur == 0 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
			p += 3;
			n -= 3;
		}
		n = trim_newline(p, n);
		p = trim_left_space(p, &n);
		if (parser_directive(d, p, n, &e) < 0) {
			set_error(err, file, cur + 1, e.msg);
			return -1;
		}
		if (is_comment(p, n))
			n = 0;
		cur++;
		start = cur;
		end = !trim_continuation(p, &n, d->escape);
		if (end && n == 0)
			continue;
		ctxd_buf_append(&line, p, n);
		while (!end && scan(&sc, &tok, &tn)) {
			const char *q = tok;
			size_t m = trim_newline(tok, tn);

			if (parser_directive(d, q, m, &e) < 0) {
				ctxd_buf_free(&line);
				set_error(err, file, cur + 1, e.msg);
				return -1;
			}
			cur++;
			if (is_comment(tok, tn))
				continue;
			{
				size_t k = m;

				trim_left_space(q, &k);
				if (k == 0)
					continue; /* an empty continuation line */
			}
			if (is_comment(q, m))
				m = 0;
			end = !trim_continuation(q, &m, d->escape);
			ctxd_buf_append(&line, q, m);
		}
		if (line.oom) {
			ctxd_buf_free(&line);
			ctxd_error_set(err, "out of memory");
			return -1;
		}
		if (line.len && memchr(line.data, '\0', line.len)) {
			ctxd_buf_free(&line);
			set_error(err, file, start, "NUL byte in instruction");
			return -1;
		}
		if (new_node(line.data ? line.data : "", line.len, d->escape, 0, &in, &heredoc_ok, &e) < 0) {
			ctxd_buf_free(&line);
			if (strcmp(e.msg, "out of memory") == 0)
				*err = e;
			else
				set_error(err, file, start, e.msg);
			return -1;
		}
		if (heredoc_ok && line.len && memmem(line.data, line.len, "<<", 2)) {
			struct ctxd_dockerfile_heredoc *hd;
			size_t nh;

			if (heredocs_from_line(line.data, line.len, &hd, &nh, &e) < 0) {
				ctxd_buf_free(&line);
				instr_free(&in);
				set_error(err, file, start, e.msg);
				return -1;
			}
			in.heredocs = hd;
			in.nheredocs = nh;
			for (size_t i = 0; i < nh; i++) {
				struct ctxd_buf body = {0};
				bool terminated = false;

				while (scan(&sc, &tok, &tn)) {
					size_t m = trim_newline(tok, tn);
					const char *q = tok;

					cur++;
					if (hd[i].chomp)
						while (m > 0 && *q == '\t')
							q++, m--;
					if (m == strlen(hd[i].name) && memcmp(q, hd[i].name, m) == 0) {
						terminated = true;
						break;
					}
					ctxd_buf_append(&body, tok, tn);
				}
				if (!terminated || body.oom) {
					ctxd_buf_free(&body);
					ctxd_buf_free(&line);
					instr_free(&in);
					if (terminated)
						ctxd_error_set(err, "out of memory");
					else
						set_error(err, file, start, "unterminated heredoc");
					return -1;
				}
				hd[i].content_len = body.len;
				hd[i].content = ctxd_buf_take(&body);
				if (!hd[i].content) {
					ctxd_buf_free(&line);
					instr_free(&in);
					ctxd_error_set(err, "out of memory");
					return -1;
				}
			}
		}
		ctxd_buf_free(&line);
		in.line = start;
		in.end_line = cur;
		if (ns->n == ns->cap) {
			size_t cap = ns->cap ? ns->cap * 2 : 16;
			struct ctxd_dockerfile_instr *v = realloc(ns->v, cap * sizeof *v);

			if (!v) {
				instr_free(&in);
				ctxd_error_set(err, "out of memory");
				return -1;
			}
			ns->v = v;
			ns->cap = cap;
		}
		ns->v[ns->n++] = in;
	}
	if (ns->n == 0) {
		set_error(err, file, cur ? cur : 1, "file with no instructions");
		return -1;
	}
	if (sc.too_long) {
		set_error(err, file, cur + 1, "dockerfile line greater than max allowed size of 65535");
		return -1;
	}
	return 0;
}

/* The expression an ONBUILD registers, parsed again on its own. */
static void parse_trigger(struct ctxd_dockerfile_instr *in)
{
	struct ctxd_buf ex = {0};
	struct directives d = {.escape = '\\'};
	struct nodes ns = {0};
	struct ctxd_error e;
	const char *o = in->original;
	size_t ol = strlen(o);

	/* (?i)^\s*ONBUILD\s* */
	while (ol > 0 && re_space(*o))
		o++, ol--;
	if (ol >= 7 && strncasecmp(o, "onbuild", 7) == 0) {
		o += 7;
		ol -= 7;
		while (ol > 0 && re_space(*o))
			o++, ol--;
	}
	ctxd_buf_append(&ex, o, ol);
	for (size_t i = 0; i < in->nheredocs; i++) {
		ctxd_buf_putc(&ex, '\n');
		ctxd_buf_append(&ex, in->heredocs[i].content, in->heredocs[i].content_len);
		ctxd_buf_puts(&ex, in->heredocs[i].name);
	}
	if (ex.oom) {
		in->trigger_error = strdup("out of memory");
	} else if (parse_nodes(ex.data ? ex.data : "", ex.len, "", &d, &ns, &e) < 0) {
		/* drop the ":LINE: " prefix of an unnamed file */
		const char *m = strstr(e.msg, ": ");

		in->trigger_error = strdup(m && e.msg[0] == ':' ? m + 2 : e.msg);
	} else if (ns.n != 1) {
		in->trigger_error = strdup("onbuild trigger should be a single expression");
	} else if (ctxd_dockerfile_instr_check(&ns.v[0], &e) < 0) {
		in->trigger_error = strdup(e.msg);
	} else if (strcmp(ns.v[0].name, "from") == 0) {
		in->trigger_error = strdup("*instructions.Stage is not a command type");
	} else {
		struct ctxd_dockerfile_instr *t = malloc(sizeof *t);

		if (t) {
			*t = ns.v[0];
			t->line = in->line;
			t->end_line = in->end_line;
			ns.n = 0;
			in->trigger = t;
		} else {
			in->trigger_error = strdup("out of memory");
		}
	}
	for (size_t k = 0; k < D_N; k++)
		free(d.value[k]);
	nodes_free(&ns);
	ctxd_buf_free(&ex);
}

int ctxd_dockerfile_parse(const char *data, size_t len, const char *filename,
			  struct ctxd_dockerfile **out, struct ctxd_error *err)
{
	struct ctxd_dockerfile *df;
	struct directives d = {.escape = '\\'};
	struct nodes ns = {0};
	struct ctxd_error e, local;

	*out = NULL;
	if (!err)
		err = &local;
	if (!filename)
		filename = "Dockerfile";
	if (len == 0) {
		ctxd_error_set(err, "%s: the Dockerfile cannot be empty", filename);
		return -1;
	}
	if (!(df = calloc(1, sizeof *df)) || !(df->filename = strdup(filename))) {
		free(df);
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	if (parse_nodes(data, len, filename, &d, &ns, err) < 0)
		goto fail;
	df->escape = d.escape;
	memcpy(df->directive, d.value, sizeof d.value);
	memset(d.value, 0, sizeof d.value);
	df->in = ns.v;
	df->n = df->cap = ns.n;
	ns.v = NULL;
	ns.n = 0;
	/* instructions.Parse: check each, group into stages */
	for (size_t i = 0; i < df->n; i++) {
		struct ctxd_dockerfile_instr *in = &df->in[i];

		if (ctxd_dockerfile_instr_check(in, &e) < 0) {
			ctxd_error_set(err, "%s:%u: dockerfile parse error on line %u: %s", filename,
				       in->line, in->line, e.msg);
			goto fail;
		}
		if (strcmp(in->name, "onbuild") == 0)
			parse_trigger(in);
		if (strcmp(in->name, "from") == 0) {
			struct ctxd_dockerfile_stage *st =
				realloc(df->st, (df->nst + 1) * sizeof *st);
			char *name = NULL;

			if (!st)
				goto oom;
			df->st = st;
			st = &df->st[df->nst];
			memset(st, 0, sizeof *st);
			if (in->nargs == 3) {
				if (!(name = strdup(in->args[2])))
					goto oom;
				for (char *p = name; *p; p++)
					*p = (char)tolower((unsigned char)*p);
			}
			st->name = name;
			st->base = in->args[0];
			st->platform = ctxd_dockerfile_instr_flag(in, "platform");
			st->from = i;
			st->end = i + 1;
			df->nst++;
		} else if (df->nst > 0) {
			df->st[df->nst - 1].end = i + 1;
		} else if (strcmp(in->name, "arg") != 0) {
			set_error(err, filename, in->line, "no build stage in current context");
			goto fail;
		}
	}
	df->syntax = detect_syntax(data, len);
	*out = df;
	return 0;
oom:
	ctxd_error_set(err, "out of memory");
fail:
	for (size_t k = 0; k < D_N; k++)
		free(d.value[k]);
	nodes_free(&ns);
	if (strcmp(err->msg, "out of memory") != 0 && (df->syntax = detect_syntax(data, len))) {
		/* another frontend reads this file, not BuildKit's parser: what
		 * this parser refuses is not an error */
		char *syntax = df->syntax;

		df->syntax = NULL;
		ctxd_dockerfile_destroy(df);
		if ((df = calloc(1, sizeof *df)) && (df->filename = strdup(filename))) {
			df->escape = '\\';
			df->syntax = syntax;
			*out = df;
			return 0;
		}
		free(df);
		free(syntax);
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	ctxd_dockerfile_destroy(df);
	return -1;
}

void ctxd_dockerfile_destroy(struct ctxd_dockerfile *df)
{
	if (!df)
		return;
	for (size_t i = 0; i < df->n; i++)
		instr_free(&df->in[i]);
	free(df->in);
	for (size_t i = 0; i < df->nst; i++)
		free((void *)df->st[i].name);
	free(df->st);
	for (size_t k = 0; k < D_N; k++)
		free(df->directive[k]);
	free(df->syntax);
	free(df->filename);
	free(df);
}

const char *ctxd_dockerfile_filename(const struct ctxd_dockerfile *df)
{
	return df->filename;
}

char ctxd_dockerfile_escape(const struct ctxd_dockerfile *df)
{
	return df->escape;
}

const char *ctxd_dockerfile_directive(const struct ctxd_dockerfile *df, const char *key)
{
	for (int k = 0; k < D_N; k++)
		if (strcasecmp(key, directive_keys[k]) == 0)
			return df->directive[k];
	return NULL;
}

const char *ctxd_dockerfile_syntax(const struct ctxd_dockerfile *df)
{
	return df->syntax;
}

size_t ctxd_dockerfile_count(const struct ctxd_dockerfile *df)
{
	return df->n;
}

const struct ctxd_dockerfile_instr *ctxd_dockerfile_instr(const struct ctxd_dockerfile *df, size_t i)
{
	return i < df->n ? &df->in[i] : NULL;
}

size_t ctxd_dockerfile_stage_count(const struct ctxd_dockerfile *df)
{
	return df->nst;
}

const struct ctxd_dockerfile_stage *ctxd_dockerfile_stage(const struct ctxd_dockerfile *df, size_t i)
{
	return i < df->nst ? &df->st[i] : NULL;
}
