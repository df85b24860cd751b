/* One context entry: what a tar header says about a path, plus where its
 * bytes come from. Every consumer (pack, ls, report) reads this one type. */
#ifndef CTXD_ENTRY_H
#define CTXD_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctxd/gitview.h"

enum ctxd_entry_type {
	CTXD_ENTRY_FILE,
	CTXD_ENTRY_DIR,
	CTXD_ENTRY_SYMLINK,
	CTXD_ENTRY_HARDLINK, /* a later name of an inode already in the stream */
	CTXD_ENTRY_FIFO,
	CTXD_ENTRY_CHAR,
	CTXD_ENTRY_BLOCK,
	CTXD_ENTRY_SOCKET, /* never sent; reported only */
};

/* Which filter of the chain decided that an entry is not sent. */
enum ctxd_entry_reason {
	CTXD_REASON_SENT,          /* in the context */
	CTXD_REASON_DOCKERIGNORE,  /* excluded by the ignore file (rule says which line) */
	CTXD_REASON_NOT_READ,      /* no instruction of the Dockerfile can read it */
	CTXD_REASON_GIT_IGNORED,   /* git ignores it (--git-filter) */
	CTXD_REASON_GIT_UNTRACKED, /* git does not track it (--git-filter=untracked) */
};

struct ctxd_entry {
	const char *path;   /* context-relative, '/'-separated, no trailing '/' */
	size_t path_len;
	enum ctxd_entry_type type;
	uint32_t mode;      /* permission bits with setuid, setgid, sticky */
	uint64_t size;      /* bytes of content (FILE only) */
	int64_t mtime;      /* seconds; Docker drops the fraction */
	uint32_t mtime_nsec;
	uint64_t dev, ino;
	uint32_t nlink;
	uint32_t rdev_major, rdev_minor;
	const char *link;   /* SYMLINK: raw target; HARDLINK: earlier path */
	size_t link_len;

	/* Where the content is. `data` set: these bytes, not the disk (the
	 * entries Docker synthesises). Otherwise the file `name` in directory
	 * `dirfd`, valid only while the entry is being visited; dirfd < 0 means
	 * open `path` relative to the context root. */
	const void *data;
	int dirfd;
	const char *name;

	/* Why it is or is not in the context. */
	bool excluded;      /* listed only when the scan asks for exclusions */
	enum ctxd_entry_reason reason; /* why excluded; CTXD_REASON_SENT when not */
	bool pruned;        /* an excluded directory whose inside was not read */
	int rule;           /* index of the deciding ignore pattern, or -1 */
	/* Git's state as the git filter sees it: CTXD_GIT_NONE when the scan
	 * did not ask git, or the Dockerfile names the path (the filter keeps
	 * it whatever git says). Set on sent entries and git-dropped ones. */
	enum ctxd_git_state git;
};

/* "-rw-r--r--"-style text for the entry's type and mode; out holds 11. */
void ctxd_entry_mode_string(const struct ctxd_entry *e, char out[11]);

/* Short type name: "file", "dir", "symlink", "hardlink", "fifo", "char",
 * "block", "socket". */
const char *ctxd_entry_type_name(enum ctxd_entry_type t);

/* Short reason name for machines: "sent", "dockerignore", "not-read",
 * "git-ignored", "git-untracked". */
const char *ctxd_entry_reason_name(enum ctxd_entry_reason r);
/* The same for people: "not read by the Dockerfile", ... */
const char *ctxd_entry_reason_text(enum ctxd_entry_reason r);

#endif
