/* Identical files in a manifest. Two files are the same content only when
 * their sizes match, then their XXH3-128 hashes, then their bytes compared
 * one by one, so a hash collision can never put one file's bytes under
 * another's name. Only files whose size (and mode) occurs at least twice are
 * hashed; each file is hashed at most once. With --dedup, later copies are
 * sent as tar hard links to the first one (see README: this changes the
 * image, so it is opt-in). */
#ifndef CTXD_DEDUP_H
#define CTXD_DEDUP_H

#include <stdint.h>

#include "ctxd/error.h"
#include "ctxd/manifest.h"
#include "ctxd/pack.h"

/* What a run did (cost) and found. */
struct ctxd_dedup_stats {
	uint64_t candidates;      /* files sharing size and mode with another */
	uint64_t reused;          /* hashes already in the manifest, file unchanged */
	uint64_t hashed_files;
	uint64_t hashed_bytes;    /* read to hash */
	uint64_t compared_bytes;  /* read again to compare, both sides counted */
	uint64_t recompared;      /* pairs compared again: written in the clock tick of the run */
	uint64_t unreadable;      /* candidates skipped: unreadable or changing */
	uint64_t collisions;      /* same size and hash, different bytes */
};

/* What --dedup leaves out of the stream: files sent as links, and their
 * content bytes. */
struct ctxd_dedup_savings {
	uint64_t files;
	uint64_t bytes;
};

/* Finds duplicates among m's regular files (read through rootfd, the
 * context directory) and records them in m: each hashed file's hash and
 * stat key, and for each later copy the entry of its first copy
 * (ctxd_manifest_duplicate_of). Only files with the same mode are linked,
 * so a link never changes a file's permissions; empty files and entries
 * whose bytes are in memory are left alone. A hash already in m (the
 * daemon's index) is used without reading the file while the file keeps the
 * stat key stored with it. A file that cannot be read or
 * changes while read is left unmarked (the packer reports it). stats may be
 * NULL. Returns -1 only when out of memory. */
int ctxd_dedup_run(struct ctxd_manifest *m, int rootfd, struct ctxd_dedup_stats *stats,
		   struct ctxd_error *err);

/* Calls fn with the index of each file of m that ctxd_dedup_run would
 * hash: regular, not empty, its bytes not in memory, and sharing size and
 * mode with another (the daemon hashes these for a client that
 * deduplicates). Returns -1 only when out of memory. */
int ctxd_dedup_candidates(const struct ctxd_manifest *m, void (*fn)(void *ud, size_t i), void *ud,
			  struct ctxd_error *err);

/* The files and bytes --dedup saves (or would save), from m's marks. */
void ctxd_dedup_savings(const struct ctxd_manifest *m, struct ctxd_dedup_savings *out);

/* Adds every entry of m to pk, in order, each marked copy as a hard link to
 * its first copy carrying the first copy's mtime (so every name of the
 * inode in the image has the first copy's metadata). Files that were
 * compared must still have the stat key they had then (first copies while
 * their bytes are sent, later copies when their link is written); if not,
 * the stream is aborted. rootfd/root: the context directory. */
int ctxd_dedup_pack(const struct ctxd_manifest *m, int rootfd, const char *root,
		    struct ctxd_pack *pk, struct ctxd_error *err);

#endif
