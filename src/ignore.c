/* .dockerignore files: reading (ignorefile.ReadAll), the pattern list
 * (patternmatcher.New) and Docker's decision procedures over it. */
#include "ctxd/ignore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctxd/path.h"
#include "ctxd/pattern.h"
#include "ctxd/utf8.h"

/* bufio.Scanner's limit: a line of 64 KiB or more cannot be read. */
#define MAX_LINE 65535

struct item {
	struct ctxd_pattern *pat;
	char *text; /* with '!' for exceptions */
	const char *file;
	unsigned line;
	bool exception;
};

struct ctxd_ignore {
	struct item *items;
	size_t n, cap;
	char **files; /* file names, owned */
	size_t nfiles;
	bool exceptions;
};

struct ctxd_ignore *ctxd_ignore_create(void)
{
	return calloc(1, sizeof(struct ctxd_ignore));
}

void ctxd_ignore_destroy(struct ctxd_ignore *ig)
{
	if (!ig)
		return;
	for (size_t i = 0; i < ig->n; i++) {
		ctxd_pattern_destroy(ig->items[i].pat);
		free(ig->items[i].text);
	}
	for (size_t i = 0; i < ig->nfiles; i++)
		free(ig->files[i]);
	free(ig->files);
	free(ig->items);
	free(ig);
}

static const char *intern_file(struct ctxd_ignore *ig, const char *file)
{
	char **f;

	if (!file)
		return NULL;
	for (size_t i = 0; i < ig->nfiles; i++)
		if (strcmp(ig->files[i], file) == 0)
			return ig->files[i];
	f = realloc(ig->files, (ig->nfiles + 1) * sizeof *f);
	if (!f)
		return NULL;
	ig->files = f;
	if (!(f[ig->nfiles] = strdup(file)))
		return NULL;
	return f[ig->nfiles++];
}

/* patternmatcher.New for one string: trim, Clean, '!' split, syntax check. */
static int add_pattern(struct ctxd_ignore *ig, const char *s, size_t len, const char *file,
		       unsigned line, struct ctxd_error *err)
{
	struct item it = {0};
	char *clean;
	size_t cl;

	s = ctxd_utf8_trim_space(s, &len);
	if (len == 0)
		return 0;
	clean = malloc(len + 2);
	if (!clean) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	cl = ctxd_path_clean(s, len, clean);
	it.text = clean;
	if (clean[0] == '!') {
		if (cl == 1) {
			ctxd_error_set(err, "illegal exclusion pattern: \"!\"");
			free(clean);
			return -1;
		}
		it.exception = true;
	}
	it.pat = ctxd_pattern_create(clean + it.exception, cl - it.exception, err);
	if (!it.pat) {
		free(clean);
		return -1;
	}
	if (ig->n == ig->cap) {
		size_t cap = ig->cap ? ig->cap * 2 : 16;
		struct item *items = realloc(ig->items, cap * sizeof *items);

		if (!items) {
			ctxd_pattern_destroy(it.pat);
			free(clean);
			ctxd_error_set(err, "out of memory");
			return -1;
		}
		ig->items = items;
		ig->cap = cap;
	}
	it.file = intern_file(ig, file);
	it.line = line;
	ig->items[ig->n++] = it;
	ig->exceptions |= it.exception;
	return 0;
}

int ctxd_ignore_add(struct ctxd_ignore *ig, const char *pattern, const char *file,
		    unsigned line, struct ctxd_error *err)
{
	return add_pattern(ig, pattern, strlen(pattern), file, line, err);
}

/* ReadAll's per-line rewrite: trim, '!', Clean, strip one leading '/'. */
static char *read_line(const char *s, size_t len)
{
	bool invert;
	char *out = malloc(len + 3), *p;
	size_t cl;

	if (!out)
		return NULL;
	invert = s[0] == '!';
	if (invert) {
		s++;
		len--;
		s = ctxd_utf8_trim_space(s, &len);
	}
	p = out + invert;
	if (len > 0) {
		cl = ctxd_path_clean(s, len, p);
		if (cl > 1 && p[0] == '/')
			memmove(p, p + 1, cl); /* moves the NUL too */
	} else {
		p[0] = '\0';
	}
	if (invert)
		out[0] = '!';
	return out;
}

