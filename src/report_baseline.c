/* Saving and reading baselines, checking budgets (see
 * include/ctxd/report_baseline.h; the file format is in
 * doc/report-schema.md). */
#include "ctxd/report_baseline.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctxd/outfile.h"
#include "ctxd/units.h"

/* Directories deeper than this are not saved: their growth shows in their
 * ancestors. */
#define BASELINE_DEPTH 8

static void add_dirs(json_t *dirs, const struct ctxd_report_dir *d)
{
	if (!d->by[CTXD_REASON_SENT].bytes)
		return;
	json_object_set_new(dirs, d->path, json_integer((json_int_t)d->by[CTXD_REASON_SENT].bytes));
	if (d->depth >= BASELINE_DEPTH)
		return;
	for (size_t i = 0; i < d->nkids; i++)
		add_dirs(dirs, d->kids[i]);
}

static void now_rfc3339(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
}

json_t *ctxd_baseline_json(const struct ctxd_report *r)
{
	const struct ctxd_summary_count *m = ctxd_report_measure(r);
	json_t *dirs = json_object();
	char when[32];

	if (!dirs)
		return NULL;
	add_dirs(dirs, r->root);
	now_rfc3339(when);
	return json_pack("{sssisssssIsIsIsIso}", "schema", "ctxd-baseline", "version",
			 CTXD_BASELINE_VERSION, "created", when, "context", r->ctx->root, "files",
			 (json_int_t)m->files, "bytes", (json_int_t)m->bytes, "docker_files",
			 (json_int_t)r->sum.docker.files, "docker_bytes", (json_int_t)r->sum.docker.bytes,
			 "dirs", dirs);
}

int ctxd_baseline_save(const struct ctxd_report *r, const char *path, struct ctxd_error *err)
{
	json_t *j = ctxd_baseline_json(r);
	char *s = j ? json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
	struct ctxd_outfile *of;
	int rc = -1;

	json_decref(j);
	if (!s) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	if ((of = ctxd_outfile_open(path, false, err))) {
		if (ctxd_outfile_write(of, s, strlen(s), err) < 0 || ctxd_outfile_write(of, "\n", 1, err) < 0)
			ctxd_outfile_abort(of);
		else
			rc = ctxd_outfile_commit(of, err);
	}
	if (rc < 0)
		ctxd_error_prefix(err, "cannot save the baseline");
	free(s);
	return rc;
}

static int cmp_dir(const void *a, const void *b)
{
	return strcmp(((const struct ctxd_baseline_dir *)a)->path,
		      ((const struct ctxd_baseline_dir *)b)->path);
}

static bool get_count(json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

int ctxd_baseline_load(const char *path, struct ctxd_baseline *out, struct ctxd_error *err)
{
	json_error_t je;
	json_t *j, *v, *dirs;
	const char *key;
	size_t i = 0;

	memset(out, 0, sizeof *out);
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		FILE *f = fopen(path, "r");

		if (!f)
			ctxd_error_set(err, "baseline %s: %s", path, strerror(errno));
		else
			ctxd_error_set(err, "baseline %s: not a ctxd baseline (line %d: %s)", path, je.line,
				       je.text);
		if (f)
			fclose(f);
		return -1;
	}
	if (!json_is_object(j) || !json_is_string(json_object_get(j, "schema")) ||
	    strcmp(json_string_value(json_object_get(j, "schema")), "ctxd-baseline") != 0) {
		ctxd_error_set(err, "baseline %s: not a ctxd baseline (no \"schema\": \"ctxd-baseline\")",
			       path);
		goto fail;
	}
	v = json_object_get(j, "version");
	if (!json_is_integer(v) || json_integer_value(v) != CTXD_BASELINE_VERSION) {
		ctxd_error_set(err, "baseline %s: schema version %s; this ctxd reads version %d: save a new "
			       "one with --save-baseline", path,
			       json_is_integer(v) ? (json_integer_value(v) > CTXD_BASELINE_VERSION
							     ? "is newer" : "is older")
						  : "is missing",
			       CTXD_BASELINE_VERSION);
		goto fail;
	}
	dirs = json_object_get(j, "dirs");
	if (!get_count(j, "files", &out->files) || !get_count(j, "bytes", &out->bytes) ||
	    !get_count(j, "docker_files", &out->docker_files) ||
	    !get_count(j, "docker_bytes", &out->docker_bytes) || !json_is_object(dirs)) {
		ctxd_error_set(err, "baseline %s: corrupt: files, bytes, docker_files, docker_bytes or "
			       "dirs missing or not counts", path);
		goto fail;
	}
	if ((v = json_object_get(j, "created")) && json_is_string(v))
		out->created = strdup(json_string_value(v));
	out->dirs = calloc(json_object_size(dirs) + 1, sizeof *out->dirs);
	if (!out->dirs) {
		ctxd_error_set(err, "out of memory");
		goto fail;
	}
	json_object_foreach(dirs, key, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			ctxd_error_set(err, "baseline %s: corrupt: the size of directory \"%s\" is not a count",
				       path, key);
			goto fail;
		}
		if (!(out->dirs[i].path = strdup(key))) {
			ctxd_error_set(err, "out of memory");
			goto fail;
		}
		out->dirs[i++].bytes = (uint64_t)json_integer_value(v);
		out->ndirs = i;
	}
	if (out->ndirs > 1)
		qsort(out->dirs, out->ndirs, sizeof *out->dirs, cmp_dir);
	json_decref(j);
	return 0;
