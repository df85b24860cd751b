/* The cold walk (see include/ctxd/scan.h). One pass does the work of the
 * CLI's two: its validation walk (MatchesOrParentMatches, which fails on
 * unreadable paths) and its tar walk (parent-result matching, pruning unless
 * an exception's literal prefix reaches inside). */
#include "ctxd/scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "ctxd/buf.h"

/* First path written for each multiply-linked inode (dev, ino). */
struct link {
	uint64_t dev, ino;
	char *path;
};

struct linkmap {
	struct link *slots;
	size_t cap, n;
};

/* A directory sent only as the parent of something selected: held back
 * until a descendant is sent. */
struct pending {
	size_t len;
	struct stat st;
	int rule;
	enum ctxd_git_state git;
	enum ctxd_entry_reason reason; /* when nothing inside is sent */
	bool emitted;
};

/* What the git filter decided for a directory, for the entries in it. */
struct gitdir {
	bool on;                     /* git is asked in this subtree */
	bool named;                  /* the Dockerfile names the directory: keep all */
	bool ask;                    /* ask git about each entry ... */
	enum ctxd_git_state state;   /* ... or each entry has this state */
	enum ctxd_entry_reason drop; /* not SENT: the filter dropped the
				      * directory, and what is listed inside */
};

struct walker {
	const struct ctxd_context *ctx;
	const struct ctxd_scan_options *o;
	const struct ctxd_scan_source *src;
	ctxd_scan_visit_fn visit;
	void *ud;
	struct ctxd_error *err;
	struct ctxd_buf path;
	size_t nrules;
	uid_t euid;
	struct linkmap links;
	bool sent_dockerignore;
	char synth[48]; /* ".dockerfile.<20 hex>" for an outside Dockerfile */
	struct ctxd_buf ignore_rewrite;
	struct pending *pending;
	size_t npending, cappending;
	bool flushing;
};

static uint64_t link_hash(uint64_t dev, uint64_t ino)
{
	return (ino * 0x9E3779B97F4A7C15ull) ^ (dev * 0xC2B2AE3D27D4EB4Full);
}

static struct link *link_find(struct linkmap *m, uint64_t dev, uint64_t ino, bool *found)
{
	size_t i;

	if (m->n * 2 >= m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct link *s = calloc(cap, sizeof *s);

		if (!s)
			return NULL;
		for (size_t k = 0; k < m->cap; k++) {
			struct link *l = &m->slots[k];

			if (!l->path)
				continue;
			for (i = link_hash(l->dev, l->ino) & (cap - 1); s[i].path; i = (i + 1) & (cap - 1))
				;
			s[i] = *l;
		}
		free(m->slots);
		m->slots = s;
		m->cap = cap;
	}
	for (i = link_hash(dev, ino) & (m->cap - 1); m->slots[i].path; i = (i + 1) & (m->cap - 1))
		if (m->slots[i].dev == dev && m->slots[i].ino == ino) {
			*found = true;
			return &m->slots[i];
		}
	*found = false;
	return &m->slots[i];
}

static void linkmap_free(struct linkmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].path);
	free(m->slots);
}

