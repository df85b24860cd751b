/* The Dockerfile filter (see include/ctxd/select.h): read patterns compiled
 * with Docker's matcher, the walk's verdicts, and the symlink resolution
 * BuildKit's transfer does for the paths a build names. */
#include "ctxd/select.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctxd/buf.h"
#include "ctxd/dockerfile.h"
#include "ctxd/path.h"
#include "ctxd/pattern.h"

/* Symlink chains are followed this deep, and a selection holds at most this
 * many patterns; past either, everything is selected rather than guessed. */
#define MAX_LINK_DEPTH 32
#define MAX_PATTERNS 4096

struct pat {
	struct ctxd_pattern *p;
	char *text;
	char *origin;  /* "COPY at line 3", for explanations */
	size_t ncomps;
	char **comps;  /* the text split at '/' */
	bool literal;
	bool named;    /* counts as the Dockerfile naming the path */
	bool forced;   /* sent because the builder reads it, not read by a step */
};

struct ctxd_select {
	bool all;
	char *all_reason;
	struct pat *pats;
	size_t n, cap;
	struct ctxd_dockerfile *df;
	struct ctxd_dockerfile_reads reads;
	bool have_reads;
	int rootfd;        /* only during create */
	struct ctxd_buf explain;
};

static bool has_meta(const char *s)
{
	return strpbrk(s, "*?[]^\\") != NULL;
}

static int select_everything(struct ctxd_select *s, struct ctxd_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Gives up pruning, keeping the first reason. */
static int select_everything(struct ctxd_select *s, struct ctxd_error *err, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->all)
		return 0;
	s->all = true;
	va_start(ap, fmt);
	n = vasprintf(&s->all_reason, fmt, ap);
	va_end(ap);
	if (n < 0) {
		s->all_reason = NULL;
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	return 0;
}

static int split_comps(struct pat *p)
{
	size_t n = 1;
	char *copy, *c;

	for (const char *t = p->text; *t; t++)
		n += *t == '/';
	p->comps = malloc(n * sizeof *p->comps + strlen(p->text) + 1);
	if (!p->comps)
		return -1;
	copy = (char *)(p->comps + n);
	strcpy(copy, p->text);
	p->ncomps = 0;
	for (c = copy;;) {
		char *slash = strchr(c, '/');

		p->comps[p->ncomps++] = c;
		if (!slash)
			break;
		*slash = '\0';
		c = slash + 1;
	}
	return 0;
}

/* Adds a pattern (a clean relative path, wildcards allowed). "." or an
 * empty path means the whole context. */
static int add_pattern(struct ctxd_select *s, const char *text, const char *origin, bool named,
		       struct ctxd_error *err)
{
	struct ctxd_error perr;
	struct pat *p;

	if (!*text || strcmp(text, ".") == 0)
		return select_everything(s, err, "%s reads the whole context", origin);
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->pats[i].text, text) == 0)
			return 0;
	if (s->n == MAX_PATTERNS)
		return select_everything(s, err, "more than %d paths to select", MAX_PATTERNS);
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct pat *pats = realloc(s->pats, cap * sizeof *pats);

		if (!pats) {
			ctxd_error_set(err, "out of memory");
			return -1;
		}
		s->pats = pats;
		s->cap = cap;
	}
	p = &s->pats[s->n];
	memset(p, 0, sizeof *p);
	p->p = ctxd_pattern_create(text, strlen(text), &perr);
	if (!p->p) /* the builder fails on it too; selecting all lets it say so */
		return select_everything(s, err, "%s: bad path pattern %s: %s", origin, text, perr.msg);
	p->text = strdup(text);
	p->origin = strdup(origin);
	if (!p->text || !p->origin || split_comps(p) < 0) {
		ctxd_pattern_destroy(p->p);
		free(p->text);
		free(p->origin);
		free(p->comps);
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	p->literal = !has_meta(text);
	p->named = named && p->literal;
	s->n++;
	return 0;
}

static int resolve_pattern(struct ctxd_select *s, size_t idx, int depth, struct ctxd_error *err);

