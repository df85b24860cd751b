/* Aggregating a scan into a report (see include/ctxd/report.h): one visit
 * per entry, then sorting, duplicates, suggestions and advice. */
#include "ctxd/report.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "ctxd/dedup.h"
#include "ctxd/manifest.h"
#include "ctxd/units.h"

/* A string-keyed hash table (open addressing); keys are borrowed from the
 * values. */
struct map {
	const char **keys;
	size_t *lens;
	void **vals;
	size_t n, cap;
};

static size_t map_slot(const struct map *m, const char *k, size_t len)
{
	size_t i = (size_t)XXH3_64bits(k, len) & (m->cap - 1);

	while (m->keys[i] && (m->lens[i] != len || memcmp(m->keys[i], k, len) != 0))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void *map_get(const struct map *m, const char *k, size_t len)
{
	return m->cap ? m->vals[map_slot(m, k, len)] : NULL;
}

static int map_put(struct map *m, const char *k, size_t len, void *v)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct map g = {.cap = m->cap ? m->cap * 2 : 256};

		g.keys = calloc(g.cap, sizeof *g.keys);
		g.lens = calloc(g.cap, sizeof *g.lens);
		g.vals = calloc(g.cap, sizeof *g.vals);
		if (!g.keys || !g.lens || !g.vals) {
			free(g.keys);
			free(g.lens);
			free(g.vals);
			return -1;
		}
		for (size_t i = 0; i < m->cap; i++) {
			if (m->keys[i]) {
				size_t s = map_slot(&g, m->keys[i], m->lens[i]);

				g.keys[s] = m->keys[i];
				g.lens[s] = m->lens[i];
				g.vals[s] = m->vals[i];
			}
		}
		g.n = m->n;
		free(m->keys);
		free(m->lens);
		free(m->vals);
		*m = g;
	}
	size_t s = map_slot(m, k, len);

	m->keys[s] = k;
	m->lens[s] = len;
	m->vals[s] = v;
	m->n++;
	return 0;
}

