/* RUN --mount values (see include/ctxd/dockerfile_mount.h): Go's
 * encoding/csv for the record, then parseMount and validateMount. */
#include "ctxd/dockerfile_mount.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/buf.h"
#include "ctxd/dockerfile_instr.h"

struct fields {
	char **v;
	size_t n, cap;
};

static void fields_free(struct fields *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i]);
	free(f->v);
}

static int fields_push(struct fields *f, struct ctxd_buf *b)
{
	char *s;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		char **v = realloc(f->v, cap * sizeof *v);

		if (!v)
			return -1;
		f->v = v;
		f->cap = cap;
	}
	if (!(s = ctxd_buf_take(b)))
		return -1;
	f->v[f->n++] = s;
	return 0;
}

/* csv.Reader.Read for a one-line input with the default settings. */
static int csv_read(const char *line, struct fields *f, struct ctxd_error *err)
{
	size_t len = strlen(line), i = 0;
	struct ctxd_buf b = {0};

	if (len > 0 && line[len - 1] == '\r') /* dropped before EOF */
		len--;
	if (len == 0) {
		ctxd_error_set(err, "failed to parse csv mounts: EOF");
		return -1;
	}
	for (;;) {
		if (i >= len || line[i] != '"') {
			const char *comma = memchr(line + i, ',', len - i);
			size_t end = comma ? (size_t)(comma - line) : len;
			const char *q = memchr(line + i, '"', end - i);

			if (q) {
				ctxd_error_set(err, "failed to parse csv mounts: parse error on line 1, "
					       "column %zu: bare \" in non-quoted-field",
					       (size_t)(q - line) + 1);
				goto fail;
			}
			ctxd_buf_append(&b, line + i, end - i);
			if (fields_push(f, &b) < 0)
				goto oom;
			if (!comma)
				return 0;
			i = end + 1;
			continue;
		}
		i++; /* the opening quote */
		for (;;) {
			const char *q = memchr(line + i, '"', len - i);

			if (!q) {
				ctxd_error_set(err, "failed to parse csv mounts: parse error on line 1, "
					       "column %zu: extraneous or missing \" in quoted-field",
					       len + 1);
				goto fail;
			}
			ctxd_buf_append(&b, line + i, (size_t)(q - line) - i);
			i = (size_t)(q - line) + 1;
			if (i < len && line[i] == '"') {
				ctxd_buf_putc(&b, '"');
				i++;
			} else if (i < len && line[i] == ',') {
				i++;
				if (fields_push(f, &b) < 0)
					goto oom;
				break;
			} else if (i == len) {
				if (fields_push(f, &b) < 0)
					goto oom;
				return 0;
			} else {
				ctxd_error_set(err, "failed to parse csv mounts: parse error on line 1, "
					       "column %zu: extraneous or missing \" in quoted-field", i);
				goto fail;
			}
		}
	}
oom:
	ctxd_error_set(err, "out of memory");
fail:
	ctxd_buf_free(&b);
	return -1;
}

/* strconv.ParseBool */
static int parse_bool(const char *s, bool *v)
{
	static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};

	for (size_t i = 0; i < 6; i++) {
		if (strcmp(s, t[i]) == 0) {
			*v = true;
			return 0;
		}
		if (strcmp(s, f[i]) == 0) {
			*v = false;
			return 0;
		}
	}
	return -1;
}

/* strconv.ParseUint(s, base, 32) succeeds */
static bool parse_uint32(const char *s, int base)
{
	unsigned long long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		int d = *s - '0';

		if (d < 0 || d >= base)
			return false;
		v = v * (unsigned)base + (unsigned)d;
		if (v > 0xFFFFFFFFull)
			return false;
	}
	return true;
}

/* go-units RAMInBytes: digits, an optional fraction, an optional space,
 * an optional k/m/g/t/p, an optional i, an optional b. */
static bool ram_in_bytes(const char *s)
{
	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s))
		s++;
	while (*s == '.' && isdigit((unsigned char)s[1])) {
		s++;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == ' ')
		s++;
	if (*s && strchr("kKmMgGtTpP", *s))
		s++;
	if (*s == 'i' || *s == 'I')
		s++;
	if (*s == 'b' || *s == 'B')
		s++;
	return *s == '\0';
}

static const char *type_name(enum ctxd_dockerfile_mount_type t)
{
	static const char *const n[] = {"bind", "cache", "tmpfs", "secret", "ssh"};

	return n[t];
}

static int set_str(char **dst, const char *v)
{
	char *c = strdup(v);

	if (!c)
		return -1;
	free(*dst);
	*dst = c;
	return 0;
}

void ctxd_dockerfile_mount_clear(struct ctxd_dockerfile_mount *m)
{
	free(m->from);
	free(m->source);
	free(m->target);
	free(m->unknown_name);
	memset(m, 0, sizeof *m);
}

