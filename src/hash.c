/* XXH3-128 content hashes and their stat keys (see include/ctxd/hash.h). */
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include "ctxd/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#define CHUNK (64u * 1024)

void ctxd_hash_key_from_stat(const struct stat *st, struct ctxd_hash_key *key)
{
	memset(key, 0, sizeof *key);
	key->dev = (uint64_t)st->st_dev;
	key->ino = (uint64_t)st->st_ino;
	key->size = (uint64_t)st->st_size;
	key->mtime = (int64_t)st->st_mtim.tv_sec;
	key->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	key->ctime = (int64_t)st->st_ctim.tv_sec;
	key->ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
}

bool ctxd_hash_key_equal(const struct ctxd_hash_key *a, const struct ctxd_hash_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime == b->mtime && a->mtime_nsec == b->mtime_nsec &&
	       a->ctime == b->ctime && a->ctime_nsec == b->ctime_nsec;
}

bool ctxd_hash_equal(const struct ctxd_hash *a, const struct ctxd_hash *b)
{
	return a->hi == b->hi && a->lo == b->lo;
}

char *ctxd_hash_hex(const struct ctxd_hash *h, char out[33])
{
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)h->hi, (unsigned long long)h->lo);
	return out;
}

int ctxd_hash_fd(int fd, const char *what, struct ctxd_hash *out, struct ctxd_hash_key *key,
		 struct ctxd_error *err)
{
	XXH3_state_t state;
	XXH128_hash_t h;
	struct ctxd_hash_key after;
	struct stat st;
	char buf[CHUNK];
	uint64_t off = 0;
	bool grew = false;

	if (fstat(fd, &st) < 0) {
		ctxd_error_set(err, "%s: cannot stat: %s", what, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		ctxd_error_set(err, "%s: not a regular file", what);
		return -1;
	}
	ctxd_hash_key_from_stat(&st, key);
	XXH3_128bits_reset(&state);
	/* one byte past the size, to see a file that grew */
	while (off <= key->size) {
		ssize_t n = pread(fd, buf, CHUNK, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ctxd_error_set(err, "%s: read failed: %s", what, strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		if (off + (uint64_t)n > key->size) {
			grew = true;
			break;
		}
		XXH3_128bits_update(&state, buf, (size_t)n);
		off += (uint64_t)n;
	}
	if (fstat(fd, &st) < 0) {
		ctxd_error_set(err, "%s: cannot stat: %s", what, strerror(errno));
		return -1;
	}
	ctxd_hash_key_from_stat(&st, &after);
	if (grew || off != key->size || !ctxd_hash_key_equal(key, &after)) {
		ctxd_error_set(err, "%s: changed while it was hashed", what);
		return -1;
	}
	h = XXH3_128bits_digest(&state);
	out->hi = h.high64;
	out->lo = h.low64;
	return 0;
}

int ctxd_hash_file(int dirfd, const char *name, struct ctxd_hash *out,
		   struct ctxd_hash_key *key, struct ctxd_error *err)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int rc;

	if (fd < 0) {
		ctxd_error_set(err, "%s: cannot open: %s", name, strerror(errno));
		return -1;
	}
	rc = ctxd_hash_fd(fd, name, out, key, err);
	close(fd);
	return rc;
}
