/* A .dockerignore pattern list and Docker's ways of applying it: the tar
 * walker's parent-result rule, the validation pass's "or parent" rule, the
 * legacy one-ancestor rule, and the test for skipping a directory whole. */
#ifndef CTXD_IGNORE_H
#define CTXD_IGNORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctxd/error.h"

struct ctxd_ignore;

/* Where a pattern came from, for messages and `ctxd why`. */
struct ctxd_ignore_rule {
	const char *file;    /* ignore file path, or NULL when added by ctxd */
	unsigned line;       /* 1-based line in file, 0 when added */
	const char *text;    /* the pattern as cleaned, '!' included */
	bool exception;
};

struct ctxd_ignore *ctxd_ignore_create(void);
void ctxd_ignore_destroy(struct ctxd_ignore *ig);
/* A deep copy; NULL on ENOMEM. */
struct ctxd_ignore *ctxd_ignore_dup(const struct ctxd_ignore *ig);

/* Reads an ignore file's bytes as Docker's ignorefile.ReadAll does and adds
 * its patterns. `file` names the source in rules and errors (copied). On a
 * bad line, err reads "FILE:LINE: what" and nothing is added. */
int ctxd_ignore_parse(struct ctxd_ignore *ig, const char *data, size_t len,
		      const char *file, struct ctxd_error *err);

/* Reads and parses the file at path. A missing file adds nothing and sets
 * *found false; any other read failure is an error naming the path. */
int ctxd_ignore_load(struct ctxd_ignore *ig, const char *path, bool *found,
		     struct ctxd_error *err);

/* Adds one pattern string as patternmatcher.New takes it ("!x" for an
 * exception); file/line may be NULL/0. */
int ctxd_ignore_add(struct ctxd_ignore *ig, const char *pattern, const char *file,
		    unsigned line, struct ctxd_error *err);

size_t ctxd_ignore_count(const struct ctxd_ignore *ig);
bool ctxd_ignore_has_exceptions(const struct ctxd_ignore *ig);
void ctxd_ignore_rule(const struct ctxd_ignore *ig, size_t i, struct ctxd_ignore_rule *out);

/* The tar walker's decision (MatchesUsingParentResults). `parent` is the
 * vector computed for the path's parent directory, or NULL for a top-level
 * path; `vec` (ctxd_ignore_count bytes) receives this path's vector for its
 * children. *rule is the index of the last pattern that matched, or -1.
 * Returns 1 excluded, 0 sent, -1 on a pattern error (err set). */
int ctxd_ignore_match(const struct ctxd_ignore *ig, const char *path, size_t len,
		      const uint8_t *parent, uint8_t *vec, int *rule,
		      struct ctxd_error *err);

/* The validation pass's decision (MatchesOrParentMatches). */
int ctxd_ignore_match_or_parent(const struct ctxd_ignore *ig, const char *path,
				size_t len, struct ctxd_error *err);

/* The legacy one-ancestor decision (deprecated patternmatcher.Matches) the
 * CLI uses to decide whether to force-include the Dockerfile. */
int ctxd_ignore_match_legacy(const struct ctxd_ignore *ig, const char *path,
			     size_t len, struct ctxd_error *err);

/* Whether the classic walker must still descend into the excluded directory
 * dir: some exception's text + "/" starts with dir + "/" (a literal test). */
bool ctxd_ignore_may_reach_inside(const struct ctxd_ignore *ig, const char *dir,
				  size_t len);

#endif