/* One key=value field after expansion; typed is false while the type is
 * unknown, so type-dependent rules are not applied. */
static int apply(struct ctxd_dockerfile_mount *m, const char *key, const char *value,
		 const char *field, bool *has_sharing, unsigned *file_info, bool *ro_auto,
		 struct ctxd_error *err)
{
	static const char *const types[] = {"bind", "cache", "tmpfs", "secret", "ssh"};
	static const char *const keys[] = {
		"type", "from", "source", "target", "readonly", "id", "sharing", "required",
		"mode", "uid", "gid", "src", "dst", "ro", "rw", "readwrite",
	};
	bool typed = !m->unknown_type, b;
	struct ctxd_buf msg = {0};

	if (strcmp(key, "type") == 0) {
		char *low = strdup(value);

		if (!low)
			goto oom;
		for (char *p = low; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		for (size_t i = 0; i < 5; i++) {
			if (strcmp(low, types[i]) == 0) {
				m->type = (enum ctxd_dockerfile_mount_type)i;
				free(low);
				return 0;
			}
		}
		free(low);
		ctxd_buf_puts(&msg, "unsupported mount type ");
		ctxd_dockerfile_quote(&msg, value, strlen(value));
		ctxd_dockerfile_instr_suggest(&msg, value, types, 5, true);
		goto fail;
	}
	if (strcmp(key, "from") == 0)
		return set_str(&m->from, value) < 0 ? (ctxd_error_set(err, "out of memory"), -1) : 0;
	if (strcmp(key, "source") == 0 || strcmp(key, "src") == 0)
		return set_str(&m->source, value) < 0 ? (ctxd_error_set(err, "out of memory"), -1) : 0;
	if (strcmp(key, "target") == 0 || strcmp(key, "dst") == 0 ||
	    strcmp(key, "destination") == 0)
		return set_str(&m->target, value) < 0 ? (ctxd_error_set(err, "out of memory"), -1) : 0;
	if (strcmp(key, "readonly") == 0 || strcmp(key, "ro") == 0 ||
	    strcmp(key, "readwrite") == 0 || strcmp(key, "rw") == 0) {
		if (parse_bool(value, &b) < 0) {
			ctxd_error_set(err, "invalid value for %s: %s", key, value);
			return -1;
		}
		m->readonly = strcmp(key, "readwrite") == 0 || strcmp(key, "rw") == 0 ? !b : b;
		*ro_auto = false;
		return 0;
	}
	if (strcmp(key, "required") == 0) {
		if (typed && m->type != CTXD_MOUNT_SECRET && m->type != CTXD_MOUNT_SSH) {
			ctxd_error_set(err, "unexpected key '%s' for mount type '%s'", key,
				       type_name(m->type));
			return -1;
		}
		if (parse_bool(value, &b) < 0) {
			ctxd_error_set(err, "invalid value for %s: %s", key, value);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "size") == 0) {
		if (typed && m->type != CTXD_MOUNT_TMPFS) {
			ctxd_error_set(err, "unexpected key '%s' for mount type '%s'", key,
				       type_name(m->type));
			return -1;
		}
		if (!ram_in_bytes(value)) {
			ctxd_error_set(err, "invalid value for %s: %s", key, value);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "id") == 0 || strcmp(key, "env") == 0)
		return 0;
	if (strcmp(key, "sharing") == 0) {
		static const char *const modes[] = {"shared", "private", "locked"};

		for (size_t i = 0; i < 3; i++) {
			if (strcasecmp(value, modes[i]) == 0) {
				*has_sharing = true;
				return 0;
			}
		}
		ctxd_buf_puts(&msg, "unsupported sharing value ");
		ctxd_dockerfile_quote(&msg, value, strlen(value));
		ctxd_dockerfile_instr_suggest(&msg, value, modes, 3, true);
		goto fail;
	}
	if (strcmp(key, "mode") == 0 || strcmp(key, "uid") == 0 || strcmp(key, "gid") == 0) {
		if (!parse_uint32(value, key[0] == 'm' ? 8 : 10)) {
			ctxd_error_set(err, "invalid value %s for %s", value, key);
			return -1;
		}
		*file_info |= key[0] == 'm' ? 1u : key[0] == 'u' ? 2u : 4u;
		return 0;
	}
	ctxd_buf_printf(&msg, "unexpected key '%s' in '%s'", key, field);
	ctxd_dockerfile_instr_suggest(&msg, key, keys, sizeof keys / sizeof keys[0], true);
fail:
	if (msg.oom)
		goto oom;
	ctxd_error_set(err, "%s", msg.data);
	ctxd_buf_free(&msg);
	return -1;
oom:
	ctxd_buf_free(&msg);
	ctxd_error_set(err, "out of memory");
	return -1;
}

int ctxd_dockerfile_mount_parse(const char *value, bool env_pass,
				const struct ctxd_dockerfile_lex *lx,
				const struct ctxd_dockerfile_env *env,
				struct ctxd_dockerfile_mount *m, struct ctxd_error *err)
{
	struct fields f = {0};
	bool ro_auto = true, has_sharing = false;
	unsigned file_info = 0;
	int rc = -1;

