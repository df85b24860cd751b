/* Which context paths a build reads: BuildKit's dockerfile2llb walk
 * (toDispatchState) reduced to what decides the transfer, with unknown
 * values kept unknown. See include/ctxd/dockerfile_reads.h. */
#include "ctxd/dockerfile_reads.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctxd/buf.h"
#include "ctxd/dockerfile_expand.h"
#include "ctxd/dockerfile_instr.h"
#include "ctxd/dockerfile_mount.h"
#include "ctxd/path.h"

#define NONE SIZE_MAX

struct dep {
	size_t to;
	char *why; /* how the depending stage reaches it */
};

struct cmd {
	const struct ctxd_dockerfile_instr *in;
	bool onbuild;
	size_t src; /* COPY --from: the state it copies from, NONE otherwise */
};

/* A dispatchState: a stage of the file, or an image named by --from. */
struct state {
	bool registered;
	size_t stage;      /* index among the file's stages (registered) */
	char *display;     /* the AS name, "stage-N", or the image */
	char *base;        /* the FROM argument expanded; NULL when unknown */
	char *base_var;    /* the unknown variable in it */
	size_t base_state; /* the stage it is FROM, NONE otherwise */
	bool scratch;
	unsigned line;
	struct dep *deps;
	size_t ndeps;
	struct cmd *cmds;
	size_t ncmds;
	bool onbuild_init;
	bool reachable;
	char *why;
	bool dispatched;
	struct ctxd_dockerfile_env *env;
};

struct platform {
	char os[64], arch[64], variant[64];
};

struct an {
	const struct ctxd_dockerfile *df;
	const struct ctxd_dockerfile_reads_options *o;
	struct ctxd_dockerfile_reads *out;
	struct ctxd_error *err;
	struct ctxd_dockerfile_lex lx;
	struct ctxd_dockerfile_env *global;
	struct ctxd_dockerfile_env *bargs;
	struct state *st;
	size_t nst, cap;
	bool oom;
	size_t reads_cap, steps_cap;
};

/* ---- small helpers ---- */

static char *xvprintf(struct an *an, const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0) {
		an->oom = true;
		return NULL;
	}
	return s;
}

