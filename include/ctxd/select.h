/* The Dockerfile filter: which context paths the build can read, as a
 * question the walk asks of every path ("send it", "look inside", "skip
 * it"). Built from the Dockerfile's read analysis (dockerfile_reads.h), the
 * way BuildKit turns COPY/ADD sources and bind mounts into the include
 * patterns of its context transfer: a path is read when it or an ancestor
 * matches one, symlinks along a named path add their targets, and the
 * Dockerfile and ignore files are always sent because Docker reads them.
 *
 * Ownership: ctxd_select_create returns an object the caller frees with
 * ctxd_select_destroy; it keeps no reference to the context or options. */
#ifndef CTXD_SELECT_H
#define CTXD_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "ctxd/context.h"
#include "ctxd/dockerfile_reads.h"
#include "ctxd/error.h"

struct ctxd_select_options {
	const char *target;             /* --target; NULL: the last stage */
	const char *const *build_args;  /* "NAME=VALUE" */
	size_t nbuild_args;
	const char *platform;           /* --platform; NULL: linux/amd64 */
	bool classic;                   /* the classic builder: every stage up
					 * to the target is built */
	/* Whether a base image has ONBUILD triggers (the daemon's image
	 * inspect). NULL: assume none. */
	bool (*has_onbuild)(void *ud, const char *image);
	void *ud;
	/* Called once when the Dockerfile cannot be analysed (the whole
	 * context is then selected); NULL to drop the message. */
	void (*warn)(void *ud, const char *msg);
};

enum ctxd_select_verdict {
	CTXD_SELECT_OUT,   /* nothing at or below the path can be read */
	CTXD_SELECT_BELOW, /* a directory something below may be read from: look
			    * inside, send it only as the parent of what is */
	CTXD_SELECT_IN,    /* read: send it and, a directory, all it holds */
};

struct ctxd_select;

/* Parses and analyses the context's Dockerfile for o (NULL: defaults) and
 * resolves symlinks along the paths it names. A Dockerfile that does not
 * parse or analyse selects the whole context (the builder will report the
 * error itself) after o->warn. Fails only on I/O errors and memory. */
int ctxd_select_create(const struct ctxd_context *ctx, const struct ctxd_select_options *o,
		       struct ctxd_select **out, struct ctxd_error *err);
void ctxd_select_destroy(struct ctxd_select *s);

/* True when everything may be read: pruning cannot drop anything. */
bool ctxd_select_all(const struct ctxd_select *s);
/* Why everything may be read ("FILE:LINE: ..."); NULL when not. */
const char *ctxd_select_all_reason(const struct ctxd_select *s);

/* The verdict for a clean context-relative path whose parent directory was
 * BELOW (a child of an IN directory is IN without asking). -1 on an
 * invalid pattern, with err set. */
int ctxd_select_path(const struct ctxd_select *s, const char *path, size_t len, bool is_dir,
		     struct ctxd_error *err);

/* Why path is sent: "read by COPY at FILE:3 (stage x) (names src)", "always
 * sent: the builder reads the Dockerfile", for the first pattern matching
 * it or an ancestor; NULL when none does. Owned by s. */
const char *ctxd_select_explain(const struct ctxd_select *s, const char *path, size_t len);

/* Files in the context tar that docker never lets a COPY see: the
 * Dockerfile and .dockerignore when the ignore file in force excludes them
 * (the classic builder deletes them before the build; BuildKit's own
 * transfer never sends them), and an outside Dockerfile's copy with the
 * .dockerignore made to name it. BuildKit given a tar (version=2) reads the
 * Dockerfile from it and shows a COPY everything in it. Calls fn for each
 * such file a step reads, with the reading step ("read by COPY at FILE:3
 * (names .)", or why the whole context is read); with s NULL (no analysis)
 * for each such file, with reader NULL. -1 on a pattern error. */
typedef void (*ctxd_select_hidden_fn)(void *ud, const char *path, const char *reader);
int ctxd_select_hidden_reads(const struct ctxd_select *s, const struct ctxd_context *ctx,
			     ctxd_select_hidden_fn fn, void *ud, struct ctxd_error *err);

/* True when the Dockerfile names path or an ancestor of it literally (a
 * source without wildcards, other than the whole context), or the path is
 * the Dockerfile or an ignore file. Filters that may change the image (the
 * git filter) keep such paths. */
bool ctxd_select_names(const struct ctxd_select *s, const char *path, size_t len);

/* True when the Dockerfile names, as above, a path strictly inside the
 * directory path: a filter dropping the directory must still look in. */
bool ctxd_select_names_below(const struct ctxd_select *s, const char *path, size_t len);

/* The analysis behind the selection (stages, steps, reads) for
 * explanations; NULL when the Dockerfile could not be analysed. */
const struct ctxd_dockerfile_reads *ctxd_select_reads(const struct ctxd_select *s);

#endif
