/* Context entries to a tar stream with the docker CLI's headers (USTAR, PAX
 * only where a value does not fit, uid/gid 0, no user names, whole-second
 * mtimes), optionally compressed. Streams: memory does not grow with the
 * tree. */
#ifndef CTXD_PACK_H
#define CTXD_PACK_H

#include <stdint.h>

#include "ctxd/entry.h"
#include "ctxd/error.h"
#include "ctxd/hash.h"

enum ctxd_compress {
	CTXD_COMPRESS_NONE,
	CTXD_COMPRESS_GZIP,
	CTXD_COMPRESS_XZ,
	CTXD_COMPRESS_BZIP2,
};

/* Receives the stream; return 0, or -1 with err set to abort. */
typedef int (*ctxd_pack_write_fn)(void *ud, const void *buf, size_t len,
				  struct ctxd_error *err);

struct ctxd_pack_stats {
	uint64_t entries;       /* tar entries written */
	uint64_t files;         /* regular files with content */
	uint64_t content_bytes; /* file bytes read */
	uint64_t stream_bytes;  /* bytes handed to the writer */
	uint64_t tar_bytes;     /* the tar before compression: all of it after
				 * finish; while packing, as of the writer's
				 * latest call (the writer may read it) */
};

struct ctxd_pack;

/* root/rootfd: the context directory, for entries that carry no open dirfd.
 * The packer keeps neither; the caller keeps them open until destroy. */
struct ctxd_pack *ctxd_pack_create(int rootfd, const char *root,
				   enum ctxd_compress compress,
				   ctxd_pack_write_fn write, void *ud,
				   struct ctxd_error *err);

/* Appends one entry (excluded entries are ignored). File content is read
 * now; if the file is not the regular file of the scanned size any more, or
 * changes size while read, the stream is unusable and -1 is returned. */
int ctxd_pack_add(struct ctxd_pack *pk, const struct ctxd_entry *e,
		  struct ctxd_error *err);

/* As ctxd_pack_add, for a file whose bytes were compared with another's
 * (dedup): its stat key must be `key` when opened and again after its
 * content is read, or the stream is aborted: what was compared is what is
 * sent. */
int ctxd_pack_add_verified(struct ctxd_pack *pk, const struct ctxd_entry *e,
			   const struct ctxd_hash_key *key, struct ctxd_error *err);

/* Writes the file entry e as a hard link (typeflag 1, no content) to the
 * earlier name `target`, with e's mode and mtime. The caller answers for
 * the two having the same bytes. */
int ctxd_pack_add_link(struct ctxd_pack *pk, const struct ctxd_entry *e, const char *target,
		       struct ctxd_error *err);

/* A ctxd_scan_visit_fn that adds to the ctxd_pack passed as ud. */
int ctxd_pack_visit(void *ud, const struct ctxd_entry *e, struct ctxd_error *err);

/* Hands the writer what the packer holds back (up to 256 KiB): for a
 * caller about to wait on its input, so the reader is never kept waiting
 * on bytes that are ready. A compressor keeps what it has not finished. */
int ctxd_pack_flush(struct ctxd_pack *pk, struct ctxd_error *err);

/* Writes the end-of-archive blocks and flushes the compressor. */
int ctxd_pack_finish(struct ctxd_pack *pk, struct ctxd_error *err);

const struct ctxd_pack_stats *ctxd_pack_stats(const struct ctxd_pack *pk);

void ctxd_pack_destroy(struct ctxd_pack *pk);

#endif
