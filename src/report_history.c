/* The context-size history file (see include/ctxd/report_history.h). */
#include "ctxd/report_history.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctxd/outfile.h"
#include "ctxd/units.h"

#define HISTORY_MAX (1u << 20)

char *ctxd_history_path(struct ctxd_error *err)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *p = NULL;

	/* the XDG spec: a relative XDG_STATE_HOME is invalid and ignored */
	if (state && *state == '/') {
		if (asprintf(&p, "%s/ctxd/history.jsonl", state) < 0)
			p = NULL;
	} else if (home && *home) {
		if (asprintf(&p, "%s/.local/state/ctxd/history.jsonl", home) < 0)
			p = NULL;
	} else {
		ctxd_error_set(err, "no history: neither XDG_STATE_HOME nor HOME is set");
		return NULL;
	}
	if (!p)
		ctxd_error_set(err, "out of memory");
	return p;
}

/* mkdir -p of path's directory, new directories 0700. */
static int make_parents(const char *path, struct ctxd_error *err)
{
	char *d = strdup(path);

	if (!d) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	for (char *p = d + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(d, 0700) < 0 && errno != EEXIST) {
			ctxd_error_set(err, "%s: %s", d, strerror(errno));
			free(d);
			return -1;
		}
		*p = '/';
	}
	free(d);
	return 0;
}

/* Past HISTORY_MAX, rewrites the file with its newer half. */
static void trim(const char *path)
{
	FILE *f = fopen(path, "r");
	struct ctxd_outfile *of;
	struct ctxd_error err;
	char *buf, *start;
	long size;

	if (!f)
		return;
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < HISTORY_MAX || fseek(f, 0, SEEK_SET) < 0 ||
	    !(buf = malloc((size_t)size + 1))) {
		fclose(f);
		return;
	}
	if (fread(buf, 1, (size_t)size, f) == (size_t)size) {
		buf[size] = '\0';
		start = strchr(buf + size / 2, '\n');
		if (start && (of = ctxd_outfile_open(path, false, &err))) {
			if (ctxd_outfile_write(of, start + 1, strlen(start + 1), &err) < 0)
				ctxd_outfile_abort(of);
			else
				ctxd_outfile_commit(of, &err);
		}
	}
	free(buf);
	fclose(f);
}

int ctxd_history_append(const char *path, const struct ctxd_history_record *rec,
			struct ctxd_error *err)
{
	json_t *top = json_array();
	json_t *j;
	char *line;
	int fd, rc = -1;

