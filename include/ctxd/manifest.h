/* The manifest: a context's entries in stream order, held in memory so they
 * can be counted, listed and packed without walking the tree again. */
#ifndef CTXD_MANIFEST_H
#define CTXD_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "ctxd/entry.h"
#include "ctxd/error.h"
#include "ctxd/hash.h"
#include "ctxd/pack.h"

struct ctxd_manifest;

/* "No such entry", for ctxd_manifest_duplicate_of. */
#define CTXD_MANIFEST_NONE SIZE_MAX

struct ctxd_manifest_totals {
	uint64_t entries;
	uint64_t files;  /* regular files, hard links not counted */
	uint64_t bytes;  /* their content */
};

struct ctxd_manifest *ctxd_manifest_create(void);
void ctxd_manifest_destroy(struct ctxd_manifest *m);

/* A ctxd_scan_visit_fn (ud = the manifest): copies each entry it is given,
 * strings and in-memory content included. Excluded entries are kept apart
 * and counted, not stored. */
int ctxd_manifest_visit(void *ud, const struct ctxd_entry *e, struct ctxd_error *err);

size_t ctxd_manifest_count(const struct ctxd_manifest *m);
/* Entry i; valid until the manifest is destroyed. Its content is read
 * through the context root (dirfd is -1). */
const struct ctxd_entry *ctxd_manifest_entry(const struct ctxd_manifest *m, size_t i);
const struct ctxd_manifest_totals *ctxd_manifest_totals(const struct ctxd_manifest *m);

/* Content identity, filled by ctxd_dedup_run (include/ctxd/dedup.h). Only
 * files that could have a duplicate are hashed. ctxd_manifest_hash returns
 * NULL for an entry not hashed; otherwise the hash, and in *key (if not
 * NULL) the stat key it was computed under. The pointers stay valid until
 * the manifest is destroyed. */
const struct ctxd_hash *ctxd_manifest_hash(const struct ctxd_manifest *m, size_t i,
					   const struct ctxd_hash_key **key);
void ctxd_manifest_set_hash(struct ctxd_manifest *m, size_t i, const struct ctxd_hash *h,
			    const struct ctxd_hash_key *key);
/* The earlier entry whose bytes were compared equal to entry i's, or
 * CTXD_MANIFEST_NONE. */
size_t ctxd_manifest_duplicate_of(const struct ctxd_manifest *m, size_t i);
void ctxd_manifest_set_duplicate_of(struct ctxd_manifest *m, size_t i, size_t of);

/* Adds every entry to pk, in order. */
int ctxd_manifest_pack(const struct ctxd_manifest *m, struct ctxd_pack *pk, struct ctxd_error *err);

#endif
