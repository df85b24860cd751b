/* Baselines and budgets for a report: the figures saved from one run
 * (totals and per-directory sizes, a versioned JSON file) and the check of
 * a later run against an absolute budget and a growth limit, naming the
 * directories that grew most with their sizes before and after. */
#ifndef CTXD_REPORT_BASELINE_H
#define CTXD_REPORT_BASELINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctxd/buf.h"
#include "ctxd/error.h"
#include "ctxd/report.h"

/* The baseline file's schema version (doc/report-schema.md). */
#define CTXD_BASELINE_VERSION 1

struct ctxd_baseline_dir {
	char *path;     /* context-relative directory; "" the root */
	uint64_t bytes; /* what the context holds below it */
};

struct ctxd_baseline {
	uint64_t files, bytes;               /* the measured context */
	uint64_t docker_files, docker_bytes; /* docker's, for reference */
	char *created;                       /* RFC 3339, UTC */
	struct ctxd_baseline_dir *dirs;      /* sorted by path */
	size_t ndirs;
};

/* The baseline document of a finished report (NULL when out of memory). */
json_t *ctxd_baseline_json(const struct ctxd_report *r);
/* Writes it to path atomically. */
int ctxd_baseline_save(const struct ctxd_report *r, const char *path, struct ctxd_error *err);
/* Reads a baseline. A missing or unreadable file, one that is not JSON, not
 * a ctxd baseline or of another schema version is an error naming the file
 * and what is wrong. */
int ctxd_baseline_load(const char *path, struct ctxd_baseline *out, struct ctxd_error *err);
void ctxd_baseline_clear(struct ctxd_baseline *b);

/* The limits a run is held to. */
struct ctxd_budget {
	bool has_budget;
	uint64_t budget;        /* the context may hold at most this many bytes */
	bool has_growth;
	bool growth_is_pct;
	double growth_pct;      /* ... grow at most this percentage over the baseline */
	uint64_t growth_bytes;  /* ... or this many bytes */
};

/* "12", "500MB", "1.5GiB", "20kB": decimal (kB, MB, GB, TB: powers of 1000)
 * and binary (KiB, MiB, GiB, TiB) units, case-insensitive, B optional. -1
 * for anything else. */
int ctxd_budget_parse_size(const char *s, uint64_t *out);
/* --max-growth: "10%" or a size. */
int ctxd_budget_parse_growth(const char *s, struct ctxd_budget *b);

struct ctxd_budget_growth {
	const char *path;   /* borrowed from the report or the baseline */
	uint64_t before, after;
};

struct ctxd_budget_result {
	uint64_t now;                 /* the measured context's bytes */
	bool has_baseline;
	uint64_t before;              /* the baseline's */
	bool over_budget, over_growth;
	uint64_t growth_limit;        /* bytes allowed over the baseline */
	struct ctxd_budget_growth *grew; /* most growth first */
	size_t ngrew;
};

/* Checks r against the limits (baseline may be NULL: no growth check and no
 * list of what grew). Lists at most top directories that grew, each the
 * most precise one that explains the growth. -1 only when out of memory. */
int ctxd_budget_check(const struct ctxd_report *r, const struct ctxd_baseline *baseline,
		      const struct ctxd_budget *limits, size_t top, struct ctxd_budget_result *out,
		      struct ctxd_error *err);
void ctxd_budget_result_clear(struct ctxd_budget_result *res);

static inline bool ctxd_budget_over(const struct ctxd_budget_result *res)
{
	return res->over_budget || res->over_growth;
}

/* The result for people (text), for CI summaries (markdown) and as the
 * report JSON's "budget" member. */
void ctxd_budget_text(const struct ctxd_budget_result *res, const struct ctxd_budget *limits,
		      struct ctxd_buf *out);
void ctxd_budget_markdown(const struct ctxd_budget_result *res, const struct ctxd_budget *limits,
			  struct ctxd_buf *out);
json_t *ctxd_budget_json(const struct ctxd_budget_result *res, const struct ctxd_budget *limits);

#endif
