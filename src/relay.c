/* A socket relayed to a child process per connection (see
 * include/ctxd/relay.h). Connections are served at once, a thread each:
 * an HTTP client may keep one idle while it opens another. The pump is
 * non-blocking both ways, so neither side can stall the other however the
 * HTTP exchange interleaves. */
#include "ctxd/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define PUMP_BUF 65536
#define MSG_MAX 1024
/* how long a child that closed its stdout may keep stderr open */
#define STDERR_GRACE_MS 2000

/* One direction of the pump. */
struct half {
	char buf[PUMP_BUF];
	size_t off, len;
	bool eof;  /* its source ended */
	bool shut; /* and that was passed on */
};

struct ctxd_relay {
	char **argv;
	char name[64];
	int lfd;
	int wake[2];
	pthread_t thread;
	pthread_mutex_t mu;
	char msg[MSG_MAX]; /* the latest child's stderr, cut at MSG_MAX - 1 */
	size_t msglen;
	struct conn *conns;
};

struct conn {
	struct ctxd_relay *r;
	int cfd;
	pthread_t thread;
	atomic_bool done;
	struct half up, down; /* client to child, child to client */
	struct conn *next;
};

static void set_msg(struct ctxd_relay *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_msg(struct ctxd_relay *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	pthread_mutex_lock(&r->mu);
	va_start(ap, fmt);
	n = vsnprintf(r->msg, sizeof r->msg, fmt, ap);
	va_end(ap);
	r->msglen = n < 0 ? 0 : (size_t)n < sizeof r->msg ? (size_t)n : sizeof r->msg - 1;
	pthread_mutex_unlock(&r->mu);
}

static void add_msg(struct ctxd_relay *r, const char *buf, size_t len)
{
	pthread_mutex_lock(&r->mu);
	if (len > sizeof r->msg - 1 - r->msglen)
		len = sizeof r->msg - 1 - r->msglen;
	memcpy(r->msg + r->msglen, buf, len);
	r->msglen += len;
	r->msg[r->msglen] = '\0';
	pthread_mutex_unlock(&r->mu);
}

static bool peer_is_self(int fd)
{
	struct ucred uc;
	socklen_t len = sizeof uc;

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 && uc.pid == getpid() &&
	       uc.uid == getuid();
}

static void nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* The child gets io as stdin and stdout, errw as stderr, and the default
 * signal mask and dispositions (the relay thread blocks everything). */
static pid_t spawn(struct ctxd_relay *r, int io, int errw)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	pid_t pid = -1;
	int e;

	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGPIPE);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, io, 0);
	posix_spawn_file_actions_adddup2(&fa, io, 1);
	posix_spawn_file_actions_adddup2(&fa, errw, 2);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	e = posix_spawnp(&pid, r->argv[0], &fa, &at, r->argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (e) {
		set_msg(r, "cannot run %s: %s", r->argv[0], strerror(e));
		return -1;
	}
	return pid;
}

/* Reads what src has into h; false when the connection is broken. */
static bool fill(int src, struct half *h)
{
	ssize_t n = read(src, h->buf, sizeof h->buf);

	if (n > 0) {
		h->off = 0;
		h->len = (size_t)n;
	} else if (n == 0) {
		h->eof = true;
	} else if (errno != EAGAIN && errno != EINTR) {
		return false;
	}
	return true;
}

/* Writes what h holds to dst; at h's end, passes the end on if asked to.
 * False when the connection is broken. */
static bool drain(int dst, struct half *h, bool pass_eof)
{
	ssize_t n = send(dst, h->buf + h->off, h->len, MSG_NOSIGNAL);

	if (n > 0) {
		h->off += (size_t)n;
		h->len -= (size_t)n;
	} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
		return false;
	}
	if (pass_eof && h->eof && !h->len && !h->shut) {
		shutdown(dst, SHUT_WR);
		h->shut = true;
	}
	return true;
}

static void read_stderr(struct ctxd_relay *r, int *errfd)
{
	char b[512];
	ssize_t n = read(*errfd, b, sizeof b);

	if (n > 0) {
		add_msg(r, b, (size_t)n);
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		close(*errfd);
		*errfd = -1;
	}
}

