/* Lexical path helpers with Go's exact semantics (path/filepath on Unix),
 * because Docker normalises ignore patterns and Dockerfile paths with them. */
#ifndef CTXD_PATH_H
#define CTXD_PATH_H

#include <stddef.h>

/* Go filepath.Clean of in[0..len). out must hold len + 2 bytes; the result is
 * NUL-terminated and its length returned. */
size_t ctxd_path_clean(const char *in, size_t len, char *out);

/* Returns a malloc'd Clean of the NUL-terminated path, or NULL on ENOMEM. */
char *ctxd_path_clean_dup(const char *path);

/* Go filepath.Rel(base, target) for two clean absolute paths: a malloc'd
 * relative path ("." when equal, "../x" when outside), or NULL on ENOMEM. */
char *ctxd_path_rel(const char *base, const char *target);

/* Joins two path parts with one '/', malloc'd; NULL on ENOMEM. */
char *ctxd_path_join(const char *a, const char *b);

#endif
