/* `docker build` over the Engine API: the /build query from build options,
 * and the context streamed as the request body while the daemon answers. */
#ifndef CTXD_BUILD_H
#define CTXD_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctxd/buf.h"
#include "ctxd/context.h"
#include "ctxd/docker.h"
#include "ctxd/error.h"
#include "ctxd/manifest.h"
#include "ctxd/pack.h"

struct ctxd_build_arg {
	const char *name;
	const char *value; /* NULL: named without a value and unset (JSON null) */
};

struct ctxd_build_options {
	const char *const *tags;
	size_t ntags;
	const struct ctxd_build_arg *args;
	size_t nargs;
	const char *const *labels; /* "key=value" or "key" */
	size_t nlabels;
	const char *const *cache_from;
	size_t ncache_from;
	const char *const *extra_hosts; /* "host:ip" */
	size_t nextra_hosts;
	const char *target;
	const char *platform;
	const char *network;
	bool nocache, pull, quiet;
	bool no_rm, force_rm;
	int version;                 /* 1 classic builder, 2 BuildKit */
	enum ctxd_compress compress;
	bool dedup;                  /* send the manifest's marked copies as links (ctxd_dedup_pack) */
	const char *registry_config; /* X-Registry-Config value; NULL sends "e30=" ({}) */

	/* Polled about once a second, and more often while the context goes
	 * up, until the daemon's answer ends: return true to cancel. */
	bool (*cancelled)(void *ud);
	void *cancel_ud;
	/* Upload progress against the plain tar's estimated size: bytes sent,
	 * or under compression the tar bytes packed so far (the wire bytes
	 * have no known total). */
	void (*uploaded)(void *ud, uint64_t sent, uint64_t total, bool done);
	void *upload_ud;
	/* The daemon's answer (a JSON message stream) as it arrives. */
	int (*response)(void *ud, const char *buf, size_t len, struct ctxd_error *err);
	void *response_ud;
};

/* Appends "?key=value&..." for POST /build, keys sorted as Go sorts them. */
int ctxd_build_query(const struct ctxd_build_options *o, const char *dockerfile,
		     struct ctxd_buf *out, struct ctxd_error *err);

/* Sends the manifest's entries (scanned from ctx) as the body of POST /build.
 * The stream is aborted, never finished, if a file changes while it is read.
 * *cancelled tells whether o->cancelled stopped it. */
int ctxd_build_send(struct ctxd_docker *d, const struct ctxd_context *ctx,
		    const struct ctxd_manifest *m, const struct ctxd_build_options *o,
		    bool *cancelled, struct ctxd_error *err);

#endif