/* Pumps a connection <-> a new child until the child's output ends,
 * either side breaks, or the relay is destroyed. */
static void *serve(void *arg)
{
	struct conn *c = arg;
	struct ctxd_relay *r = c->r;
	struct half *up = &c->up, *down = &c->down;
	int cfd = c->cfd;
	int sv[2], errp[2], sfd, errfd;
	bool stop = false;
	pid_t pid;

	set_msg(r, "%s", "");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		set_msg(r, "socketpair: %s", strerror(errno));
		close(cfd);
		goto out;
	}
	if (pipe2(errp, O_CLOEXEC) < 0) {
		set_msg(r, "pipe: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		close(cfd);
		goto out;
	}
	pid = spawn(r, sv[1], errp[1]);
	close(sv[1]);
	close(errp[1]);
	sfd = sv[0];
	errfd = errp[0];
	if (pid < 0) {
		close(sfd);
		close(errfd);
		close(cfd);
		goto out;
	}
	nonblock(sfd);
	nonblock(errfd);
	*up = (struct half){0};
	*down = (struct half){0};
	while (!(down->eof && !down->len)) {
		short ce = (short)((!up->len && !up->eof ? POLLIN : 0) | (down->len ? POLLOUT : 0));
		short se = (short)((!down->len && !down->eof ? POLLIN : 0) | (up->len ? POLLOUT : 0));
		/* a side with nothing to do is left out: its POLLHUP would spin */
		struct pollfd p[4] = {
			{ce ? cfd : -1, ce, 0},
			{se ? sfd : -1, se, 0},
			{errfd, POLLIN, 0},
			{r->wake[0], POLLIN, 0},
		};

		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[3].revents) {
			stop = true;
			break;
		}
		if (p[2].revents)
			read_stderr(r, &errfd);
		if (p[0].revents && !up->len && !up->eof && !fill(cfd, up))
			break;
		if (p[1].revents && !down->len && !down->eof && !fill(sfd, down))
			break;
		if ((up->len || (up->eof && !up->shut)) && !drain(sfd, up, true))
			break;
		/* the child's end is passed on below, after its stderr */
		if (down->len && !drain(cfd, down, false))
			break;
	}
	/* the child's last words before the client sees the end */
	if (!stop && errfd >= 0) {
		struct timespec t0, t;
		int left = STDERR_GRACE_MS;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (errfd >= 0 && left > 0) {
			struct pollfd p = {errfd, POLLIN, 0};

			if (poll(&p, 1, left) > 0)
				read_stderr(r, &errfd);
			clock_gettime(CLOCK_MONOTONIC, &t);
			left = STDERR_GRACE_MS - (int)((t.tv_sec - t0.tv_sec) * 1000 +
						       (t.tv_nsec - t0.tv_nsec) / 1000000);
		}
	}
	close(cfd);
	close(sfd);
	if (errfd >= 0)
		close(errfd);
	kill(pid, SIGTERM); /* not reaped yet, so still ours even if it exited */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
out:
	atomic_store(&c->done, true);
	return NULL;
}

/* Joins the connections that have ended, or all of them. */
static void reap(struct ctxd_relay *r, bool all)
{
	struct conn **pp = &r->conns;

	while (*pp) {
		struct conn *c = *pp;

		if (all || atomic_load(&c->done)) {
			pthread_join(c->thread, NULL);
			*pp = c->next;
			free(c);
		} else {
			pp = &c->next;
		}
	}
}

