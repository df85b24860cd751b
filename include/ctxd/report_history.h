/* The context-size history on a developer's machine: one JSON line per
 * build or report, in $XDG_STATE_HOME/ctxd/history.jsonl (default
 * ~/.local/state/ctxd/history.jsonl), each with the context, the time, the
 * totals and the largest top-level directories, so `ctxd report --history`
 * can say when the context grew and by what, and `ctxd build` can warn when
 * it grew since the last build. The file is kept small: past 1 MiB the
 * older half is dropped. */
#ifndef CTXD_REPORT_HISTORY_H
#define CTXD_REPORT_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "ctxd/buf.h"
#include "ctxd/context.h"
#include "ctxd/error.h"
#include "ctxd/manifest.h"
#include "ctxd/scan.h"
#include "ctxd/summary.h"

#define CTXD_HISTORY_VERSION 1
/* Top-level directories kept per record. */
#define CTXD_HISTORY_TOP 8

struct ctxd_history_dir {
	char *name;
	uint64_t bytes;
};

struct ctxd_history_record {
	int64_t time;          /* seconds since the epoch */
	char *context;         /* absolute context directory */
	char *dockerfile;      /* relative to the context */
	char *cmd;             /* "build" or "report" */
	uint64_t files, bytes; /* what ctxd sends */
	uint64_t docker_files, docker_bytes;
	struct ctxd_history_dir top[CTXD_HISTORY_TOP]; /* largest first; name NULL past the end */
};

/* The history file's path, malloc'd; NULL (err set) when neither
 * XDG_STATE_HOME nor HOME is set. */
char *ctxd_history_path(struct ctxd_error *err);

/* Appends rec to the file at path (its directory made 0700 if missing). */
int ctxd_history_append(const char *path, const struct ctxd_history_record *rec,
			struct ctxd_error *err);

/* The records of one context and Dockerfile, oldest first; lines that do
 * not parse are skipped. A missing file is an empty history. */
int ctxd_history_load(const char *path, const char *context, const char *dockerfile,
		      struct ctxd_history_record **out, size_t *n, struct ctxd_error *err);
void ctxd_history_free(struct ctxd_history_record *v, size_t n);

/* The history for people: each record with its change from the previous
 * one and the top-level directory that changed most. */
void ctxd_history_text(const struct ctxd_history_record *v, size_t n, struct ctxd_buf *out);

/* The warning `ctxd build` prints once: when rec's bytes grew over the last
 * build's in v by more than pct percent and min_bytes, one line into out
 * (nothing otherwise). Returns 1 when it warned. */
int ctxd_history_growth_warning(const struct ctxd_history_record *v, size_t n,
				const struct ctxd_history_record *rec, double pct, uint64_t min_bytes,
				struct ctxd_buf *out);

/* `ctxd build` grows past this since the last build: one warning line. */
#define CTXD_HISTORY_WARN_PCT 10.0
#define CTXD_HISTORY_WARN_MIN (1000 * 1000)

/* Fills rec's top directories from the sent files of m. */
void ctxd_history_top_from_manifest(struct ctxd_history_record *rec, const struct ctxd_manifest *m);

/* Sent bytes by top-level directory, added up entry by entry for a run
 * with no manifest: ctxd_history_tally_visit is a ctxd_scan_visit_fn (ud:
 * the tally) that passes every entry on to next. */
struct ctxd_history_tally {
	struct ctxd_history_dir *dirs; /* every top-level directory, names owned */
	size_t n, cap;
	ctxd_scan_visit_fn next;
	void *next_ud;
};

int ctxd_history_tally_visit(void *ud, const struct ctxd_entry *e, struct ctxd_error *err);
/* The largest directories, largest first, into top (names borrowed from
 * t; name NULL past the end): the rec_top of ctxd_history_record_run. */
void ctxd_history_tally_top(const struct ctxd_history_tally *t,
			    struct ctxd_history_dir top[CTXD_HISTORY_TOP + 1]);
void ctxd_history_tally_free(struct ctxd_history_tally *t);

/* For a run of `cmd` on ctx (sum: its figures; m: its sent entries, for the
 * top directories, or NULL with top already filled in rec_top): appends
 * the record, and for "build" puts the growth warning in warning (empty
 * when none). A history that cannot be written is an error the caller may
 * print as a warning; nothing is appended then. */
int ctxd_history_record_run(const struct ctxd_context *ctx, const char *cmd,
			    const struct ctxd_summary *sum, const struct ctxd_manifest *m,
			    const struct ctxd_history_dir *rec_top, struct ctxd_buf *warning,
			    struct ctxd_error *err);

#endif