static char *xprintf(struct an *an, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *xprintf(struct an *an, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvprintf(an, fmt, ap);
	va_end(ap);
	return s;
}

static char *xstrdup(struct an *an, const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		an->oom = true;
	return d;
}

static int fail(struct an *an, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct an *an, unsigned line, const char *fmt, ...)
{
	char msg[CTXD_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line)
		ctxd_error_set(an->err, "%s:%u: %s", ctxd_dockerfile_filename(an->df), line, msg);
	else
		ctxd_error_set(an->err, "%s: %s", ctxd_dockerfile_filename(an->df), msg);
	return -1;
}

static int oom(struct an *an)
{
	ctxd_error_set(an->err, "out of memory");
	return -1;
}

static char *upper(struct an *an, const char *s)
{
	char *u = xstrdup(an, s);

	for (char *p = u; p && *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return u;
}

/* Sets whole_context with the first reason given. */
static void whole(struct an *an, unsigned line, char *reason)
{
	an->out->whole_context = true;
	if (!an->out->reason && reason) {
		an->out->reason = reason;
		an->out->reason_line = line;
	} else {
		free(reason);
	}
}

static void step(struct an *an, size_t stage, unsigned line, const char *instr, char *effect)
{
	struct ctxd_dockerfile_reads *r = an->out;

	if (r->nsteps == an->steps_cap) {
		size_t cap = an->steps_cap ? an->steps_cap * 2 : 16;
		struct ctxd_dockerfile_reads_step *v = realloc(r->steps, cap * sizeof *v);

		if (!v) {
			an->oom = true;
			free(effect);
			return;
		}
		r->steps = v;
		an->steps_cap = cap;
	}
	r->steps[r->nsteps++] = (struct ctxd_dockerfile_reads_step){
		stage, line, xstrdup(an, instr), effect};
	if (!effect)
		an->oom = true;
}

static struct ctxd_dockerfile_read *add_read(struct an *an, const char *pattern,
					     const char *instr, unsigned line, size_t stage,
					     bool onbuild)
{
	struct ctxd_dockerfile_reads *r = an->out;
	struct ctxd_dockerfile_read *rd;

	if (r->nreads == an->reads_cap) {
		size_t cap = an->reads_cap ? an->reads_cap * 2 : 16;
		struct ctxd_dockerfile_read *v = realloc(r->reads, cap * sizeof *v);

		if (!v) {
			an->oom = true;
			return NULL;
		}
		r->reads = v;
		an->reads_cap = cap;
	}
	rd = &r->reads[r->nreads++];
	memset(rd, 0, sizeof *rd);
	rd->pattern = xstrdup(an, pattern);
	rd->instruction = instr;
	rd->line = line;
	rd->stage = stage;
	rd->onbuild = onbuild;
	return rd;
}

/* path.Join(".", path.Join("/", src)): NULL for the whole context. */
static char *context_pattern(struct an *an, const char *src)
{
	size_t n = strlen(src);
	char *tmp = malloc(n + 2), *out = malloc(n + 3);

	if (!tmp || !out) {
		free(tmp);
		free(out);
		an->oom = true;
		return NULL;
	}
	tmp[0] = '/';
	memcpy(tmp + 1, src, n + 1);
	ctxd_path_clean(tmp, n + 1, out);
	free(tmp);
	if (strcmp(out, "/") == 0) {
		free(out);
		return NULL;
	}
	memmove(out, out + 1, strlen(out));
	return out;
}

/* ---- platforms (containerd's Parse and Normalize, the common cases) ---- */

static void lower_copy(char *dst, size_t cap, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < cap; i++)
		dst[i] = (char)tolower((unsigned char)s[i]);
	dst[i] = '\0';
}

static void normalize_arch(struct platform *p)
{
	char *a = p->arch, *v = p->variant;

	if (!strcmp(a, "i386")) {
		strcpy(a, "386");
		v[0] = '\0';
	} else if (!strcmp(a, "x86_64") || !strcmp(a, "x86-64") || !strcmp(a, "amd64")) {
		strcpy(a, "amd64");
		if (!strcmp(v, "v1"))
			v[0] = '\0';
	} else if (!strcmp(a, "aarch64") || !strcmp(a, "arm64")) {
		strcpy(a, "arm64");
		if (!strcmp(v, "8") || !strcmp(v, "v8") || !strcmp(v, "v8.0"))
			v[0] = '\0';
		else if (!strcmp(v, "9") || !strcmp(v, "9.0") || !strcmp(v, "v9.0"))
			strcpy(v, "v9");
	} else if (!strcmp(a, "armhf")) {
		strcpy(a, "arm");
		strcpy(v, "v7");
	} else if (!strcmp(a, "armel")) {
		strcpy(a, "arm");
		strcpy(v, "v6");
	} else if (!strcmp(a, "arm")) {
		if (!v[0] || !strcmp(v, "7"))
			strcpy(v, "v7");
		else if (!strcmp(v, "5") || !strcmp(v, "6") || !strcmp(v, "8"))
			snprintf(v, sizeof p->variant, "v%c", v[0]);
	}
}

static bool known_os(const char *s)
{
	static const char *const os[] = {
		"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios",
		"js", "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "wasip1",
		"windows", "zos",
	};

	for (size_t i = 0; i < sizeof os / sizeof os[0]; i++)
		if (!strcmp(s, os[i]))
			return true;
	return false;
}

static int parse_platform(const char *s, struct platform *p)
{
	const char *parts[3];
	size_t lens[3], n = 0;

	memset(p, 0, sizeof *p);
	if (!s || !*s)
		s = "linux/amd64";
	for (const char *q = s;;) {
		const char *sl = strchr(q, '/');
		size_t l = sl ? (size_t)(sl - q) : strlen(q);

		if (n == 3 || l == 0)
			return -1;
		parts[n] = q;
		lens[n++] = l;
		if (!sl)
			break;
		q = sl + 1;
	}
	if (n == 1) {
		char tmp[64];

		lower_copy(tmp, sizeof tmp, parts[0], lens[0]);
		if (known_os(tmp)) {
			strcpy(p->os, tmp);
			strcpy(p->arch, "amd64");
		} else {
			strcpy(p->os, "linux");
			strcpy(p->arch, tmp);
		}
	} else {
		lower_copy(p->os, sizeof p->os, parts[0], lens[0]);
		lower_copy(p->arch, sizeof p->arch, parts[1], lens[1]);
		if (n == 3)
			lower_copy(p->variant, sizeof p->variant, parts[2], lens[2]);
	}
	normalize_arch(p);
	return 0;
}

static char *platform_string(struct an *an, const struct platform *p)
{
	return p->variant[0] ? xprintf(an, "%s/%s/%s", p->os, p->arch, p->variant)
			     : xprintf(an, "%s/%s", p->os, p->arch);
}

/* ---- expansion ---- */

static const char *build_arg(struct an *an, const char *key)
{
	const char *v;

	return ctxd_dockerfile_env_get(an->bargs, key, &v) == CTXD_DOCKERFILE_SET ? v : NULL;
}

static int expand(struct an *an, const char *s, const struct ctxd_dockerfile_env *env,
		  unsigned line, struct ctxd_dockerfile_word *w)
{
	struct ctxd_error e;

	if (ctxd_dockerfile_expand(&an->lx, s, strlen(s), env, false, w, &e) < 0) {
		if (strcmp(e.msg, "out of memory") == 0)
			return oom(an);
		return fail(an, line, "%s", e.msg);
	}
	return 0;
}

static char *unknown_text(struct an *an, const struct ctxd_dockerfile_word *w)
{
	return w->unknown_name ? xprintf(an, "%s, which has no known value", w->unknown_name)
			       : xstrdup(an, "a value too long to follow");
}

/* ---- states ---- */

static size_t add_state(struct an *an)
{
	if (an->nst == an->cap) {
		size_t cap = an->cap ? an->cap * 2 : 8;
		struct state *v = realloc(an->st, cap * sizeof *v);

		if (!v) {
			an->oom = true;
			return NONE;
		}
		an->st = v;
		an->cap = cap;
	}
	memset(&an->st[an->nst], 0, sizeof an->st[an->nst]);
	an->st[an->nst].base_state = NONE;
	return an->nst++;
}

static void states_free(struct an *an)
{
	for (size_t i = 0; i < an->nst; i++) {
		struct state *s = &an->st[i];

		free(s->display);
		free(s->base);
		free(s->base_var);
		for (size_t k = 0; k < s->ndeps; k++)
			free(s->deps[k].why);
		free(s->deps);
		free(s->cmds);
		free(s->why);
		ctxd_dockerfile_env_destroy(s->env);
	}
	free(an->st);
}

static const char *stage_name(const struct an *an, const struct state *s)
{
	return ctxd_dockerfile_stage(an->df, s->stage)->name;
}

/* findStateByName: AS names are lower case; the last stage of a name wins.
 * Only states before limit are searched. */
static size_t find_name(struct an *an, const char *name, size_t limit, bool fold)
{
	size_t found = NONE;

	for (size_t i = 0; i < limit && i < an->nst; i++) {
		const char *sn;

		if (!an->st[i].registered || !(sn = stage_name(an, &an->st[i])))
			continue;
		if (fold ? strcasecmp(sn, name) == 0 : strcmp(sn, name) == 0)
			found = i;
	}
	return found;
}

static void add_dep(struct an *an, size_t from, size_t to, char *why)
{
	struct state *s = &an->st[from];
	struct dep *v = realloc(s->deps, (s->ndeps + 1) * sizeof *v);

	if (!v) {
		free(why);
		an->oom = true;
		return;
	}
	s->deps = v;
	s->deps[s->ndeps++] = (struct dep){to, why};
}

static size_t add_image_state(struct an *an, const char *image, unsigned line)
{
	size_t i = add_state(an);

	if (i == NONE)
		return NONE;
	an->st[i].display = xstrdup(an, image);
	an->st[i].line = line;
	an->st[i].dispatched = true; /* nothing of it is built here */
	return i;
}

/* strconv.Atoi */
static bool go_atoi(const char *s, long long *v)
{
	const char *p = s + (*s == '+' || *s == '-');
	long long r = 0;

	if (!*p)
		return false;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || r > (LLONG_MAX - 9) / 10)
			return false;
		r = r * 10 + (*p - '0');
	}
	*v = *s == '-' ? -r : r;
	return true;
}