static void warnf(struct walker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warnf(struct walker *w, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!w->o || !w->o->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	w->o->warn(w->o->warn_ud, msg);
}

/* The absolute path of the current relative path, for messages. */
static void fail_path(struct walker *w, const char *what, int errnum)
{
	ctxd_error_set(w->err, "error checking context: %s '%s/%s': %s", what, w->ctx->root,
		       w->path.data, strerror(errnum));
}

static bool readable_file(struct walker *w, int dirfd, const char *name, const struct stat *st)
{
	if (w->euid == 0)
		return true;
	if (st->st_uid == w->euid)
		return st->st_mode & S_IRUSR;
	if (dirfd < 0) {
		dirfd = w->ctx->rootfd;
		name = w->path.data;
	}
	return faccessat(dirfd, name, R_OK, AT_EACCESS) == 0 || errno != EACCES;
}

static enum ctxd_entry_type type_of(mode_t m)
{
	if (S_ISREG(m))
		return CTXD_ENTRY_FILE;
	if (S_ISDIR(m))
		return CTXD_ENTRY_DIR;
	if (S_ISLNK(m))
		return CTXD_ENTRY_SYMLINK;
	if (S_ISFIFO(m))
		return CTXD_ENTRY_FIFO;
	if (S_ISCHR(m))
		return CTXD_ENTRY_CHAR;
	if (S_ISBLK(m))
		return CTXD_ENTRY_BLOCK;
	return CTXD_ENTRY_SOCKET;
}

static void fill(struct ctxd_entry *e, const struct walker *w, const struct stat *st)
{
	memset(e, 0, sizeof *e);
	e->path = w->path.data;
	e->path_len = w->path.len;
	e->type = type_of(st->st_mode);
	e->mode = st->st_mode & 07777;
	e->size = e->type == CTXD_ENTRY_FILE ? (uint64_t)st->st_size : 0;
	e->mtime = st->st_mtim.tv_sec;
	e->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->nlink = (uint32_t)st->st_nlink;
	if (e->type == CTXD_ENTRY_CHAR || e->type == CTXD_ENTRY_BLOCK) {
		e->rdev_major = major(st->st_rdev);
		e->rdev_minor = minor(st->st_rdev);
	}
	e->rule = -1;
	e->dirfd = -1;
}

static int visit_excluded(struct walker *w, const struct stat *st, int rule, bool pruned,
			  enum ctxd_entry_reason reason, enum ctxd_git_state git)
{
	struct ctxd_entry e;

	if (!w->o || !w->o->want_excluded)
		return 0;
	fill(&e, w, st);
	e.excluded = true;
	e.reason = reason;
	e.pruned = pruned;
	e.rule = rule;
	e.git = git;
	return w->visit(w->ud, &e, w->err);
}

static int emit(struct walker *w, struct ctxd_scan_dir *dir, size_t idx, const char *name,
		const struct stat *st, int rule, enum ctxd_git_state git);

/* Sends the held-back parents of the entry about to be sent. */
static int flush_pending(struct walker *w)
{
	int rc = 0;

	w->flushing = true;
	for (size_t i = 0; i < w->npending && rc == 0; i++) {
		struct pending *p = &w->pending[i];
		size_t len = w->path.len;
		char c = w->path.data[p->len];

		if (p->emitted)
			continue;
		p->emitted = true;
		w->path.data[p->len] = '\0';
		w->path.len = p->len;
		rc = emit(w, NULL, 0, NULL, &p->st, p->rule, p->git);
		w->path.data[p->len] = c;
		w->path.len = len;
	}
	w->flushing = false;
	return rc;
}

/* Emits a sent entry: symlink target, hardlink folding, socket skipping.
 * dir (NULL for a held-back parent) holds it as its idx-th name. */
static int emit(struct walker *w, struct ctxd_scan_dir *dir, size_t idx, const char *name,
		const struct stat *st, int rule, enum ctxd_git_state git)
{
	struct ctxd_entry e;
	char *target = NULL;
	int dirfd = dir ? w->src->fd(w->src->ud, dir) : -1;
	int rc;

	if (!w->flushing && w->npending && !w->pending[w->npending - 1].emitted &&
	    flush_pending(w) < 0)
		return -1;
	fill(&e, w, st);
	e.dirfd = dirfd;
	e.name = name;
	e.rule = rule;
	e.git = git;
	if (e.type == CTXD_ENTRY_SOCKET) {
		warnf(w, "skipping %s/%s: sockets cannot be sent (docker skips them too)",
		      w->ctx->root, w->path.data);
		return 0;
	}
	/* Docker links every multiply-linked non-directory, symlinks too */
	if (e.type != CTXD_ENTRY_DIR && st->st_nlink > 1) {
		bool found;
		struct link *l = link_find(&w->links, e.dev, e.ino, &found);

		if (!l) {
			ctxd_error_set(w->err, "out of memory");
			return -1;
		}
		if (found) {
			e.type = CTXD_ENTRY_HARDLINK;
			e.size = 0;
			e.link = l->path;
			e.link_len = strlen(l->path);
			return w->visit(w->ud, &e, w->err);
		}
		l->dev = e.dev;
		l->ino = e.ino;
		l->path = strdup(w->path.data);
		if (!l->path) {
			ctxd_error_set(w->err, "out of memory");
			return -1;
		}
		w->links.n++;
	}
	if (e.type == CTXD_ENTRY_SYMLINK) {
		target = dir ? w->src->readlink(w->src->ud, dir, idx, &e.link_len) : NULL;
		if (!target) {
			if (errno == ENOMEM) {
				ctxd_error_set(w->err, "out of memory");
				return -1;
			}
			warnf(w, "skipping %s/%s: %s", w->ctx->root, w->path.data, strerror(errno));
			return 0;
		}
		e.link = target;
	}
	if (w->ctx->dockerfile_outside && strcmp(w->path.data, ".dockerignore") == 0 &&
	    e.type != CTXD_ENTRY_FILE) {
		ctxd_error_set(w->err, "%s/.dockerignore is not a regular file; with the Dockerfile outside "
			       "the context docker build cannot append its copy's name to it and fails "
			       "(archive/tar: write too long)", w->ctx->root);
		free(target);
		return -1;
	}
	if (w->ctx->dockerfile_outside && e.type == CTXD_ENTRY_FILE &&
	    strcmp(w->path.data, ".dockerignore") == 0) {
		/* Docker appends its copy's name to the .dockerignore it sends */
		int fd = dirfd >= 0 ? openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
				    : openat(w->ctx->rootfd, w->path.data, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		char buf[65536];
		ssize_t n;

		if (fd < 0) {
			fail_path(w, "cannot read", errno);
			return -1;
		}
		while ((n = read(fd, buf, sizeof buf)) > 0)
			ctxd_buf_append(&w->ignore_rewrite, buf, (size_t)n);
		close(fd);
		ctxd_buf_printf(&w->ignore_rewrite, "\n%s\n", w->synth);
		if (w->ignore_rewrite.oom) {
			ctxd_error_set(w->err, "out of memory");
			return -1;
		}
		e.data = w->ignore_rewrite.data;
		e.size = w->ignore_rewrite.len;
		w->sent_dockerignore = true;
	}
	rc = w->visit(w->ud, &e, w->err);
	free(target);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads and sorts the names of an open directory (takes ownership of fd
 * only through the returned DIR). */
static int list_dir(DIR *d, char ***names_out, size_t *n_out, struct ctxd_buf *arena)
{
	size_t n = 0, cap = 0;
	size_t *offs = NULL;
	char **names;
	struct dirent *de;

	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (n == cap) {
			size_t *o = realloc(offs, (cap = cap ? cap * 2 : 64) * sizeof *o);

			if (!o) {
				free(offs);
				return -1;
			}
			offs = o;
		}
		offs[n++] = arena->len;
		ctxd_buf_append(arena, de->d_name, strlen(de->d_name) + 1);
	}
	if (errno || arena->oom) {
		int e = errno ? errno : ENOMEM;

		free(offs);
		errno = e;
		return -1;
	}
	names = malloc((n ? n : 1) * sizeof *names);
	if (!names) {
		free(offs);
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		names[i] = arena->data + offs[i];
	free(offs);
	qsort(names, n, sizeof *names, cmp_names);
	*names_out = names;
	*n_out = n;
	return 0;
}

/* The disk source: one open DIR per directory on the walk's path. */
struct ctxd_scan_dir {
	DIR *d;
	struct ctxd_buf arena;
	char **names;
	size_t n;
};

static struct ctxd_scan_dir *disk_open(void *ud, int rootfd, struct ctxd_scan_dir *parent,
				       const char *name, const char *path)
{
	struct ctxd_scan_dir *h;
	int fd;

	(void)ud;
	if (parent)
		fd = openat(dirfd(parent->d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	else
		fd = openat(rootfd, *path ? path : ".",
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC | (*path ? O_NOFOLLOW : 0));
	if (fd < 0)
		return NULL;
	h = calloc(1, sizeof *h);
	if (!h || !(h->d = fdopendir(fd))) {
		int e = h ? errno : ENOMEM;

		free(h);
		close(fd);
		errno = e;
		return NULL;
	}
	return h;
}

static int disk_list(void *ud, struct ctxd_scan_dir *h, char ***names, size_t *n)
{
	(void)ud;
	if (list_dir(h->d, &h->names, &h->n, &h->arena) < 0)
		return -1;
	*names = h->names;
	*n = h->n;
	return 0;
}

static int disk_stat(void *ud, struct ctxd_scan_dir *h, size_t i, struct stat *st)
{
	(void)ud;
	return fstatat(dirfd(h->d), h->names[i], st, AT_SYMLINK_NOFOLLOW);
}

static char *disk_readlink(void *ud, struct ctxd_scan_dir *h, size_t i, size_t *len)
{
	size_t cap = 256;

	(void)ud;
	for (;;) {
		char *target = malloc(cap);
		ssize_t n;

		if (!target)
			return NULL;
		n = readlinkat(dirfd(h->d), h->names[i], target, cap);
		if (n < 0) {
			int e = errno;

			free(target);
			errno = e;
			return NULL;
		}
		if ((size_t)n < cap) {
			target[n] = '\0';
			*len = (size_t)n;
			return target;
		}
		free(target);
		cap *= 2;
	}
}

static int disk_fd(void *ud, struct ctxd_scan_dir *h)
{
	(void)ud;
	return dirfd(h->d);
}

static void disk_close(void *ud, struct ctxd_scan_dir *h)
{
	(void)ud;
	closedir(h->d);
	free(h->names);
	ctxd_buf_free(&h->arena);
	free(h);
}

const struct ctxd_scan_source ctxd_scan_disk_source = {
	.open_dir = disk_open,
	.list = disk_list,
	.stat = disk_stat,
	.readlink = disk_readlink,
	.fd = disk_fd,
	.close = disk_close,
};

static int push_pending(struct walker *w, const struct stat *st, int rule,
			enum ctxd_git_state git, enum ctxd_entry_reason reason)
{
	if (w->npending == w->cappending) {
		size_t cap = w->cappending ? w->cappending * 2 : 16;
		struct pending *p = realloc(w->pending, cap * sizeof *p);

		if (!p) {
			ctxd_error_set(w->err, "out of memory");
			return -1;
		}
		w->pending = p;
		w->cappending = cap;
	}
	w->pending[w->npending++] = (struct pending){
		.len = w->path.len, .st = *st, .rule = rule, .git = git, .reason = reason,
	};
	return 0;
}

/* Pops the directory pushed for the current path; one nothing was sent
 * from is listed as left out by the filter that held it. */
static int pop_pending(struct walker *w)
{
	struct pending p = w->pending[--w->npending];

	return p.emitted ? 0 : visit_excluded(w, &p.st, p.rule, false, p.reason, p.git);
}

static enum ctxd_entry_reason git_reason(enum ctxd_git_state s)
{
	return s == CTXD_GIT_IGNORED ? CTXD_REASON_GIT_IGNORED : CTXD_REASON_GIT_UNTRACKED;
}

/* The git filter's verdict for the current path, which the other filters
 * would send (or look inside): its state in *gs, the context for what it
 * holds in *child, and *held when it is a dropped directory the
 * Dockerfile names something inside of (sent only as a parent). */
static int git_decide(struct walker *w, const struct gitdir *g, bool is_dir, enum ctxd_git_state *gs,
		      struct gitdir *child, bool *held)
{
	const struct ctxd_select *keep = w->o->git_keep;

	*child = *g;
	*gs = g->state;
	if (keep && ctxd_select_names(keep, w->path.data, w->path.len)) {
		*gs = CTXD_GIT_NONE;
		child->named = true;
		return 0;
	}
	if (g->ask && ctxd_gitview_state(w->o->git, w->path.data, w->path.len, is_dir, gs, w->err) < 0)
		return -1;
	child->state = *gs;
	if (!ctxd_git_filter_drops(w->o->git_filter, *gs)) {
		/* nothing inside an ignored directory is anything but ignored */
		child->ask = g->ask && *gs != CTXD_GIT_IGNORED;
		return 0;
	}
	if (is_dir && keep && ctxd_select_names_below(keep, w->path.data, w->path.len)) {
		*held = true;
		return 0;
	}
	child->ask = false;
	child->drop = git_reason(*gs);
	return 0;
}

/*
 * Walks the directory open as h (taken over), whose relative path is in w->path.
 * walk_on: the tar walker looks inside; check_on: the validation pass does.
 * parent: the tar walker's match vector for this directory (NULL at root).
 * sel: the Dockerfile filter's verdict for this directory (IN without one).
 * g: the git filter's, for what it holds.
 */
static int walk_dir(struct walker *w, struct ctxd_scan_dir *h, bool walk_on, bool check_on, const uint8_t *parent,
		    enum ctxd_select_verdict sel, const struct gitdir *g)
{
	char **names = NULL;
	size_t n = 0, base = w->path.len;
	uint8_t *vec = NULL;
	int rc = -1;

	if (w->src->list(w->src->ud, h, &names, &n) < 0) {
		if (check_on) {
			fail_path(w, "can't stat", errno);
			goto out;
		}
		warnf(w, "cannot list %s/%s: %s", w->ctx->root, w->path.data, strerror(errno));
		rc = 0;
		goto out;
	}
	if (w->nrules) {
		vec = malloc(w->nrules);
		if (!vec) {
			ctxd_error_set(w->err, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = names[i];
		struct stat st;
		bool is_dir, child_walk = false, child_check = false, sent = false, do_check, held = false;
		bool out, git_held = false;
		int excluded = 0, rule = -1, csel = CTXD_SELECT_IN;
		enum ctxd_git_state gs = g->state;
		enum ctxd_entry_reason reason;
		struct gitdir cg = *g;

		w->path.len = base;
		if (base)
			ctxd_buf_putc(&w->path, '/');
		ctxd_buf_puts(&w->path, name);
		if (w->path.oom) {
			ctxd_error_set(w->err, "out of memory");
			goto out;
		}
		if (w->src->stat(w->src->ud, h, i, &st) < 0) {
			if (sel == CTXD_SELECT_BELOW)
				csel = ctxd_select_path(w->o->select, w->path.data, w->path.len, false, w->err);
			if (csel < 0)
				goto out;
			if (check_on && sel != CTXD_SELECT_OUT && csel != CTXD_SELECT_OUT &&
			    g->drop == CTXD_REASON_SENT) {
				if (errno == ENOENT)
					ctxd_error_set(w->err, "file ('%s/%s') not found or excluded by .dockerignore",
						       w->ctx->root, w->path.data);
				else
					fail_path(w, "can't stat", errno);
				goto out;
			}
			warnf(w, "skipping %s/%s: %s", w->ctx->root, w->path.data, strerror(errno));
			continue;
		}
		is_dir = S_ISDIR(st.st_mode);
		if (sel == CTXD_SELECT_OUT)
			csel = CTXD_SELECT_OUT;
		else if (sel == CTXD_SELECT_BELOW &&
			 (csel = ctxd_select_path(w->o->select, w->path.data, w->path.len, is_dir, w->err)) < 0)
			goto out;
		if (g->on && !g->named && g->drop == CTXD_REASON_SENT && csel != CTXD_SELECT_OUT &&
		    git_decide(w, g, is_dir, &gs, &cg, &git_held) < 0)
			goto out;
		if (g->named)
			gs = CTXD_GIT_NONE;
		/* what the build cannot read is not validated either, nor what
		 * the git filter drops */
		out = csel == CTXD_SELECT_OUT || cg.drop != CTXD_REASON_SENT;
		do_check = check_on && !out;
		reason = csel == CTXD_SELECT_OUT ? CTXD_REASON_NOT_READ : cg.drop;

		/* the validation pass (ValidateContextDirectory) */
		if (do_check) {
			int vx = ctxd_ignore_match_or_parent(w->ctx->user, w->path.data, w->path.len, w->err);

			if (vx < 0) {
				ctxd_error_prefix(w->err, "error checking context");
				goto out;
			}
			if (is_dir) {
				child_check = !vx;
			} else if (!vx && !S_ISLNK(st.st_mode) && !S_ISFIFO(st.st_mode) &&
				   !readable_file(w, w->src->fd(w->src->ud, h), name, &st)) {
				fail_path(w, "no permission to read from", EACCES);
				goto out;
			}
		}

		/* the tar walk (Tarballer.Do) */
		if (walk_on) {
			excluded = ctxd_ignore_match(w->ctx->walk, w->path.data, w->path.len, parent, vec,
						     &rule, w->err);
			if (excluded < 0)
				goto out;
			if (!excluded) {
				sent = true;
				child_walk = is_dir;
			} else if (is_dir && ctxd_ignore_has_exceptions(w->ctx->walk) &&
				   ctxd_ignore_may_reach_inside(w->ctx->walk, w->path.data, w->path.len)) {
				child_walk = true;
			}
			if (out && !(w->o->want_excluded && w->o->list_unread))
				child_walk = false;
			if (sent && !out && csel == CTXD_SELECT_IN && !git_held) {
				if (emit(w, h, i, name, &st, rule, gs) < 0)
					goto out;
			} else if (sent && !out) {
				held = true; /* sent once something inside is */
			} else if (visit_excluded(w, &st, rule, is_dir && !child_walk,
						  sent ? reason : CTXD_REASON_DOCKERIGNORE, gs) < 0) {
				goto out;
			}
		}

		/* Docker lists every directory its validation pass reaches, even
		 * an excluded one, and fails if it cannot. */
		if (is_dir && (child_walk || child_check || do_check)) {
			struct ctxd_scan_dir *ch = w->src->open_dir(w->src->ud, w->ctx->rootfd, h, name,
								      w->path.data);

			if (!ch) {
				if (do_check) {
					fail_path(w, "can't stat", errno);
					goto out;
				}
				warnf(w, "cannot list %s/%s: %s", w->ctx->root, w->path.data, strerror(errno));
				if (held && visit_excluded(w, &st, rule, true,
							   git_held ? git_reason(gs) : CTXD_REASON_NOT_READ,
							   gs) < 0)
					goto out;
				continue;
			}
			if (!child_walk && !child_check) {
				w->src->close(w->src->ud, ch);
				continue;
			}
			if (held && push_pending(w, &st, rule, gs,
						 git_held ? git_reason(gs) : CTXD_REASON_NOT_READ) < 0) {
				w->src->close(w->src->ud, ch);
				goto out;
			}
			if (walk_dir(w, ch, child_walk, child_check, child_walk ? vec : NULL, csel, &cg) < 0)
				goto out;
			if (held && pop_pending(w) < 0)
				goto out;
		}
	}
	rc = 0;
out:
	w->path.len = base;
	if (w->path.data)
		w->path.data[base] = '\0';
	free(vec);
	w->src->close(w->src->ud, h);
	return rc;
}

/* Docker sends an outside (or stdin) Dockerfile as a hidden copy, and a
 * .dockerignore that names it; ctxd names the copy by its content so the
 * stream is reproducible. */
static int emit_outside(struct walker *w)
{
	const struct ctxd_context *ctx = w->ctx;
	struct ctxd_entry e = {0};
	struct stat st;
	int64_t mtime = (int64_t)time(NULL);

	if (ctx->dockerfile_path && stat(ctx->dockerfile_path, &st) == 0)
		mtime = st.st_mtim.tv_sec;
	e.type = CTXD_ENTRY_FILE;
	e.mode = 0600;
	e.mtime = mtime;
	e.nlink = 1;
	e.dirfd = -1;
	e.rule = -1;
	e.path = w->synth;
	e.path_len = strlen(w->synth);
	e.data = ctx->dockerfile_data;
	e.size = ctx->dockerfile_len;
	if (w->visit(w->ud, &e, w->err) < 0)
		return -1;
	if (w->sent_dockerignore)
		return 0;
	w->ignore_rewrite.len = 0;
	ctxd_buf_printf(&w->ignore_rewrite, ".dockerignore\n%s\n", w->synth);
	if (w->ignore_rewrite.oom) {
		ctxd_error_set(w->err, "out of memory");
		return -1;
	}
	e.path = ".dockerignore";
	e.path_len = strlen(e.path);
	e.data = w->ignore_rewrite.data;
	e.size = w->ignore_rewrite.len;
	return w->visit(w->ud, &e, w->err);
}

int ctxd_scan_run(const struct ctxd_context *ctx, const struct ctxd_scan_options *opts,
		  ctxd_scan_visit_fn visit, void *ud, struct ctxd_error *err)
{
	struct walker w = {
		.ctx = ctx, .o = opts, .visit = visit, .ud = ud, .err = err,
		.nrules = ctxd_ignore_count(ctx->walk), .euid = geteuid(),
		.src = opts && opts->source ? opts->source : &ctxd_scan_disk_source,
	};
	struct gitdir g = {.on = opts && opts->git && ctxd_gitview_workdir(opts->git), .ask = true};
	struct ctxd_scan_dir *root;
	int rc;

	if (ctx->dockerfile_outside)
		snprintf(w.synth, sizeof w.synth, "%s", ctx->dockerfile_copy);
	ctxd_buf_puts(&w.path, "");
	root = w.src->open_dir(w.src->ud, ctx->rootfd, NULL, NULL, "");
	if (!root) {
		ctxd_error_set(err, "%s: %s", ctx->root, strerror(errno));
		ctxd_buf_free(&w.path);
		return -1;
	}
	rc = walk_dir(&w, root, true, true, NULL,
		      opts && opts->select && !ctxd_select_all(opts->select) ? CTXD_SELECT_BELOW
									     : CTXD_SELECT_IN,
		      &g);
	if (rc == 0 && ctx->dockerfile_outside)
		rc = emit_outside(&w);
	linkmap_free(&w.links);
	free(w.pending);
	ctxd_buf_free(&w.path);
	ctxd_buf_free(&w.ignore_rewrite);
	return rc;
}
