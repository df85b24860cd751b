/* What is in a build context, aggregated from one scan: what docker would
 * send against what ctxd sends, what each filter saved, the largest
 * directories (a tree), files and extensions, secrets, advice, and the
 * .dockerignore lines that would cut the most. `ctxd report` prints it as
 * text, markdown, JSON or HTML (report_format.c, report_html.c), compares it
 * with a saved baseline (report_baseline.c) and records it in the history
 * (report_history.c).
 *
 * Ownership: ctxd_report_create returns an object the caller frees with
 * ctxd_report_destroy; it borrows ctx, sel and the options' git view,
 * which must outlive it. */
#ifndef CTXD_REPORT_H
#define CTXD_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctxd/buf.h"
#include "ctxd/context.h"
#include "ctxd/entry.h"
#include "ctxd/error.h"
#include "ctxd/gitview.h"
#include "ctxd/report_secrets.h"
#include "ctxd/select.h"
#include "ctxd/summary.h"

/* The JSON schema's version (doc/report-schema.md); bumped on any change
 * that is not an added field. */
#define CTXD_REPORT_SCHEMA_VERSION 1

struct ctxd_report_options {
	unsigned depth;      /* levels of the directory tree shown (0: 2) */
	unsigned top;        /* rows per table (0: 10) */
	bool no_git;         /* do not ask git (no git savings or advice) */
	/* git's view of ctx to ask, borrowed (the command's, already open for
	 * its git filter); NULL: the report opens its own unless no_git.
	 * Opening one reads the whole git index, so it is done once. */
	struct ctxd_gitview *git;
	bool no_dedup;       /* do not look for duplicates (no file is read) */
	/* Size what is inside the directories .dockerignore keeps the walk
	 * out of (stat only): whole .dockerignore savings, at the cost of
	 * listing them. */
	bool measure_ignored;
	/* Files to leave out of the secrets list (NULL: none). */
	const struct ctxd_secrets_allow *allow;
};

struct ctxd_report_count {
	uint64_t files;
	uint64_t bytes;
};

/* A directory of the context, with what lies below it by reason. */
struct ctxd_report_dir {
	char *path;                     /* context-relative; "" for the root */
	const char *name;               /* last component (in path) */
	struct ctxd_report_dir *parent;
	struct ctxd_report_dir **kids;  /* sorted by docker bytes, then name, after finish */
	size_t nkids, capkids;
	unsigned depth;                 /* root 0 */
	/* Regular files below, by the reason they are not sent (SENT: sent).
	 * DOCKERIGNORE includes what is inside directories the walk did not
	 * open, measured without reading a file. */
	struct ctxd_report_count by[CTXD_REASON_GIT_UNTRACKED + 1];
	uint64_t git_ignored_bytes;     /* in docker's context, ignored by git */
	uint64_t git_ignored_files;
	enum ctxd_git_state git;        /* git's state of the directory itself */
};

/* Bytes in docker's context below d (everything not excluded by the
 * ignore file). */
uint64_t ctxd_report_dir_docker(const struct ctxd_report_dir *d);
uint64_t ctxd_report_dir_docker_files(const struct ctxd_report_dir *d);

struct ctxd_report_file {
	char *path;
	uint64_t size;
	enum ctxd_entry_reason reason;
};

struct ctxd_report_ext {
	char *ext;                      /* ".js", or "" for none */
	struct ctxd_report_count docker, sent;
};

/* A line for .dockerignore. */
struct ctxd_report_suggestion {
	char *pattern;
	uint64_t files, bytes;          /* what it would take out of docker's context */
	uint64_t read_bytes;            /* of those, bytes the Dockerfile reads */
	const char *why;                /* "dependencies or caches", "ignored by git", ... */
};

struct ctxd_report_advice {
	char *text;
	uint64_t bytes;                 /* what following it saves (0: unknown) */
};