fail:
	json_decref(j);
	ctxd_baseline_clear(out);
	return -1;
}

void ctxd_baseline_clear(struct ctxd_baseline *b)
{
	for (size_t i = 0; i < b->ndirs; i++)
		free(b->dirs[i].path);
	free(b->dirs);
	free(b->created);
	memset(b, 0, sizeof *b);
}

int ctxd_budget_parse_size(const char *s, uint64_t *out)
{
	static const struct { const char *unit; double mult; } units[] = {
		{"", 1}, {"b", 1}, {"k", 1e3}, {"kb", 1e3}, {"m", 1e6}, {"mb", 1e6}, {"g", 1e9},
		{"gb", 1e9}, {"t", 1e12}, {"tb", 1e12}, {"kib", 1024.0}, {"mib", 1048576.0},
		{"gib", 1073741824.0}, {"tib", 1099511627776.0},
	};
	char *end;
	double v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || !isfinite(v))
		return -1;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
		if (strcasecmp(end, units[i].unit) == 0) {
			double b = v * units[i].mult;

			if (b >= 1.8e19)
				return -1;
			*out = (uint64_t)(b + 0.5);
			return 0;
		}
	}
	return -1;
}

int ctxd_budget_parse_growth(const char *s, struct ctxd_budget *b)
{
	size_t n = s ? strlen(s) : 0;

	if (n > 1 && s[n - 1] == '%') {
		char *end;
		double v;

		if (!isdigit((unsigned char)*s))
			return -1;
		errno = 0;
		v = strtod(s, &end);
		if (errno || end != s + n - 1 || !isfinite(v) || v > 1e9)
			return -1;
		b->has_growth = b->growth_is_pct = true;
		b->growth_pct = v;
		return 0;
	}
	if (ctxd_budget_parse_size(s, &b->growth_bytes) < 0)
		return -1;
	b->has_growth = true;
	b->growth_is_pct = false;
	return 0;
}

static uint64_t before_of(const struct ctxd_baseline *b, const char *path)
{
	struct ctxd_baseline_dir key = {.path = (char *)path}, *hit;

	hit = bsearch(&key, b->dirs, b->ndirs, sizeof *b->dirs, cmp_dir);
	return hit ? hit->bytes : 0;
}

struct grow_ctx {
	const struct ctxd_baseline *b;
	struct ctxd_budget_growth *v;
	size_t n, cap;
	bool oom;
};

static int64_t growth(const struct ctxd_baseline *b, const struct ctxd_report_dir *d)
{
	return (int64_t)d->by[CTXD_REASON_SENT].bytes - (int64_t)before_of(b, d->path);
}

/* A directory is listed when it grew and no single subdirectory explains
 * nine tenths of its growth (that one is listed instead). */
static void collect(struct grow_ctx *g, const struct ctxd_report_dir *d)
{
	int64_t mine = growth(g->b, d);
	bool explained = false;

	if (d->depth < BASELINE_DEPTH) {
		for (size_t i = 0; i < d->nkids; i++) {
			if (mine > 0 && growth(g->b, d->kids[i]) * 10 >= mine * 9)
				explained = true;
			collect(g, d->kids[i]);
		}
	}
	if (mine <= 0 || explained || g->oom)
		return;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		struct ctxd_budget_growth *v = realloc(g->v, cap * sizeof *v);

		if (!v) {
			g->oom = true;
			return;
		}
		g->v = v;
		g->cap = cap;
	}
	g->v[g->n++] = (struct ctxd_budget_growth){
		.path = d->path, .before = before_of(g->b, d->path), .after = d->by[CTXD_REASON_SENT].bytes};
}

static int cmp_growth(const void *a, const void *b)
{
	const struct ctxd_budget_growth *x = a, *y = b;
	uint64_t gx = x->after - x->before, gy = y->after - y->before;

	if (gx != gy)
		return gx < gy ? 1 : -1;
	return strcmp(x->path, y->path);
}

