/* The cold walk of a context directory, in the docker CLI's order
 * (depth-first, each directory's names sorted by bytes), deciding each path
 * as its tar walker does and raising the errors its validation pass raises.
 * Entries stream to a visitor; directories that cannot hold a sent path are
 * never opened. */
#ifndef CTXD_SCAN_H
#define CTXD_SCAN_H

#include <stdbool.h>
#include <sys/stat.h>

#include "ctxd/context.h"
#include "ctxd/entry.h"
#include "ctxd/error.h"
#include "ctxd/gitview.h"
#include "ctxd/select.h"

/* Called for every entry in stream order; return 0 to go on, -1 to stop
 * (with err set). The entry and its strings live only during the call. */
typedef int (*ctxd_scan_visit_fn)(void *ud, const struct ctxd_entry *e,
				  struct ctxd_error *err);

/* Where the walk reads the tree: the disk (ctxd_scan_disk_source, the
 * default) or another view of it that answers exactly as the disk would at
 * that instant, such as the daemon's synced index (include/ctxd/index.h).
 * A directory is an opaque handle; failures return -1 (or NULL) with errno
 * set as the system call would have. */
struct ctxd_scan_dir;

struct ctxd_scan_source {
	/* The directory at `path` (context-relative, "" for the root): a
	 * child `name` of `parent`, or, when parent is NULL, reached from
	 * rootfd. */
	struct ctxd_scan_dir *(*open_dir)(void *ud, int rootfd, struct ctxd_scan_dir *parent,
					  const char *name, const char *path);
	/* Its names sorted by bytes, without "." and ".."; valid until close. */
	int (*list)(void *ud, struct ctxd_scan_dir *dir, char ***names, size_t *n);
	/* lstat of the i-th listed name. */
	int (*stat)(void *ud, struct ctxd_scan_dir *dir, size_t i, struct stat *st);
	/* The i-th name's symlink target, malloc'd and NUL-terminated. */
	char *(*readlink)(void *ud, struct ctxd_scan_dir *dir, size_t i, size_t *len);
	/* The fd the entries' `name` is relative to, or -1: open `path`
	 * relative to the context root instead. */
	int (*fd)(void *ud, struct ctxd_scan_dir *dir);
	void (*close)(void *ud, struct ctxd_scan_dir *dir);
	void *ud;
};

extern const struct ctxd_scan_source ctxd_scan_disk_source;

struct ctxd_scan_options {
	/* NULL: the disk. */
	const struct ctxd_scan_source *source;
	/* Also visit what is not sent (entry.excluded set): excluded paths
	 * the walk saw, and excluded directories it did not open (pruned). */
	bool want_excluded;
	/* The Dockerfile filter: only what it selects is sent (with the
	 * directories leading to it); NULL sends docker's whole context. */
	const struct ctxd_select *select;
	/* With want_excluded: also list what is inside the directories the
	 * select rules out (stat only, never reading a file), so totals can
	 * say what docker would send. Off: those directories are never
	 * opened. Problems inside them are warnings, not errors. */
	bool list_unread;
	/* Git's view of the context; NULL: git is not asked. With it, each
	 * entry the other filters would send carries its git state
	 * (entry.git), so a summary can say what a git filter would save, and
	 * git_filter drops what it covers (reasons GIT_IGNORED and
	 * GIT_UNTRACKED) except what git_keep names (ctxd_select_names: the
	 * path or an ancestor by a literal source). A directory the filter
	 * drops is never opened unless git_keep names a path inside it (then
	 * it is sent only as the parent of what is sent), or list_unread asks
	 * for its inside (stat only, as for the Dockerfile filter). */
	struct ctxd_gitview *git;
	enum ctxd_git_filter git_filter;
	const struct ctxd_select *git_keep;
	/* Non-fatal problems Docker only logs (a socket it cannot send, a
	 * directory it cannot list); NULL to drop them. */
	void (*warn)(void *ud, const char *msg);
	void *warn_ud;
};

/* Walks ctx and visits its entries, the Dockerfile copy and .dockerignore
 * rewrite Docker adds for an outside Dockerfile included. Returns 0, or -1
 * with err set (the first error in walk order, as Docker reports it). */
int ctxd_scan_run(const struct ctxd_context *ctx, const struct ctxd_scan_options *opts,
		  ctxd_scan_visit_fn visit, void *ud, struct ctxd_error *err);

#endif
