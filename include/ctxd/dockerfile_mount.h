/* RUN --mount values read as BuildKit reads them
 * (instructions/commands_runmount.go): one CSV record of key=value fields,
 * values expanded with the stage's variables, then the per-type rules. */
#ifndef CTXD_DOCKERFILE_MOUNT_H
#define CTXD_DOCKERFILE_MOUNT_H

#include <stdbool.h>

#include "ctxd/dockerfile_expand.h"
#include "ctxd/error.h"

enum ctxd_dockerfile_mount_type {
	CTXD_MOUNT_BIND, /* the default */
	CTXD_MOUNT_CACHE,
	CTXD_MOUNT_TMPFS,
	CTXD_MOUNT_SECRET,
	CTXD_MOUNT_SSH,
};

/* One mount. Strings are owned, NULL when the key was not given. */
struct ctxd_dockerfile_mount {
	enum ctxd_dockerfile_mount_type type;
	char *from;
	char *source;
	char *target;
	bool readonly;
	bool unknown_type;   /* type= depends on an unknown variable */
	bool unknown_from;
	bool unknown_source;
	char *unknown_name;  /* the first unknown variable seen, or NULL */
};

/* Parses the value of one --mount flag. With env_pass false this is the
 * parser's pass: values are not expanded, only the CSV and a variable in
 * from= are checked, and only from is filled in. With env_pass true values
 * are expanded with lx and env first, as when the RUN is dispatched. On an
 * error (Docker's wording) or ENOMEM returns -1 and m is empty. */
int ctxd_dockerfile_mount_parse(const char *value, bool env_pass,
				const struct ctxd_dockerfile_lex *lx,
				const struct ctxd_dockerfile_env *env,
				struct ctxd_dockerfile_mount *m, struct ctxd_error *err);

/* Frees what m holds and zeroes it. */
void ctxd_dockerfile_mount_clear(struct ctxd_dockerfile_mount *m);

#endif