static void map_free(struct map *m)
{
	free(m->keys);
	free(m->lens);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

struct collector {
	struct map dirs;   /* path -> struct ctxd_report_dir */
	struct map exts;   /* ext -> index + 1 into r->exts */
	size_t capexts;
	struct ctxd_report_dir *last; /* the directory of the previous entry */
	struct ctxd_manifest *m;      /* sent entries, for duplicates */
	struct ctxd_gitview *gv;
	bool own_gv;                  /* gv was opened here (not borrowed) */
	struct ctxd_report_dir **all; /* every directory, creation order */
	size_t nall, capall;
};

uint64_t ctxd_report_dir_docker(const struct ctxd_report_dir *d)
{
	uint64_t b = 0;

	for (int i = 0; i <= CTXD_REASON_GIT_UNTRACKED; i++)
		if (i != CTXD_REASON_DOCKERIGNORE)
			b += d->by[i].bytes;
	return b;
}

uint64_t ctxd_report_dir_docker_files(const struct ctxd_report_dir *d)
{
	uint64_t f = 0;

	for (int i = 0; i <= CTXD_REASON_GIT_UNTRACKED; i++)
		if (i != CTXD_REASON_DOCKERIGNORE)
			f += d->by[i].files;
	return f;
}

static struct ctxd_report_dir *dir_new(struct collector *c, struct ctxd_report_dir *parent,
				       const char *path, size_t len)
{
	struct ctxd_report_dir *d = calloc(1, sizeof *d);
	const char *slash;

	if (!d || !(d->path = strndup(path, len))) {
		free(d);
		return NULL;
	}
	slash = strrchr(d->path, '/');
	d->name = slash ? slash + 1 : d->path;
	d->parent = parent;
	d->depth = parent ? parent->depth + 1 : 0;
	if (c->nall == c->capall) {
		size_t cap = c->capall ? c->capall * 2 : 256;
		struct ctxd_report_dir **a = realloc(c->all, cap * sizeof *a);

		if (!a)
			goto fail;
		c->all = a;
		c->capall = cap;
	}
	if (parent && parent->nkids == parent->capkids) {
		size_t cap = parent->capkids ? parent->capkids * 2 : 4;
		struct ctxd_report_dir **k = realloc(parent->kids, cap * sizeof *k);

		if (!k)
			goto fail;
		parent->kids = k;
		parent->capkids = cap;
	}
	if (map_put(&c->dirs, d->path, len, d) < 0)
		goto fail;
	c->all[c->nall++] = d;
	if (parent)
		parent->kids[parent->nkids++] = d;
	return d;
fail:
	free(d->path);
	free(d);
	return NULL;
}

/* git's state of a new directory: inherited below an ignored one. */
static void dir_git(struct ctxd_report *r, struct collector *c, struct ctxd_report_dir *d)
{
	struct ctxd_error err;

	d->git = CTXD_GIT_NONE;
	if (!c->gv)
		return;
	if (d->parent && d->parent->git == CTXD_GIT_IGNORED) {
		d->git = CTXD_GIT_IGNORED;
		return;
	}
	if (ctxd_gitview_state(c->gv, d->path, strlen(d->path), true, &d->git, &err) < 0) {
		/* a failing repository: report without git rather than not at all */
		if (!r->git_warning)
			r->git_warning = strdup(err.msg);
		if (c->own_gv)
			ctxd_gitview_destroy(c->gv);
		c->gv = NULL;
		d->git = CTXD_GIT_NONE;
	}
}

/* The node of the directory path[0..len), created with its parents. */
static struct ctxd_report_dir *dir_get(struct ctxd_report *r, struct collector *c,
				       const char *path, size_t len)
{
	struct ctxd_report_dir *d, *parent;
	size_t plen = len;

	if (len == 0)
		return r->root;
	if (c->last && strlen(c->last->path) == len && memcmp(c->last->path, path, len) == 0)
		return c->last;
	if ((d = map_get(&c->dirs, path, len)))
		return d;
	while (plen > 0 && path[plen - 1] != '/')
		plen--;
	parent = dir_get(r, c, path, plen ? plen - 1 : 0);
	if (!parent || !(d = dir_new(c, parent, path, len)))
		return NULL;
	dir_git(r, c, d);
	return d;
}

static void add_count(struct ctxd_report_dir *d, enum ctxd_entry_reason why, uint64_t files,
		      uint64_t bytes, bool git_ignored)
{
	for (; d; d = d->parent) {
		d->by[why].files += files;
		d->by[why].bytes += bytes;
		if (git_ignored) {
			d->git_ignored_files += files;
			d->git_ignored_bytes += bytes;
		}
	}
}

static int add_ext(struct ctxd_report *r, struct collector *c, const char *path, size_t len,
		   const struct ctxd_entry *e)
{
	const char *base = memrchr(path, '/', len);
	const char *dot;
	size_t blen, elen;
	struct ctxd_report_ext *x;
	size_t idx;

	base = base ? base + 1 : path;
	blen = len - (size_t)(base - path);
	dot = memrchr(base, '.', blen);
	/* ".bashrc" has no extension; "a.tar.gz" counts as ".gz" */
	if (!dot || dot == base)
		dot = path + len;
	elen = (size_t)(path + len - dot);
	idx = (size_t)(uintptr_t)map_get(&c->exts, dot, elen);
	if (idx == 0) {
		if (r->nexts == c->capexts) {
			size_t cap = c->capexts ? c->capexts * 2 : 64;
			struct ctxd_report_ext *a = realloc(r->exts, cap * sizeof *a);

			if (!a)
				return -1;
			r->exts = a;
			c->capexts = cap;
			/* keys point into the entries' strings: rebuild */
			map_free(&c->exts);
			for (size_t i = 0; i < r->nexts; i++)
				if (map_put(&c->exts, r->exts[i].ext, strlen(r->exts[i].ext),
					    (void *)(uintptr_t)(i + 1)) < 0)
					return -1;
		}
		x = &r->exts[r->nexts];
		memset(x, 0, sizeof *x);
		if (!(x->ext = strndup(dot, elen)))
			return -1;
		if (map_put(&c->exts, x->ext, elen, (void *)(uintptr_t)(r->nexts + 1)) < 0) {
			free(x->ext);
			return -1;
		}
		idx = ++r->nexts;
	}
	x = &r->exts[idx - 1];
	x->docker.files++;
	x->docker.bytes += e->size;
	if (!e->excluded) {
		x->sent.files++;
		x->sent.bytes += e->size;
	}
	return 0;
}

/* Keeps the `top` largest files of docker's context, largest first. */
static int add_top_file(struct ctxd_report *r, const struct ctxd_entry *e)
{
	size_t i = r->nfiles;

	if (i == r->opt.top && (i == 0 || r->files[i - 1].size >= e->size))
		return 0;
	if (i == r->opt.top) {
		free(r->files[--i].path);
		r->nfiles--;
	}
	while (i > 0 && r->files[i - 1].size < e->size) {
		r->files[i] = r->files[i - 1];
		i--;
	}
	r->files[i].path = strndup(e->path, e->path_len);
	r->files[i].size = e->size;
	r->files[i].reason = e->reason;
	if (!r->files[i].path) {
		memmove(&r->files[i], &r->files[i + 1], (r->nfiles - i) * sizeof *r->files);
		return -1;
	}
	r->nfiles++;
	return 0;
}

/* Sizes what is inside a directory the walk did not open: stat only, no
 * symlink followed, nothing read. */
static void measure(int dirfd, const char *name, struct ctxd_report_count *c, unsigned depth)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *dir;
	struct dirent *de;

	if (fd < 0)
		return;
	if (!(dir = fdopendir(fd))) {
		close(fd);
		return;
	}
	while ((de = readdir(dir))) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			c->files++;
			c->bytes += (uint64_t)st.st_size;
		} else if (S_ISDIR(st.st_mode) && depth < 256) {
			measure(fd, de->d_name, c, depth + 1);
		}
	}
	closedir(dir);
}