struct ctxd_report {
	const struct ctxd_context *ctx;
	const struct ctxd_select *sel;
	struct ctxd_report_options opt;
	struct ctxd_summary sum;        /* docker, sent and per-filter figures */
	/* Measured inside the directories .dockerignore kept the walk out
	 * of, with measure_ignored (in sum.by_reason[DOCKERIGNORE] too);
	 * unopened_dirs counts them either way. */
	struct ctxd_report_count unopened;
	uint64_t unopened_dirs;
	struct ctxd_report_count dup;   /* what --dedup saves among sent files */
	bool git_repo;                  /* a repository encloses the context */
	struct ctxd_git_savings git_sent;   /* what a git filter would drop from ctxd's context */
	struct ctxd_git_savings git_docker; /* ... from docker's */
	struct ctxd_report_dir *root;
	struct ctxd_report_file *files; /* largest in docker's context, largest first */
	size_t nfiles;
	struct ctxd_report_ext *exts;   /* all extensions, largest (docker bytes) first */
	size_t nexts;
	struct ctxd_report_suggestion *suggestions; /* best first, at most top */
	size_t nsuggestions;
	struct ctxd_report_advice *advice;
	size_t nadvice;
	struct ctxd_secrets findings;   /* credentials in docker's context */
	const char *prune_all;          /* why the Dockerfile reads everything, or NULL */
	char *git_warning;              /* git's view could not be had, or NULL */
	void *priv;                     /* the collector's state */
};

/* A report on ctx (sel: the Dockerfile filter in force, NULL for docker's
 * whole context). NULL when out of memory. */
struct ctxd_report *ctxd_report_create(const struct ctxd_context *ctx,
				       const struct ctxd_select *sel,
				       const struct ctxd_report_options *opt);
void ctxd_report_destroy(struct ctxd_report *r);

/* A ctxd_scan_visit_fn (ud = the report). The scan must list excluded
 * entries and what pruning skips (want_excluded, list_unread). */
int ctxd_report_visit(void *ud, const struct ctxd_entry *e, struct ctxd_error *err);

/* Once the scan is done: duplicates, sorting, suggestions and advice. */
int ctxd_report_finish(struct ctxd_report *r, struct ctxd_error *err);

/* The figure budgets and baselines measure: what ctxd sends under the
 * options the scan ran with (docker's context with --exact). */
static inline const struct ctxd_summary_count *ctxd_report_measure(const struct ctxd_report *r)
{
	return &r->sum.sent;
}

/* Appends the suggestions to the ignore file in force (PATH/.dockerignore
 * when there is none), after a comment line; a missing final newline is
 * added first. Nothing is written when there is nothing to suggest. */
int ctxd_report_write_suggestions(const struct ctxd_report *r, struct ctxd_error *err);
/* The file ctxd_report_write_suggestions writes to; malloc'd. */
char *ctxd_report_ignore_file(const struct ctxd_report *r);

/* Formats (report_format.c). Text for a terminal; markdown for CI
 * summaries and PR comments. */
void ctxd_report_text(const struct ctxd_report *r, struct ctxd_buf *out);
void ctxd_report_markdown(const struct ctxd_report *r, struct ctxd_buf *out);
/* The suggestions alone, for --suggest. */
void ctxd_report_suggest_text(const struct ctxd_report *r, struct ctxd_buf *out);
/* The documented JSON document (schema CTXD_REPORT_SCHEMA_VERSION);
 * NULL when out of memory. */
json_t *ctxd_report_json(const struct ctxd_report *r);
/* The directory tree below d as JSON, to max_depth, at most max_kids
 * children each, leaving out directories under min_bytes (their bytes
 * stay in the parent's figures). */
json_t *ctxd_report_tree_json(const struct ctxd_report *r, const struct ctxd_report_dir *d,
			      unsigned max_depth, uint64_t min_bytes, size_t max_kids);

/* A self-contained HTML page (report_html.c): an interactive treemap of
 * docker's context by directory, sent against not sent, and the tables.
 * doc: the report's JSON to show (with a "budget" member, say), NULL for
 * ctxd_report_json's; it is not changed. */
int ctxd_report_html(const struct ctxd_report *r, json_t *doc, struct ctxd_buf *out,
		     struct ctxd_error *err);

#endif
