/* A Docker Engine API client for one endpoint (unix socket, TCP with or
 * without TLS, or ssh through `docker system dial-stdio`), on libcurl. One
 * connection is kept and reused across requests. */
#ifndef CTXD_DOCKER_H
#define CTXD_DOCKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctxd/endpoint.h"
#include "ctxd/error.h"

/* The newest API version ctxd speaks; the daemon's, if older, wins. */
#define CTXD_DOCKER_API_MAX "1.47"

struct ctxd_docker;

/* Copies what it needs from ep. NULL on error. */
struct ctxd_docker *ctxd_docker_create(const struct ctxd_endpoint *ep, struct ctxd_error *err);
void ctxd_docker_destroy(struct ctxd_docker *d);

/* GET /_ping: negotiates the API version and learns the builder the daemon
 * prefers. Errors say which endpoint was tried and how it was chosen. */
int ctxd_docker_ping(struct ctxd_docker *d, struct ctxd_error *err);
const char *ctxd_docker_api_version(const struct ctxd_docker *d); /* "1.41" */
int ctxd_docker_builder(const struct ctxd_docker *d);             /* 1 classic, 2 BuildKit */
const char *ctxd_docker_describe(const struct ctxd_docker *d);   /* "unix:///x (from DOCKER_HOST)" */
bool ctxd_docker_is_local(const struct ctxd_docker *d);          /* unix socket or loopback */

struct ctxd_docker_request {
	const char *method;      /* "GET", "POST", "HEAD" */
	const char *path;        /* "/build?..."; the /vX.Y prefix is added */
	const char *const *headers; /* extra "Name: value" lines, NULL-terminated */
	/* Request body, streamed chunked; NULL for none. Return bytes put in
	 * buf, 0 at the end, -1 to abort the request (err set). */
	ssize_t (*body)(void *ud, char *buf, size_t len, struct ctxd_error *err);
	void *body_ud;
	/* Response body as it arrives (2xx only); -1 aborts (err set). */
	int (*response)(void *ud, const char *buf, size_t len, struct ctxd_error *err);
	void *response_ud;
	/* Polled while the request runs: bytes of body sent so far; return
	 * true to cancel (the connection is closed, the daemon stops). */
	bool (*poll)(void *ud, uint64_t sent);
	void *poll_ud;
	/* Where to store the HTTP status (0 when none arrived); may be NULL. */
	long *status;
};

/* Runs one request. A non-2xx answer is an error carrying the daemon's
 * message ("Error response from daemon: ..."). *cancelled is set when poll
 * asked to stop. */
int ctxd_docker_request(struct ctxd_docker *d, const struct ctxd_docker_request *r,
			bool *cancelled, struct ctxd_error *err);

#endif
