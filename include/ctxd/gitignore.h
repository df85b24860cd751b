/* One gitignore pattern list (a .gitignore, info/exclude or core.excludesFile)
 * read and matched as git's dir.c does. libgit2 decides whether git ignores
 * a path; this list only says which line decided it, for `ctxd why` and
 * `ls --excluded`, since libgit2 has no API for that. */
#ifndef CTXD_GITIGNORE_H
#define CTXD_GITIGNORE_H

#include <stdbool.h>
#include <stddef.h>

#include "ctxd/error.h"

struct ctxd_gitignore;

struct ctxd_gitignore_rule {
	const char *file;    /* as given to ctxd_gitignore_parse */
	unsigned line;       /* 1-based */
	const char *text;    /* the line as git keeps it: trailing spaces trimmed,
			      * '!' and a trailing '/' included */
	bool negative;       /* a "!" pattern: re-includes what it matches */
};

/* Parses a pattern file's bytes as git does (optional UTF-8 BOM, '#'
 * comments, CRLF, unescaped trailing spaces trimmed). Git accepts every
 * line, so only memory can fail. `base` is the directory the file sits in,
 * relative to the work tree, "" for the root and for the repository-wide
 * files; `file` names it in rules. Both are copied. The caller owns *out. */
int ctxd_gitignore_parse(const char *data, size_t len, const char *file, const char *base,
			 struct ctxd_gitignore **out, struct ctxd_error *err);
void ctxd_gitignore_destroy(struct ctxd_gitignore *gi);

/* The index of the last pattern matching `path` (work-tree-relative, no
 * trailing '/'; is_dir says whether it is a directory), or -1. Only the
 * list's own patterns are considered: the caller walks the levels. */
int ctxd_gitignore_match(const struct ctxd_gitignore *gi, const char *path, size_t len,
			 bool is_dir);

void ctxd_gitignore_rule(const struct ctxd_gitignore *gi, int i, struct ctxd_gitignore_rule *out);

/* git's wildmatch with WM_PATHNAME ('*' and '?' never match '/', "**"
 * between slashes matches any number of directories). */
bool ctxd_gitignore_wildmatch(const char *pattern, const char *text);

#endif