/* toCommand: the stages a COPY --from or RUN --mount from= needs. */
static int command_deps(struct an *an, size_t si, struct cmd *c, const char *label)
{
	const struct ctxd_dockerfile_instr *in = c->in;
	const char *dname = an->st[si].display;

	c->src = NONE;
	if (!strcmp(in->name, "copy")) {
		const char *from = ctxd_dockerfile_instr_flag(in, "from");
		struct ctxd_dockerfile_word w;
		long long idx;
		size_t to;
		bool same;

		if (!from || !*from)
			return 0;
		if (expand(an, from, NULL, in->line, &w) < 0)
			return -1;
		same = strcmp(w.value, from) == 0;
		ctxd_dockerfile_word_clear(&w);
		if (!same)
			return fail(an, in->line, "variable expansion is not supported for --from, "
				    "define a new stage with FROM using ARG from global scope as a "
				    "workaround");
		if (go_atoi(from, &idx)) {
			if (idx < 0 || (unsigned long long)idx >= an->nst)
				return fail(an, in->line, "invalid stage index %lld", idx);
			to = (size_t)idx;
		} else if ((to = find_name(an, from, an->nst, true)) == NONE) {
			to = add_image_state(an, from, in->line);
			if (to == NONE)
				return oom(an);
		}
		c->src = to;
		add_dep(an, si, to, xprintf(an, "%sCOPY --from=%s at line %u in stage %s",
					    label, from, in->line, dname));
		return 0;
	}
	if (!strcmp(in->name, "run")) {
		for (size_t i = 0; i < in->nflags; i++) {
			struct ctxd_dockerfile_mount m;
			size_t to;

			if (!strcmp(in->flags[i], "--"))
				break;
			if (strncmp(in->flags[i], "--mount=", 8) != 0)
				continue;
			if (ctxd_dockerfile_mount_parse(in->flags[i] + 8, false, NULL, NULL, &m,
							an->err) < 0)
				return fail(an, in->line, "%s", an->err->msg);
			if (m.from && *m.from) {
				to = find_name(an, m.from, an->nst, true);
				if (to == NONE && (to = add_image_state(an, m.from, in->line)) == NONE) {
					ctxd_dockerfile_mount_clear(&m);
					return oom(an);
				}
				add_dep(an, si, to,
					xprintf(an, "%sRUN --mount from=%s at line %u in stage %s",
						label, m.from, in->line, dname));
			}
			ctxd_dockerfile_mount_clear(&m);
		}
	}
	return 0;
}

static int push_cmd(struct an *an, size_t si, const struct ctxd_dockerfile_instr *in, bool onbuild)
{
	struct state *s = &an->st[si];
	struct cmd *v = realloc(s->cmds, (s->ncmds + 1) * sizeof *v);

	if (!v)
		return oom(an);
	s->cmds = v;
	s->cmds[s->ncmds] = (struct cmd){in, onbuild, NONE};
	if (command_deps(an, si, &an->st[si].cmds[an->st[si].ncmds], onbuild ? "ONBUILD " : "") < 0)
		return -1;
	an->st[si].ncmds++;
	return 0;
}

/* ---- global scope, stages, graph ---- */

static int set_global(struct an *an, const char *key, const char *value)
{
	const char *ov = build_arg(an, key);

	if (ctxd_dockerfile_env_set(an->global, key, ov ? ov : value) < 0)
		return oom(an);
	return 0;
}

static int global_scope(struct an *an, const char *target_name)
{
	struct platform tp, bp;
	char *tps, *bps;
	const struct ctxd_dockerfile_reads_options *o = an->o;
	size_t first = ctxd_dockerfile_stage(an->df, 0)->from;
	int rc = 0;

	if (parse_platform(o->platform, &tp) < 0)
		return fail(an, 0, "invalid target platform \"%s\"", o->platform);
	if (parse_platform(o->build_platform, &bp) < 0)
		return fail(an, 0, "invalid build platform \"%s\"", o->build_platform);
	tps = platform_string(an, &tp);
	bps = platform_string(an, &bp);
	if (!tps || !bps) {
		free(tps);
		free(bps);
		return oom(an);
	}
	rc |= set_global(an, "BUILDPLATFORM", bps);
	rc |= set_global(an, "BUILDOS", bp.os);
	rc |= set_global(an, "BUILDOSVERSION", "");
	rc |= set_global(an, "BUILDARCH", bp.arch);
	rc |= set_global(an, "BUILDVARIANT", bp.variant);
	rc |= set_global(an, "TARGETPLATFORM", tps);
	rc |= set_global(an, "TARGETOS", tp.os);
	rc |= set_global(an, "TARGETOSVERSION", "");
	rc |= set_global(an, "TARGETARCH", tp.arch);
	rc |= set_global(an, "TARGETVARIANT", tp.variant);
	rc |= set_global(an, "TARGETSTAGE", target_name);
	free(tps);
	free(bps);
	if (rc)
		return -1;
	/* buildMetaArgs: the ARGs before the first FROM, in order */
	for (size_t i = 0; i < first; i++) {
		const struct ctxd_dockerfile_instr *in = ctxd_dockerfile_instr(an->df, i);

		for (size_t k = 0; k < in->nargs; k++) {
			const char *eq = strchr(in->args[k], '=');
			char *key = eq ? strndup(in->args[k], (size_t)(eq - in->args[k]))
				       : strdup(in->args[k]);
			const char *bv, *cur;
			int r = 0;

			if (!key)
				return oom(an);
			bv = build_arg(an, key);
			if (bv) {
				r = ctxd_dockerfile_env_set(an->global, key, bv) < 0 ? oom(an) : 0;
			} else if (eq) {
				struct ctxd_dockerfile_word w;

				r = expand(an, eq + 1, an->global, in->line, &w);
				if (r == 0) {
					if (ctxd_dockerfile_env_set(an->global, key,
								    w.unknown ? NULL : w.value) < 0)
						r = oom(an);
					ctxd_dockerfile_word_clear(&w);
				}
			} else if (ctxd_dockerfile_env_get(an->global, key, &cur) == CTXD_DOCKERFILE_UNSET) {
				/* declared without a value: unknown, not empty */
				r = ctxd_dockerfile_env_set(an->global, key, NULL) < 0 ? oom(an) : 0;
			}
			free(key);
			if (r < 0)
				return -1;
		}
	}
	return 0;
}

