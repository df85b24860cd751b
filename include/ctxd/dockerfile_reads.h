/* Which paths of the main build context a build can read, as BuildKit's
 * dockerfile2llb decides what to transfer (spec section 4): stages
 * reachable from the target, ARG/ENV expanded with BuildKit's rules, COPY
 * and ADD sources, RUN --mount binds, ONBUILD triggers. When the set cannot
 * be known, or is everything, whole_context says so and why.
 *
 * Ownership: ctxd_dockerfile_reads fills a caller-provided struct whose
 * strings and arrays it allocates; ctxd_dockerfile_reads_clear frees them.
 * The Dockerfile and ignore files are not listed: the caller adds them. */
#ifndef CTXD_DOCKERFILE_READS_H
#define CTXD_DOCKERFILE_READS_H

#include <stdbool.h>
#include <stddef.h>

#include "ctxd/dockerfile.h"
#include "ctxd/error.h"

struct ctxd_dockerfile_reads_options {
	const char *target;             /* --target; NULL or "": the last stage */
	const char *const *build_args;  /* --build-arg values as "NAME=VALUE"; an
					 * entry without '=' is ignored (the CLI
					 * resolves those from its environment) */
	size_t nbuild_args;
	const char *platform;           /* target platform "os/arch[/variant]";
					 * NULL: linux/amd64 */
	const char *build_platform;     /* the builder's; NULL: linux/amd64 */
	/* Whether image (a FROM argument after expansion, as written: "node:20")
	 * has ONBUILD triggers in its config. NULL: assume none. */
	bool (*has_onbuild)(void *ctx, const char *image);
	void *ctx;
	/* Treat "# syntax=docker/dockerfile:<tag>" (the official frontend, any
	 * tag or digest, docker.io/ prefix allowed) as the built-in frontend.
	 * Off: any syntax directive means the whole context. */
	bool trust_official_syntax;
	/* The classic builder: it builds every stage up to the target, in file
	 * order, not only the ones the target depends on. */
	bool classic;
};

/* One context path pattern a reachable instruction reads. */
struct ctxd_dockerfile_read {
	char *pattern;       /* path.Join(".", path.Join("/", src)): no leading
			      * "/", wildcards kept; "." for the whole context */
	char **excludes;     /* COPY/ADD --exclude patterns, expanded */
	size_t nexcludes;
	const char *instruction; /* "COPY", "ADD", "RUN --mount" (static) */
	unsigned line;       /* its line (an ONBUILD trigger: the ONBUILD line) */
	size_t stage;        /* index of the stage it runs in */
	bool onbuild;        /* it is an ONBUILD trigger of the base stage */
};

/* A stage and whether (and why) it is built. */
struct ctxd_dockerfile_reads_stage {
	char *name;     /* the AS name, or "stage-N" */
	char *base;     /* the FROM argument expanded; NULL when unknown */
	unsigned line;  /* its FROM line */
	bool reachable;
	char *why;      /* "target", "base of stage X", "COPY --from at line N
			 * (stage X)", ...; NULL when not reachable */
};

/* An instruction of a reachable stage and what it does with the context. */
struct ctxd_dockerfile_reads_step {
	size_t stage;
	unsigned line;
	char *instruction; /* "COPY", "RUN", "ONBUILD COPY", ... */
	char *effect;      /* e.g. "reads package.json", "no context access",
			    * "reads nothing from the context (--from=build)" */
};

struct ctxd_dockerfile_reads {
	bool whole_context;   /* the whole context may be read */
	char *reason;         /* the first reason for whole_context, else NULL */
	unsigned reason_line; /* its line, 0 when not tied to one */
	struct ctxd_dockerfile_read *reads;
	size_t nreads;
	struct ctxd_dockerfile_reads_stage *stages; /* every stage, file order */
	size_t nstages;
	struct ctxd_dockerfile_reads_step *steps;   /* in dispatch order */
	size_t nsteps;
};

/* Analyses df for options o (NULL: defaults) into *out (which it
 * overwrites; clear it afterwards even on failure). Errors are the ones
 * BuildKit raises while converting the Dockerfile, "FILE:LINE: why":
 * unknown --target, a blank base name, bad --from references, circular
 * stage dependencies, expansion errors in reachable stages, bad --mount
 * values. */
int ctxd_dockerfile_reads(const struct ctxd_dockerfile *df,
			  const struct ctxd_dockerfile_reads_options *o,
			  struct ctxd_dockerfile_reads *out, struct ctxd_error *err);

void ctxd_dockerfile_reads_clear(struct ctxd_dockerfile_reads *r);

#endif