/* link is a symlink inside the context; rest the pattern components after
 * it. Its target, re-rooted at the context as BuildKit's FollowPaths does,
 * joined with rest, becomes another pattern. */
static int follow_link(struct ctxd_select *s, const char *link, char *const *rest, size_t nrest,
		       const char *origin, int depth, struct ctxd_error *err)
{
	char target[4096], *joined, *clean;
	struct ctxd_buf b = {0}, why = {0};
	const char *slash;
	ssize_t n;
	int rc;

	n = readlinkat(s->rootfd, link, target, sizeof target - 1);
	if (n < 0)
		return 0; /* gone since the lstat: nothing to follow */
	target[n] = '\0';
	if (depth >= MAX_LINK_DEPTH)
		return select_everything(s, err, "symlinks nest more than %d deep", MAX_LINK_DEPTH);
	slash = strrchr(link, '/');
	ctxd_buf_putc(&b, '/');
	if (target[0] != '/' && slash)
		ctxd_buf_append(&b, link, (size_t)(slash - link + 1));
	ctxd_buf_puts(&b, target);
	for (size_t i = 0; i < nrest; i++) {
		ctxd_buf_putc(&b, '/');
		ctxd_buf_puts(&b, rest[i]);
	}
	if (b.oom) {
		ctxd_buf_free(&b);
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	joined = b.data;
	clean = ctxd_path_clean_dup(joined);
	ctxd_buf_free(&b);
	if (!clean) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	ctxd_buf_printf(&why, "%s, through symlink %s -> %s", origin, link, target);
	if (why.oom) {
		free(clean);
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	{
		size_t before;

		/* A link in the middle of a path goes too, as BuildKit's
		 * FollowPaths keeps it: the daemon resolves the path through it. */
		rc = nrest ? add_pattern(s, link, why.data, false, err) : 0;
		before = s->n;
		if (rc == 0)
			rc = add_pattern(s, clean + 1, why.data, false, err);
		if (rc == 0 && s->n > before)
			rc = resolve_pattern(s, s->n - 1, depth + 1, err);
	}
	free(clean);
	ctxd_buf_free(&why);
	return rc;
}

/* Walks pattern idx's components from comp i under dir (a real directory,
 * "" for the root), following every symlink met on the way. */
static int resolve_from(struct ctxd_select *s, size_t idx, size_t i, const char *dir, int depth,
			struct ctxd_error *err)
{
	if (i < s->pats[idx].ncomps && !s->all) {
		const char *comp = s->pats[idx].comps[i];
		struct ctxd_buf path = {0};
		struct stat st;
		int rc = 0;

		if (has_meta(comp)) {
			int fd;
			DIR *d;
			struct dirent *de;

			if (strstr(comp, "**"))
				return 0; /* any depth: too wide to resolve ahead */
			fd = openat(s->rootfd, *dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				return 0;
			d = fdopendir(fd);
			if (!d) {
				close(fd);
				return 0;
			}
			while (rc == 0 && (de = readdir(d)) != NULL) {
				if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
					continue;
				if (fnmatch(comp, de->d_name, 0) != 0)
					continue;
				path.len = 0;
				if (*dir)
					ctxd_buf_printf(&path, "%s/", dir);
				ctxd_buf_puts(&path, de->d_name);
				if (path.oom) {
					ctxd_error_set(err, "out of memory");
					rc = -1;
					break;
				}
				if (fstatat(s->rootfd, path.data, &st, AT_SYMLINK_NOFOLLOW) < 0)
					continue;
				if (S_ISLNK(st.st_mode)) {
					struct pat *p = &s->pats[idx];

					rc = follow_link(s, path.data, p->comps + i + 1, p->ncomps - i - 1,
							 p->origin, depth, err);
				} else if (S_ISDIR(st.st_mode)) {
					rc = resolve_from(s, idx, i + 1, path.data, depth, err);
				}
			}
			closedir(d);
			ctxd_buf_free(&path);
			return rc;
		}
		if (*dir)
			ctxd_buf_printf(&path, "%s/", dir);
		ctxd_buf_puts(&path, comp);
		if (path.oom) {
			ctxd_error_set(err, "out of memory");
			return -1;
		}
		if (fstatat(s->rootfd, path.data, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (!S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))) {
			ctxd_buf_free(&path);
			return 0;
		}
		if (S_ISLNK(st.st_mode)) {
			struct pat *p = &s->pats[idx];

			rc = follow_link(s, path.data, p->comps + i + 1, p->ncomps - i - 1, p->origin,
					 depth, err);
			ctxd_buf_free(&path);
			return rc;
		}
		/* a real directory: go on under it; dir must outlive the buffer */
		rc = resolve_from(s, idx, i + 1, path.data, depth, err);
		ctxd_buf_free(&path);
		return rc;
	}
	return 0;
}

static int resolve_pattern(struct ctxd_select *s, size_t idx, int depth, struct ctxd_error *err)
{
	return resolve_from(s, idx, 0, "", depth, err);
}

static void origin_of(const struct ctxd_dockerfile_read *r, const struct ctxd_dockerfile_reads *rs,
		      const char *file, char *out, size_t cap)
{
	const char *stage = r->stage < rs->nstages ? rs->stages[r->stage].name : NULL;

	snprintf(out, cap, "read by %s%s at %s:%u%s%s%s", r->onbuild ? "ONBUILD " : "", r->instruction,
		 file, r->line, stage ? " (stage " : "", stage ? stage : "", stage ? ")" : "");
}

static int analyse(struct ctxd_select *s, const struct ctxd_context *ctx,
		   const struct ctxd_select_options *o, const char *file, struct ctxd_error *err)
{
	struct ctxd_dockerfile_reads_options ro = {
		.trust_official_syntax = true,
	};
	struct ctxd_error derr;
	char why[1024];
	const char *reason;

	if (o) {
		ro.target = o->target;
		ro.build_args = o->build_args;
		ro.nbuild_args = o->nbuild_args;
		ro.platform = o->platform;
		ro.classic = o->classic;
		ro.has_onbuild = o->has_onbuild;
		ro.ctx = o->ud;
	}
	int rc = ctxd_dockerfile_parse(ctx->dockerfile_data, ctx->dockerfile_len, file, &s->df, &derr);

	if (rc == 0) {
		rc = ctxd_dockerfile_reads(s->df, &ro, &s->reads, &derr);
		if (rc < 0)
			ctxd_dockerfile_reads_clear(&s->reads);
		s->have_reads = rc == 0;
	}
	if (rc < 0) {
		if (select_everything(s, err, "cannot analyse the Dockerfile (%s)", derr.msg) < 0)
			return -1;
		if (o && o->warn) {
			struct ctxd_buf msg = {0};

			ctxd_buf_printf(&msg, "%s; sending the whole context", s->all_reason);
			if (!msg.oom)
				o->warn(o->ud, msg.data);
			ctxd_buf_free(&msg);
		}
		return 0;
	}
	if (s->reads.whole_context) {
		reason = s->reads.reason ? s->reads.reason : "the whole context may be read";
		if ((s->reads.reason_line
			     ? select_everything(s, err, "%s:%u: %s", file, s->reads.reason_line, reason)
			     : select_everything(s, err, "%s: %s", file, reason)) < 0)
			return -1;
	}
	/* with everything selected the literal sources still count as named
	 * (ctxd_select_names), so every read is added */
	for (size_t i = 0; i < s->reads.nreads; i++) {
		const struct ctxd_dockerfile_read *r = &s->reads.reads[i];

		origin_of(r, &s->reads, file, why, sizeof why);
		if (add_pattern(s, r->pattern, why, true, err) < 0)
			return -1;
	}
	return 0;
}

/* A file the builder itself reads; no step reads it unless another
 * pattern says so. */
static int add_forced(struct ctxd_select *s, const char *text, const char *origin,
		      struct ctxd_error *err)
{
	size_t before = s->n;

	if (add_pattern(s, text, origin, true, err) < 0)
		return -1;
	if (s->n > before)
		s->pats[before].forced = true;
	return 0;
}

int ctxd_select_create(const struct ctxd_context *ctx, const struct ctxd_select_options *o,
		       struct ctxd_select **out, struct ctxd_error *err)
{
	struct ctxd_select *s = calloc(1, sizeof *s);
	const char *file = ctx->dockerfile_stdin ? "Dockerfile (stdin)"
			   : ctx->dockerfile_path ? ctx->dockerfile_path : "Dockerfile";
	size_t nreads;

	*out = NULL;
	if (!s) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	s->rootfd = ctx->rootfd;
	if (analyse(s, ctx, o, file, err) < 0)
		goto fail;
	nreads = s->n;
	/* the builder reads these itself */
	if (!ctx->dockerfile_outside &&
	    add_forced(s, ctx->dockerfile_rel, "always sent: the builder reads the Dockerfile", err) < 0)
		goto fail;
	if (add_forced(s, ".dockerignore", "always sent: the builder reads the ignore file", err) < 0)
		goto fail;
	if (ctx->ignore_path) {
		char *rel = ctxd_path_rel(ctx->root, ctx->ignore_path);

		if (!rel) {
			ctxd_error_set(err, "out of memory");
			goto fail;
		}
		if (strncmp(rel, "../", 3) != 0 &&
		    add_forced(s, rel, "always sent: the builder reads the ignore file", err) < 0) {
			free(rel);
			goto fail;
		}
		free(rel);
	}
	for (size_t i = 0; i < nreads && !s->all; i++)
		if (resolve_pattern(s, i, 0, err) < 0)
			goto fail;
	s->rootfd = -1;
	*out = s;
	return 0;
fail:
	ctxd_select_destroy(s);
	return -1;
}

void ctxd_select_destroy(struct ctxd_select *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		ctxd_pattern_destroy(s->pats[i].p);
		free(s->pats[i].text);
		free(s->pats[i].origin);
		free(s->pats[i].comps);
	}
	free(s->pats);
	free(s->all_reason);
	if (s->have_reads)
		ctxd_dockerfile_reads_clear(&s->reads);
	ctxd_dockerfile_destroy(s->df);
	ctxd_buf_free(&s->explain);
	free(s);
}

bool ctxd_select_all(const struct ctxd_select *s)
{
	return s->all;
}

const char *ctxd_select_all_reason(const struct ctxd_select *s)
{
	return s->all ? s->all_reason : NULL;
}

/* Whether one component of a pattern can match name. Bracket classes and
 * escapes are answered "maybe": only descending too far is allowed. */
static bool comp_may_match(const char *comp, const char *name, size_t len)
{
	char buf[256];

	if (strchr(comp, '[') || strchr(comp, '\\') || len >= sizeof buf)
		return true;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return fnmatch(comp, buf, 0) == 0;
}

/* Whether a path below directory path[0..len) can match p. */
static bool may_contain(const struct pat *p, const char *path, size_t len)
{
	size_t i = 0;
	const char *c = path, *end = path + len;

	while (c < end) {
		const char *slash = memchr(c, '/', (size_t)(end - c));
		size_t clen = slash ? (size_t)(slash - c) : (size_t)(end - c);

		if (i >= p->ncomps)
			return false;
		if (strstr(p->comps[i], "**"))
			return true;
		if (!comp_may_match(p->comps[i], c, clen))
			return false;
		i++;
		c += clen + 1;
	}
	return i < p->ncomps;
}

int ctxd_select_path(const struct ctxd_select *s, const char *path, size_t len, bool is_dir,
		     struct ctxd_error *err)
{
	bool below = false;

	if (s->all)
		return CTXD_SELECT_IN;
	for (size_t i = 0; i < s->n; i++) {
		int m = ctxd_pattern_match(s->pats[i].p, path, len, err);

		if (m < 0)
			return -1;
		if (m)
			return CTXD_SELECT_IN;
		if (is_dir && !below)
			below = may_contain(&s->pats[i], path, len);
	}
	return below ? CTXD_SELECT_BELOW : CTXD_SELECT_OUT;
}

/* The first pattern matching path or an ancestor, shortest first; with
 * steps_only, patterns of files only the builder reads do not count. */
static const char *explain(const struct ctxd_select *s, const char *path, size_t len, bool steps_only)
{
	struct ctxd_select *ms = (struct ctxd_select *)s;

	if (s->all)
		return s->all_reason;
	for (size_t end = 0; end <= len; end++) {
		if (end < len && path[end] != '/')
			continue;
		for (size_t i = 0; i < s->n; i++) {
			struct ctxd_error err;

			if (steps_only && s->pats[i].forced)
				continue;
			if (ctxd_pattern_match(s->pats[i].p, path, end, &err) == 1) {
				ms->explain.len = 0;
				if (end < len)
					ctxd_buf_printf(&ms->explain, "%s (names %.*s)", s->pats[i].origin,
							(int)end, path);
				else
					ctxd_buf_printf(&ms->explain, "%s", s->pats[i].origin);
				return ms->explain.oom ? s->pats[i].origin : ms->explain.data;
			}
		}
	}
	return NULL;
}

const char *ctxd_select_explain(const struct ctxd_select *s, const char *path, size_t len)
{
	return explain(s, path, len, false);
}

/* One file docker keeps from COPY: reported when the build reads it. */
static void report_hidden(const struct ctxd_select *s, const char *path, ctxd_select_hidden_fn fn,
			  void *ud)
{
	const char *reader = NULL;

	if (s && !(reader = explain(s, path, strlen(path), true)))
		return;
	fn(ud, path, reader);
}

/* Whether the ignore file in force excludes path, as BuildKit's transfer
 * decides (a path or a parent matching). */
static int ignored(const struct ctxd_context *ctx, const char *path, struct ctxd_error *err)
{
	if (!ctx->user)
		return 0;
	return ctxd_ignore_match_or_parent(ctx->user, path, strlen(path), err);
}

int ctxd_select_hidden_reads(const struct ctxd_select *s, const struct ctxd_context *ctx,
			     ctxd_select_hidden_fn fn, void *ud, struct ctxd_error *err)
{
	struct stat st;
	bool on_disk = fstatat(ctx->rootfd, ".dockerignore", &st, AT_SYMLINK_NOFOLLOW) == 0;
	int ex;

	if (ctx->dockerfile_outside) {
		if (ctx->dockerfile_copy)
			report_hidden(s, ctx->dockerfile_copy, fn, ud);
	} else {
		if ((ex = ignored(ctx, ctx->dockerfile_rel, err)) < 0)
			return -1;
		if (ex)
			report_hidden(s, ctx->dockerfile_rel, fn, ud);
	}
	/* .dockerignore: the one on disk when it excludes itself, or the one
	 * made to name an outside Dockerfile's copy */
	if ((ex = on_disk ? ignored(ctx, ".dockerignore", err) : ctx->dockerfile_outside) < 0)
		return -1;
	if (ex)
		report_hidden(s, ".dockerignore", fn, ud);
	return 0;
}

bool ctxd_select_names(const struct ctxd_select *s, const char *path, size_t len)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct pat *p = &s->pats[i];
		size_t tl = strlen(p->text);

		if (!p->named || tl > len || memcmp(p->text, path, tl) != 0)
			continue;
		if (tl == len || path[tl] == '/')
			return true;
	}
	return false;
}

bool ctxd_select_names_below(const struct ctxd_select *s, const char *path, size_t len)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct pat *p = &s->pats[i];

		if (p->named && strlen(p->text) > len && p->text[len] == '/' &&
		    memcmp(p->text, path, len) == 0)
			return true;
	}
	return false;
}

const struct ctxd_dockerfile_reads *ctxd_select_reads(const struct ctxd_select *s)
{
	return s->have_reads ? &s->reads : NULL;
}
