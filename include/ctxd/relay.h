/* A private socket whose every connection is piped to a fresh child
 * process's stdin and stdout: how an HTTP client that only knows sockets
 * reaches a daemon behind `ssh HOST docker system dial-stdio`, a new ssh per
 * connection, as the docker CLI does.
 *
 * The socket is a Linux abstract unix socket: no file to clean up, whatever
 * ends the process (an error, SIGINT, SIGKILL). Abstract sockets have no
 * permissions, so a connection whose peer is not this very process
 * (SO_PEERCRED) is closed unanswered. Connections are served side by side,
 * a thread and a child each. */
#ifndef CTXD_RELAY_H
#define CTXD_RELAY_H

#include <stddef.h>

#include "ctxd/error.h"

struct ctxd_relay;

/* argv: the command run for each connection (argv[0] looked up in PATH);
 * copied. NULL on error. */
struct ctxd_relay *ctxd_relay_create(const char *const *argv, struct ctxd_error *err);

/* Stops the thread, kills a running child (SIGTERM) and reaps it. */
void ctxd_relay_destroy(struct ctxd_relay *r);

/* The socket's abstract name, without the leading NUL (what libcurl's
 * CURLOPT_ABSTRACT_UNIX_SOCKET takes). Owned by r. */
const char *ctxd_relay_name(const struct ctxd_relay *r);

/* The first non-empty line the latest child wrote on stderr ("" if none),
 * or why it could not be started, copied into buf. Complete once the
 * connection has been closed by the relay: the child's stderr is read to
 * its end before its stdout's end is passed on. */
void ctxd_relay_message(struct ctxd_relay *r, char *buf, size_t n);

#endif