	for (size_t i = 0; i < CTXD_HISTORY_TOP && rec->top[i].name; i++)
		json_array_append_new(top, json_pack("[sI]", rec->top[i].name, (json_int_t)rec->top[i].bytes));
	j = json_pack("{sisIsssssssIsIsIsIso}", "v", CTXD_HISTORY_VERSION, "time", (json_int_t)rec->time,
		      "context", rec->context, "dockerfile", rec->dockerfile, "cmd", rec->cmd, "files",
		      (json_int_t)rec->files, "bytes", (json_int_t)rec->bytes, "docker_files",
		      (json_int_t)rec->docker_files, "docker_bytes", (json_int_t)rec->docker_bytes, "top", top);
	line = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(j);
	if (!line) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	if (make_parents(path, err) < 0)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		ctxd_error_set(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	{
		/* one write per line: concurrent appends do not interleave */
		size_t n = strlen(line);

		line[n] = '\n';
		if (write(fd, line, n + 1) != (ssize_t)(n + 1))
			ctxd_error_set(err, "%s: write failed: %s", path, strerror(errno));
		else
			rc = 0;
		line[n] = '\0';
	}
	close(fd);
	if (rc == 0)
		trim(path);
out:
	free(line);
	return rc;
}

static bool parse(json_t *j, struct ctxd_history_record *r)
{
	json_t *top;
	size_t i = 0;

	memset(r, 0, sizeof *r);
	if (json_integer_value(json_object_get(j, "v")) != CTXD_HISTORY_VERSION ||
	    !json_is_string(json_object_get(j, "context")) ||
	    !json_is_string(json_object_get(j, "dockerfile")) || !json_is_string(json_object_get(j, "cmd")))
		return false;
	r->time = json_integer_value(json_object_get(j, "time"));
	r->files = (uint64_t)json_integer_value(json_object_get(j, "files"));
	r->bytes = (uint64_t)json_integer_value(json_object_get(j, "bytes"));
	r->docker_files = (uint64_t)json_integer_value(json_object_get(j, "docker_files"));
	r->docker_bytes = (uint64_t)json_integer_value(json_object_get(j, "docker_bytes"));
	r->context = strdup(json_string_value(json_object_get(j, "context")));
	r->dockerfile = strdup(json_string_value(json_object_get(j, "dockerfile")));
	r->cmd = strdup(json_string_value(json_object_get(j, "cmd")));
	top = json_object_get(j, "top");
	for (size_t k = 0; json_is_array(top) && k < json_array_size(top) && i < CTXD_HISTORY_TOP; k++) {
		json_t *e = json_array_get(top, k);

		if (!json_is_string(json_array_get(e, 0)))
			continue;
		r->top[i].name = strdup(json_string_value(json_array_get(e, 0)));
		r->top[i++].bytes = (uint64_t)json_integer_value(json_array_get(e, 1));
	}
	return r->context && r->dockerfile && r->cmd;
}

static void record_free(struct ctxd_history_record *r)
{
	free(r->context);
	free(r->dockerfile);
	free(r->cmd);
	for (size_t i = 0; i < CTXD_HISTORY_TOP; i++)
		free(r->top[i].name);
}

void ctxd_history_free(struct ctxd_history_record *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		record_free(&v[i]);
	free(v);
}

int ctxd_history_load(const char *path, const char *context, const char *dockerfile,
		      struct ctxd_history_record **out, size_t *n, struct ctxd_error *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, vcap = 0;
	struct ctxd_history_record *v = NULL;

	*out = NULL;
	*n = 0;
	if (!f) {
		if (errno == ENOENT)
			return 0;
		ctxd_error_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) > 0) {
		json_t *j = json_loads(line, 0, NULL);
		struct ctxd_history_record r;

		if (!j)
			continue;
		if (parse(j, &r) && strcmp(r.context, context) == 0 && strcmp(r.dockerfile, dockerfile) == 0) {
			if (*n == vcap) {
				struct ctxd_history_record *g = realloc(v, (vcap = vcap ? vcap * 2 : 16) * sizeof *g);

				if (!g) {
					record_free(&r);
					json_decref(j);
					ctxd_history_free(v, *n);
					free(line);
					fclose(f);
					ctxd_error_set(err, "out of memory");
					return -1;
				}
				v = g;
			}
			v[(*n)++] = r;
		} else {
			record_free(&r);
		}
		json_decref(j);
	}
	free(line);
	fclose(f);
	*out = v;
	return 0;
}

static uint64_t top_bytes(const struct ctxd_history_record *r, const char *name)
{
	for (size_t i = 0; i < CTXD_HISTORY_TOP && r->top[i].name; i++)
		if (strcmp(r->top[i].name, name) == 0)
			return r->top[i].bytes;
	return 0;
}

/* The top-level directory whose size changed most between a and b. */
static const char *changed_most(const struct ctxd_history_record *a,
				const struct ctxd_history_record *b, int64_t *delta)
{
	const char *best = NULL;

	*delta = 0;
	for (int side = 0; side < 2; side++) {
		const struct ctxd_history_record *r = side ? a : b;

		for (size_t i = 0; i < CTXD_HISTORY_TOP && r->top[i].name; i++) {
			int64_t d = (int64_t)top_bytes(b, r->top[i].name) - (int64_t)top_bytes(a, r->top[i].name);

			if ((d < 0 ? -d : d) > (*delta < 0 ? -*delta : *delta)) {
				*delta = d;
				best = r->top[i].name;
			}
		}
	}
	return best;
}

static void signed_human(int64_t d, char out[17])
{
	out[0] = d < 0 ? '-' : '+';
	ctxd_units_human((uint64_t)(d < 0 ? -d : d), out + 1);
}