static int build_states(struct an *an)
{
	size_t ns = ctxd_dockerfile_stage_count(an->df);

	for (size_t i = 0; i < ns; i++) {
		const struct ctxd_dockerfile_stage *stg = ctxd_dockerfile_stage(an->df, i);
		const struct ctxd_dockerfile_instr *from = ctxd_dockerfile_instr(an->df, stg->from);
		struct ctxd_dockerfile_word w;
		size_t si = add_state(an);
		struct state *s;

		if (si == NONE)
			return oom(an);
		s = &an->st[si];
		s->registered = true;
		s->stage = i;
		s->line = from->line;
		s->display = stg->name ? xstrdup(an, stg->name) : xprintf(an, "stage-%zu", i);
		if (expand(an, stg->base, an->global, from->line, &w) < 0)
			return -1;
		if (w.unknown) {
			s->base_var = xstrdup(an, w.unknown_name);
		} else if (!w.value[0]) {
			ctxd_dockerfile_word_clear(&w);
			return fail(an, from->line, "base name (%s) should not be blank", stg->base);
		} else {
			s->base = xstrdup(an, w.value);
			/* addState: an earlier stage of that exact name */
			s->base_state = find_name(an, w.value, si, false);
			s->scratch = s->base_state == NONE && !strcmp(w.value, "scratch");
		}
		ctxd_dockerfile_word_clear(&w);
		if (stg->platform) {
			if (expand(an, stg->platform, an->global, from->line, &w) < 0)
				return -1;
			if (!w.unknown && !w.value[0]) {
				ctxd_dockerfile_word_clear(&w);
				return fail(an, from->line, "empty platform value from expression %s",
					    stg->platform);
			}
			ctxd_dockerfile_word_clear(&w);
		}
	}
	return an->oom ? oom(an) : 0;
}

static int build_graph(struct an *an)
{
	size_t nreg = an->nst;

	for (size_t si = 0; si < nreg; si++) {
		const struct ctxd_dockerfile_stage *stg = ctxd_dockerfile_stage(an->df, an->st[si].stage);

		for (size_t k = stg->from + 1; k < stg->end; k++)
			if (push_cmd(an, si, ctxd_dockerfile_instr(an->df, k), false) < 0)
				return -1;
	}
	/* validateCircularDependency: COPY --from / mount edges only */
	{
		uint8_t *mark = calloc(an->nst ? an->nst : 1, 1); /* 1 on path, 2 done */
		size_t *stack = malloc((an->nst + 1) * sizeof *stack);
		size_t *edge = malloc((an->nst + 1) * sizeof *edge);
		int rc = 0;

		if (!mark || !stack || !edge) {
			free(mark);
			free(stack);
			free(edge);
			return oom(an);
		}
		for (size_t root = 0; root < an->nst && rc == 0; root++) {
			size_t sp = 0;

			if (mark[root])
				continue;
			stack[sp] = root;
			edge[sp++] = 0;
			mark[root] = 1;
			while (sp > 0 && rc == 0) {
				size_t cur = stack[sp - 1];

				if (edge[sp - 1] < an->st[cur].ndeps) {
					size_t to = an->st[cur].deps[edge[sp - 1]++].to;

					if (mark[to] == 1) {
						rc = fail(an, an->st[root].line,
							  "circular dependency detected on stage: %s",
							  an->st[root].display);
					} else if (!mark[to]) {
						mark[to] = 1;
						stack[sp] = to;
						edge[sp++] = 0;
					}
				} else {
					mark[cur] = 2;
					sp--;
				}
			}
		}
		free(mark);
		free(stack);
		free(edge);
		return rc;
	}
}

/* allReachableStages from the target; unknown bases may be any earlier stage. */
static void mark_reachable(struct an *an, size_t target)
{
	size_t *queue = malloc((an->nst + 1) * sizeof *queue), qh = 0, qt = 0;

	if (!queue) {
		an->oom = true;
		return;
	}
	for (size_t i = 0; i < an->nst; i++) {
		an->st[i].reachable = false;
		free(an->st[i].why);
		an->st[i].why = NULL;
	}
	an->st[target].reachable = true;
	an->st[target].why = xstrdup(an, "target");
	queue[qt++] = target;
	/* dispatchDockerfileWithCancellation: stages[:target+1], all of them */
	for (size_t i = 0; an->o->classic && i < target; i++) {
		if (!an->st[i].registered)
			continue;
		an->st[i].reachable = true;
		an->st[i].why = xstrdup(an, "the classic builder builds every stage before the target");
		queue[qt++] = i;
	}
	while (qh < qt) {
		struct state *s = &an->st[queue[qh++]];
		size_t self = (size_t)(s - an->st);

#define REACH(to, ...)                                                   \
	do {                                                             \
		size_t to_ = (to);                                       \
		if (!an->st[to_].reachable) {                            \
			an->st[to_].reachable = true;                    \
			an->st[to_].why = xprintf(an, __VA_ARGS__);      \
			queue[qt++] = to_;                               \
		}                                                        \
	} while (0)
		if (s->registered && s->base_state != NONE)
			REACH(s->base_state, "base of stage %s (FROM at line %u)", s->display, s->line);
		if (s->registered && s->base_var)
			for (size_t i = 0; i < self; i++)
				if (an->st[i].registered)
					REACH(i, "may be the base of stage %s (line %u), whose FROM "
					      "depends on %s", s->display, s->line, s->base_var);
		for (size_t k = 0; k < s->ndeps; k++)
			REACH(s->deps[k].to, "%s", s->deps[k].why);
#undef REACH
	}
	free(queue);
}

/* resolveStages: ONBUILD triggers of a base stage become the first commands
 * of a reachable stage built FROM it; they can add dependencies. */
