/* What the filter chain did, in files and bytes: what docker would send
 * (everything .dockerignore lets through), what ctxd sends, and what each
 * filter left out. Counted by a scan visitor that sits in front of another
 * (pack, manifest, ls), so it costs no second pass. */
#ifndef CTXD_SUMMARY_H
#define CTXD_SUMMARY_H

#include <stdint.h>

#include "ctxd/buf.h"
#include "ctxd/entry.h"
#include "ctxd/error.h"
#include "ctxd/gitview.h"
#include "ctxd/scan.h"

struct ctxd_summary_count {
	uint64_t files; /* regular files with content (hard links not counted) */
	uint64_t bytes; /* their content */
};

struct ctxd_summary {
	struct ctxd_summary_count sent;
	struct ctxd_summary_count docker;                /* the docker CLI's context */
	struct ctxd_summary_count by_reason[CTXD_REASON_GIT_UNTRACKED + 1];
	/* Sent files a git filter stricter than git_filter would drop, by
	 * their git state (entry.git): what it would save. */
	struct ctxd_git_savings git;
	enum ctxd_git_filter git_filter; /* the filter in force */
	/* The visitor every entry is passed on to; NULL for none. */
	ctxd_scan_visit_fn next;
	void *next_ud;
};

/* A ctxd_scan_visit_fn (ud = the summary): counts e, then calls next.
 * The docker figures are whole only when the scan lists excluded entries
 * and the directories the Dockerfile filter skips (want_excluded,
 * list_unread). */
int ctxd_summary_visit(void *ud, const struct ctxd_entry *e, struct ctxd_error *err);

/* What --git-filter=f would save beyond what is dropped now: the sent
 * files it would drop. Zero for a filter no stricter than git_filter. */
struct ctxd_summary_count ctxd_summary_git_would_save(const struct ctxd_summary *s,
						      enum ctxd_git_filter f);

/* One line for people, e.g. "12 files, 3.4 MB of docker's 1,230 files,
 * 1.2 GB (not read by the Dockerfile: 1,218 files, 1.2 GB)", then what a
 * stricter git filter would save: "; --git-filter=ignored would save 3
 * files, 1.2 kB, --git-filter=untracked 5 files, 2.0 kB". */
void ctxd_summary_format(const struct ctxd_summary *s, struct ctxd_buf *out);

#endif
