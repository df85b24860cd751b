/* The ctxd daemon: one per user, serving the protocol (protocol.h) on a unix
 * socket only its user can reach, keeping a watched index of each project
 * it is asked about so a context query costs a sync, not a walk. */
#ifndef CTXD_DAEMON_H
#define CTXD_DAEMON_H

#include <stdbool.h>

#include "ctxd/error.h"

struct ctxd_daemon_options {
	/* NULL: ctxd_client_socket_path(). Its directory is created 0700 if
	 * missing and must be a real directory owned by the user, mode 0700. */
	const char *socket_path;
	/* A listening socket handed over by a service manager (see
	 * ctxd_daemon_activation_fd), or -1 to bind socket_path. */
	int listen_fd;
	/* Projects no query touched for this long are dropped; 0: never. */
	unsigned idle_drop_seconds;
	/* One line per notable event (start, stale socket, rescans). */
	void (*log)(void *ud, const char *msg);
	void *log_ud;
};

struct ctxd_daemon;

/* Takes the socket: refuses (err says which pid holds it) while another
 * daemon serves the same path, replaces a stale socket left by a crashed
 * one, and binds and listens before returning, so clients can connect as
 * soon as it succeeds. Nothing here starts a thread or an event loop, so
 * the caller may fork after it. */
int ctxd_daemon_create(const struct ctxd_daemon_options *opts, struct ctxd_daemon **out,
		       struct ctxd_error *err);

/* Serves until SIGTERM, SIGINT or a "stop" request, then closes every
 * client and watch and returns 0; -1 with err on a fatal loop error. */
int ctxd_daemon_run(struct ctxd_daemon *d, struct ctxd_error *err);

/* Removes the socket it bound (not an inherited one) and frees it all. */
void ctxd_daemon_destroy(struct ctxd_daemon *d);

const char *ctxd_daemon_socket(const struct ctxd_daemon *d);

/* systemd socket activation: when LISTEN_PID is this process and
 * LISTEN_FDS is 1 or more, *fd is the first passed fd (3) after checking it
 * is a listening unix stream socket; returns 1. Returns 0 when the process
 * was not socket-activated, -1 with err when the passed fd is unusable.
 * The variables are removed so children do not inherit them. */
int ctxd_daemon_activation_fd(int *fd, struct ctxd_error *err);

#endif