static int init_onbuild(struct an *an, size_t target)
{
	for (;;) {
		bool new_deps = false;

		mark_reachable(an, target);
		if (an->oom)
			return oom(an);
		for (size_t si = 0; si < an->nst; si++) {
			struct state *s = &an->st[si];
			struct cmd *own;
			size_t nown, before, bi;

			if (!s->reachable || !s->registered || s->onbuild_init || s->base_state == NONE)
				continue;
			s->onbuild_init = true;
			bi = s->base_state;
			own = s->cmds;
			nown = s->ncmds;
			s->cmds = NULL;
			s->ncmds = 0;
			before = s->ndeps;
			for (size_t k = 0; k < an->st[bi].ncmds; k++) {
				const struct cmd *bc = &an->st[bi].cmds[k];
				const struct ctxd_dockerfile_instr *in = bc->in;

				if (strcmp(in->name, "onbuild") != 0 || bc->onbuild)
					continue;
				if (!in->trigger) {
					free(own);
					return fail(an, s->line, "%s", in->trigger_error);
				}
				if (push_cmd(an, si, in->trigger, true) < 0) {
					free(own);
					return -1;
				}
				s = &an->st[si]; /* push_cmd may grow the states */
			}
			if (an->st[si].ndeps > before)
				new_deps = true;
			s = &an->st[si];
			{
				struct cmd *all = realloc(s->cmds, (s->ncmds + nown) * sizeof *all);

				if (!all && s->ncmds + nown > 0) {
					free(own);
					return oom(an);
				}
				if (nown)
					memcpy(all + s->ncmds, own, nown * sizeof *own);
				s->cmds = all;
				s->ncmds += nown;
				free(own);
			}
		}
		if (!new_deps)
			return 0;
	}
}

/* ---- dispatch ---- */