int ctxd_ignore_parse(struct ctxd_ignore *ig, const char *data, size_t len,
		      const char *file, struct ctxd_error *err)
{
	size_t start_n = ig->n, pos = 0;
	unsigned lineno = 0;
	const char *name = file ? file : ".dockerignore";

	while (pos < len) {
		const char *line = data + pos, *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos;
		char *pat;
		int rc;

		pos += ll + (nl != NULL);
		lineno++;
		if (ll > MAX_LINE) {
			ctxd_error_set(err, "%s:%u: line too long (%zu bytes; Docker reads at most %d)",
				       name, lineno, ll, MAX_LINE);
			goto fail;
		}
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (lineno == 1 && ll >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
			line += 3;
			ll -= 3;
		}
		if (ll > 0 && line[0] == '#')
			continue;
		line = ctxd_utf8_trim_space(line, &ll);
		if (ll == 0)
			continue;
		pat = read_line(line, ll);
		if (!pat) {
			ctxd_error_set(err, "out of memory");
			goto fail;
		}
		rc = add_pattern(ig, pat, strlen(pat), file, lineno, err);
		if (rc < 0) {
			ctxd_error_prefix(err, "%s:%u: %s", name, lineno, pat);
			free(pat);
			goto fail;
		}
		free(pat);
	}
	return 0;
fail:
	while (ig->n > start_n) {
		ig->n--;
		ctxd_pattern_destroy(ig->items[ig->n].pat);
		free(ig->items[ig->n].text);
	}
	ig->exceptions = false;
	for (size_t i = 0; i < ig->n; i++)
		ig->exceptions |= ig->items[i].exception;
	return -1;
}