static int oom(struct ctxd_error *err)
{
	ctxd_error_set(err, "out of memory");
	return -1;
}

int ctxd_report_visit(void *ud, const struct ctxd_entry *e, struct ctxd_error *err)
{
	struct ctxd_report *r = ud;
	struct collector *c = r->priv;
	const char *slash;
	struct ctxd_report_dir *d;
	enum ctxd_git_state gs = CTXD_GIT_NONE;
	bool docker = e->reason != CTXD_REASON_DOCKERIGNORE;
	int fd;

	if (ctxd_summary_visit(&r->sum, e, err) < 0)
		return -1;
	if (e->type == CTXD_ENTRY_DIR) {
		if (!e->pruned || (e->reason == CTXD_REASON_DOCKERIGNORE && !r->opt.measure_ignored)) {
			if (e->pruned)
				r->unopened_dirs++;
			return 0;
		}
		if (!(d = dir_get(r, c, e->path, e->path_len)))
			return oom(err);
		/* a directory the walk skipped whole: what it holds, for the
		 * filter that skipped it */
		struct ctxd_report_count in = {0};

		measure(r->ctx->rootfd, d->path, &in, 0);
		add_count(d, e->reason, in.files, in.bytes, false);
		if (e->reason == CTXD_REASON_DOCKERIGNORE) {
			r->unopened.files += in.files;
			r->unopened.bytes += in.bytes;
			r->unopened_dirs++;
		}
		r->sum.by_reason[e->reason].files += in.files;
		r->sum.by_reason[e->reason].bytes += in.bytes;
		if (docker) {
			r->sum.docker.files += in.files;
			r->sum.docker.bytes += in.bytes;
		}
		return 0;
	}
	if (!e->excluded && c->m && ctxd_manifest_visit(c->m, e, err) < 0)
		return -1;
	if (e->type != CTXD_ENTRY_FILE)
		return 0;
	slash = memrchr(e->path, '/', e->path_len);
	d = dir_get(r, c, e->path, slash ? (size_t)(slash - e->path) : 0);
	if (!d)
		return oom(err);
	c->last = d;
	if (docker && c->gv) {
		if (d->git == CTXD_GIT_IGNORED)
			gs = CTXD_GIT_IGNORED;
		else if (ctxd_gitview_state(c->gv, e->path, e->path_len, false, &gs, err) < 0)
			return -1;
		ctxd_git_savings_add(&r->git_docker, gs, e->size);
		if (!e->excluded)
			ctxd_git_savings_add(&r->git_sent, gs, e->size);
	}
	add_count(d, e->reason, 1, e->size, docker && gs == CTXD_GIT_IGNORED);
	if (!docker)
		return 0;
	if (add_ext(r, c, e->path, e->path_len, e) < 0 || add_top_file(r, e) < 0)
		return oom(err);
	/* by name first; content is read for what ctxd sends, and of
	 * docker-only files only where the name rule needs it (.npmrc, .pypirc) */
	if (ctxd_secrets_name_rule(e->path, e->path_len))
		fd = -1;
	else if (!e->data && (!e->excluded || ctxd_secrets_content_named(e->path, e->path_len)) &&
		 ctxd_secrets_wants_content(e->path, e->path_len, e->size))
		fd = e->dirfd >= 0 && e->name
			     ? openat(e->dirfd, e->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
			     : openat(r->ctx->rootfd, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	else
		return 0;
	ctxd_secrets_check(&r->findings, r->opt.allow, e->path, e->path_len, e->size, fd, !e->excluded);
	if (fd >= 0)
		close(fd);
	if (r->findings.oom)
		return oom(err);
	return 0;
}

struct ctxd_report *ctxd_report_create(const struct ctxd_context *ctx,
				       const struct ctxd_select *sel,
				       const struct ctxd_report_options *opt)
{
	struct ctxd_report *r = calloc(1, sizeof *r);
	struct collector *c = calloc(1, sizeof *c);
	struct ctxd_error err;

	if (!r || !c) {
		free(r);
		free(c);
		return NULL;
	}
	r->ctx = ctx;
	r->sel = sel;
	if (opt)
		r->opt = *opt;
	if (!r->opt.depth)
		r->opt.depth = 2;
	if (!r->opt.top)
		r->opt.top = 10;
	r->priv = c;
	r->files = calloc(r->opt.top + 1, sizeof *r->files);
	if (!r->files || !(r->root = dir_new(c, NULL, "", 0)))
		goto fail;
	r->root->name = ".";
	if (!r->opt.no_dedup && !(c->m = ctxd_manifest_create()))
		goto fail;
	if (!r->opt.no_git) {
		c->gv = r->opt.git;
		if (!c->gv && ctxd_gitview_open(ctx->root, &c->gv, &err) < 0) {
			c->gv = NULL;
			if (!(r->git_warning = strdup(err.msg)))
				goto fail;
		}
		c->own_gv = c->gv && !r->opt.git;
		if (c->gv && !ctxd_gitview_workdir(c->gv)) {
			if (c->own_gv)
				ctxd_gitview_destroy(c->gv);
			c->gv = NULL;
		} else if (c->gv) {
			r->git_repo = true;
			dir_git(r, c, r->root);
		}
	}
	if (sel && ctxd_select_all(sel))
		r->prune_all = ctxd_select_all_reason(sel);
	return r;
fail:
	ctxd_report_destroy(r);
	return NULL;
}

static void free_dirs(struct collector *c)
{
	for (size_t i = 0; i < c->nall; i++) {
		free(c->all[i]->path);
		free(c->all[i]->kids);
		free(c->all[i]);
	}
	free(c->all);
	c->all = NULL;
	c->nall = 0;
}

void ctxd_report_destroy(struct ctxd_report *r)
{
	struct collector *c;

	if (!r)
		return;
	c = r->priv;
	if (c) {
		map_free(&c->dirs);
		map_free(&c->exts);
		ctxd_manifest_destroy(c->m);
		if (c->own_gv)
			ctxd_gitview_destroy(c->gv);
		free_dirs(c);
		free(c);
	}
	for (size_t i = 0; i < r->nfiles; i++)
		free(r->files[i].path);
	free(r->files);
	for (size_t i = 0; i < r->nexts; i++)
		free(r->exts[i].ext);
	free(r->exts);
	for (size_t i = 0; i < r->nsuggestions; i++)
		free(r->suggestions[i].pattern);
	free(r->suggestions);
	for (size_t i = 0; i < r->nadvice; i++)
		free(r->advice[i].text);
	free(r->advice);
	ctxd_secrets_clear(&r->findings);
	free(r->git_warning);
	free(r);
}

static int cmp_dirs(const void *a, const void *b)
{
	const struct ctxd_report_dir *x = *(const struct ctxd_report_dir *const *)a;
	const struct ctxd_report_dir *y = *(const struct ctxd_report_dir *const *)b;
	uint64_t dx = ctxd_report_dir_docker(x) + x->by[CTXD_REASON_DOCKERIGNORE].bytes;
	uint64_t dy = ctxd_report_dir_docker(y) + y->by[CTXD_REASON_DOCKERIGNORE].bytes;

	if (ctxd_report_dir_docker(x) != ctxd_report_dir_docker(y))
		return ctxd_report_dir_docker(x) < ctxd_report_dir_docker(y) ? 1 : -1;
	if (dx != dy)
		return dx < dy ? 1 : -1;
	return strcmp(x->name, y->name);
}

static int cmp_exts(const void *a, const void *b)
{
	const struct ctxd_report_ext *x = a, *y = b;

	if (x->docker.bytes != y->docker.bytes)
		return x->docker.bytes < y->docker.bytes ? 1 : -1;
	return strcmp(x->ext, y->ext);
}

/* Directory names that hold dependencies, environments or caches: almost
 * never wanted in a build context as they are on the developer's disk. */
static const char *const junk_names[] = {
	".git", "node_modules", ".venv", "venv", "__pycache__", ".pytest_cache", ".mypy_cache",
	".tox", ".cache", ".next", ".terraform", ".idea", ".vscode", ".gradle", "coverage",
};

static bool is_junk(const char *name)
{
	for (size_t i = 0; i < sizeof junk_names / sizeof *junk_names; i++)
		if (strcmp(name, junk_names[i]) == 0)
			return true;
	return false;
}

static bool has_ancestor_named(const struct ctxd_report_dir *d, const char *name)
{
	for (d = d->parent; d; d = d->parent)
		if (d->parent && strcmp(d->name, name) == 0)
			return true;
	return false;
}

struct cand {
	char *pattern;
	const struct ctxd_report_dir *dir; /* NULL: a group of one junk name (pattern **\/name) */
	uint64_t files, bytes, read_bytes;
	const char *why;
};

static int cmp_cands(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return strcmp(x->pattern, y->pattern);
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Whether an exception of the ignore file reaches inside dir: a line for
 * dir would then override it (the last matching pattern wins). */
static bool exception_inside(const struct ctxd_report *r, const char *dir)
{
	const struct ctxd_ignore *ig = r->ctx->user;

	if (!ig)
		return false;
	for (size_t i = 0; i < ctxd_ignore_count(ig); i++) {
		struct ctxd_ignore_rule rule;

		ctxd_ignore_rule(ig, i, &rule);
		if (rule.exception && (under(rule.text + 1, dir) || strncmp(rule.text + 1, "**", 2) == 0))
			return true;
	}
	return false;
}

static int suggest(struct ctxd_report *r, struct collector *c)
{
	struct cand *cs = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;

	/* a **\/name group for each junk name, or the path when it occurs
	 * once at the top; a directory git ignores whole; a directory the
	 * Dockerfile never reads (when it does not read everything) */
	for (size_t i = 1; i < c->nall; i++) {
		const struct ctxd_report_dir *d = c->all[i];
		uint64_t bytes = ctxd_report_dir_docker(d);
		struct cand k = {.dir = d, .files = ctxd_report_dir_docker_files(d), .bytes = bytes,
				 .read_bytes = d->by[CTXD_REASON_SENT].bytes};
		const struct ctxd_report_dir *p = d->parent;

		if (!bytes || under(r->ctx->dockerfile_rel, d->path) || exception_inside(r, d->path))
			continue;
		if (is_junk(d->name) && !has_ancestor_named(d, d->name))
			k.why = "dependencies, environment or cache";
		else if (d->git_ignored_bytes == bytes &&
			 (p->git_ignored_bytes != ctxd_report_dir_docker(p) || p == r->root))
			k.why = "ignored by git";
		else if (r->sel && !r->prune_all && !k.read_bytes && p->by[CTXD_REASON_SENT].bytes)
			k.why = "not read by the Dockerfile";
		else
			continue;
		if (n == cap) {
			struct cand *a = realloc(cs, (cap = cap ? cap * 2 : 32) * sizeof *a);

			if (!a)
				goto out;
			cs = a;
		}
		cs[n++] = k;
	}
	/* merge junk directories of one name below the top into **\/name */
	for (size_t i = 0; i < n; i++) {
		const char *name = cs[i].dir ? cs[i].dir->name : NULL;
		bool group = false;

		if (!name || !is_junk(name) || strcmp(cs[i].why, "dependencies, environment or cache"))
			continue;
		for (size_t j = i + 1; j < n; j++) {
			if (!cs[j].dir || strcmp(cs[j].dir->name, name) || cs[j].why != cs[i].why)
				continue;
			cs[i].files += cs[j].files;
			cs[i].bytes += cs[j].bytes;
			cs[i].read_bytes += cs[j].read_bytes;
			cs[j--] = cs[--n];
			group = true;
		}
		if (group || cs[i].dir->depth > 1) {
			if (asprintf(&cs[i].pattern, "**/%s", name) < 0)
				goto out;
			cs[i].dir = NULL;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!cs[i].pattern && !(cs[i].pattern = strdup(cs[i].dir->path)))
			goto out;
	if (n > 1) /* qsort(NULL, 0) is undefined */
		qsort(cs, n, sizeof *cs, cmp_cands);
	if (!(r->suggestions = calloc(r->opt.top, sizeof *r->suggestions)))
		goto out;
	for (size_t i = 0; i < n && r->nsuggestions < r->opt.top; i++) {
		bool covered = false;

		for (size_t j = 0; j < r->nsuggestions && !covered; j++) {
			const char *s = r->suggestions[j].pattern;

			if (cs[i].dir && strncmp(s, "**/", 3) == 0)
				covered = has_ancestor_named(cs[i].dir, s + 3) ||
					  strcmp(cs[i].dir->name, s + 3) == 0;
			else if (cs[i].dir)
				covered = under(cs[i].dir->path, s);
		}
		/* a directory inside a chosen one, or holding one, is dropped;
		 * a parent of a chosen one only ever appears first (it is larger) */
		if (covered)
			continue;
		r->suggestions[r->nsuggestions++] = (struct ctxd_report_suggestion){
			.pattern = cs[i].pattern, .files = cs[i].files, .bytes = cs[i].bytes,
			.read_bytes = cs[i].read_bytes, .why = cs[i].why};
		cs[i].pattern = NULL;
	}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(cs[i].pattern);
	free(cs);
	return rc;
}

static int advise(struct ctxd_report *r, const char *fmt, uint64_t bytes, ...)
	__attribute__((format(printf, 2, 0)));

static int advise(struct ctxd_report *r, const char *fmt, uint64_t bytes, ...)
{
	struct ctxd_report_advice *a = realloc(r->advice, (r->nadvice + 1) * sizeof *a);
	va_list ap;
	int rc;

	if (!a)
		return -1;
	r->advice = a;
	va_start(ap, bytes);
	rc = vasprintf(&a[r->nadvice].text, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -1;
	a[r->nadvice++].bytes = bytes;
	return 0;
}

static int advice(struct ctxd_report *r, struct collector *c)
{
	static const char *const names[] = {".git", "node_modules", ".venv", "__pycache__"};
	char s[16];

	for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
		uint64_t bytes = 0, dirs = 0;
		bool deep = names[k][0] == '_';

		for (size_t i = 1; i < c->nall; i++) {
			const struct ctxd_report_dir *d = c->all[i];

			if (strcmp(d->name, names[k]) == 0 && !has_ancestor_named(d, names[k]) &&
			    ctxd_report_dir_docker_files(d)) {
				bytes += ctxd_report_dir_docker(d);
				dirs++;
				deep = deep || d->depth > 1;
			}
		}
		if (!dirs)
			continue;
		if (advise(r, "%s is in docker's context (%s in %" PRIu64 " %s): add %s%s to .dockerignore%s",
			   bytes, names[k], ctxd_units_human(bytes, s), dirs,
			   dirs == 1 ? "directory" : "directories", deep ? "**/" : "", names[k],
			   strcmp(names[k], "node_modules") == 0 || strcmp(names[k], ".venv") == 0
				   ? " and install dependencies in the image" : "") < 0)
			return -1;
	}
	if (r->git_docker.ignored_bytes &&
	    advise(r, "git ignores %s (%" PRIu64 " files) that .dockerignore lets through: "
		   "ctxd report --suggest lists lines for them", r->git_docker.ignored_bytes,
		   ctxd_units_human(r->git_docker.ignored_bytes, s), r->git_docker.ignored_files) < 0)
		return -1;
	if (r->prune_all &&
	    advise(r, "the Dockerfile reads the whole context (%s): only .dockerignore can make it "
		   "smaller (see --suggest)", 0, r->prune_all) < 0)
		return -1;
	if (r->dup.files &&
	    advise(r, "%" PRIu64 " sent files (%s) are copies of others: --dedup sends them as hard links "
		   "(it changes the image: see README)", r->dup.bytes, r->dup.files,
		   ctxd_units_human(r->dup.bytes, s)) < 0)
		return -1;
	if (r->findings.n &&
	    advise(r, "%zu %s that look%s like credentials %s in docker's context: add %s to "
		   ".dockerignore, or to " CTXD_SECRETS_ALLOW_FILE " when %s not", 0, r->findings.n,
		   r->findings.n == 1 ? "file" : "files", r->findings.n == 1 ? "s" : "",
		   r->findings.n == 1 ? "is" : "are", r->findings.n == 1 ? "it" : "them",
		   r->findings.n == 1 ? "it is" : "they are") < 0)
		return -1;
	return 0;
}

int ctxd_report_finish(struct ctxd_report *r, struct ctxd_error *err)
{
	struct collector *c = r->priv;

	if (c->m) {
		struct ctxd_dedup_savings sv;

		if (ctxd_dedup_run(c->m, r->ctx->rootfd, NULL, err) < 0)
			return -1;
		ctxd_dedup_savings(c->m, &sv);
		r->dup.files = sv.files;
		r->dup.bytes = sv.bytes;
	}
	for (size_t i = 0; i < c->nall; i++)
		if (c->all[i]->nkids > 1)
			qsort(c->all[i]->kids, c->all[i]->nkids, sizeof *c->all[i]->kids, cmp_dirs);
	if (r->nexts > 1)
		qsort(r->exts, r->nexts, sizeof *r->exts, cmp_exts);
	if (suggest(r, c) < 0 || advice(r, c) < 0)
		return oom(err);
	return 0;
}

char *ctxd_report_ignore_file(const struct ctxd_report *r)
{
	char *p;

	if (r->ctx->ignore_path)
		return strdup(r->ctx->ignore_path);
	return asprintf(&p, "%s/.dockerignore", r->ctx->root) < 0 ? NULL : p;
}

int ctxd_report_write_suggestions(const struct ctxd_report *r, struct ctxd_error *err)
{
	char *path;
	int fd;
	struct ctxd_buf b = {0};
	char last = '\n';
	struct stat st;
	int rc = -1;

	if (!r->nsuggestions)
		return 0;
	if (!(path = ctxd_report_ignore_file(r)))
		return oom(err);
	fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		ctxd_error_set(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	if (last != '\n')
		ctxd_buf_putc(&b, '\n');
	ctxd_buf_puts(&b, "# added by ctxd report --suggest --write\n");
	for (size_t i = 0; i < r->nsuggestions; i++)
		ctxd_buf_printf(&b, "%s\n", r->suggestions[i].pattern);
	if (b.oom) {
		oom(err);
	} else if (write(fd, b.data, b.len) != (ssize_t)b.len) {
		ctxd_error_set(err, "%s: write failed: %s", path, strerror(errno));
	} else if (close(fd) < 0) {
		fd = -1;
		ctxd_error_set(err, "%s: %s", path, strerror(errno));
	} else {
		fd = -1;
		rc = 0;
	}
	if (fd >= 0)
		close(fd);
out:
	ctxd_buf_free(&b);
	free(path);
	return rc;
}
