/* The checks BuildKit's instructions package makes on one parsed
 * instruction (ParseInstruction): argument counts, the flags each
 * instruction accepts, stage names, heredoc destinations, RUN --mount
 * syntax; with Docker's messages. Also the small helpers those messages and
 * later readers share. */
#ifndef CTXD_DOCKERFILE_INSTR_H
#define CTXD_DOCKERFILE_INSTR_H

#include <stdbool.h>
#include <stddef.h>

#include "ctxd/buf.h"
#include "ctxd/dockerfile.h"
#include "ctxd/error.h"

/* Checks in as instructions.ParseInstruction does. On failure err holds
 * BuildKit's inner message ("unknown instruction: FORM (did you mean
 * FROM?)", "COPY requires at least two arguments, ..."), without the
 * "dockerfile parse error on line N" wrapper, and -1 is returned. */
int ctxd_dockerfile_instr_check(const struct ctxd_dockerfile_instr *in, struct ctxd_error *err);

/* The value of flag --name (the last one for a repeatable flag), "" for a
 * bare boolean flag; NULL when absent. Flags must have passed the check. */
const char *ctxd_dockerfile_instr_flag(const struct ctxd_dockerfile_instr *in, const char *name);

/* Whether boolean flag --name is on ("--link", "--link=true"). */
bool ctxd_dockerfile_instr_flag_on(const struct ctxd_dockerfile_instr *in, const char *name);

/* Appends BuildKit's " (did you mean X?)" when one of options is within
 * edit distance 2 of val (util/suggest), nothing otherwise. */
void ctxd_dockerfile_instr_suggest(struct ctxd_buf *b, const char *val,
				   const char *const *options, size_t n, bool case_sensitive);

#endif
