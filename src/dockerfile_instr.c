/* instructions.ParseInstruction's checks on one instruction (see
 * include/ctxd/dockerfile_instr.h): BFlags, argument counts and the
 * per-instruction rules, in BuildKit's order so the first error matches. */
#include "ctxd/dockerfile_instr.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctxd/dockerfile_expand.h"
#include "ctxd/dockerfile_mount.h"
#include "ctxd/utf8.h"

enum ftype { F_BOOL, F_STRING, F_STRINGS };

struct fspec {
	const char *name;
	enum ftype type;
};

/* ---- util/suggest ---- */

static size_t levenshtein(const int32_t *a, size_t na, const int32_t *b, size_t nb, size_t *row)
{
	for (size_t j = 0; j <= nb; j++)
		row[j] = j;
	for (size_t i = 1; i <= na; i++) {
		size_t prev = row[0];

		row[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t cur = row[j], best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[nb];
}

/* Decodes s into runes, lower-cased (ASCII, as the options are) unless
 * case-sensitive. Returns NULL on ENOMEM. */
static int32_t *to_runes(const char *s, bool lower, size_t *n)
{
	size_t len = strlen(s);
	int32_t *r = malloc((len + 1) * sizeof *r);

	*n = 0;
	if (!r)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t sz;
		int32_t c = ctxd_utf8_decode(s + i, len - i, &sz);

		if (lower && c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		r[(*n)++] = c;
		i += sz;
	}
	return r;
}

void ctxd_dockerfile_instr_suggest(struct ctxd_buf *b, const char *val,
				   const char *const *options, size_t n, bool case_sensitive)
{
	size_t nv, mindist = 3, best = n;
	int32_t *v = to_runes(val, !case_sensitive, &nv);
	bool lower = true, upper = true;

	if (!v) {
		b->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		size_t no, d;
		int32_t *o = to_runes(options[i], !case_sensitive, &no);
		size_t *row = malloc((no + 1) * sizeof *row);

		if (!o || !row) {
			free(o);
			free(row);
			b->oom = true;
			break;
		}
		if (no == nv && memcmp(o, v, nv * sizeof *v) == 0) {
			/* an exact match: the error was about something else */
			free(o);
			free(row);
			best = n;
			break;
		}
		d = levenshtein(v, nv, o, no, row);
		free(o);
		free(row);
		if (d < mindist) {
			mindist = d;
			best = i;
		}
	}
	free(v);
	if (best == n)
		return;
	for (const char *p = val; *p; p++) {
		if (isupper((unsigned char)*p))
			lower = false;
		if (islower((unsigned char)*p))
			upper = false;
	}
	ctxd_buf_puts(b, " (did you mean ");
	for (const char *p = options[best]; *p; p++) {
		char c = *p;

		if (!case_sensitive) /* matchCase */
			c = upper && !lower ? (char)toupper((unsigned char)c) : (char)tolower((unsigned char)c);
		ctxd_buf_putc(b, c);
	}
	ctxd_buf_puts(b, "?)");
}

/* ---- BFlags ---- */

static int parse_flags(const struct ctxd_dockerfile_instr *in, const struct fspec *spec,
		       size_t nspec, struct ctxd_error *err)
{
	bool used[16] = {false};

	for (size_t i = 0; i < in->nflags; i++) {
		const char *arg = in->flags[i], *eq;
		size_t nl, k;

		if (strncmp(arg, "--", 2) != 0) {
			ctxd_error_set(err, "Arg should start with -- : %s", arg);
			return -1;
		}
		if (strcmp(arg, "--") == 0)
			return 0;
		arg += 2;
		eq = strchr(arg, '=');
		nl = eq ? (size_t)(eq - arg) : strlen(arg);
		for (k = 0; k < nspec; k++)
			if (strlen(spec[k].name) == nl && strncmp(spec[k].name, arg, nl) == 0)
				break;
		if (k == nspec) {
			ctxd_error_set(err, "Unknown flag: %.*s", (int)nl, arg);
			return -1;
		}
		if (used[k] && spec[k].type != F_STRINGS) {
			ctxd_error_set(err, "Duplicate flag specified: %.*s", (int)nl, arg);
			return -1;
		}
		used[k] = true;
		if (spec[k].type == F_BOOL) {
			if (eq && eq[1] == '\0') {
				ctxd_error_set(err, "Missing a value on flag: %.*s", (int)nl, arg);
				return -1;
			}
			if (eq && strcasecmp(eq + 1, "true") != 0 && strcasecmp(eq + 1, "false") != 0) {
				ctxd_error_set(err, "Expecting boolean value for flag %.*s, not: %s",
					       (int)nl, arg, eq + 1);
				return -1;
			}
		} else if (!eq) {
			ctxd_error_set(err, "Missing a value on flag: %.*s", (int)nl, arg);
			return -1;
		}
	}
	return 0;
}

const char *ctxd_dockerfile_instr_flag(const struct ctxd_dockerfile_instr *in, const char *name)
{
	const char *found = NULL;
	size_t nl = strlen(name);

	for (size_t i = 0; i < in->nflags; i++) {
		const char *f = in->flags[i];

		if (strcmp(f, "--") == 0)
			break;
		if (strncmp(f, "--", 2) != 0 || strncmp(f + 2, name, nl) != 0)
			continue;
		if (f[2 + nl] == '=')
			found = f + 3 + nl;
		else if (f[2 + nl] == '\0')
			found = "";
	}
	return found;
}

bool ctxd_dockerfile_instr_flag_on(const struct ctxd_dockerfile_instr *in, const char *name)
{
	const char *v = ctxd_dockerfile_instr_flag(in, name);

	return v && (*v == '\0' || strcasecmp(v, "true") == 0);
}

/* ---- per-instruction rules ---- */

static int err_at_least_one(struct ctxd_error *err, const char *cmd)
{
	ctxd_error_set(err, "%s requires at least one argument", cmd);
	return -1;
}

static int err_exactly_one(struct ctxd_error *err, const char *cmd)
{
	ctxd_error_set(err, "%s requires exactly one argument", cmd);
	return -1;
}

static int check_kvps(const struct ctxd_dockerfile_instr *in, const char *cmd,
		      struct ctxd_error *err)
{
	if (in->nargs == 0)
		return err_at_least_one(err, cmd);
	for (size_t i = 0; i + 1 < in->nargs; i += 2) {
		if (in->args[i][0] == '\0') {
			ctxd_error_set(err, "%s names can not be blank", cmd);
			return -1;
		}
	}
	return 0;
}

static int check_copy(const struct ctxd_dockerfile_instr *in, const char *cmd,
		      const struct fspec *spec, size_t nspec, struct ctxd_error *err)
{
	if (in->nargs < 2) {
		ctxd_error_set(err, "%s requires at least two arguments, but only one was provided. "
			       "Destination could not be determined", cmd);
		return -1;
	}
	if (parse_flags(in, spec, nspec, err) < 0)
		return -1;
	if (ctxd_dockerfile_is_heredoc(in->args[in->nargs - 1])) {
		ctxd_error_set(err, "%s cannot accept a heredoc as a destination", cmd);
		return -1;
	}
	return 0;
}

/* ^[a-z][a-z0-9-_.]*$ on the lower-cased name */
static bool valid_stage_name(const char *s)
{
	if (!(*s >= 'a' && *s <= 'z'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '_' || *s == '.'))
			return false;
	return true;
}

/* strings.TrimSpace then ToUpper, for the ONBUILD trigger name */
static void trim_upper(const char *s, struct ctxd_buf *b)
{
	size_t len = strlen(s);

	s = ctxd_utf8_trim_space(s, &len);
	for (size_t i = 0; i < len; i++)
		ctxd_buf_putc(b, (char)toupper((unsigned char)s[i]));
}

static int check_from(const struct ctxd_dockerfile_instr *in, struct ctxd_error *err)
{
	static const struct fspec spec[] = {{"platform", F_STRING}};

	if (in->nargs == 3 && strcasecmp(in->args[1], "as") == 0) {
		char *low = strdup(in->args[2]);
		bool ok;

		if (!low) {
			ctxd_error_set(err, "out of memory");
			return -1;
		}
		for (char *p = low; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		ok = valid_stage_name(low);
		free(low);
		if (!ok) {
			struct ctxd_buf b = {0};

			ctxd_dockerfile_quote(&b, in->args[2], strlen(in->args[2]));
			ctxd_error_set(err, "invalid name for build stage: %s, name can't start with "
				       "a number or contain symbols", b.data ? b.data : "");
			ctxd_buf_free(&b);
			return -1;
		}
	} else if (in->nargs != 1) {
		ctxd_error_set(err, "FROM requires either one or three arguments");
		return -1;
	}
	return parse_flags(in, spec, 1, err);
}

static int check_onbuild(const struct ctxd_dockerfile_instr *in, struct ctxd_error *err)
{
	struct ctxd_buf t = {0};
	int rc = 0;

	if (in->nargs == 0)
		return err_at_least_one(err, "ONBUILD");
	if (parse_flags(in, NULL, 0, err) < 0)
		return -1;
	trim_upper(in->args[0], &t);
	if (t.data && strcmp(t.data, "ONBUILD") == 0) {
		ctxd_error_set(err, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
		rc = -1;
	} else if (t.data && (strcmp(t.data, "MAINTAINER") == 0 || strcmp(t.data, "FROM") == 0)) {
		ctxd_error_set(err, "%s isn't allowed as an ONBUILD trigger", t.data);
		rc = -1;
	}
	ctxd_buf_free(&t);
	return rc;
}

static int check_run(const struct ctxd_dockerfile_instr *in, struct ctxd_error *err)
{
	static const struct fspec spec[] = {
		{"mount", F_STRINGS}, {"network", F_STRING}, {"security", F_STRING},
		{"device", F_STRINGS},
	};

	if (parse_flags(in, spec, 4, err) < 0)
		return -1;
	/* the parser's pass over --mount: CSV syntax, no variable in from= */
	for (size_t i = 0; i < in->nflags; i++) {
		struct ctxd_dockerfile_mount m;

		if (strcmp(in->flags[i], "--") == 0)
			break;
		if (strncmp(in->flags[i], "--mount=", 8) != 0)
			continue;
		if (ctxd_dockerfile_mount_parse(in->flags[i] + 8, false, NULL, NULL, &m, err) < 0)
			return -1;
		ctxd_dockerfile_mount_clear(&m);
	}
	return 0;
}

static int check_healthcheck(const struct ctxd_dockerfile_instr *in, struct ctxd_error *err)
{
	static const struct fspec spec[] = {
		{"interval", F_STRING}, {"timeout", F_STRING}, {"start-period", F_STRING},
		{"start-interval", F_STRING}, {"retries", F_STRING},
	};
	struct ctxd_buf typ = {0};
	const char *retries;
	int rc = -1;

	if (in->nargs == 0)
		return err_at_least_one(err, "HEALTHCHECK");
	for (const char *p = in->args[0]; *p; p++)
		ctxd_buf_putc(&typ, (char)toupper((unsigned char)*p));
	if (typ.data && strcmp(typ.data, "NONE") == 0) {
		if (in->nargs != 1)
			ctxd_error_set(err, "HEALTHCHECK NONE takes no arguments");
		else
			rc = 0;
		goto out;
	}
	if (parse_flags(in, spec, 5, err) < 0)
		goto out;
	if (typ.data && strcmp(typ.data, "CMD") == 0) {
		if (in->nargs < 2) {
			ctxd_error_set(err, "Missing command after HEALTHCHECK CMD");
			goto out;
		}
	} else {
		struct ctxd_buf q = {0};

		ctxd_dockerfile_quote(&q, typ.data ? typ.data : "", typ.len);
		ctxd_error_set(err, "Unknown type %s in HEALTHCHECK (try CMD)", q.data ? q.data : "");
		ctxd_buf_free(&q);
		goto out;
	}
	retries = ctxd_dockerfile_instr_flag(in, "retries");
	if (retries && *retries) {
		/* strconv.ParseInt(v, 10, 32) */
		const char *p = retries + (*retries == '+' || *retries == '-');
		long long v = 0;
		bool ok = *p != '\0';

		for (; *p && ok; p++) {
			ok = *p >= '0' && *p <= '9';
			v = v * 10 + (*p - '0');
			if (v > 2147483648LL)
				ok = false;
		}
		if (*retries == '-')
			v = -v;
		if (!ok || v > 2147483647LL) {
			ctxd_error_set(err, "strconv.ParseInt: parsing \"%s\": %s", retries,
				       ok ? "value out of range" : "invalid syntax");
			goto out;
		}
		if (v < 0) {
			ctxd_error_set(err, "--retries cannot be negative (%lld)", v);
			goto out;
		}
	}
	rc = 0;
out:
	ctxd_buf_free(&typ);
	return rc;
}

static int check_unknown(const struct ctxd_dockerfile_instr *in, struct ctxd_error *err)
{
	static const char *const names[] = {
		"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
		"LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
		"WORKDIR",
	};
	struct ctxd_buf b = {0};

	ctxd_buf_printf(&b, "unknown instruction: %s", in->keyword);
	ctxd_dockerfile_instr_suggest(&b, in->keyword, names, sizeof names / sizeof names[0], false);
	ctxd_error_set(err, "%s", b.oom || !b.data ? "out of memory" : b.data);
	ctxd_buf_free(&b);
	return -1;
}

int ctxd_dockerfile_instr_check(const struct ctxd_dockerfile_instr *in, struct ctxd_error *err)
{
	static const struct fspec add_spec[] = {
		{"chown", F_STRING}, {"chmod", F_STRING}, {"link", F_BOOL},
		{"keep-git-dir", F_BOOL}, {"checksum", F_STRING}, {"exclude", F_STRINGS},
		{"unpack", F_BOOL}, {"parents", F_BOOL},
	};
	static const struct fspec copy_spec[] = {
		{"chown", F_STRING}, {"from", F_STRING}, {"chmod", F_STRING},
		{"link", F_BOOL}, {"parents", F_BOOL}, {"exclude", F_STRINGS},
	};
	const char *n = in->name;

	if (strcmp(n, "env") == 0 || strcmp(n, "label") == 0) {
		if (parse_flags(in, NULL, 0, err) < 0)
			return -1;
		return check_kvps(in, n[0] == 'e' ? "ENV" : "LABEL", err);
	}
	if (strcmp(n, "maintainer") == 0) {
		if (in->nargs != 1)
			return err_exactly_one(err, "MAINTAINER");
		return parse_flags(in, NULL, 0, err);
	}
	if (strcmp(n, "add") == 0)
		return check_copy(in, "ADD", add_spec, sizeof add_spec / sizeof add_spec[0], err);
	if (strcmp(n, "copy") == 0)
		return check_copy(in, "COPY", copy_spec, sizeof copy_spec / sizeof copy_spec[0], err);
	if (strcmp(n, "from") == 0)
		return check_from(in, err);
	if (strcmp(n, "onbuild") == 0)
		return check_onbuild(in, err);
	if (strcmp(n, "workdir") == 0 || strcmp(n, "user") == 0) {
		if (in->nargs != 1)
			return err_exactly_one(err, n[0] == 'w' ? "WORKDIR" : "USER");
		return parse_flags(in, NULL, 0, err);
	}
	if (strcmp(n, "run") == 0)
		return check_run(in, err);
	if (strcmp(n, "cmd") == 0 || strcmp(n, "entrypoint") == 0)
		return parse_flags(in, NULL, 0, err);
	if (strcmp(n, "healthcheck") == 0)
		return check_healthcheck(in, err);
	if (strcmp(n, "expose") == 0) {
		if (in->nargs == 0)
			return err_at_least_one(err, "EXPOSE");
		return parse_flags(in, NULL, 0, err);
	}
	if (strcmp(n, "volume") == 0) {
		if (in->nargs == 0)
			return err_at_least_one(err, "VOLUME");
		if (parse_flags(in, NULL, 0, err) < 0)
			return -1;
		for (size_t i = 0; i < in->nargs; i++) {
			size_t len = strlen(in->args[i]);

			ctxd_utf8_trim_space(in->args[i], &len);
			if (len == 0) {
				ctxd_error_set(err, "VOLUME specified can not be an empty string");
				return -1;
			}
		}
		return 0;
	}
	if (strcmp(n, "stopsignal") == 0)
		return in->nargs != 1 ? err_exactly_one(err, "STOPSIGNAL") : 0;
	if (strcmp(n, "arg") == 0) {
		if (in->nargs < 1)
			return err_at_least_one(err, "ARG");
		for (size_t i = 0; i < in->nargs; i++) {
			if (in->args[i][0] == '=') {
				ctxd_error_set(err, "ARG names can not be blank");
				return -1;
			}
		}
		return 0;
	}
	if (strcmp(n, "shell") == 0) {
		if (parse_flags(in, NULL, 0, err) < 0)
			return -1;
		if (in->nargs == 0)
			return err_at_least_one(err, "SHELL");
		if (!in->json) {
			ctxd_error_set(err, "SHELL requires the arguments to be in JSON form");
			return -1;
		}
		return 0;
	}
	return check_unknown(in, err);
}