static void *serve_loop(void *arg)
{
	struct ctxd_relay *r = arg;

	for (;;) {
		struct pollfd p[2] = {{r->lfd, POLLIN, 0}, {r->wake[0], POLLIN, 0}};
		struct conn *c;
		int cfd;

		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			break;
		cfd = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (cfd < 0) {
			if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
				nanosleep(&(struct timespec){0, 100000000}, NULL); /* EMFILE and such */
			continue;
		}
		reap(r, false);
		if (!peer_is_self(cfd) || !(c = calloc(1, sizeof *c))) {
			close(cfd);
			continue;
		}
		c->r = r;
		c->cfd = cfd;
		if (pthread_create(&c->thread, NULL, serve, c) != 0) {
			set_msg(r, "cannot start a relay thread");
			close(cfd);
			free(c);
			continue;
		}
		c->next = r->conns;
		r->conns = c;
	}
	/* the wake pipe stays readable: every connection's pump sees it too */
	reap(r, true);
	return NULL;
}

static int listen_abstract(struct ctxd_relay *r, struct ctxd_error *err)
{
	for (int tries = 0; tries < 8; tries++) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		unsigned long long rnd = 0;
		size_t len;

		if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
			rnd = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32) ^ (unsigned long long)tries;
		snprintf(r->name, sizeof r->name, "ctxd-relay-%d-%016llx", (int)getpid(), rnd);
		len = strlen(r->name);
		memcpy(a.sun_path + 1, r->name, len);
		r->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (r->lfd < 0)
			break;
		if (bind(r->lfd, (struct sockaddr *)&a,
			 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)) == 0 &&
		    listen(r->lfd, 4) == 0)
			return 0;
		close(r->lfd);
		r->lfd = -1;
		if (errno != EADDRINUSE)
			break;
	}
	ctxd_error_set(err, "cannot make the relay socket: %s", strerror(errno));
	return -1;
}

struct ctxd_relay *ctxd_relay_create(const char *const *argv, struct ctxd_error *err)
{
	struct ctxd_relay *r = calloc(1, sizeof *r);
	sigset_t all, old;
	size_t n = 0;
	int e;

	if (!r) {
		ctxd_error_set(err, "out of memory");
		return NULL;
	}
	r->lfd = -1;
	r->wake[0] = r->wake[1] = -1;
	pthread_mutex_init(&r->mu, NULL);
	while (argv[n])
		n++;
	if (!n || !(r->argv = calloc(n + 1, sizeof *r->argv))) {
		ctxd_error_set(err, n ? "out of memory" : "relay: no command");
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		if (!(r->argv[i] = strdup(argv[i]))) {
			ctxd_error_set(err, "out of memory");
			goto fail;
		}
	if (pipe2(r->wake, O_CLOEXEC) < 0) {
		ctxd_error_set(err, "pipe: %s", strerror(errno));
		goto fail;
	}
	if (listen_abstract(r, err) < 0)
		goto fail;
	/* signals (SIGINT above all) stay with the threads that handle them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&r->thread, NULL, serve_loop, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		ctxd_error_set(err, "cannot start the relay thread: %s", strerror(e));
		goto fail;
	}
	return r;
fail:
	if (r->lfd >= 0)
		close(r->lfd);
	r->lfd = -1;
	if (r->wake[0] >= 0) {
		close(r->wake[0]);
		close(r->wake[1]);
	}
	r->wake[0] = -1;
	ctxd_relay_destroy(r);
	return NULL;
}

void ctxd_relay_destroy(struct ctxd_relay *r)
{
	if (!r)
		return;
	if (r->wake[0] >= 0) {
		while (write(r->wake[1], "x", 1) < 0 && errno == EINTR)
			;
		pthread_join(r->thread, NULL);
		close(r->wake[0]);
		close(r->wake[1]);
	}
	if (r->lfd >= 0)
		close(r->lfd);
	for (size_t i = 0; r->argv && r->argv[i]; i++)
		free(r->argv[i]);
	free(r->argv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

const char *ctxd_relay_name(const struct ctxd_relay *r)
{
	return r->name;
}

void ctxd_relay_message(struct ctxd_relay *r, char *buf, size_t n)
{
	const char *s;
	size_t len;

	if (!n)
		return;
	pthread_mutex_lock(&r->mu);
	s = r->msg + strspn(r->msg, "\r\n");
	len = strcspn(s, "\r\n");
	if (len > n - 1)
		len = n - 1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	pthread_mutex_unlock(&r->mu);
}