void ctxd_history_text(const struct ctxd_history_record *v, size_t n, struct ctxd_buf *o)
{
	if (!n) {
		ctxd_buf_puts(o, "No history for this context yet: ctxd build and ctxd report record it.\n");
		return;
	}
	ctxd_buf_printf(o, "%-20s %-7s %10s %10s %12s  %s\n", "when (UTC)", "command", "sent", "change",
			"docker's", "changed most");
	for (size_t i = 0; i < n; i++) {
		char when[32], s[16], c[17] = "", dk[16], m[17];
		time_t t = (time_t)v[i].time;
		struct tm tm;
		const char *what = NULL;
		int64_t d = 0;

		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
		if (i) {
			signed_human((int64_t)v[i].bytes - (int64_t)v[i - 1].bytes, c);
			what = changed_most(&v[i - 1], &v[i], &d);
		}
		ctxd_buf_printf(o, "%-20s %-7s %10s %10s %12s", when, v[i].cmd, ctxd_units_human(v[i].bytes, s),
				c, ctxd_units_human(v[i].docker_bytes, dk));
		if (what && d) {
			signed_human(d, m);
			ctxd_buf_printf(o, "  %s/ %s", what, m);
		}
		ctxd_buf_putc(o, '\n');
	}
}

int ctxd_history_growth_warning(const struct ctxd_history_record *v, size_t n,
				const struct ctxd_history_record *rec, double pct, uint64_t min_bytes,
				struct ctxd_buf *out)
{
	const struct ctxd_history_record *last = NULL;
	char a[16], b[16], when[32], m[17];
	const char *what;
	int64_t d;
	time_t t;
	struct tm tm;

	for (size_t i = n; i > 0 && !last; i--)
		if (strcmp(v[i - 1].cmd, "build") == 0)
			last = &v[i - 1];
	if (!last || rec->bytes <= last->bytes || rec->bytes - last->bytes < min_bytes ||
	    (double)(rec->bytes - last->bytes) * 100.0 <= pct * (double)last->bytes)
		return 0;
	t = (time_t)last->time;
	strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime_r(&t, &tm));
	ctxd_buf_printf(out, "the context grew from %s to %s since the last build (%s)",
			ctxd_units_human(last->bytes, a), ctxd_units_human(rec->bytes, b), when);
	if (last->bytes)
		ctxd_buf_printf(out, ", +%.0f%%", 100.0 * (double)(rec->bytes - last->bytes) / (double)last->bytes);
	what = changed_most(last, rec, &d);
	if (what && d > 0) {
		signed_human(d, m);
		ctxd_buf_printf(out, "; most in %s/ (%s)", what, m);
	}
	ctxd_buf_puts(out, ": see ctxd report --history");
	return 1;
}

/* Keeps the CTXD_HISTORY_TOP largest of (name, bytes), largest first. */
static void top_insert(struct ctxd_history_dir *top, const char *name, size_t len, uint64_t bytes)
{
	size_t i = CTXD_HISTORY_TOP;

	if (top[i - 1].name && top[i - 1].bytes >= bytes)
		return;
	free(top[i - 1].name);
	top[i - 1].name = NULL;
	while (i > 1 && (!top[i - 2].name || top[i - 2].bytes < bytes)) {
		top[i - 1] = top[i - 2];
		i--;
	}
	top[i - 1].name = strndup(name, len);
	top[i - 1].bytes = bytes;
	/* a failed copy leaves a hole: close it */
	if (!top[i - 1].name)
		memmove(&top[i - 1], &top[i], (CTXD_HISTORY_TOP - i) * sizeof *top);
}

/* Adds size to the tally of path's top-level directory (files at the
 * top belong to none). */
static int tally_add(struct ctxd_history_tally *t, const char *path, size_t plen, uint64_t size)
{
	const char *slash = memchr(path, '/', plen);
	size_t len, k;

	if (!slash)
		return 0;
	len = (size_t)(slash - path);
	for (k = 0; k < t->n && (strlen(t->dirs[k].name) != len || memcmp(t->dirs[k].name, path, len)); k++)
		;
	if (k == t->n) {
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 32;
			struct ctxd_history_dir *g = realloc(t->dirs, cap * sizeof *g);

			if (!g)
				return -1;
			t->dirs = g;
			t->cap = cap;
		}
		if (!(t->dirs[k].name = strndup(path, len)))
			return -1;
		t->dirs[k].bytes = 0;
		t->n++;
	}
	t->dirs[k].bytes += size;
	return 0;
}