	memset(m, 0, sizeof *m);
	if (csv_read(value, &f, err) < 0)
		goto out;
	for (size_t i = 0; i < f.n; i++) {
		char *field = f.v[i], *eq = strchr(field, '='), *key;
		struct ctxd_dockerfile_word w = {0};
		int r;

		key = eq ? strndup(field, (size_t)(eq - field)) : strdup(field);
		if (!key) {
			ctxd_error_set(err, "out of memory");
			goto out;
		}
		for (char *p = key; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!eq) {
			if (!env_pass) {
				free(key);
				continue;
			}
			if (strcmp(key, "readonly") == 0 || strcmp(key, "ro") == 0) {
				m->readonly = true;
				ro_auto = false;
			} else if (strcmp(key, "readwrite") == 0 || strcmp(key, "rw") == 0) {
				m->readonly = false;
				ro_auto = false;
			} else if (strcmp(key, "required") == 0) {
				if (!m->unknown_type && m->type != CTXD_MOUNT_SECRET &&
				    m->type != CTXD_MOUNT_SSH) {
					ctxd_error_set(err, "unexpected key '%s' for mount type '%s'",
						       key, type_name(m->type));
					free(key);
					goto out;
				}
			} else {
				ctxd_error_set(err, "invalid field '%s' must be a key=value pair", field);
				free(key);
				goto out;
			}
			free(key);
			continue;
		}
		if (!env_pass) {
			const char *d = strchr(eq + 1, '$');

			if (strcmp(key, "from") != 0) {
				free(key);
				continue;
			}
			/* regexp \$. : a '$' with anything after it */
			for (; d; d = strchr(d + 1, '$')) {
				if (d[1] != '\0' && d[1] != '\n') {
					ctxd_error_set(err, "'%s' doesn't support variable expansion, "
						       "define alias stage instead", key);
					free(key);
					goto out;
				}
			}
			r = apply(m, key, eq + 1, field, &has_sharing, &file_info, &ro_auto, err);
			free(key);
			if (r < 0)
				goto out;
			continue;
		}
		if (ctxd_dockerfile_expand(lx, eq + 1, strlen(eq + 1), env, false, &w, err) < 0) {
			free(key);
			goto out;
		}
		if (w.unknown) {
			if (w.unknown_name && !m->unknown_name)
				m->unknown_name = strdup(w.unknown_name);
			if (strcmp(key, "type") == 0)
				m->unknown_type = true;
			else if (strcmp(key, "from") == 0)
				m->unknown_from = true;
			else if (strcmp(key, "source") == 0 || strcmp(key, "src") == 0)
				m->unknown_source = true;
		}
		if (w.unknown && strcmp(key, "type") == 0)
			r = 0;
		else
			r = apply(m, key, w.value, field, &has_sharing, &file_info, &ro_auto, err);
		ctxd_dockerfile_word_clear(&w);
		free(key);
		if (r < 0)
			goto out;
	}
	if (!m->unknown_type) {
		/* validateMount */
		static const char *const info[] = {"mode", "uid", "gid"};

		if (m->type != CTXD_MOUNT_SECRET && m->type != CTXD_MOUNT_SSH &&
		    m->type != CTXD_MOUNT_CACHE) {
			for (unsigned k = 0; k < 3; k++) {
				if (file_info & (1u << k)) {
					ctxd_error_set(err, "%s not allowed for \"%s\" type mounts",
						       info[k], type_name(m->type));
					goto out;
				}
			}
		}
		if (ro_auto)
			m->readonly = m->type != CTXD_MOUNT_CACHE && m->type != CTXD_MOUNT_TMPFS;
		if (m->type == CTXD_MOUNT_SECRET && m->from && *m->from) {
			ctxd_error_set(err, "secret mount should not have a from");
			goto out;
		}
		if (m->type == CTXD_MOUNT_SECRET && has_sharing) {
			ctxd_error_set(err, "secret mount should not define sharing");
			goto out;
		}
		if (has_sharing && m->type != CTXD_MOUNT_CACHE) {
			ctxd_error_set(err, "invalid cache sharing set for %s mount", type_name(m->type));
			goto out;
		}
	}
	rc = 0;
out:
	fields_free(&f);
	if (rc < 0)
		ctxd_dockerfile_mount_clear(m);
	return rc;
}
