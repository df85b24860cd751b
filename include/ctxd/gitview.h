/* Git's view of a context directory (libgit2): for each context-relative
 * path, whether git tracks it, leaves it untracked or ignores it, and for an
 * ignored path the rule that decided. The context may be the work tree's
 * root, a subdirectory, inside a submodule or a linked worktree, or in no
 * repository at all (then every answer is CTXD_GIT_NONE). */
#ifndef CTXD_GITVIEW_H
#define CTXD_GITVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctxd/error.h"

struct ctxd_gitview;

enum ctxd_git_state {
	CTXD_GIT_NONE,      /* not git's business: no repository */
	CTXD_GIT_TRACKED,   /* in the index; a directory holding a tracked path */
	CTXD_GIT_UNTRACKED, /* neither tracked nor ignored */
	CTXD_GIT_IGNORED,   /* ignored by git (and untracked), or a .git entry */
};

/* What --git-filter drops. */
enum ctxd_git_filter {
	CTXD_GIT_FILTER_OFF,
	CTXD_GIT_FILTER_IGNORED,   /* .git and ignored paths */
	CTXD_GIT_FILTER_UNTRACKED, /* those and untracked paths */
};

/* Opens git's view of the directory `dir` (absolute, symlinks resolved, as
 * ctxd_context's root). No enclosing repository, or a bare one, is not an
 * error: the view then answers CTXD_GIT_NONE. A repository libgit2 cannot
 * read (a corrupt index, one owned by another user) is. The caller owns
 * *out and frees it with ctxd_gitview_destroy. */
int ctxd_gitview_open(const char *dir, struct ctxd_gitview **out, struct ctxd_error *err);
/* After the open's error, in the warning a walk gives when only its
 * summary asked git: the same words whether the client or the daemon
 * opened the view. */
#define CTXD_GITVIEW_NO_SAVINGS "the summary cannot say what --git-filter would save"
void ctxd_gitview_destroy(struct ctxd_gitview *gv);

/* Whether the files the view was read from outside the context are
 * unchanged (the index, the repository's, the user's and the system's
 * config, info/exclude, the excludes file, the .gitignore files above a
 * context below the work tree's root), so a long-lived process can keep
 * using it while the context's own tree is unchanged too (its .gitignore
 * files are read as the tree is asked about). A view that opened a nested
 * repository's is never current. */
bool ctxd_gitview_current(const struct ctxd_gitview *gv);

/* Keeps libgit2 initialised until the matching release, for a long-lived
 * process (the daemon) that opens views over and over: otherwise each
 * open initialises libgit2 again, which with Debian's build parses the
 * whole CA bundle (about 15 ms). -1 when libgit2 cannot be loaded; then
 * do not release. */
int ctxd_gitview_hold(void);
void ctxd_gitview_release(void);

/* The work tree's root (absolute, with no trailing '/'), or NULL when no
 * repository encloses the directory. */
const char *ctxd_gitview_workdir(const struct ctxd_gitview *gv);

/* Git's state of a context-relative path ('/'-separated, no trailing '/').
 * A directory is TRACKED when it holds a tracked path (so the walker must
 * go in), IGNORED or UNTRACKED when nothing inside is tracked (so the
 * walker may skip it whole without opening it). Inside a submodule the
 * submodule's own repository answers; inside a nested repository that is
 * not a submodule the nested root's state holds for everything under it, as
 * git status does not look inside. Cost: a binary search of the index, plus
 * one libgit2 ignore check for an untracked path. */
int ctxd_gitview_state(struct ctxd_gitview *gv, const char *path, size_t len, bool is_dir,
		       enum ctxd_git_state *out, struct ctxd_error *err);

/* The rule that makes git ignore a path. */
struct ctxd_git_rule {
	const char *file;    /* absolute path of the .gitignore, info/exclude or
			      * core.excludesFile; NULL when git itself decides
			      * (a .git entry, a nested repository's inside) */
	unsigned line;       /* 1-based; 0 when file is NULL */
	const char *pattern; /* the pattern as written, or what git decided */
	const char *matched; /* the context-relative path the rule matched: the
			      * path or the ignored directory holding it */
};

/* The deciding rule for an ignored path: 1 with *out filled (its strings live
 * as long as gv), 0 when no rule ignores the path, -1 on error. As `git
 * check-ignore -v --no-index`: the index does not matter, a path inside an
 * ignored directory gets the directory's rule, deeper .gitignore files win
 * over shallower ones, then info/exclude, then core.excludesFile. */
int ctxd_gitview_rule(struct ctxd_gitview *gv, const char *path, size_t len, bool is_dir,
		      struct ctxd_git_rule *out, struct ctxd_error *err);

/* What a git filter drops, or would drop: regular files and their bytes.
 * --git-filter=ignored saves the ignored part, untracked both. */
struct ctxd_git_savings {
	uint64_t ignored_files, ignored_bytes;
	uint64_t untracked_files, untracked_bytes; /* untracked and not ignored */
};

/* Counts a sent regular file of `size` bytes in state s. */
void ctxd_git_savings_add(struct ctxd_git_savings *sv, enum ctxd_git_state s, uint64_t size);

/* Whether the filter drops a path in state s. */
bool ctxd_git_filter_drops(enum ctxd_git_filter f, enum ctxd_git_state s);

/* "off", "ignored", "untracked" to the filter; -1 for anything else. */
int ctxd_git_filter_parse(const char *s, enum ctxd_git_filter *out);
const char *ctxd_git_filter_name(enum ctxd_git_filter f);

#endif
