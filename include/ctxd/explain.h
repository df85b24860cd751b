/* Why a path is in the context or not: the walk's own decision for it (or
 * for the excluded directory that holds it), with the rule behind it: the
 * ignore file's line, the Dockerfile instruction that reads it, the filter
 * that left it out, or the identical file it duplicates. `ctxd why` prints
 * it; the answer comes from the same scan the other commands run, so it
 * cannot disagree with what they send.
 *
 * Ownership: ctxd_explain_run fills a caller-provided struct whose strings
 * and array it allocates; ctxd_explain_clear frees them. */
#ifndef CTXD_EXPLAIN_H
#define CTXD_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctxd/context.h"
#include "ctxd/entry.h"
#include "ctxd/error.h"
#include "ctxd/manifest.h"
#include "ctxd/scan.h"
#include "ctxd/select.h"

struct ctxd_explain_item {
	char *path;          /* context-relative and clean, as asked */
	bool exists;         /* the path is in the context directory */
	bool sent;
	enum ctxd_entry_reason reason;
	enum ctxd_entry_type type;
	uint64_t size;
	char *via;           /* the excluded directory that decided it; NULL:
			      * the path itself was decided */
	/* The deciding rule of an exclusion: ignore-file line (file NULL for
	 * a pattern docker adds itself) or git rule; text NULL when none. */
	char *rule_file;
	unsigned rule_line;
	char *rule_text;
	char *read_by;       /* sent: the instruction that reads it (or why
			      * everything is read); NULL without pruning */
	/* Git's state of the path when the scan had a git view (NONE
	 * otherwise), and for an ignored path the .gitignore rule (file NULL:
	 * git's own .git, pattern ".git"). git_named: the Dockerfile names
	 * the path, so a git filter keeps it. */
	enum ctxd_git_state git;
	char *git_rule_file;
	unsigned git_rule_line;
	char *git_rule_pattern;
	bool git_named;
	char *duplicate_of;  /* sent: the first file with the same bytes */
};

struct ctxd_explain {
	struct ctxd_explain_item *items; /* in the order asked */
	size_t n;
};

/* Who runs the scan: the caller (the CLI asks the daemon) instead of
 * ctxd_scan_run. run must visit every entry with visit/vud, which puts the
 * sent ones in m, and may put the content hashes it knows in m
 * (ctxd_manifest_set_hash), so duplicates are found without reading every
 * candidate file. */
struct ctxd_explain_scan {
	int (*run)(void *ud, const struct ctxd_scan_options *so, ctxd_scan_visit_fn visit, void *vud,
		   struct ctxd_manifest *m, struct ctxd_error *err);
	void *ud;
};

/* Scans ctx with so (select and filters as the commands use them; the
 * visitor fields are overwritten; through scan when not NULL) and decides
 * each of paths[0..n), which are context-relative. Duplicates are found
 * among sent files. With so->git, each existing path's git state and rule
 * are filled, and a path the git filter dropped has its .gitignore rule as
 * the deciding rule. Returns 0, or -1 with err set (the scan's error, a
 * git error, an invalid path) and *out empty. */
int ctxd_explain_run(const struct ctxd_context *ctx, const struct ctxd_scan_options *so,
		     const struct ctxd_explain_scan *scan, const char *const *paths, size_t n,
		     struct ctxd_explain *out, struct ctxd_error *err);

void ctxd_explain_clear(struct ctxd_explain *x);

#endif