int ctxd_history_tally_visit(void *ud, const struct ctxd_entry *e, struct ctxd_error *err)
{
	struct ctxd_history_tally *t = ud;

	if (!e->excluded && e->type == CTXD_ENTRY_FILE && tally_add(t, e->path, e->path_len, e->size) < 0) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	return t->next ? t->next(t->next_ud, e, err) : 0;
}

void ctxd_history_tally_top(const struct ctxd_history_tally *t,
			    struct ctxd_history_dir top[CTXD_HISTORY_TOP + 1])
{
	memset(top, 0, (CTXD_HISTORY_TOP + 1) * sizeof *top);
	for (size_t k = 0; k < t->n; k++) {
		size_t i = CTXD_HISTORY_TOP;

		if (top[i - 1].name && top[i - 1].bytes >= t->dirs[k].bytes)
			continue;
		while (i > 1 && (!top[i - 2].name || top[i - 2].bytes < t->dirs[k].bytes)) {
			top[i - 1] = top[i - 2];
			i--;
		}
		top[i - 1] = t->dirs[k];
	}
}

void ctxd_history_tally_free(struct ctxd_history_tally *t)
{
	for (size_t k = 0; k < t->n; k++)
		free(t->dirs[k].name);
	free(t->dirs);
	t->dirs = NULL;
	t->n = t->cap = 0;
}

void ctxd_history_top_from_manifest(struct ctxd_history_record *rec, const struct ctxd_manifest *m)
{
	struct ctxd_history_tally t = {0};
	struct ctxd_history_dir top[CTXD_HISTORY_TOP + 1];

	for (size_t i = 0; i < ctxd_manifest_count(m); i++) {
		const struct ctxd_entry *e = ctxd_manifest_entry(m, i);

		if (e->type == CTXD_ENTRY_FILE && tally_add(&t, e->path, e->path_len, e->size) < 0)
			break;
	}
	ctxd_history_tally_top(&t, top);
	for (size_t i = 0; top[i].name; i++)
		top_insert(rec->top, top[i].name, strlen(top[i].name), top[i].bytes);
	ctxd_history_tally_free(&t);
}

int ctxd_history_record_run(const struct ctxd_context *ctx, const char *cmd,
			    const struct ctxd_summary *sum, const struct ctxd_manifest *m,
			    const struct ctxd_history_dir *rec_top, struct ctxd_buf *warning,
			    struct ctxd_error *err)
{
	struct ctxd_history_record rec = {
		.time = (int64_t)time(NULL), .context = ctx->root, .dockerfile = ctx->dockerfile_rel,
		.cmd = (char *)cmd, .files = sum->sent.files, .bytes = sum->sent.bytes,
		.docker_files = sum->docker.files, .docker_bytes = sum->docker.bytes,
	};
	struct ctxd_history_record *v = NULL;
	size_t n = 0;
	char *path = ctxd_history_path(err);
	int rc = -1;

	if (!path)
		return -1;
	if (m)
		ctxd_history_top_from_manifest(&rec, m);
	for (size_t i = 0; rec_top && i < CTXD_HISTORY_TOP && rec_top[i].name; i++)
		top_insert(rec.top, rec_top[i].name, strlen(rec_top[i].name), rec_top[i].bytes);
	if (strcmp(cmd, "build") == 0 && warning) {
		if (ctxd_history_load(path, ctx->root, ctx->dockerfile_rel, &v, &n, err) < 0)
			goto out;
		ctxd_history_growth_warning(v, n, &rec, CTXD_HISTORY_WARN_PCT, CTXD_HISTORY_WARN_MIN, warning);
	}
	rc = ctxd_history_append(path, &rec, err);
out:
	for (size_t i = 0; i < CTXD_HISTORY_TOP; i++)
		free(rec.top[i].name);
	ctxd_history_free(v, n);
	free(path);
	return rc;
}
