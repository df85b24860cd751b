/* The client side of the daemon's socket: where it is, connecting without
 * hanging, and one request/reply exchange. Every wait has a deadline, so a
 * dead or stuck daemon is an error, never a hang. */
#ifndef CTXD_CLIENT_H
#define CTXD_CLIENT_H

#include <stdbool.h>

#include <jansson.h>

#include "ctxd/error.h"

/* Default waits: connecting, and a reply to a short request. */
#define CTXD_CLIENT_CONNECT_TIMEOUT_MS 1000
#define CTXD_CLIENT_REPLY_TIMEOUT_MS 10000

/* The per-user socket: $CTXD_SOCKET when set; else
 * $XDG_RUNTIME_DIR/ctxd/ctxd.sock; else (XDG_RUNTIME_DIR unset, empty or
 * relative) /tmp/ctxd-$UID/ctxd.sock. Malloc'd; NULL on ENOMEM. */
char *ctxd_client_socket_path(void);

/* Connects to the daemon at path (NULL: the default). On failure *no_daemon
 * says whether nothing is serving there (no socket, or a stale one), as
 * opposed to a daemon that is broken or too slow. */
int ctxd_client_connect(const char *path, int timeout_ms, int *fd, bool *no_daemon,
			struct ctxd_error *err);

/* Sends req and reads one reply into *reply (the caller owns it). A reply
 * of type "error" is returned as -1 with its "message". */
int ctxd_client_call(int fd, const json_t *req, json_t **reply, int timeout_ms,
		     struct ctxd_error *err);

#endif