int ctxd_budget_check(const struct ctxd_report *r, const struct ctxd_baseline *baseline,
		      const struct ctxd_budget *limits, size_t top, struct ctxd_budget_result *out,
		      struct ctxd_error *err)
{
	memset(out, 0, sizeof *out);
	out->now = ctxd_report_measure(r)->bytes;
	if (limits->has_budget && out->now > limits->budget)
		out->over_budget = true;
	if (!baseline)
		return 0;
	out->has_baseline = true;
	out->before = baseline->bytes;
	if (limits->has_growth) {
		out->growth_limit = limits->growth_is_pct
					    ? (uint64_t)((double)baseline->bytes * limits->growth_pct / 100.0)
					    : limits->growth_bytes;
		out->over_growth = out->now > baseline->bytes &&
				   out->now - baseline->bytes > out->growth_limit;
	}
	{
		struct grow_ctx g = {.b = baseline};

		collect(&g, r->root);
		if (g.oom) {
			free(g.v);
			ctxd_error_set(err, "out of memory");
			return -1;
		}
		if (g.n) /* qsort(NULL, 0) is undefined; UBSan stops on it */
			qsort(g.v, g.n, sizeof *g.v, cmp_growth);
		out->grew = g.v;
		out->ngrew = g.n < top ? g.n : top;
	}
	return 0;
}

void ctxd_budget_result_clear(struct ctxd_budget_result *res)
{
	free(res->grew);
	memset(res, 0, sizeof *res);
}

static void limit_lines(const struct ctxd_budget_result *res, const struct ctxd_budget *l,
			struct ctxd_buf *o, const char *bullet)
{
	char a[16], b[16], c[16];

	if (l->has_budget)
		ctxd_buf_printf(o, "%s%s: the context holds %s, budget %s\n", bullet,
				res->over_budget ? "OVER BUDGET" : "within budget",
				ctxd_units_human(res->now, a), ctxd_units_human(l->budget, b));
	if (res->has_baseline) {
		int64_t d = (int64_t)res->now - (int64_t)res->before;

		ctxd_buf_printf(o, "%s%s: %s against the baseline's %s (%s%s, %+.1f%%)", bullet,
				!l->has_growth ? "growth" : res->over_growth ? "GREW TOO MUCH" : "growth within limit",
				ctxd_units_human(res->now, a), ctxd_units_human(res->before, b),
				d < 0 ? "-" : "+", ctxd_units_human((uint64_t)(d < 0 ? -d : d), c),
				res->before ? 100.0 * (double)d / (double)res->before : 0.0);
		if (l->has_growth)
			ctxd_buf_printf(o, "; allowed +%s", ctxd_units_human(res->growth_limit, a));
		ctxd_buf_putc(o, '\n');
	}
}

/* The limits and the paths that grew most: text for a terminal, or
 * markdown. */
static void budget_out(const struct ctxd_budget_result *res, const struct ctxd_budget *limits,
		       bool md, struct ctxd_buf *o)
{
	char a[16], b[16], c[16];

	ctxd_buf_puts(o, md ? "\n#### Budget\n\n" : "\nBudget\n");
	limit_lines(res, limits, o, md ? "- " : "  ");
	if (res->ngrew)
		ctxd_buf_puts(o, md ? "\n| grew most | before | after | growth |\n|---|---:|---:|---:|\n"
				    : "  grew most:\n");
	for (size_t i = 0; i < res->ngrew; i++) {
		const char *path = *res->grew[i].path ? res->grew[i].path : ".";

		ctxd_units_human(res->grew[i].before, a);
		ctxd_units_human(res->grew[i].after, b);
		ctxd_units_human(res->grew[i].after - res->grew[i].before, c);
		if (md)
			ctxd_buf_printf(o, "| `%s` | %s | %s | +%s |\n", path, a, b, c);
		else
			ctxd_buf_printf(o, "    %-40s %10s -> %-10s (+%s)\n", path, a, b, c);
	}
}

void ctxd_budget_text(const struct ctxd_budget_result *res, const struct ctxd_budget *limits,
		      struct ctxd_buf *o)
{
	budget_out(res, limits, false, o);
}

void ctxd_budget_markdown(const struct ctxd_budget_result *res, const struct ctxd_budget *limits,
			  struct ctxd_buf *o)
{
	budget_out(res, limits, true, o);
}

json_t *ctxd_budget_json(const struct ctxd_budget_result *res, const struct ctxd_budget *limits)
{
	json_t *o = json_object(), *a = json_array();

	json_object_set_new(o, "bytes", json_integer((json_int_t)res->now));
	json_object_set_new(o, "budget", limits->has_budget ? json_integer((json_int_t)limits->budget)
							    : json_null());
	json_object_set_new(o, "over_budget", json_boolean(res->over_budget));
	json_object_set_new(o, "baseline_bytes",
			    res->has_baseline ? json_integer((json_int_t)res->before) : json_null());
	json_object_set_new(o, "growth_limit", res->has_baseline && limits->has_growth
						       ? json_integer((json_int_t)res->growth_limit)
						       : json_null());
	json_object_set_new(o, "over_growth", json_boolean(res->over_growth));
	for (size_t i = 0; i < res->ngrew; i++)
		json_array_append_new(a, json_pack("{sssIsI}", "path", res->grew[i].path, "before",
						   (json_int_t)res->grew[i].before, "after",
						   (json_int_t)res->grew[i].after));
	json_object_set_new(o, "grew", a);
	return o;
}