int ctxd_ignore_load(struct ctxd_ignore *ig, const char *path, bool *found,
		     struct ctxd_error *err)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0, cap = 0;
	int fd, rc;

	*found = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		ctxd_error_set(err, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		ctxd_error_set(err, "%s: is a directory, not an ignore file", path);
		return -1;
	}
	for (;;) {
		ssize_t r;

		if (len == cap) {
			char *d;

			cap = cap ? cap * 2 : 4096;
			d = realloc(data, cap);
			if (!d) {
				free(data);
				close(fd);
				ctxd_error_set(err, "out of memory");
				return -1;
			}
			data = d;
		}
		r = read(fd, data + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ctxd_error_set(err, "%s: cannot read: %s", path, strerror(errno));
			free(data);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	*found = true;
	rc = ctxd_ignore_parse(ig, data, len, path, err);
	free(data);
	return rc;
}

struct ctxd_ignore *ctxd_ignore_dup(const struct ctxd_ignore *ig)
{
	struct ctxd_ignore *c = ctxd_ignore_create();
	struct ctxd_error err;

	if (!c)
		return NULL;
	for (size_t i = 0; i < ig->n; i++)
		if (add_pattern(c, ig->items[i].text, strlen(ig->items[i].text),
				ig->items[i].file, ig->items[i].line, &err) < 0) {
			ctxd_ignore_destroy(c);
			return NULL;
		}
	return c;
}

size_t ctxd_ignore_count(const struct ctxd_ignore *ig)
{
	return ig->n;
}

bool ctxd_ignore_has_exceptions(const struct ctxd_ignore *ig)
{
	return ig->exceptions;
}

void ctxd_ignore_rule(const struct ctxd_ignore *ig, size_t i, struct ctxd_ignore_rule *out)
{
	out->file = ig->items[i].file;
	out->line = ig->items[i].line;
	out->text = ig->items[i].text;
	out->exception = ig->items[i].exception;
}

static int match_one(const struct item *it, const char *path, size_t len, struct ctxd_error *err)
{
	int m = ctxd_pattern_match(it->pat, path, len, err);

	if (m < 0 && it->file)
		ctxd_error_prefix(err, "%s:%u: %s", it->file, it->line, it->text);
	else if (m < 0)
		ctxd_error_prefix(err, "%s", it->text);
	return m;
}

/* Does the pattern match any of the first k ancestors prefixes? Errors are
 * ignored here, as Docker ignores them for parents. */
static bool match_ancestors(const struct item *it, const char *path, size_t len, size_t maxdepth)
{
	size_t depth = 0;

	for (size_t i = 0; i < len && depth < maxdepth; i++) {
		if (path[i] != '/')
			continue;
		depth++;
		if (ctxd_pattern_match(it->pat, path, i, NULL) > 0)
			return true;
	}
	return false;
}

int ctxd_ignore_match(const struct ctxd_ignore *ig, const char *path, size_t len,
		      const uint8_t *parent, uint8_t *vec, int *rule, struct ctxd_error *err)
{
	bool matched = false;

	*rule = -1;
	for (size_t i = 0; i < ig->n; i++) {
		const struct item *it = &ig->items[i];
		bool m = parent && parent[i];

		if (!m) {
			int r;

			if (it->exception != matched) {
				vec[i] = 0;
				continue;
			}
			r = match_one(it, path, len, err);
			if (r < 0)
				return -1;
			m = r > 0;
			if (!m && !parent)
				m = match_ancestors(it, path, len, SIZE_MAX);
		}
		vec[i] = m;
		if (m) {
			matched = !it->exception;
			*rule = (int)i;
		}
	}
	return matched;
}

int ctxd_ignore_match_or_parent(const struct ctxd_ignore *ig, const char *path, size_t len,
				struct ctxd_error *err)
{
	bool matched = false;

	for (size_t i = 0; i < ig->n; i++) {
		const struct item *it = &ig->items[i];
		int r;

		if (it->exception != matched)
			continue;
		r = match_one(it, path, len, err);
		if (r < 0)
			return -1;
		if (r == 0)
			r = match_ancestors(it, path, len, SIZE_MAX);
		if (r)
			matched = !it->exception;
	}
	return matched;
}

int ctxd_ignore_match_legacy(const struct ctxd_ignore *ig, const char *path, size_t len,
			     struct ctxd_error *err)
{
	bool matched = false;
	size_t parent_depth = 0, slashes = 0;
	char *clean;

	/* Matches() cleans its input and never excludes "." */
	clean = malloc(len + 2);
	if (!clean) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	len = ctxd_path_clean(path, len, clean);
	if (strcmp(clean, ".") == 0) {
		free(clean);
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		slashes += clean[i] == '/';
	parent_depth = slashes; /* elements of Dir(path); 0 when Dir is "." */
	for (size_t i = 0; i < ig->n; i++) {
		const struct item *it = &ig->items[i];
		size_t depth = ctxd_pattern_depth(it->pat);
		int r;

		if (it->exception != matched)
			continue;
		r = match_one(it, clean, len, err);
		if (r < 0) {
			free(clean);
			return -1;
		}
		if (r == 0 && parent_depth > 0 && depth <= parent_depth) {
			/* the ancestor with exactly as many elements as the pattern */
			size_t seen = 0, end = 0;

			for (end = 0; end < len; end++)
				if (clean[end] == '/' && ++seen == depth)
					break;
			r = ctxd_pattern_match(it->pat, clean, end, NULL) > 0;
		}
		if (r)
			matched = !it->exception;
	}
	free(clean);
	return matched;
}

bool ctxd_ignore_may_reach_inside(const struct ctxd_ignore *ig, const char *dir, size_t len)
{
	for (size_t i = 0; i < ig->n; i++) {
		const char *t;
		size_t tl;

		if (!ig->items[i].exception)
			continue;
		t = ctxd_pattern_text(ig->items[i].pat);
		tl = strlen(t);
		/* (t + "/") starts with (dir + "/") */
		if (tl + 1 >= len + 1 && memcmp(t, dir, len) == 0 && (tl == len || t[len] == '/'))
			return true;
	}
	return false;
}