static const char *const path_env =
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/* gitutil.ParseGitRef succeeding for a source that is not a local path */
static bool is_git_ref(const char *s)
{
	const char *p = s, *at, *colon;

	if (!strncmp(s, "./", 2) || !strncmp(s, "../", 3) || !strncmp(s, "github.com/", 11))
		return false;
	if (isalpha((unsigned char)*p)) {
		p++;
		while (isalnum((unsigned char)*p) || *p == '+' || *p == '.' || *p == '-')
			p++;
		if (!strncmp(p, "://", 3)) {
			size_t n = (size_t)(p - s);
			const char *path, *end;

			if ((n == 3 && !strncasecmp(s, "ssh", 3)) || (n == 3 && !strncasecmp(s, "git", 3)))
				return true;
			if (!((n == 4 && !strncasecmp(s, "http", 4)) || (n == 5 && !strncasecmp(s, "https", 5))))
				return false;
			/* http(s) counts as git only with a path ending in .git */
			path = strchr(p + 3, '/');
			if (!path)
				return false;
			end = path + strcspn(path, "?#");
			return end - path >= 4 && !strncmp(end - 4, ".git", 4);
		}
	}
	/* user@host:path (sshutil's scp-like form) */
	at = strchr(s, '@');
	if (!at || at == s)
		return false;
	for (p = s; p < at; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	colon = strchr(at + 1, ':');
	if (!colon || colon == at + 1)
		return false;
	for (p = at + 1; p < colon; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return false;
	return true;
}

static const char *instr_label(struct an *an, const struct cmd *c, char **owned)
{
	char *u = upper(an, c->in->keyword);

	*owned = c->onbuild && u ? xprintf(an, "ONBUILD %s", u) : u;
	if (c->onbuild)
		free(u);
	return *owned ? *owned : "";
}

/* COPY / ADD */
static int dispatch_copy(struct an *an, size_t si, const struct cmd *c, const char *label)
{
	const struct ctxd_dockerfile_instr *in = c->in;
	struct state *s = &an->st[si];
	bool add = !strcmp(in->name, "add");
	const char *from = add ? NULL : ctxd_dockerfile_instr_flag(in, "from");
	const char *what = add ? "ADD" : "COPY";
	struct ctxd_buf eff = {0};
	size_t first = an->out->nreads, nsrc = 0;
	struct ctxd_dockerfile_word w;
	char **ex = NULL;
	size_t nex = 0;

	/* Expand: --chown, --chmod, the sources, the destination */
	for (int k = 0; k < 2; k++) {
		const char *v = ctxd_dockerfile_instr_flag(in, k ? "chmod" : "chown");

		if (v) {
			if (expand(an, v, s->env, in->line, &w) < 0)
				return -1;
			ctxd_dockerfile_word_clear(&w);
		}
	}
	for (size_t k = 0; k + 1 < in->nargs; k++) {
		char *pat;

		if (ctxd_dockerfile_is_heredoc(in->args[k]))
			continue;
		if (expand(an, in->args[k], s->env, in->line, &w) < 0)
			goto fail;
		if (from && *from) {
			ctxd_dockerfile_word_clear(&w);
			continue;
		}
		nsrc++;
		if (w.unknown) {
			char *why = unknown_text(an, &w);

			whole(an, in->line, xprintf(an, "%s source %s (line %u) depends on %s", what,
						    in->args[k], in->line, why ? why : ""));
			ctxd_buf_printf(&eff, "%s%s (unknown: %s)", eff.len ? ", " : "", in->args[k],
					why ? why : "");
			free(why);
			add_read(an, ".", what, in->line, s->stage, c->onbuild);
			ctxd_dockerfile_word_clear(&w);
			continue;
		}
		if (add && (!strncmp(w.value, "http://", 7) || !strncmp(w.value, "https://", 8) ||
			    is_git_ref(w.value))) {
			ctxd_buf_printf(&eff, "%s%s (remote, not from the context)",
					eff.len ? ", " : "", w.value);
			ctxd_dockerfile_word_clear(&w);
			continue;
		}
		if (!add && (is_git_ref(w.value) || !strncmp(w.value, "http://", 7) ||
			     !strncmp(w.value, "https://", 8))) {
			bool git = is_git_ref(w.value);

			ctxd_dockerfile_word_clear(&w);
			ctxd_buf_free(&eff);
			return fail(an, in->line, "source can't be a %s for COPY", git ? "git ref" : "URL");
		}
		pat = context_pattern(an, w.value);
		if (!pat) {
			whole(an, in->line, w.value[0]
			      ? xprintf(an, "%s %s (line %u) reads the whole context", what,
					in->args[k], in->line)
			      : xprintf(an, "%s source %s (line %u) expands to an empty path, "
					"which is the whole context", what, in->args[k], in->line));
			ctxd_buf_printf(&eff, "%sthe whole context", eff.len ? ", " : "");
			add_read(an, ".", what, in->line, s->stage, c->onbuild);
		} else {
			ctxd_buf_printf(&eff, "%s%s", eff.len ? ", " : "", pat);
			add_read(an, pat, what, in->line, s->stage, c->onbuild);
			free(pat);
		}
		ctxd_dockerfile_word_clear(&w);
	}
	if (expand(an, in->args[in->nargs - 1], s->env, in->line, &w) < 0)
		goto fail;
	ctxd_dockerfile_word_clear(&w);
	if (from && *from) {
		const struct state *src = &an->st[c->src];

		if (src->registered && !src->dispatched) {
			ctxd_buf_free(&eff);
			return fail(an, in->line, "cannot copy from stage \"%s\", it needs to be "
				    "defined before current stage \"%s\"", from, s->display);
		}
	}
	/* --exclude: kept only where expansion cannot change the text */
	for (size_t k = 0; k < in->nflags; k++) {
		const char *f = in->flags[k];

		if (!strcmp(f, "--"))
			break;
		if (strncmp(f, "--exclude=", 10) != 0 || strpbrk(f + 10, "$'\"\\`"))
			continue;
		{
			char **v = realloc(ex, (nex + 1) * sizeof *v);

			if (!v) {
				an->oom = true;
				break;
			}
			ex = v;
			ex[nex++] = xstrdup(an, f + 10);
		}
	}
	for (size_t r = first; r < an->out->nreads; r++) {
		struct ctxd_dockerfile_read *rd = &an->out->reads[r];

		rd->excludes = calloc(nex ? nex : 1, sizeof *rd->excludes);
		if (!rd->excludes) {
			an->oom = true;
			break;
		}
		for (size_t k = 0; k < nex; k++)
			rd->excludes[k] = xstrdup(an, ex[k]);
		rd->nexcludes = nex;
	}
	for (size_t k = 0; k < nex; k++)
		free(ex[k]);
	free(ex);
	if (from && *from)
		step(an, s->stage, in->line, label,
		     xprintf(an, "reads nothing from the context (--from=%s)", from));
	else if (nsrc == 0 && eff.len == 0)
		step(an, s->stage, in->line, label,
		     xstrdup(an, "reads nothing from the context (heredoc)"));
	else
		step(an, s->stage, in->line, label,
		     xprintf(an, "reads %s", eff.data ? eff.data : ""));
	ctxd_buf_free(&eff);
	return 0;
fail:
	ctxd_buf_free(&eff);
	for (size_t k = 0; k < nex; k++)
		free(ex[k]);
	free(ex);
	return -1;
}

static int dispatch_run(struct an *an, size_t si, const struct cmd *c, const char *label)
{
	const struct ctxd_dockerfile_instr *in = c->in;
	struct state *s = &an->st[si];
	struct ctxd_buf eff = {0};
	bool any = false;

	for (size_t k = 0; k < in->nflags; k++) {
		struct ctxd_dockerfile_mount m;
		struct ctxd_error e;
		char *pat;

		if (!strcmp(in->flags[k], "--"))
			break;
		if (strncmp(in->flags[k], "--mount=", 8) != 0)
			continue;
		any = true;
		if (ctxd_dockerfile_mount_parse(in->flags[k] + 8, true, &an->lx, s->env, &m, &e) < 0) {
			ctxd_buf_free(&eff);
			return strcmp(e.msg, "out of memory") == 0 ? oom(an)
								    : fail(an, in->line, "%s", e.msg);
		}
		if (m.type == CTXD_MOUNT_CACHE && !m.unknown_type && (!m.from || !*m.from)) {
			ctxd_buf_printf(&eff, "%sa cache mount", eff.len ? ", " : "");
		} else if (m.unknown_from || (m.unknown_type && (!m.from || !*m.from)) ||
			   ((!m.from || !*m.from) && m.type == CTXD_MOUNT_BIND && m.unknown_source)) {
			whole(an, in->line, xprintf(an, "RUN --mount (line %u) depends on %s, which "
						    "has no known value", in->line,
						    m.unknown_name ? m.unknown_name : "a variable"));
			ctxd_buf_printf(&eff, "%sa mount of unknown source", eff.len ? ", " : "");
			add_read(an, ".", "RUN --mount", in->line, s->stage, c->onbuild);
		} else if (m.from && *m.from) {
			ctxd_buf_printf(&eff, "%sa mount from %s", eff.len ? ", " : "", m.from);
		} else if (m.type == CTXD_MOUNT_SECRET || m.type == CTXD_MOUNT_SSH) {
			ctxd_buf_printf(&eff, "%sa %s mount", eff.len ? ", " : "",
					m.type == CTXD_MOUNT_SECRET ? "secret" : "ssh");
		} else if (m.type == CTXD_MOUNT_TMPFS) {
			/* BuildKit records "/" among its include paths for it, but
			 * mounts an empty directory: the image never depends on
			 * the context through it, so it reads nothing. */
			ctxd_buf_printf(&eff, "%sa tmpfs mount", eff.len ? ", " : "");
		} else if (!(pat = context_pattern(an, m.source ? m.source : ""))) {
			whole(an, in->line, m.source && *m.source
			      ? xprintf(an, "RUN --mount=type=bind,source=%s (line %u) mounts the "
					"whole context", m.source, in->line)
			      : xprintf(an, "RUN --mount=type=bind without a source (line %u) "
					"mounts the whole context", in->line));
			ctxd_buf_printf(&eff, "%smounts the whole context", eff.len ? ", " : "");
			add_read(an, ".", "RUN --mount", in->line, s->stage, c->onbuild);
		} else {
			ctxd_buf_printf(&eff, "%smounts %s", eff.len ? ", " : "", pat);
			add_read(an, pat, "RUN --mount", in->line, s->stage, c->onbuild);
			free(pat);
		}
		ctxd_dockerfile_mount_clear(&m);
	}
	step(an, s->stage, in->line, label,
	     any ? xprintf(an, "%s", eff.data ? eff.data : "") : xstrdup(an, "no context access"));
	ctxd_buf_free(&eff);
	return 0;
}

static int dispatch_arg(struct an *an, size_t si, const struct cmd *c)
{
	const struct ctxd_dockerfile_instr *in = c->in;
	struct state *s = &an->st[si];

	for (size_t k = 0; k < in->nargs; k++) {
		const char *eq = strchr(in->args[k], '=');
		char *key = eq ? strndup(in->args[k], (size_t)(eq - in->args[k])) : strdup(in->args[k]);
		const char *bv, *gv;
		struct ctxd_dockerfile_word w = {0};
		const char *value = NULL;
		int r = 0;

		if (!key)
			return oom(an);
		bv = build_arg(an, key);
		if (bv) {
			value = bv;
		} else if (eq) {
			r = expand(an, eq + 1, s->env, in->line, &w);
			value = r == 0 && !w.unknown ? w.value : NULL;
		} else if (ctxd_dockerfile_env_get(an->global, key, &gv) == CTXD_DOCKERFILE_SET) {
			value = gv; /* a global ARG brought into the stage */
		}
		if (r == 0 && strcmp(key, "BUILDKIT_SBOM_SCAN_CONTEXT") != 0 &&
		    strcmp(key, "BUILDKIT_SBOM_SCAN_STAGE") != 0 &&
		    ctxd_dockerfile_env_set(s->env, key, value) < 0)
			r = oom(an);
		ctxd_dockerfile_word_clear(&w);
		free(key);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int dispatch_env(struct an *an, size_t si, const struct cmd *c)
{
	const struct ctxd_dockerfile_instr *in = c->in;
	struct state *s = &an->st[si];
	struct ctxd_dockerfile_word *w = calloc(in->nargs ? in->nargs : 1, sizeof *w);
	int rc = 0;

	if (!w)
		return oom(an);
	/* every pair is expanded with the variables from before the line */
	for (size_t k = 0; k < in->nargs && rc == 0; k++)
		rc = expand(an, in->args[k], s->env, in->line, &w[k]);
	for (size_t k = 0; k + 1 < in->nargs && rc == 0; k += 2) {
		if (w[k].unknown)
			ctxd_dockerfile_env_poison(s->env);
		else if (ctxd_dockerfile_env_set(s->env, w[k].value,
						 w[k + 1].unknown ? NULL : w[k + 1].value) < 0)
			rc = oom(an);
	}
	for (size_t k = 0; k < in->nargs; k++)
		ctxd_dockerfile_word_clear(&w[k]);
	free(w);
	return rc;
}

/* Instructions whose words BuildKit expands only for their own use: an
 * expansion error still fails the build. */
static int dispatch_expand_only(struct an *an, size_t si, const struct cmd *c)
{
	const struct ctxd_dockerfile_instr *in = c->in;

	for (size_t k = 0; k < in->nargs; k++) {
		struct ctxd_dockerfile_word w;

		if (expand(an, in->args[k], an->st[si].env, in->line, &w) < 0)
			return -1;
		if (!strcmp(in->name, "volume") && !w.unknown && !w.value[0]) {
			ctxd_dockerfile_word_clear(&w);
			return fail(an, in->line, "VOLUME specified can not be an empty string");
		}
		ctxd_dockerfile_word_clear(&w);
	}
	return 0;
}

static int dispatch(struct an *an, size_t si, const struct cmd *c)
{
	const char *n = c->in->name;
	size_t stage = an->st[si].stage;
	char *owned = NULL;
	const char *label = instr_label(an, c, &owned);
	int rc = 0;

	if (!strcmp(n, "copy") || !strcmp(n, "add")) {
		rc = dispatch_copy(an, si, c, label);
	} else if (!strcmp(n, "run")) {
		rc = dispatch_run(an, si, c, label);
	} else {
		const char *effect = "no context access";

		if (!strcmp(n, "arg")) {
			rc = dispatch_arg(an, si, c);
		} else if (!strcmp(n, "env")) {
			rc = dispatch_env(an, si, c);
		} else if (!strcmp(n, "label") || !strcmp(n, "workdir") || !strcmp(n, "user") ||
			   !strcmp(n, "volume") || !strcmp(n, "stopsignal") || !strcmp(n, "expose")) {
			rc = dispatch_expand_only(an, si, c);
		} else if (!strcmp(n, "onbuild")) {
			effect = "no context access here (a trigger for stages built FROM this one)";
		} else if (strcmp(n, "cmd") && strcmp(n, "entrypoint") && strcmp(n, "healthcheck") &&
			   strcmp(n, "shell") && strcmp(n, "maintainer")) {
			/* not one BuildKit knows either; the parser would have refused it */
			whole(an, c->in->line, xprintf(an, "instruction %s (line %u) is not understood",
						       label, c->in->line));
			effect = "not understood: the whole context is assumed";
		}
		if (rc == 0)
			step(an, stage, c->in->line, label, xstrdup(an, effect));
	}
	free(owned);
	return rc;
}

static int dispatch_states(struct an *an)
{
	for (size_t si = 0; si < an->nst; si++) {
		struct state *s = &an->st[si];

		if (!s->registered || !s->reachable || s->dispatched)
			continue;
		if (s->base_state != NONE) {
			s->env = ctxd_dockerfile_env_dup(an->st[s->base_state].env);
		} else if (s->scratch) {
			/* the image config is empty; BuildKit adds PATH */
			s->env = ctxd_dockerfile_env_create(false);
			if (s->env && ctxd_dockerfile_env_set(s->env, "PATH", path_env) < 0) {
				ctxd_dockerfile_env_destroy(s->env);
				s->env = NULL;
			}
		} else {
			/* a base image's config may set any variable */
			s->env = ctxd_dockerfile_env_create(true);
		}
		if (!s->env)
			return oom(an);
		for (size_t k = 0; k < an->st[si].ncmds; k++) {
			struct cmd c = an->st[si].cmds[k];

			if (dispatch(an, si, &c) < 0)
				return -1;
			if (an->oom)
				return oom(an);
		}
		an->st[si].dispatched = true;
	}
	return 0;
}

/* ---- syntax ---- */

/* docker/dockerfile[-upstream]:tag or @digest, docker.io/ prefix allowed */
static bool official_syntax(const char *s)
{
	if (!strncmp(s, "docker.io/", 10))
		s += 10;
	if (strncmp(s, "docker/dockerfile", 17) != 0)
		return false;
	s += 17;
	if (!strncmp(s, "-upstream", 9))
		s += 9;
	return *s == '\0' || *s == ':' || *s == '@';
}

/* ---- entry point ---- */

void ctxd_dockerfile_reads_clear(struct ctxd_dockerfile_reads *r)
{
	free(r->reason);
	for (size_t i = 0; i < r->nreads; i++) {
		free(r->reads[i].pattern);
		for (size_t k = 0; k < r->reads[i].nexcludes; k++)
			free(r->reads[i].excludes[k]);
		free(r->reads[i].excludes);
	}
	free(r->reads);
	for (size_t i = 0; i < r->nstages; i++) {
		free(r->stages[i].name);
		free(r->stages[i].base);
		free(r->stages[i].why);
	}
	free(r->stages);
	for (size_t i = 0; i < r->nsteps; i++) {
		free(r->steps[i].instruction);
		free(r->steps[i].effect);
	}
	free(r->steps);
	memset(r, 0, sizeof *r);
}

static int analyse(struct an *an)
{
	const struct ctxd_dockerfile_reads_options *o = an->o;
	const struct ctxd_dockerfile *df = an->df;
	size_t ns = ctxd_dockerfile_stage_count(df), target;
	const char *syntax = build_arg(an, "BUILDKIT_SYNTAX");
	const char *tname;

	if (syntax || (syntax = ctxd_dockerfile_syntax(df))) {
		bool from_arg = build_arg(an, "BUILDKIT_SYNTAX") != NULL;

		char ref[256];

		snprintf(ref, sizeof ref, "%.*s", (int)strcspn(syntax, " "), syntax);
		if (!o->trust_official_syntax || !official_syntax(ref)) {
			whole(an, 0, from_arg
			      ? xprintf(an, "the BUILDKIT_SYNTAX build argument selects the frontend "
					"%s, which may read any path", syntax)
			      : xprintf(an, "the syntax directive selects the frontend %s, which may "
					"read any path", syntax));
			return an->oom ? oom(an) : 0;
		}
	}
	if (syntax && ctxd_dockerfile_count(df) == 0) {
		whole(an, 0, xprintf(an, "the frontend %s reads a file ctxd cannot parse", syntax));
		return an->oom ? oom(an) : 0;
	}
	if (ns == 0)
		return fail(an, 1, "dockerfile contains no stages to build");
	tname = o->target && *o->target ? o->target : ctxd_dockerfile_stage(df, ns - 1)->name;
	if (global_scope(an, tname ? tname : "") < 0 || build_states(an) < 0)
		return -1;
	if (o->target && *o->target) {
		target = find_name(an, o->target, an->nst, true);
		if (target == NONE) {
			struct ctxd_buf b = {0};
			const char **names = calloc(an->nst + 1, sizeof *names);

			if (!names)
				return oom(an);
			for (size_t i = 0; i < an->nst; i++)
				names[i] = an->st[i].display;
			ctxd_buf_puts(&b, "target stage ");
			ctxd_dockerfile_quote(&b, o->target, strlen(o->target));
			ctxd_buf_puts(&b, " could not be found");
			ctxd_dockerfile_instr_suggest(&b, o->target, names, an->nst, true);
			free(names);
			ctxd_error_set(an->err, "%s: %s", ctxd_dockerfile_filename(df),
				       b.data ? b.data : "out of memory");
			ctxd_buf_free(&b);
			return -1;
		}
	} else {
		target = an->nst - 1;
	}
	if (build_graph(an) < 0 || init_onbuild(an, target) < 0)
		return -1;
	/* ONBUILD triggers stored in base images, and bases we cannot name */
	for (size_t si = 0; si < an->nst; si++) {
		struct state *s = &an->st[si];

		if (!s->registered || !s->reachable || s->base_state != NONE || s->scratch)
			continue;
		if (s->base_var) {
			if (o->has_onbuild)
				whole(an, s->line, xprintf(an, "the base image of stage %s (line %u) "
							   "depends on %s, which has no known value; "
							   "it may have ONBUILD triggers",
							   s->display, s->line, s->base_var));
			for (size_t b = 0; b < si; b++) {
				const struct ctxd_dockerfile_stage *stg =
					ctxd_dockerfile_stage(df, an->st[b].stage);

				if (!an->st[b].registered)
					continue;
				for (size_t k = stg->from + 1; k < stg->end; k++)
					if (!strcmp(ctxd_dockerfile_instr(df, k)->name, "onbuild"))
						whole(an, s->line,
						      xprintf(an, "the base of stage %s (line %u) depends "
							      "on %s and may be stage %s, which has "
							      "ONBUILD triggers", s->display, s->line,
							      s->base_var, an->st[b].display));
			}
		} else if (o->has_onbuild && o->has_onbuild(o->ctx, s->base)) {
			whole(an, s->line, xprintf(an, "the base image %s of stage %s (line %u) has, "
						   "or may have, ONBUILD triggers, which may read any path",
						   s->base, s->display, s->line));
		}
	}
	if (dispatch_states(an) < 0)
		return -1;
	return an->oom ? oom(an) : 0;
}

int ctxd_dockerfile_reads(const struct ctxd_dockerfile *df,
			  const struct ctxd_dockerfile_reads_options *o,
			  struct ctxd_dockerfile_reads *out, struct ctxd_error *err)
{
	static const struct ctxd_dockerfile_reads_options defaults;
	struct an an = {0};
	int rc;

	memset(out, 0, sizeof *out);
	an.df = df;
	an.o = o ? o : &defaults;
	an.out = out;
	an.err = err;
	an.lx.escape = ctxd_dockerfile_escape(df);
	an.global = ctxd_dockerfile_env_create(false);
	an.bargs = ctxd_dockerfile_env_create(false);
	if (!an.global || !an.bargs) {
		rc = oom(&an);
		goto out;
	}
	for (size_t i = 0; i < an.o->nbuild_args; i++) {
		const char *a = an.o->build_args[i], *eq = a ? strchr(a, '=') : NULL;
		char *key;

		if (!eq)
			continue;
		if (!(key = strndup(a, (size_t)(eq - a))) ||
		    ctxd_dockerfile_env_set(an.bargs, key, eq + 1) < 0) {
			free(key);
			rc = oom(&an);
			goto out;
		}
		free(key);
	}
	rc = analyse(&an);
	if (rc == 0) {
		/* the stages, for ctxd why */
		out->stages = calloc(an.nst ? an.nst : 1, sizeof *out->stages);
		if (!out->stages) {
			rc = oom(&an);
			goto out;
		}
		for (size_t i = 0; i < an.nst; i++) {
			struct state *s = &an.st[i];
			struct ctxd_dockerfile_reads_stage *rs;

			if (!s->registered)
				continue;
			rs = &out->stages[out->nstages++];
			rs->name = xstrdup(&an, s->display);
			rs->base = xstrdup(&an, s->base);
			rs->line = s->line;
			rs->reachable = s->reachable;
			rs->why = s->reachable ? xstrdup(&an, s->why) : NULL;
		}
		if (an.oom)
			rc = oom(&an);
	}
out:
	states_free(&an);
	ctxd_dockerfile_env_destroy(an.global);
	ctxd_dockerfile_env_destroy(an.bargs);
	return rc;
}
