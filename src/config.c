/* The project config file (see include/ctxd/config.h). Keys live in one
 * table; adding a key is one setter and one row. */
#include "ctxd/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctxd/buf.h"

/* A setter returns 0, or -1 after writing what was wrong into why. */
typedef int (*setter_fn)(struct ctxd_config *cfg, const char *value, char *why, size_t n);

static int set_git_filter(struct ctxd_config *cfg, const char *value, char *why, size_t n)
{
	if (ctxd_git_filter_parse(value, &cfg->git_filter) == 0)
		return 0;
	snprintf(why, n, "git-filter: '%s' is not one of off, ignored, untracked", value);
	return -1;
}

static int set_prune(struct ctxd_config *cfg, const char *value, char *why, size_t n)
{
	if (strcmp(value, "dockerfile") == 0 || strcmp(value, "off") == 0) {
		cfg->prune = value[0] == 'd';
		return 0;
	}
	snprintf(why, n, "prune: '%s' is not one of dockerfile, off", value);
	return -1;
}

static int set_dedup(struct ctxd_config *cfg, const char *value, char *why, size_t n)
{
	if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
		cfg->dedup = value[0] == 't';
		return 0;
	}
	snprintf(why, n, "dedup: '%s' is not one of true, false", value);
	return -1;
}

static const struct key {
	const char *name;
	setter_fn set;
	size_t line_offset; /* of the unsigned that records the setting line */
} keys[] = {
	{"git-filter", set_git_filter, offsetof(struct ctxd_config, git_filter_line)},
	{"prune", set_prune, offsetof(struct ctxd_config, prune_line)},
	{"dedup", set_dedup, offsetof(struct ctxd_config, dedup_line)},
};

void ctxd_config_init(struct ctxd_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->git_filter = CTXD_GIT_FILTER_OFF;
	cfg->prune = true;
	cfg->dedup = false;
}

void ctxd_config_free(struct ctxd_config *cfg)
{
	free(cfg->file);
	cfg->file = NULL;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Handles one line (without its '\n'); -1 with err set on a bad one. */
static int parse_line(struct ctxd_config *cfg, const char *s, size_t len, const char *file,
		      unsigned line, struct ctxd_error *err)
{
	const char *eq, *k, *v;
	size_t klen, vlen;
	char value[256], why[512];

	while (len && blank(*s))
		s++, len--;
	while (len && blank(s[len - 1]))
		len--;
	if (!len || *s == '#')
		return 0;
	if (memchr(s, '\0', len)) {
		ctxd_error_set(err, "%s:%u: a NUL byte in the line", file, line);
		return -1;
	}
	eq = memchr(s, '=', len);
	if (!eq) {
		ctxd_error_set(err, "%s:%u: expected 'key = value', got '%.*s'", file, line,
			       (int)(len > 80 ? 80 : len), s);
		return -1;
	}
	k = s;
	klen = (size_t)(eq - s);
	while (klen && blank(k[klen - 1]))
		klen--;
	v = eq + 1;
	vlen = len - (size_t)(v - s);
	while (vlen && blank(*v))
		v++, vlen--;
	if (!klen) {
		ctxd_error_set(err, "%s:%u: a key is missing before '='", file, line);
		return -1;
	}
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		unsigned *at = (unsigned *)((char *)cfg + keys[i].line_offset);

		if (strlen(keys[i].name) != klen || memcmp(keys[i].name, k, klen) != 0)
			continue;
		if (!vlen) {
			ctxd_error_set(err, "%s:%u: %s: a value is missing after '='", file, line,
				       keys[i].name);
			return -1;
		}
		if (*at) {
			ctxd_error_set(err, "%s:%u: %s is already set on line %u", file, line,
				       keys[i].name, *at);
			return -1;
		}
		if (vlen >= sizeof value) {
			ctxd_error_set(err, "%s:%u: %s: the value is too long", file, line, keys[i].name);
			return -1;
		}
		memcpy(value, v, vlen);
		value[vlen] = '\0';
		if (keys[i].set(cfg, value, why, sizeof why) < 0) {
			ctxd_error_set(err, "%s:%u: %s", file, line, why);
			return -1;
		}
		*at = line;
		return 0;
	}
	ctxd_error_set(err, "%s:%u: unknown key '%.*s' (known: git-filter, prune, dedup)", file, line,
		       (int)(klen > 80 ? 80 : klen), k);
	return -1;
}

int ctxd_config_parse(struct ctxd_config *cfg, const char *data, size_t len, const char *file,
		      struct ctxd_error *err)
{
	size_t start = 0;
	unsigned line = 1;

	free(cfg->file);
	cfg->file = strdup(file);
	if (!cfg->file) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	while (start < len) {
		const char *nl = memchr(data + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - data) : len;

		if (parse_line(cfg, data + start, end - start, file, line, err) < 0)
			return -1;
		start = end + 1;
		line++;
	}
	return 0;
}

int ctxd_config_load(struct ctxd_config *cfg, const char *dir, bool *found,
		     struct ctxd_error *err)
{
	struct ctxd_buf b = {0};
	char *path, chunk[8192];
	ssize_t n;
	int fd, rc;

	*found = false;
	if (asprintf(&path, "%s/%s", dir, CTXD_CONFIG_FILE) < 0) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = errno == ENOENT ? 0 : -1;
		if (rc < 0)
			ctxd_error_set(err, "%s: %s", path, strerror(errno));
		free(path);
		return rc;
	}
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		ctxd_buf_append(&b, chunk, (size_t)n);
	if (n < 0 || b.oom) {
		ctxd_error_set(err, "%s: %s", path, n < 0 ? strerror(errno) : "out of memory");
		close(fd);
		ctxd_buf_free(&b);
		free(path);
		return -1;
	}
	close(fd);
	*found = true;
	rc = ctxd_config_parse(cfg, b.data ? b.data : "", b.len, path, err);
	ctxd_buf_free(&b);
	free(path);
	return rc;
}

int ctxd_config_git_filter(const struct ctxd_config *cfg, const char *flag, const char *env,
			   enum ctxd_git_filter *out, enum ctxd_config_source *source,
			   struct ctxd_error *err)
{
	enum ctxd_config_source src = CTXD_SOURCE_DEFAULT;

	*out = CTXD_GIT_FILTER_OFF;
	if (flag) {
		src = CTXD_SOURCE_FLAG;
		if (ctxd_git_filter_parse(flag, out) < 0) {
			ctxd_error_set(err, "--git-filter: '%s' is not one of off, ignored, untracked", flag);
			return -1;
		}
	} else if (env && *env) {
		src = CTXD_SOURCE_ENV;
		if (ctxd_git_filter_parse(env, out) < 0) {
			ctxd_error_set(err, "CTXD_GIT_FILTER: '%s' is not one of off, ignored, untracked",
				       env);
			return -1;
		}
	} else if (cfg && cfg->git_filter_line) {
		src = CTXD_SOURCE_FILE;
		*out = cfg->git_filter;
	}
	if (source)
		*source = src;
	return 0;
}
