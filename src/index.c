/* The daemon's per-project tree (see include/ctxd/index.h). One allocation
 * per entry: the fixed fields, then its name and, for a symlink, its
 * target. A directory keeps its children sorted by bytes, the order the
 * walk needs, so a listing is the array itself. */
#include "ctxd/index.h"

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
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "ctxd/buf.h"
#include "ctxd/ignore.h"

enum {
	N_LISTED = 1,   /* a directory whose children are here */
	N_UNLISTED = 2, /* a directory the ignore file leaves unread */
	N_HASHED = 4,   /* hash holds the content hash for the current key */
	N_GONE = 8,     /* the directory's inode was freed: whatever has its name now
			 * is new, even with the same inode number */
};

struct ctxd_index_node {
	struct ctxd_index_node *parent;
	struct ctxd_index_node **kids;
	uint32_t nkids, capkids;
	uint64_t dev, ino, size;
	int64_t mtime, ctime;
	uint32_t mtime_nsec, ctime_nsec;
	uint32_t mode, uid, gid, nlink;
	uint32_t rdev_major, rdev_minor;
	int32_t tag;
	int32_t err;       /* errno opening a directory, 0 when it opens */
	uint16_t name_len;
	uint16_t link_len; /* symlink target length (targets up to 64 KiB; longer: re-read) */
	uint8_t flags;
	struct ctxd_hash hash;
	char name[];       /* name, NUL, symlink target, NUL */
};

struct inode_key {
	uint64_t dev, ino;
};

struct ctxd_index {
	char *root;
	struct ctxd_index_hooks hooks;
	struct ctxd_index_node *top;
	struct ctxd_ignore *ignore; /* the project's .dockerignore, NULL: none or bad */
	struct ctxd_index_node **multi; /* non-directories with more than one link */
	size_t nmulti, capmulti;
	/* inodes seen with more than one link since the last query: their
	 * other names may have been read with one */
	struct inode_key *born;
	size_t nborn, capborn;
	unsigned hook_failed;
	int hook_errno;
};

bool ctxd_index_is_cookie(const char *name)
{
	return strncmp(name, CTXD_INDEX_COOKIE_PREFIX, sizeof CTXD_INDEX_COOKIE_PREFIX - 1) == 0;
}

int ctxd_index_node_tag(const struct ctxd_index_node *n)
{
	return n->tag;
}

void ctxd_index_node_set_tag(struct ctxd_index_node *n, int tag)
{
	n->tag = tag;
}

struct ctxd_index_node *ctxd_index_top(const struct ctxd_index *idx)
{
	return idx->top;
}

const char *ctxd_index_root(const struct ctxd_index *idx)
{
	return idx->root;
}

/* The node's path below the root into b ("" for the root). */
static void rel_path(const struct ctxd_index_node *n, struct ctxd_buf *b)
{
	const struct ctxd_index_node *chain[4096];
	size_t depth = 0;

	for (; n && n->parent && depth < sizeof chain / sizeof chain[0]; n = n->parent)
		chain[depth++] = n;
	while (depth--) {
		if (b->len && b->data[b->len - 1] != '/')
			ctxd_buf_putc(b, '/');
		ctxd_buf_append(b, chain[depth]->name, chain[depth]->name_len);
	}
}

char *ctxd_index_node_path(const struct ctxd_index *idx, const struct ctxd_index_node *n)
{
	struct ctxd_buf b = {0};

	ctxd_buf_puts(&b, idx->root);
	rel_path(n, &b);
	return b.oom ? (ctxd_buf_free(&b), NULL) : ctxd_buf_take(&b);
}

/* Updates the stat fields; a moved key forgets the hash. */
static void node_restat(struct ctxd_index_node *n, const struct stat *st)
{
	if (n->size != (uint64_t)st->st_size || n->mtime != st->st_mtim.tv_sec ||
	    n->mtime_nsec != (uint32_t)st->st_mtim.tv_nsec || n->ctime != st->st_ctim.tv_sec ||
	    n->ctime_nsec != (uint32_t)st->st_ctim.tv_nsec || n->ino != st->st_ino || n->dev != st->st_dev)
		n->flags &= (uint8_t)~N_HASHED;
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->size = (uint64_t)st->st_size;
	n->mtime = st->st_mtim.tv_sec;
	n->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	n->ctime = st->st_ctim.tv_sec;
	n->ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
	n->mode = st->st_mode;
	n->uid = st->st_uid;
	n->gid = st->st_gid;
	n->nlink = (uint32_t)st->st_nlink;
	n->rdev_major = major(st->st_rdev);
	n->rdev_minor = minor(st->st_rdev);
}

