/* The daemon's in-memory view of one project tree: every entry with its
 * stat key (the fields a tar header and a hash depend on), symlink
 * targets, and XXH3-128 content hashes computed when first asked for and
 * kept while the stat key holds. Directories the project's .dockerignore
 * excludes, and no exception can reach into, are recorded but not listed
 * (nor watched); a walk that needs one reads it from the disk.
 *
 * The index never watches anything itself: it calls the hooks for every
 * directory it lists and drops (the watch module turns them into inotify
 * watches), and is told what changed through ctxd_index_refresh. */
#ifndef CTXD_INDEX_H
#define CTXD_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctxd/error.h"
#include "ctxd/hash.h"
#include "ctxd/scan.h"

struct ctxd_index;
struct ctxd_index_node;

struct ctxd_index_hooks {
	/* A directory was listed into the index: watch it (path is absolute).
	 * Returns 0, or -1 with errno; a failure is remembered (see
	 * ctxd_index_hook_failed) and the index stays complete. */
	int (*watch_dir)(void *ud, struct ctxd_index_node *dir, const char *path);
	/* A listed directory left the index (or is about to be rebuilt). */
	void (*unwatch_dir)(void *ud, struct ctxd_index_node *dir);
	void *ud;
};

struct ctxd_index_stats {
	uint64_t entries;    /* every entry below the root */
	uint64_t files;      /* regular files */
	uint64_t dirs;       /* directories listed (the root included) */
	uint64_t bytes;      /* the files' sizes */
	uint64_t hashed;     /* files with a cached hash */
	uint64_t memory;     /* bytes the index holds, path bytes excluded */
	uint64_t path_bytes; /* names and symlink targets */
};

/* An empty index of the directory root (absolute, symlinks resolved);
 * hooks may be NULL. Nothing is read until ctxd_index_build. */
int ctxd_index_create(const char *root, const struct ctxd_index_hooks *hooks,
		      struct ctxd_index **out, struct ctxd_error *err);
void ctxd_index_destroy(struct ctxd_index *idx);

const char *ctxd_index_root(const struct ctxd_index *idx);

/* (Re)reads the whole tree from the disk, calling unwatch_dir for every
 * directory of the old tree first. Cached hashes survive for files whose
 * stat key did not change. Fails only when the root cannot be read. */
int ctxd_index_build(struct ctxd_index *idx, struct ctxd_error *err);

/* Something happened to `name` in the listed directory dir (name NULL:
 * to dir itself): make the index agree with the disk again, re-reading
 * whatever that takes (a new or replaced directory is listed whole, a
 * vanished one dropped with its watches; other names of a multiply-linked
 * file are re-read, their link count moved too). Returns 0, 1 when the
 * whole index must be rebuilt (the project's .dockerignore changed), or
 * -1 on ENOMEM. */
int ctxd_index_refresh(struct ctxd_index *idx, struct ctxd_index_node *dir, const char *name,
		       struct ctxd_error *err);

/* The listed directory dir is no longer the inode the index read (its
 * watch says the inode was freed): whatever now has its name is read as
 * new, even when the file system gave it the same inode number, as ext4
 * does for a directory deleted and made again. Returns as
 * ctxd_index_refresh (1 for the root). */
int ctxd_index_forget(struct ctxd_index *idx, struct ctxd_index_node *dir, struct ctxd_error *err);

/* Re-reads the stat of every file that has names the index does not
 * hold (in a directory left unread, or outside the project): a write
 * through such a name comes with no event here. For a query, after the
 * events up to now are applied. Returns 0, or -1 on ENOMEM. */
int ctxd_index_restat_links(struct ctxd_index *idx, struct ctxd_error *err);

/* The root's node, NULL before a build. */
struct ctxd_index_node *ctxd_index_top(const struct ctxd_index *idx);

/* The watcher's own number for a listed directory (its inotify watch
 * descriptor), -1 until set. */
int ctxd_index_node_tag(const struct ctxd_index_node *n);
void ctxd_index_node_set_tag(struct ctxd_index_node *n, int tag);
/* The absolute path of a node, malloc'd; NULL on ENOMEM. */
char *ctxd_index_node_path(const struct ctxd_index *idx, const struct ctxd_index_node *n);
/* Names the index never holds: the daemon's sync cookies. */
bool ctxd_index_is_cookie(const char *name);
#define CTXD_INDEX_COOKIE_PREFIX ".ctxd-cookie-"

/* The number of watch_dir calls that failed since the last build, and the
 * errno of the first. */
unsigned ctxd_index_hook_failed(const struct ctxd_index *idx, int *first_errno);

void ctxd_index_stats(const struct ctxd_index *idx, struct ctxd_index_stats *out);

/* The hash of the regular file at path (context-relative): the cached one
 * while its stat key holds, otherwise read now (and cached once the clock
 * has moved past the file's ctime). *key is the key it belongs to. */
int ctxd_index_hash(struct ctxd_index *idx, const char *path, struct ctxd_hash *out,
		    struct ctxd_hash_key *key, struct ctxd_error *err);

/* A scan source (include/ctxd/scan.h) reading the index; valid while the
 * index is neither refreshed nor rebuilt. rootfd must be the project
 * root's. Entries name no directory fd: their content is read through the
 * root, by path. */
void ctxd_index_source(struct ctxd_index *idx, struct ctxd_scan_source *out);

#endif
