/* Content hashes: XXH3-128 of a file's bytes, read as a stream, and the stat
 * key a hash stays valid under. The daemon's index stores hashes by key; a
 * key that no longer matches the file means the hash must be computed again.
 * Everything here works on caller-owned values: nothing is allocated, and
 * the functions never close the fds they are given. */
#ifndef CTXD_HASH_H
#define CTXD_HASH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "ctxd/error.h"

/* An XXH3-128 value (seed 0); hi is the canonical form's first half. */
struct ctxd_hash {
	uint64_t hi, lo;
};

/* What must not change for a hash to stay valid. ctime is in it because a
 * write always moves ctime, even when mtime is set back afterwards. A key is
 * trustworthy only once the clock has moved past its ctime: a write in the
 * same clock tick as the read leaves every field as it was (dedup compares
 * such files again after the tick; an index should not cache their hashes
 * before it). */
struct ctxd_hash_key {
	uint64_t dev, ino, size;
	int64_t mtime, ctime;
	uint32_t mtime_nsec, ctime_nsec;
};

void ctxd_hash_key_from_stat(const struct stat *st, struct ctxd_hash_key *key);
bool ctxd_hash_key_equal(const struct ctxd_hash_key *a, const struct ctxd_hash_key *b);

/* Same content hash; the bytes may still differ (compare them when it matters). */
bool ctxd_hash_equal(const struct ctxd_hash *a, const struct ctxd_hash *b);

/* Lower-case hex of the canonical (big-endian) form; out holds 33. */
char *ctxd_hash_hex(const struct ctxd_hash *h, char out[33]);

/* Hashes a regular file's content from offset 0 (the fd's offset is not
 * used). *key is the file's key before and after the read; if the two
 * differ, or the bytes read disagree with the size, the file changed while
 * it was read and -1 is returned. `what` names the file in messages. */
int ctxd_hash_fd(int fd, const char *what, struct ctxd_hash *out, struct ctxd_hash_key *key,
		 struct ctxd_error *err);

/* Opens name in dirfd (no symlink followed; it must be a regular file) and
 * hashes it as ctxd_hash_fd does. */
int ctxd_hash_file(int dirfd, const char *name, struct ctxd_hash *out,
		   struct ctxd_hash_key *key, struct ctxd_error *err);

#endif
