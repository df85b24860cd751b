/* Duplicate files of a manifest, and packing them as hard links (see
 * include/ctxd/dedup.h). Candidates are grouped by size and mode, hashed
 * once each, then grouped by hash; each later member of a hash group is
 * compared byte for byte with the earlier ones before it is marked. */
#include "ctxd/dedup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256u * 1024)
/* How long to wait for the clock to leave a just-written file's ctime. */
#define RACY_WAIT_NS 1000000000LL
/* Files changed this long before the run began count as just written too:
 * timestamps may be coarser than the clock's tick, or come from a file
 * server's clock. */
#define RACY_MARGIN_SEC 1

struct cand {
	size_t idx;
	uint64_t size;
	uint32_t mode;
	bool ok; /* hashed, and still the file the scan saw */
	struct ctxd_hash h;
};

struct run {
	struct ctxd_manifest *m;
	int rootfd;
	char *a, *b;
	struct timespec start; /* before the first read */
	struct ctxd_dedup_stats st;
	size_t *racy; /* later copies whose comparison must be repeated */
	size_t nracy;
};

static int by_size_mode(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;

	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	if (a->mode != b->mode)
		return a->mode < b->mode ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int by_hash(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;

	if (a->ok != b->ok)
		return a->ok ? -1 : 1;
	if (a->h.hi != b->h.hi)
		return a->h.hi < b->h.hi ? -1 : 1;
	if (a->h.lo != b->h.lo)
		return a->h.lo < b->h.lo ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static const char *path_of(const struct ctxd_manifest *m, size_t i)
{
	return ctxd_manifest_entry(m, i)->path; /* in the manifest's arena: stable */
}

static const struct ctxd_hash_key *key_of(const struct ctxd_manifest *m, size_t i)
{
	const struct ctxd_hash_key *k = NULL;

	ctxd_manifest_hash(m, i, &k);
	return k;
}

static bool has_key(int fd, const struct ctxd_hash_key *key)
{
	struct stat st;
	struct ctxd_hash_key now;

	if (fstat(fd, &st) < 0)
		return false;
	ctxd_hash_key_from_stat(&st, &now);
	return ctxd_hash_key_equal(&now, key);
}

static int open_keyed(int rootfd, const char *path, const struct ctxd_hash_key *key)
{
	int fd = openat(rootfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd >= 0 && !has_key(fd, key)) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool read_at(int fd, char *buf, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pread(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return true;
}

/* 1: the two files hold the same bytes, and both kept the key they were
 * hashed under while read; 0: the bytes differ; -1: a file could not be
 * read or changed. */
static int same_bytes(struct run *r, size_t i, size_t j)
{
	const struct ctxd_hash_key *ki = key_of(r->m, i), *kj = key_of(r->m, j);
	int fa = open_keyed(r->rootfd, path_of(r->m, i), ki);
	int fb = fa < 0 ? -1 : open_keyed(r->rootfd, path_of(r->m, j), kj);
	uint64_t off = 0;
	int rc = 1;

	if (fb < 0)
		rc = -1;
	while (rc == 1 && off < ki->size) {
		size_t want = ki->size - off < CHUNK ? (size_t)(ki->size - off) : CHUNK;

		if (!read_at(fa, r->a, want, off) || !read_at(fb, r->b, want, off))
			rc = -1;
		else if (memcmp(r->a, r->b, want) != 0)
			rc = 0;
		off += want;
		r->st.compared_bytes += 2 * (uint64_t)want;
	}
	if (rc == 1 && (!has_key(fa, ki) || !has_key(fb, kj)))
		rc = -1;
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return rc;
}

/* A write in the same clock tick as the read leaves ctime as it was, so
 * a file changed about when the run began is compared again once the clock
 * has moved past its ctime. */
static bool is_racy(const struct run *r, size_t i)
{
	const struct ctxd_hash_key *k = key_of(r->m, i);

	int64_t since = r->start.tv_sec - RACY_MARGIN_SEC;

	return k->ctime > since || (k->ctime == since && k->ctime_nsec >= r->start.tv_nsec);
}

/* A hash the manifest already holds (from the daemon's index) stands as
 * long as the file still has the key it was computed under. */
static bool known_hash(struct run *r, struct cand *c, const struct ctxd_entry *e)
{
	const struct ctxd_hash_key *have = NULL;
	const struct ctxd_hash *h = ctxd_manifest_hash(r->m, c->idx, &have);
	struct ctxd_hash_key now;
	struct stat st;

	if (!h || fstatat(r->rootfd, e->path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	ctxd_hash_key_from_stat(&st, &now);
	if (!S_ISREG(st.st_mode) || !ctxd_hash_key_equal(&now, have) || now.ino != e->ino ||
	    now.size != e->size)
		return false;
	c->h = *h;
	return true;
}

static void hash_group(struct run *r, struct cand *c, size_t n)
{
	struct ctxd_error ignored;

	for (size_t k = 0; k < n; k++) {
		const struct ctxd_entry *e = ctxd_manifest_entry(r->m, c[k].idx);
		uint64_t ino = e->ino, size = e->size;
		struct ctxd_hash_key key;

		if (known_hash(r, &c[k], e)) {
			c[k].ok = true;
			r->st.reused++;
			continue;
		}
		c[k].ok = ctxd_hash_file(r->rootfd, e->path, &c[k].h, &key, &ignored) == 0 &&
			  key.ino == ino && key.size == size;
		if (!c[k].ok) {
			r->st.unreadable++;
			continue;
		}
		ctxd_manifest_set_hash(r->m, c[k].idx, &c[k].h, &key);
		r->st.hashed_files++;
		r->st.hashed_bytes += size;
	}
}

/* c[0..n) share a hash: mark each as a copy of the first earlier member
 * with the same bytes. */
static void link_hash_group(struct run *r, struct cand *c, size_t n)
{
	for (size_t k = 1; k < n; k++) {
		for (size_t j = 0; j < k; j++) {
			int same;

			if (ctxd_manifest_duplicate_of(r->m, c[j].idx) != CTXD_MANIFEST_NONE)
				continue;
			same = same_bytes(r, c[j].idx, c[k].idx);
			if (same == 0)
				r->st.collisions++;
			if (same != 1)
				continue;
			ctxd_manifest_set_duplicate_of(r->m, c[k].idx, c[j].idx);
			if (is_racy(r, c[j].idx) || is_racy(r, c[k].idx))
				r->racy[r->nracy++] = c[k].idx;
			break;
		}
	}
}

static int64_t ns_of(int64_t sec, long nsec)
{
	return sec * 1000000000LL + nsec;
}

static void settle_racy(struct run *r)
{
	int64_t latest = 0, now, deadline;
	struct timespec ts;

	if (!r->nracy)
		return;
	for (size_t k = 0; k < r->nracy; k++) {
		size_t i = r->racy[k], of = ctxd_manifest_duplicate_of(r->m, i);
		const struct ctxd_hash_key *a = key_of(r->m, i), *b = key_of(r->m, of);

		if (ns_of(a->ctime, a->ctime_nsec) > latest)
			latest = ns_of(a->ctime, a->ctime_nsec);
		if (ns_of(b->ctime, b->ctime_nsec) > latest)
			latest = ns_of(b->ctime, b->ctime_nsec);
	}
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	deadline = ns_of(ts.tv_sec, ts.tv_nsec) + RACY_WAIT_NS;
	for (;;) {
		struct timespec nap = {0, 2000000};

		clock_gettime(CLOCK_REALTIME_COARSE, &ts);
		now = ns_of(ts.tv_sec, ts.tv_nsec);
		if (now > latest || now >= deadline)
			break;
		nanosleep(&nap, NULL);
	}
	for (size_t k = 0; k < r->nracy; k++) {
		size_t i = r->racy[k], of = ctxd_manifest_duplicate_of(r->m, i);

		r->st.recompared++;
		/* a ctime still ahead of the clock cannot be trusted at all */
		if (now <= latest || same_bytes(r, of, i) != 1)
			ctxd_manifest_set_duplicate_of(r->m, i, CTXD_MANIFEST_NONE);
	}
}

/* The files that may have a duplicate, grouped by size and mode: c[0..n)
 * malloc'd (NULL when out of memory). */
static struct cand *candidates(const struct ctxd_manifest *m, size_t *nc)
{
	size_t n = ctxd_manifest_count(m);
	struct cand *c = malloc((n ? n : 1) * sizeof *c);

	*nc = 0;
	if (!c)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct ctxd_entry *e = ctxd_manifest_entry(m, i);

		if (e->type == CTXD_ENTRY_FILE && !e->data && e->size > 0)
			c[(*nc)++] = (struct cand){.idx = i, .size = e->size, .mode = e->mode};
	}
	if (*nc > 1)
		qsort(c, *nc, sizeof *c, by_size_mode);
	return c;
}

/* The end of the size-and-mode group starting at c[a]. */
static size_t group_end(const struct cand *c, size_t nc, size_t a)
{
	size_t b = a + 1;

	while (b < nc && c[b].size == c[a].size && c[b].mode == c[a].mode)
		b++;
	return b;
}

int ctxd_dedup_candidates(const struct ctxd_manifest *m, void (*fn)(void *ud, size_t i), void *ud,
			  struct ctxd_error *err)
{
	size_t nc;
	struct cand *c = candidates(m, &nc);

	if (!c) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	for (size_t a = 0, b; a < nc; a = b) {
		b = group_end(c, nc, a);
		for (size_t k = a; b - a > 1 && k < b; k++)
			fn(ud, c[k].idx);
	}
	free(c);
	return 0;
}

int ctxd_dedup_run(struct ctxd_manifest *m, int rootfd, struct ctxd_dedup_stats *stats,
		   struct ctxd_error *err)
{
	size_t n = ctxd_manifest_count(m), nc = 0;
	struct run r = {.m = m, .rootfd = rootfd};
	struct cand *c = candidates(m, &nc);
	int rc = -1;

	r.a = malloc(CHUNK);
	r.b = malloc(CHUNK);
	r.racy = malloc((n ? n : 1) * sizeof *r.racy);
	if (!c || !r.a || !r.b || !r.racy) {
		ctxd_error_set(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		ctxd_manifest_set_duplicate_of(m, i, CTXD_MANIFEST_NONE);
	clock_gettime(CLOCK_REALTIME_COARSE, &r.start);
	for (size_t a = 0, b; a < nc; a = b) {
		b = group_end(c, nc, a);
		if (b - a < 2)
			continue;
		r.st.candidates += b - a;
		hash_group(&r, c + a, b - a);
		qsort(c + a, b - a, sizeof *c, by_hash);
		for (size_t x = a, y; x < b && c[x].ok; x = y) {
			for (y = x + 1; y < b && c[y].ok && ctxd_hash_equal(&c[y].h, &c[x].h); y++)
				;
			if (y - x > 1)
				link_hash_group(&r, c + x, y - x);
		}
	}
	settle_racy(&r);
	if (stats)
		*stats = r.st;
	rc = 0;
out:
	free(c);
	free(r.a);
	free(r.b);
	free(r.racy);
	return rc;
}

void ctxd_dedup_savings(const struct ctxd_manifest *m, struct ctxd_dedup_savings *out)
{
	out->files = out->bytes = 0;
	for (size_t i = 0; i < ctxd_manifest_count(m); i++) {
		if (ctxd_manifest_duplicate_of(m, i) == CTXD_MANIFEST_NONE)
			continue;
		out->files++;
		out->bytes += ctxd_manifest_entry(m, i)->size;
	}
}

static int add_link(const struct ctxd_manifest *m, int rootfd, const char *root, size_t i,
		    size_t of, struct ctxd_pack *pk, struct ctxd_error *err)
{
	struct ctxd_entry e = *ctxd_manifest_entry(m, i);
	const struct ctxd_entry *first = ctxd_manifest_entry(m, of);
	struct ctxd_hash_key now;
	struct stat st;

	if (fstatat(rootfd, e.path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		ctxd_error_set(err, "%s/%s: cannot stat: %s; the stream was aborted", root, e.path,
			       strerror(errno));
		return -1;
	}
	ctxd_hash_key_from_stat(&st, &now);
	if (!ctxd_hash_key_equal(&now, key_of(m, i))) {
		ctxd_error_set(err, "%s/%s: changed after it was found identical to %s; "
			       "the stream was aborted", root, e.path, first->path);
		return -1;
	}
	e.mtime = first->mtime;
	e.mtime_nsec = first->mtime_nsec;
	return ctxd_pack_add_link(pk, &e, first->path, err);
}

int ctxd_dedup_pack(const struct ctxd_manifest *m, int rootfd, const char *root,
		    struct ctxd_pack *pk, struct ctxd_error *err)
{
	size_t n = ctxd_manifest_count(m);
	bool *first = calloc(n ? n : 1, sizeof *first);
	int rc = 0;

	if (!first) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t of = ctxd_manifest_duplicate_of(m, i);

		if (of != CTXD_MANIFEST_NONE)
			first[of] = true;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t of = ctxd_manifest_duplicate_of(m, i);

		if (of != CTXD_MANIFEST_NONE)
			rc = add_link(m, rootfd, root, i, of, pk, err);
		else if (first[i])
			rc = ctxd_pack_add_verified(pk, ctxd_manifest_entry(m, i), key_of(m, i), err);
		else
			rc = ctxd_pack_add(pk, ctxd_manifest_entry(m, i), err);
	}
	free(first);
	return rc;
}
