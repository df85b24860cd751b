/* Talking to the daemon (see include/ctxd/client.h). */
#include "ctxd/client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctxd/buf.h"
#include "ctxd/protocol.h"

char *ctxd_client_socket_path(void)
{
	const char *s = getenv("CTXD_SOCKET"), *xdg = getenv("XDG_RUNTIME_DIR");
	struct ctxd_buf b = {0};

	if (s && *s)
		ctxd_buf_puts(&b, s);
	else if (xdg && xdg[0] == '/')
		ctxd_buf_printf(&b, "%s/ctxd/ctxd.sock", xdg);
	else
		ctxd_buf_printf(&b, "/tmp/ctxd-%u/ctxd.sock", (unsigned)geteuid());
	return ctxd_buf_take(&b);
}

int ctxd_client_connect(const char *path, int timeout_ms, int *fd_out, bool *no_daemon,
			struct ctxd_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *def = NULL;
	int fd, rc;

	*fd_out = -1;
	*no_daemon = false;
	if (!path && !(path = def = ctxd_client_socket_path())) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	if (strlen(path) >= sizeof sa.sun_path) {
		ctxd_error_set(err, "%s: socket path is longer than %zu bytes", path, sizeof sa.sun_path - 1);
		free(def);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		ctxd_error_set(err, "socket: %s", strerror(errno));
		free(def);
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	if (rc < 0 && (errno == EAGAIN || errno == EINPROGRESS)) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		socklen_t len = sizeof rc;
		int soerr = 0;

		rc = poll(&p, 1, timeout_ms);
		if (rc == 0) {
			ctxd_error_set(err, "%s: the daemon did not accept the connection within %d ms", path,
				       timeout_ms);
			goto fail;
		}
		if (rc > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0)
			rc = 0;
		else
			errno = soerr ? soerr : errno;
		rc = rc == 0 ? 0 : -1;
	}
	if (rc < 0) {
		*no_daemon = errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR;
		ctxd_error_set(err, "%s: %s", path,
			       *no_daemon ? "no ctxd daemon is running" : strerror(errno));
		goto fail;
	}
	*fd_out = fd;
	free(def);
	return 0;
fail:
	close(fd);
	free(def);
	return -1;
}

int ctxd_client_call(int fd, const json_t *req, json_t **reply, int timeout_ms,
		     struct ctxd_error *err)
{
	*reply = NULL;
	if (ctxd_protocol_write(fd, req, timeout_ms, err) < 0 ||
	    ctxd_protocol_read(fd, reply, NULL, timeout_ms, err) < 0)
		return -1;
	if (strcmp(ctxd_protocol_type(*reply), "error") == 0) {
		const char *m = json_string_value(json_object_get(*reply, "message"));

		ctxd_error_set(err, "%s", m ? m : "the daemon refused the request");
		json_decref(*reply);
		*reply = NULL;
		return -1;
	}
	return 0;
}