static struct ctxd_index_node *node_new(const char *name, const struct stat *st, const char *target,
					size_t target_len)
{
	size_t len = strlen(name);
	struct ctxd_index_node *n;

	if (len > UINT16_MAX || target_len > UINT16_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	n = calloc(1, sizeof *n + len + 1 + (target ? target_len + 1 : 0));
	if (!n)
		return NULL;
	memcpy(n->name, name, len + 1);
	n->name_len = (uint16_t)len;
	if (target) {
		memcpy(n->name + len + 1, target, target_len);
		n->link_len = (uint16_t)target_len;
	}
	n->tag = -1;
	node_restat(n, st);
	return n;
}

static void node_to_stat(const struct ctxd_index_node *n, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_dev = (dev_t)n->dev;
	st->st_ino = (ino_t)n->ino;
	st->st_size = (off_t)n->size;
	st->st_mtim.tv_sec = (time_t)n->mtime;
	st->st_mtim.tv_nsec = (long)n->mtime_nsec;
	st->st_ctim.tv_sec = (time_t)n->ctime;
	st->st_ctim.tv_nsec = (long)n->ctime_nsec;
	st->st_mode = (mode_t)n->mode;
	st->st_uid = (uid_t)n->uid;
	st->st_gid = (gid_t)n->gid;
	st->st_nlink = (nlink_t)n->nlink;
	st->st_rdev = makedev(n->rdev_major, n->rdev_minor);
}

static int multi_add(struct ctxd_index *idx, struct ctxd_index_node *n)
{
	if (idx->nmulti == idx->capmulti) {
		size_t cap = idx->capmulti ? idx->capmulti * 2 : 16;
		struct ctxd_index_node **m = realloc(idx->multi, cap * sizeof *m);

		if (!m)
			return -1;
		idx->multi = m;
		idx->capmulti = cap;
	}
	idx->multi[idx->nmulti++] = n;
	if (idx->nborn == idx->capborn) {
		size_t cap = idx->capborn ? idx->capborn * 2 : 16;
		struct inode_key *b = realloc(idx->born, cap * sizeof *b);

		if (!b) {
			idx->nmulti--;
			return -1;
		}
		idx->born = b;
		idx->capborn = cap;
	}
	idx->born[idx->nborn++] = (struct inode_key){n->dev, n->ino};
	return 0;
}

static void multi_del(struct ctxd_index *idx, struct ctxd_index_node *n)
{
	for (size_t i = 0; i < idx->nmulti; i++)
		if (idx->multi[i] == n) {
			idx->multi[i] = idx->multi[--idx->nmulti];
			return;
		}
}

/* Frees n and everything below it; listed directories are unwatched. */
static void node_free(struct ctxd_index *idx, struct ctxd_index_node *n, bool unwatch)
{
	if (!n)
		return;
	for (uint32_t i = 0; i < n->nkids; i++)
		node_free(idx, n->kids[i], unwatch);
	if (unwatch && (n->flags & N_LISTED) && idx->hooks.unwatch_dir)
		idx->hooks.unwatch_dir(idx->hooks.ud, n);
	if (!S_ISDIR(n->mode) && n->nlink > 1)
		multi_del(idx, n);
	free(n->kids);
	free(n);
}

/* The slot of name among dir's children: its index (*found) or where it
 * would go. */
static uint32_t kid_find(const struct ctxd_index_node *dir, const char *name, bool *found)
{
	uint32_t lo = 0, hi = dir->nkids;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(dir->kids[mid]->name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static int kid_insert(struct ctxd_index_node *dir, uint32_t at, struct ctxd_index_node *n)
{
	if (dir->nkids == dir->capkids) {
		uint32_t cap = dir->capkids ? dir->capkids * 2 : 4;
		struct ctxd_index_node **k = realloc(dir->kids, cap * sizeof *k);

		if (!k)
			return -1;
		dir->kids = k;
		dir->capkids = cap;
	}
	memmove(dir->kids + at + 1, dir->kids + at, (dir->nkids - at) * sizeof *dir->kids);
	dir->kids[at] = n;
	dir->nkids++;
	n->parent = dir;
	return 0;
}

/* Whether the walk may skip the directory at rel: the ignore file
 * excludes it (by the walker's parent-result rule, evaluated down from the
 * root) and no exception can reach inside. A pattern error keeps it. */
static bool skip_dir(const struct ctxd_index *idx, const char *rel, size_t len)
{
	size_t nrules = idx->ignore ? ctxd_ignore_count(idx->ignore) : 0;
	uint8_t *a, *b;
	bool skip = false;
	struct ctxd_error err;

	if (!nrules || !len)
		return false;
	a = malloc(nrules * 2);
	if (!a)
		return false;
	b = a + nrules;
	for (size_t i = 0; i <= len; i++) {
		int rule, ex;

		if (i < len && rel[i] != '/')
			continue;
		ex = ctxd_ignore_match(idx->ignore, rel, i, i == strcspn(rel, "/") ? NULL : a, b, &rule,
				       &err);
		if (ex < 0)
			break;
		if (ex && !ctxd_ignore_may_reach_inside(idx->ignore, rel, i))
			skip = i == len; /* an excluded ancestor would not be listed either */
		memcpy(a, b, nrules);
	}
	free(a);
	return skip;
}

static int read_target(int dirfd, const char *name, const struct stat *st, char **out, size_t *len)
{
	size_t cap = (size_t)st->st_size + 1;

	for (;;) {
		char *t = malloc(cap);
		ssize_t n;

		if (!t)
			return -1;
		n = readlinkat(dirfd, name, t, cap);
		if (n < 0) {
			free(t);
			return -1;
		}
		if ((size_t)n < cap) {
			t[n] = '\0';
			*out = t;
			*len = (size_t)n;
			return 0;
		}
		free(t);
		cap *= 2;
	}
}

/* A new node for dirfd/name as lstat saw it (NULL: it vanished, or the
 * name cannot be held; errno says which). */
static struct ctxd_index_node *make_node(int dirfd, const char *name, const struct stat *st)
{
	struct ctxd_index_node *n;
	char *target = NULL;
	size_t tlen = 0;

	if (S_ISLNK(st->st_mode) && read_target(dirfd, name, st, &target, &tlen) < 0)
		return NULL;
	n = node_new(name, st, target ? target : NULL, tlen);
	free(target);
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_into(struct ctxd_index *idx, struct ctxd_index_node *dir, struct ctxd_buf *abs,
		     struct ctxd_buf *rel, const struct ctxd_index_node *old);

/* Lists dir (watched first, so nothing created meanwhile is missed),
 * unless the ignore file lets the walk skip it. */
static int fill_dir(struct ctxd_index *idx, struct ctxd_index_node *dir, struct ctxd_buf *abs,
		    struct ctxd_buf *rel, const struct ctxd_index_node *old)
{
	if (dir->parent && skip_dir(idx, rel->data ? rel->data : "", rel->len)) {
		dir->flags |= N_UNLISTED;
		return 0;
	}
	dir->flags |= N_LISTED;
	if (idx->hooks.watch_dir && idx->hooks.watch_dir(idx->hooks.ud, dir, abs->data) < 0) {
		if (!idx->hook_failed++)
			idx->hook_errno = errno;
	}
	return list_into(idx, dir, abs, rel, old);
}

static int list_into(struct ctxd_index *idx, struct ctxd_index_node *dir, struct ctxd_buf *abs,
		     struct ctxd_buf *rel, const struct ctxd_index_node *old)
{
	size_t abs_base = abs->len, rel_base = rel->len;
	int fd = open(abs->data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct ctxd_buf arena = {0};
	size_t *offs = NULL;
	int rc = -1;

	if (fd < 0 || !(d = fdopendir(fd))) {
		dir->err = errno;
		if (fd >= 0)
			close(fd);
		return 0;
	}
	dir->err = 0;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (ctxd_index_is_cookie(de->d_name))
			continue;
		if (n == cap) {
			size_t *o = realloc(offs, (cap = cap ? cap * 2 : 64) * sizeof *o);

			if (!o)
				goto out;
			offs = o;
		}
		offs[n++] = arena.len;
		ctxd_buf_append(&arena, de->d_name, strlen(de->d_name) + 1);
	}
	if (errno) {
		dir->err = errno;
		rc = 0;
		goto out;
	}
	if (arena.oom || !(names = malloc((n ? n : 1) * sizeof *names)))
		goto out;
	for (size_t i = 0; i < n; i++)
		names[i] = arena.data + offs[i];
	qsort(names, n, sizeof *names, cmp_str);
	if (n && !(dir->kids = malloc(n * sizeof *dir->kids)))
		goto out;
	dir->capkids = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		struct ctxd_index_node *k;
		const struct ctxd_index_node *ok = NULL;

		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone already: its event follows */
		if (!(k = make_node(dirfd(d), names[i], &st))) {
			if (errno == ENOMEM)
				goto out;
			continue;
		}
		k->parent = dir;
		dir->kids[dir->nkids++] = k;
		if (!S_ISDIR(k->mode) && k->nlink > 1 && multi_add(idx, k) < 0)
			goto out;
		if (old) {
			bool found;
			uint32_t at = kid_find(old, names[i], &found);

			ok = found ? old->kids[at] : NULL;
			if (ok && S_ISREG(k->mode) && (ok->flags & N_HASHED) && ok->ino == k->ino &&
			    ok->dev == k->dev && ok->size == k->size && ok->mtime == k->mtime &&
			    ok->mtime_nsec == k->mtime_nsec && ok->ctime == k->ctime &&
			    ok->ctime_nsec == k->ctime_nsec) {
				k->hash = ok->hash;
				k->flags |= N_HASHED;
			}
		}
		if (S_ISDIR(k->mode)) {
			abs->len = abs_base;
			rel->len = rel_base;
			ctxd_buf_putc(abs, '/');
			ctxd_buf_puts(abs, names[i]);
			if (rel_base)
				ctxd_buf_putc(rel, '/');
			ctxd_buf_puts(rel, names[i]);
			if (abs->oom || rel->oom)
				goto out;
			if (fill_dir(idx, k, abs, rel, ok && S_ISDIR(ok->mode) ? ok : NULL) < 0)
				goto out;
		}
	}
	rc = 0;
out:
	abs->len = abs_base;
	rel->len = rel_base;
	if (abs->data)
		abs->data[abs_base] = '\0';
	if (rel->data)
		rel->data[rel_base] = '\0';
	free(names);
	free(offs);
	ctxd_buf_free(&arena);
	closedir(d);
	return rc;
}

int ctxd_index_create(const char *root, const struct ctxd_index_hooks *hooks,
		      struct ctxd_index **out, struct ctxd_error *err)
{
	struct ctxd_index *idx = calloc(1, sizeof *idx);

	*out = NULL;
	if (!idx || !(idx->root = strdup(root))) {
		free(idx);
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	if (hooks)
		idx->hooks = *hooks;
	*out = idx;
	return 0;
}

void ctxd_index_destroy(struct ctxd_index *idx)
{
	if (!idx)
		return;
	node_free(idx, idx->top, true);
	ctxd_ignore_destroy(idx->ignore);
	free(idx->multi);
	free(idx->born);
	free(idx->root);
	free(idx);
}

/* The project's .dockerignore, for skipping directories; NULL when there
 * is none or it does not parse (then nothing is skipped). */
static struct ctxd_ignore *load_ignore(const char *root)
{
	struct ctxd_ignore *ig = ctxd_ignore_create();
	struct ctxd_buf p = {0};
	struct ctxd_error err;
	bool found = false;

	ctxd_buf_printf(&p, "%s/.dockerignore", root);
	if (!ig || p.oom || ctxd_ignore_load(ig, p.data, &found, &err) < 0 || !found) {
		ctxd_ignore_destroy(ig);
		ig = NULL;
	}
	ctxd_buf_free(&p);
	return ig;
}

static void unwatch_all(struct ctxd_index *idx, struct ctxd_index_node *n)
{
	for (uint32_t i = 0; i < n->nkids; i++)
		unwatch_all(idx, n->kids[i]);
	if ((n->flags & N_LISTED) && idx->hooks.unwatch_dir)
		idx->hooks.unwatch_dir(idx->hooks.ud, n);
	n->flags &= (uint8_t)~N_LISTED;
}

int ctxd_index_build(struct ctxd_index *idx, struct ctxd_error *err)
{
	struct ctxd_index_node *old = idx->top, *top;
	struct ctxd_buf abs = {0}, rel = {0};
	struct stat st;
	int rc;

	if (lstat(idx->root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		ctxd_error_set(err, "%s: %s", idx->root,
			       S_ISDIR(st.st_mode) ? strerror(errno) : "not a directory");
		return -1;
	}
	/* inotify hands out the same watch for the same directory: the old
	 * tree lets go of its watches before the new one takes them */
	if (old)
		unwatch_all(idx, old);
	if (!(top = node_new("", &st, NULL, 0))) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	ctxd_ignore_destroy(idx->ignore);
	idx->ignore = load_ignore(idx->root);
	idx->hook_failed = 0;
	idx->hook_errno = 0;
	ctxd_buf_puts(&abs, idx->root);
	ctxd_buf_puts(&rel, "");
	rc = abs.oom || rel.oom ? -1 : fill_dir(idx, top, &abs, &rel, old);
	ctxd_buf_free(&abs);
	ctxd_buf_free(&rel);
	if (rc < 0) {
		node_free(idx, top, true);
		idx->top = NULL;
		node_free(idx, old, false);
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	node_free(idx, old, false);
	idx->top = top;
	idx->nborn = 0; /* every link count was just read */
	if (top->err) {
		ctxd_error_set(err, "%s: %s", idx->root, strerror(top->err));
		return -1;
	}
	return 0;
}

unsigned ctxd_index_hook_failed(const struct ctxd_index *idx, int *first_errno)
{
	if (first_errno)
		*first_errno = idx->hook_errno;
	return idx->hook_failed;
}

/* Re-reads the stat of a name of a multiply-linked inode (a name that
 * moved meanwhile is left to its own events). */
static int restat_link(struct ctxd_index *idx, struct ctxd_index_node *n)
{
	char *path = ctxd_index_node_path(idx, n);
	struct stat st;

	if (!path)
		return -1;
	if (lstat(path, &st) == 0 && st.st_ino == n->ino && st.st_dev == n->dev)
		node_restat(n, &st);
	free(path);
	return 0;
}

/* Re-reads the other names of a multiply-linked inode: a link or unlink
 * moves their link count and ctime without an event in their directory,
 * and a write through one name changes what every name shows. Names read
 * with one link are not known here yet: the query's
 * ctxd_index_restat_links finds them. */
static void refresh_peers(struct ctxd_index *idx, const struct ctxd_index_node *n, uint64_t dev,
			  uint64_t ino)
{
	for (size_t i = 0; i < idx->nmulti; i++) {
		struct ctxd_index_node *p = idx->multi[i];

		if (p == n || p->dev != dev || p->ino != ino)
			continue;
		/* out of memory: the next query's ctxd_index_restat_links retries */
		if (restat_link(idx, p) == 0 && p->nlink <= 1) {
			multi_del(idx, p);
			i--;
		}
	}
}

static int cmp_key(const void *a, const void *b)
{
	const struct inode_key *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static int cmp_inode(const void *a, const void *b)
{
	const struct ctxd_index_node *x = *(const struct ctxd_index_node *const *)a;
	const struct ctxd_index_node *y = *(const struct ctxd_index_node *const *)b;

	return cmp_key(&(struct inode_key){x->dev, x->ino}, &(struct inode_key){y->dev, y->ino});
}

/* multi, sorted by inode, in *out (malloc'd; NULL when empty). */
static int multi_sorted(const struct ctxd_index *idx, struct ctxd_index_node ***out)
{
	*out = NULL;
	if (!idx->nmulti)
		return 0;
	if (!(*out = malloc(idx->nmulti * sizeof **out)))
		return -1;
	memcpy(*out, idx->multi, idx->nmulti * sizeof **out);
	qsort(*out, idx->nmulti, sizeof **out, cmp_inode);
	return 0;
}

/* The end of the group of v[i]'s inode, and the most links a member
 * says the inode has. */
static size_t group_end(struct ctxd_index_node **v, size_t n, size_t i, uint32_t *links)
{
	size_t j;

	*links = 0;
	for (j = i; j < n && v[j]->dev == v[i]->dev && v[j]->ino == v[i]->ino; j++)
		*links = v[j]->nlink > *links ? v[j]->nlink : *links;
	return j;
}

/* Re-reads every name of an inode in want (sorted) that was read with
 * one link: a link made elsewhere brings no event to its directory. */
static int adopt_all(struct ctxd_index *idx, struct ctxd_index_node *n, const struct inode_key *want,
		     size_t nwant)
{
	for (uint32_t i = 0; i < n->nkids; i++) {
		struct ctxd_index_node *k = n->kids[i];
		struct inode_key key = {k->dev, k->ino};

		if (S_ISDIR(k->mode)) {
			if (adopt_all(idx, k, want, nwant) < 0)
				return -1;
		} else if (k->nlink <= 1 && bsearch(&key, want, nwant, sizeof *want, cmp_key)) {
			if (restat_link(idx, k) < 0 || (k->nlink > 1 && multi_add(idx, k) < 0))
				return -1;
		}
	}
	return 0;
}

int ctxd_index_restat_links(struct ctxd_index *idx, struct ctxd_error *err)
{
	struct ctxd_index_node **v = NULL;
	struct inode_key *want = idx->born;
	size_t nwant = idx->nborn, n, i, j, k;
	uint32_t links;

	/* the names re-read here are current: none is kept for the next */
	idx->born = NULL;
	idx->nborn = idx->capborn = 0;
	if (nwant) {
		qsort(want, nwant, sizeof *want, cmp_key);
		/* one walk of the tree, only after a name with links appeared */
		if (idx->top && adopt_all(idx, idx->top, want, nwant) < 0)
			goto oom;
	}
	idx->nborn = 0;
	if (multi_sorted(idx, &v) < 0)
		goto oom;
	n = idx->nmulti;
	for (i = 0; i < n; i = j) {
		struct inode_key key = {v[i]->dev, v[i]->ino};

		j = group_end(v, n, i, &links);
		/* a group with every name here follows their events, unless a
		 * name just joined it: the others may have changed through a
		 * name nobody watched */
		if (j - i >= links && !(nwant && bsearch(&key, want, nwant, sizeof *want, cmp_key)))
			continue;
		for (k = i; k < j; k++) {
			if (restat_link(idx, v[k]) < 0)
				goto oom;
			if (v[k]->nlink <= 1)
				multi_del(idx, v[k]);
		}
	}
	free(v);
	free(want);
	return 0;
oom:
	free(v);
	free(want);
	ctxd_error_set(err, "out of memory");
	return -1;
}

static bool same_thing(const struct ctxd_index *idx, const struct ctxd_index_node *k,
		       const struct stat *st, const char *target, size_t tlen)
{
	if ((k->mode & S_IFMT) != (st->st_mode & S_IFMT) || k->ino != st->st_ino || k->dev != st->st_dev)
		return false;
	if (S_ISLNK(st->st_mode))
		return target && k->link_len == tlen && memcmp(k->name + k->name_len + 1, target, tlen) == 0;
	if (!S_ISDIR(st->st_mode))
		return true;
	/* listed again: a directory whose inode was freed (a new one may have
	 * its number), one that vanished while it was listed (no watch, no
	 * entries: one made again at its name may have its number too), and
	 * one that became readable or unreadable */
	if ((k->flags & N_GONE) || k->err ||
	    ((k->flags & N_LISTED) && idx->hooks.watch_dir && k->tag < 0))
		return false;
	return k->mode == st->st_mode && k->uid == st->st_uid && k->gid == st->st_gid;
}

int ctxd_index_refresh(struct ctxd_index *idx, struct ctxd_index_node *dir, const char *name,
		       struct ctxd_error *err)
{
	struct ctxd_buf abs = {0}, rel = {0};
	struct ctxd_index_node *k = NULL, *nk;
	struct stat st;
	char *target = NULL, own[256];
	size_t tlen = 0;
	uint32_t at;
	bool found, exists;
	int dfd, rc = -1;

	if (!name) {
		if (!dir->parent)
			return 0;
		/* the node, and its name with it, may be replaced below */
		if (dir->name_len >= sizeof own)
			return 1;
		memcpy(own, dir->name, dir->name_len + 1u);
		name = own;
		dir = dir->parent;
	}
	if (ctxd_index_is_cookie(name))
		return 0;
	if (!dir->parent && strcmp(name, ".dockerignore") == 0)
		return 1;
	ctxd_buf_puts(&abs, idx->root);
	rel_path(dir, &abs);
	if (abs.oom)
		goto oom;
	/* the directory's own mtime moved with its contents */
	if (lstat(abs.data, &st) == 0 && st.st_ino == dir->ino)
		node_restat(dir, &st);
	dfd = open(abs.data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	exists = dfd >= 0 && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (exists && S_ISLNK(st.st_mode) && read_target(dfd, name, &st, &target, &tlen) < 0)
		exists = false;
	at = kid_find(dir, name, &found);
	if (found)
		k = dir->kids[at];
	if (k && exists && same_thing(idx, k, &st, target, tlen)) {
		uint32_t was = k->nlink;

		node_restat(k, &st);
		if (!S_ISDIR(k->mode) && (was > 1 || k->nlink > 1)) {
			if (was <= 1 && k->nlink > 1 && multi_add(idx, k) < 0)
				goto oom_fd;
			if (was > 1 && k->nlink <= 1)
				multi_del(idx, k);
			refresh_peers(idx, k, k->dev, k->ino);
		}
		rc = 0;
		goto out;
	}
	if (k) {
		uint64_t kdev = k->dev, kino = k->ino;
		bool peers = !S_ISDIR(k->mode) && k->nlink > 1;

		memmove(dir->kids + at, dir->kids + at + 1, (dir->nkids - at - 1) * sizeof *dir->kids);
		dir->nkids--;
		node_free(idx, k, true);
		if (peers)
			refresh_peers(idx, NULL, kdev, kino);
	}
	if (!exists) {
		rc = 0;
		goto out;
	}
	if (!(nk = node_new(name, &st, target, tlen)))
		goto oom_fd;
	if (kid_insert(dir, at, nk) < 0) {
		free(nk);
		goto oom_fd;
	}
	if (!S_ISDIR(nk->mode) && nk->nlink > 1) {
		if (multi_add(idx, nk) < 0)
			goto oom_fd;
		refresh_peers(idx, nk, nk->dev, nk->ino);
	}
	if (S_ISDIR(nk->mode)) {
		ctxd_buf_putc(&abs, '/');
		ctxd_buf_puts(&abs, name);
		rel_path(nk, &rel);
		if (abs.oom || rel.oom || fill_dir(idx, nk, &abs, &rel, NULL) < 0)
			goto oom_fd;
	}
	rc = 0;
	goto out;
oom_fd:
	rc = -1;
out:
	if (dfd >= 0)
		close(dfd);
	free(target);
	ctxd_buf_free(&abs);
	ctxd_buf_free(&rel);
	if (rc == 0)
		return 0;
oom:
	ctxd_error_set(err, "out of memory");
	return -1;
}

int ctxd_index_forget(struct ctxd_index *idx, struct ctxd_index_node *dir, struct ctxd_error *err)
{
	if (!dir->parent)
		return 1;
	dir->flags |= N_GONE;
	return ctxd_index_refresh(idx, dir, NULL, err);
}

static size_t usable(const void *p, size_t fallback)
{
#ifdef __GLIBC__
	(void)fallback;
	return p ? malloc_usable_size((void *)p) : 0;
#else
	return p ? fallback : 0;
#endif
}

static void stats_of(const struct ctxd_index_node *n, struct ctxd_index_stats *s)
{
	size_t names = n->name_len + 1u + (S_ISLNK(n->mode) ? n->link_len + 1u : 0u);
	size_t whole = usable(n, sizeof *n + names);

	s->path_bytes += names;
	s->memory += whole > names ? whole - names : sizeof *n;
	s->memory += usable(n->kids, n->capkids * sizeof *n->kids);
	if (n->parent)
		s->entries++;
	if (S_ISREG(n->mode)) {
		s->files++;
		s->bytes += n->size;
		if (n->flags & N_HASHED)
			s->hashed++;
	}
	if (n->flags & N_LISTED)
		s->dirs++;
	for (uint32_t i = 0; i < n->nkids; i++)
		stats_of(n->kids[i], s);
}

void ctxd_index_stats(const struct ctxd_index *idx, struct ctxd_index_stats *out)
{
	memset(out, 0, sizeof *out);
	if (idx->top)
		stats_of(idx->top, out);
	out->memory += sizeof *idx + idx->capmulti * sizeof *idx->multi +
		       idx->capborn * sizeof *idx->born;
}

static struct ctxd_index_node *lookup(const struct ctxd_index *idx, const char *path)
{
	struct ctxd_index_node *n = idx->top;
	char part[4096];

	while (n && *path) {
		size_t len = strcspn(path, "/");
		bool found;
		uint32_t at;

		if (len >= sizeof part || !(n->flags & N_LISTED))
			return NULL;
		memcpy(part, path, len);
		part[len] = '\0';
		at = kid_find(n, part, &found);
		n = found ? n->kids[at] : NULL;
		path += len;
		path += *path == '/';
	}
	return n;
}

int ctxd_index_hash(struct ctxd_index *idx, const char *path, struct ctxd_hash *out,
		    struct ctxd_hash_key *key, struct ctxd_error *err)
{
	struct ctxd_index_node *n = lookup(idx, path);
	struct ctxd_buf abs = {0};
	int rc;

	if (n && S_ISREG(n->mode) && (n->flags & N_HASHED)) {
		*out = n->hash;
		memset(key, 0, sizeof *key);
		key->dev = n->dev;
		key->ino = n->ino;
		key->size = n->size;
		key->mtime = n->mtime;
		key->mtime_nsec = n->mtime_nsec;
		key->ctime = n->ctime;
		key->ctime_nsec = n->ctime_nsec;
		return 0;
	}
	ctxd_buf_printf(&abs, "%s/%s", idx->root, path);
	if (abs.oom) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	rc = ctxd_hash_file(AT_FDCWD, abs.data, out, key, err);
	ctxd_buf_free(&abs);
	/* a write in the same clock tick as the read would leave the key as
	 * it is: cache only once the clock has moved past the file's ctime */
	if (rc == 0 && n && n->ino == key->ino && n->dev == key->dev && n->size == key->size &&
	    n->mtime == key->mtime && n->mtime_nsec == key->mtime_nsec && n->ctime == key->ctime &&
	    n->ctime_nsec == key->ctime_nsec && (int64_t)time(NULL) > key->ctime + 1) {
		n->hash = *out;
		n->flags |= N_HASHED;
	}
	return rc;
}

/* The scan source: a directory handle is either an index node or, below
 * a directory the index did not list, the disk source's handle. */
struct idx_dir {
	struct ctxd_index_node *node;
	struct ctxd_scan_dir *disk;
	char **names;
};

static struct ctxd_scan_dir *src_open(void *ud, int rootfd, struct ctxd_scan_dir *parent,
				      const char *name, const char *path)
{
	struct ctxd_index *idx = ud;
	struct idx_dir *p = (struct idx_dir *)parent, *h;
	struct ctxd_index_node *n = NULL;
	struct ctxd_scan_dir *disk = NULL;

	if (p && p->disk) {
		disk = ctxd_scan_disk_source.open_dir(NULL, rootfd, p->disk, name, path);
		if (!disk)
			return NULL;
	} else {
		n = p ? lookup(idx, path) : idx->top;
		if (!n) {
			errno = ENOENT;
			return NULL;
		}
		if (!S_ISDIR(n->mode)) {
			errno = ENOTDIR;
			return NULL;
		}
		if (n->err) {
			errno = n->err;
			return NULL;
		}
		if (!(n->flags & N_LISTED)) {
			disk = ctxd_scan_disk_source.open_dir(NULL, rootfd, NULL, NULL, path);
			if (!disk)
				return NULL;
			n = NULL;
		}
	}
	h = calloc(1, sizeof *h);
	if (!h) {
		if (disk)
			ctxd_scan_disk_source.close(NULL, disk);
		errno = ENOMEM;
		return NULL;
	}
	h->node = n;
	h->disk = disk;
	return (struct ctxd_scan_dir *)h;
}

static int src_list(void *ud, struct ctxd_scan_dir *dir, char ***names, size_t *n)
{
	struct idx_dir *h = (struct idx_dir *)dir;

	(void)ud;
	if (h->disk)
		return ctxd_scan_disk_source.list(NULL, h->disk, names, n);
	h->names = malloc((h->node->nkids ? h->node->nkids : 1) * sizeof *h->names);
	if (!h->names) {
		errno = ENOMEM;
		return -1;
	}
	for (uint32_t i = 0; i < h->node->nkids; i++)
		h->names[i] = h->node->kids[i]->name;
	*names = h->names;
	*n = h->node->nkids;
	return 0;
}

static int src_stat(void *ud, struct ctxd_scan_dir *dir, size_t i, struct stat *st)
{
	struct ctxd_index *idx = ud;
	struct idx_dir *h = (struct idx_dir *)dir;
	const struct ctxd_index_node *k;

	if (h->disk)
		return ctxd_scan_disk_source.stat(NULL, h->disk, i, st);
	k = h->node->kids[i];
	/* nothing watches inside an unlisted directory, so its mtime is read
	 * now (replacing it moves its parent, which is watched) */
	if (k->flags & N_UNLISTED) {
		char *path = ctxd_index_node_path(idx, k);
		bool fresh = path && lstat(path, st) == 0 && S_ISDIR(st->st_mode);

		free(path);
		if (fresh)
			return 0;
	}
	node_to_stat(k, st);
	return 0;
}

static char *src_readlink(void *ud, struct ctxd_scan_dir *dir, size_t i, size_t *len)
{
	struct idx_dir *h = (struct idx_dir *)dir;
	const struct ctxd_index_node *k;
	char *t;

	(void)ud;
	if (h->disk)
		return ctxd_scan_disk_source.readlink(NULL, h->disk, i, len);
	k = h->node->kids[i];
	t = malloc(k->link_len + 1u);
	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(t, k->name + k->name_len + 1, k->link_len);
	t[k->link_len] = '\0';
	*len = k->link_len;
	return t;
}

static int src_fd(void *ud, struct ctxd_scan_dir *dir)
{
	struct idx_dir *h = (struct idx_dir *)dir;

	(void)ud;
	return h->disk ? ctxd_scan_disk_source.fd(NULL, h->disk) : -1;
}

static void src_close(void *ud, struct ctxd_scan_dir *dir)
{
	struct idx_dir *h = (struct idx_dir *)dir;

	(void)ud;
	if (h->disk)
		ctxd_scan_disk_source.close(NULL, h->disk);
	free(h->names);
	free(h);
}

void ctxd_index_source(struct ctxd_index *idx, struct ctxd_scan_source *out)
{
	*out = (struct ctxd_scan_source){
		.open_dir = src_open,
		.list = src_list,
		.stat = src_stat,
		.readlink = src_readlink,
		.fd = src_fd,
		.close = src_close,
		.ud = idx,
	};
}
