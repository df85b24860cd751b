/* One .dockerignore pattern, compiled as moby/patternmatcher compiles it:
 * exact, prefix (ends in a double star), suffix (starts with one) or regexp. */
#ifndef CTXD_PATTERN_H
#define CTXD_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#include "ctxd/error.h"

struct ctxd_pattern;

/* Compiles a cleaned pattern text (no leading '!'). Fails, as Go's
 * filepath.Match check does, with "syntax error in pattern". A pattern whose
 * regexp does not compile is created anyway and fails when first matched,
 * which is when Docker reports it. Caller owns the result. */
struct ctxd_pattern *ctxd_pattern_create(const char *text, size_t len,
					 struct ctxd_error *err);
void ctxd_pattern_destroy(struct ctxd_pattern *p);

/* Matches a clean relative path. Returns 1 match, 0 no match, -1 when the
 * pattern's regexp is invalid (err says why). */
int ctxd_pattern_match(const struct ctxd_pattern *p, const char *path,
		       size_t len, struct ctxd_error *err);

/* The cleaned text, and how many '/'-separated elements it has. */
const char *ctxd_pattern_text(const struct ctxd_pattern *p);
size_t ctxd_pattern_depth(const struct ctxd_pattern *p);

/* True when the text has none of the characters that make a pattern more
 * than a literal path: * ? [ ] ^ \ (BuildKit's "prefix-only" test). */
bool ctxd_pattern_is_literal(const struct ctxd_pattern *p);

#endif
