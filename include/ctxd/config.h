/* The project config file, .ctxd.conf at the context root: per-project
 * defaults for the options that change what is sent. Lines are
 * `key = value`; a line whose first non-blank character is '#' is a comment;
 * blank lines are skipped. Unknown keys, bad values and repeated keys are
 * errors reading "FILE:LINE: what was wrong". */
#ifndef CTXD_CONFIG_H
#define CTXD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "ctxd/error.h"
#include "ctxd/gitview.h"

#define CTXD_CONFIG_FILE ".ctxd.conf"

/* Each setting with the line that set it (0: not set by the file). */
struct ctxd_config {
	char *file;                        /* the file read, NULL when none */
	enum ctxd_git_filter git_filter;   /* git-filter = off|ignored|untracked */
	unsigned git_filter_line;
	bool prune;                        /* prune = dockerfile|off */
	unsigned prune_line;
	bool dedup;                        /* dedup = true|false */
	unsigned dedup_line;
};

/* An empty config: nothing set, the defaults in the fields. */
void ctxd_config_init(struct ctxd_config *cfg);
void ctxd_config_free(struct ctxd_config *cfg);

/* Parses a config file's bytes into cfg; `file` names it in errors (and is
 * copied into cfg->file). On error cfg keeps what earlier lines set. */
int ctxd_config_parse(struct ctxd_config *cfg, const char *data, size_t len, const char *file,
		      struct ctxd_error *err);

/* Reads DIR/.ctxd.conf if it exists (*found says whether it did); any
 * other read failure is an error naming the path. */
int ctxd_config_load(struct ctxd_config *cfg, const char *dir, bool *found,
		     struct ctxd_error *err);

/* Where a resolved setting came from. */
enum ctxd_config_source {
	CTXD_SOURCE_DEFAULT,
	CTXD_SOURCE_FILE,
	CTXD_SOURCE_ENV,
	CTXD_SOURCE_FLAG,
};

/* The git filter in force: the flag's value (NULL: not given), else the
 * environment's CTXD_GIT_FILTER (env, NULL or "" when unset), else the
 * file's, else off. A bad flag or environment value is an error naming
 * it. cfg may be NULL (no file). */
int ctxd_config_git_filter(const struct ctxd_config *cfg, const char *flag, const char *env,
			   enum ctxd_git_filter *out, enum ctxd_config_source *source,
			   struct ctxd_error *err);

#endif
