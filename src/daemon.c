/* The daemon (see include/ctxd/daemon.h): socket ownership, the libuv loop,
 * client connections and the requests they send. The socket is taken with
 * plain syscalls before any loop exists, so `ctxd daemon` can report a
 * refusal to its caller and only then fork. */
#include "ctxd/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "ctxd/buf.h"
#include "ctxd/client.h"
#include "ctxd/context.h"
#include "ctxd/dedup.h"
#include "ctxd/gitview.h"
#include "ctxd/index.h"
#include "ctxd/manifest.h"
#include "ctxd/protocol.h"
#include "ctxd/query.h"
#include "ctxd/report_history.h"
#include "ctxd/scan.h"
#include "ctxd/select.h"
#include "ctxd/summary.h"
#include "ctxd/watch.h"

/* How long a query waits for its sync cookie before rescanning. */
#define SYNC_TIMEOUT_MS 2000
/* Entries per message: a small first one, so the client starts early, and
 * each next one twice as big up to BATCH, so the client is never waiting
 * on a big message to decode before it has enough to write its first
 * block. */
#define FIRST_BATCH 32
#define BATCH 1024

/* A watched project: a context directory and its synced index. */
struct project {
	char *root;
	struct ctxd_watch *w;
	/* git's view of the tree, kept while neither the tree (changes, of
	 * ctxd_watch_status) nor the repository's files change */
	struct ctxd_gitview *git;
	uint64_t git_changes;
	uint64_t added_ms, used_ms;
	struct project *next;
};

struct conn {
	uv_pipe_t pipe;
	struct ctxd_daemon *d;
	struct ctxd_protocol_decoder *dec;
	struct conn *prev, *next;
	bool closing;
};

struct ctxd_daemon {
	struct ctxd_daemon_options o;
	char *socket_path;
	char *lock_path;
	int listen_fd;
	int lock_fd;
	bool bound;    /* we created the socket file, so we remove it */
	bool running;
	uv_loop_t loop;
	uv_pipe_t server;
	uv_signal_t sigterm, sigint;
	struct conn *conns;
	struct project *projects;
	uv_timer_t idle;
	uint64_t started_ms;
	uint64_t requests;
	bool git_held; /* libgit2 kept initialised (ctxd_gitview_hold) */
};

static void logf_(struct ctxd_daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logf_(struct ctxd_daemon *d, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!d->o.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	d->o.log(d->o.log_ud, msg);
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The socket's directory must be the user's alone: created 0700 when
 * missing, and refused when it is a symlink, someone else's, or open to
 * others (another user could then replace the socket). */
static int private_dir(const char *dir, struct ctxd_error *err)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		ctxd_error_set(err, "%s: cannot create the socket directory: %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) < 0) {
		ctxd_error_set(err, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		ctxd_error_set(err, "%s: the socket directory is not a directory%s", dir,
			       S_ISLNK(st.st_mode) ? " (a symlink)" : "");
		return -1;
	}
	if (st.st_uid != geteuid()) {
		ctxd_error_set(err, "%s: the socket directory belongs to uid %u, not to this user (%u)", dir,
			       (unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	if (st.st_mode & 077) {
		ctxd_error_set(err, "%s: the socket directory has mode %04o; it must be 0700 (chmod 700 %s)",
			       dir, (unsigned)(st.st_mode & 07777), dir);
		return -1;
	}
	return 0;
}

/* The lock file names the pid holding it, for a refused second daemon's
 * message; rewritten after `ctxd daemon` forks. */
static int write_pid(struct ctxd_daemon *d, struct ctxd_error *err)
{
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());

	if (ftruncate(d->lock_fd, 0) < 0 || pwrite(d->lock_fd, pid, (size_t)n, 0) != n) {
		ctxd_error_set(err, "%s: %s", d->lock_path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Holds <socket>.lock for the daemon's life (the lock goes with the
 * process, so a crash never leaves it held). */
static int take_lock(struct ctxd_daemon *d, struct ctxd_error *err)
{
	char pid[32];
	int n;

	d->lock_fd = open(d->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (d->lock_fd < 0) {
		ctxd_error_set(err, "%s: %s", d->lock_path, strerror(errno));
		return -1;
	}
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			ctxd_error_set(err, "%s: %s", d->lock_path, strerror(errno));
			return -1;
		}
		n = (int)pread(d->lock_fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		ctxd_error_set(err, "another ctxd daemon%s%s%s is already serving %s; not starting a second one",
			       pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "", d->socket_path);
		return -1;
	}
	return write_pid(d, err);
}

static int bind_socket(struct ctxd_daemon *d, struct ctxd_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;
	int rc;

	if (strlen(d->socket_path) >= sizeof sa.sun_path) {
		ctxd_error_set(err, "%s: socket path is longer than %zu bytes", d->socket_path,
			       sizeof sa.sun_path - 1);
		return -1;
	}
	memcpy(sa.sun_path, d->socket_path, strlen(d->socket_path) + 1);
	if (lstat(d->socket_path, &st) == 0) {
		int fd;
		bool no_daemon;
		struct ctxd_error cerr;

		if (!S_ISSOCK(st.st_mode)) {
			ctxd_error_set(err, "%s exists and is not a socket; not replacing it", d->socket_path);
			return -1;
		}
		/* the lock is ours, but a daemon that predates it may still answer */
		if (ctxd_client_connect(d->socket_path, 500, &fd, &no_daemon, &cerr) == 0) {
			close(fd);
			ctxd_error_set(err, "another ctxd daemon is already serving %s; not starting a second one",
				       d->socket_path);
			return -1;
		}
		if (!no_daemon) {
			ctxd_error_set(err, "%s: cannot tell whether a daemon serves it: %s", d->socket_path,
				       cerr.msg);
			return -1;
		}
		if (unlink(d->socket_path) < 0 && errno != ENOENT) {
			ctxd_error_set(err, "%s: cannot remove the stale socket: %s", d->socket_path,
				       strerror(errno));
			return -1;
		}
		logf_(d, "replaced the stale socket %s (nothing was listening on it)", d->socket_path);
	}
	d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (d->listen_fd < 0) {
		ctxd_error_set(err, "socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	rc = bind(d->listen_fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc < 0) {
		ctxd_error_set(err, "%s: bind: %s", d->socket_path, strerror(errno));
		return -1;
	}
	d->bound = true;
	if (chmod(d->socket_path, 0600) < 0 || listen(d->listen_fd, 128) < 0) {
		ctxd_error_set(err, "%s: %s", d->socket_path, strerror(errno));
		return -1;
	}
	return 0;
}

int ctxd_daemon_activation_fd(int *fd, struct ctxd_error *err)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int type = 0, acc = 0;
	socklen_t len = sizeof type;
	struct sockaddr_un sa;
	socklen_t salen = sizeof sa;
	char *end;
	long n;

	*fd = -1;
	if (!pid || !fds || strtol(pid, &end, 10) != (long)getpid() || *end)
		return 0;
	n = strtol(fds, &end, 10);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (*end || n < 1) {
		ctxd_error_set(err, "LISTEN_FDS=%s: expected a count of 1 or more passed sockets", fds);
		return -1;
	}
	if (getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM ||
	    getsockname(3, (struct sockaddr *)&sa, &salen) < 0 || sa.sun_family != AF_UNIX) {
		ctxd_error_set(err, "the socket passed as fd 3 (LISTEN_FDS) is not a unix stream socket");
		return -1;
	}
	len = sizeof acc;
	if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0 || !acc) {
		ctxd_error_set(err, "the socket passed as fd 3 (LISTEN_FDS) is not listening");
		return -1;
	}
	fcntl(3, F_SETFD, FD_CLOEXEC);
	*fd = 3;
	return 1;
}

/* The path an inherited socket is bound to, for status and the lock. */
static char *bound_path(int fd)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof sa;

	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 || sa.sun_family != AF_UNIX ||
	    len <= offsetof(struct sockaddr_un, sun_path) || !sa.sun_path[0])
		return NULL;
	sa.sun_path[sizeof sa.sun_path - 1] = '\0';
	return strdup(sa.sun_path);
}

int ctxd_daemon_create(const struct ctxd_daemon_options *opts, struct ctxd_daemon **out,
		       struct ctxd_error *err)
{
	struct ctxd_daemon *d = calloc(1, sizeof *d);
	struct ctxd_buf b = {0};
	char *slash;

	*out = NULL;
	if (!d) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	d->o = *opts;
	d->listen_fd = -1;
	d->lock_fd = -1;
	if (opts->listen_fd >= 0) {
		d->listen_fd = opts->listen_fd;
		d->socket_path = opts->socket_path ? strdup(opts->socket_path) : bound_path(opts->listen_fd);
		if (!d->socket_path) {
			ctxd_error_set(err, "the passed socket has no path in the file system");
			goto fail;
		}
	} else {
		d->socket_path = opts->socket_path ? strdup(opts->socket_path) : ctxd_client_socket_path();
	}
	ctxd_buf_printf(&b, "%s.lock", d->socket_path ? d->socket_path : "");
	d->lock_path = ctxd_buf_take(&b);
	if (!d->socket_path || !d->lock_path) {
		ctxd_error_set(err, "out of memory");
		goto fail;
	}
	if (d->socket_path[0] != '/') {
		ctxd_error_set(err, "%s: the socket path must be absolute", d->socket_path);
		goto fail;
	}
	slash = strrchr(d->socket_path, '/');
	*slash = '\0';
	if (private_dir(slash == d->socket_path ? "/" : d->socket_path, err) < 0) {
		*slash = '/';
		goto fail;
	}
	*slash = '/';
	if (take_lock(d, err) < 0)
		goto fail;
	if (opts->listen_fd < 0 && bind_socket(d, err) < 0)
		goto fail;
	*out = d;
	return 0;
fail:
	ctxd_daemon_destroy(d);
	return -1;
}

const char *ctxd_daemon_socket(const struct ctxd_daemon *d)
{
	return d->socket_path;
}

static void conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	ctxd_protocol_decoder_destroy(c->dec);
	free(c);
}

static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->prev)
		c->prev->next = c->next;
	else
		c->d->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

struct write_req {
	uv_write_t req;
	struct conn *c;
	bool then_close;
	char *data;
};

static void wrote(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;

	if ((status < 0 || w->then_close) && status != UV_ECANCELED)
		conn_close(w->c);
	free(w->data);
	free(w);
}

/* Queues msg, with payload's bytes when not NULL, to the client (then
 * closes it when then_close). */
static int conn_send_with(struct conn *c, const json_t *msg, const struct ctxd_buf *payload,
			  bool then_close)
{
	struct ctxd_buf b = {0};
	struct ctxd_error err;
	struct write_req *w;
	uv_buf_t buf;

	if (c->closing)
		return -1;
	if (ctxd_protocol_encode_payload(msg, payload ? payload->data : NULL, payload ? payload->len : 0,
					 0, &b, &err) < 0 ||
	    !(w = calloc(1, sizeof *w))) {
		ctxd_buf_free(&b);
		logf_(c->d, "cannot answer a client: %s", b.oom ? "out of memory" : err.msg);
		conn_close(c);
		return -1;
	}
	w->c = c;
	w->then_close = then_close;
	buf.len = b.len;
	w->data = buf.base = ctxd_buf_take(&b);
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &buf, 1, wrote) < 0) {
		free(w->data);
		free(w);
		conn_close(c);
		return -1;
	}
	return 0;
}

static int conn_send(struct conn *c, const json_t *msg, bool then_close)
{
	return conn_send_with(c, msg, NULL, then_close);
}

static int conn_send_payload(struct conn *c, const json_t *msg, const struct ctxd_buf *payload)
{
	return conn_send_with(c, msg, payload, false);
}

static void send_error(struct conn *c, const char *msg, bool then_close)
{
	json_t *m = ctxd_protocol_message("error");

	json_object_set_new(m, "message", json_string(msg));
	conn_send(c, m, then_close);
	json_decref(m);
}

static json_t *project_status(const struct project *p, uint64_t now)
{
	struct ctxd_index_stats st;
	struct ctxd_watch_status ws;

	ctxd_index_stats(ctxd_watch_index(p->w), &st);
	ctxd_watch_status(p->w, &ws);
	return json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			 "root", p->root, "state", ws.state, "reason", ws.reason,
			 "entries", (json_int_t)st.entries, "files", (json_int_t)st.files,
			 "dirs", (json_int_t)st.dirs, "bytes", (json_int_t)st.bytes,
			 "hashed", (json_int_t)st.hashed, "memory", (json_int_t)st.memory,
			 "path_bytes", (json_int_t)st.path_bytes,
			 "bytes_per_entry", (json_int_t)(st.entries ? st.memory / st.entries : 0),
			 "watches", (json_int_t)ws.watches, "events", (json_int_t)ws.events,
			 "rescans", (json_int_t)ws.rescans,
			 "last_event_age_ms", ws.last_event_ms ? (json_int_t)(now - ws.last_event_ms) : -1,
			 "last_used_age_ms", (json_int_t)(now - p->used_ms));
}

static json_t *status_reply(struct ctxd_daemon *d)
{
	json_t *m = ctxd_protocol_message("status"), *projects = json_array();
	uint64_t now = wall_ms();

	for (struct project *p = d->projects; p; p = p->next)
		json_array_append_new(projects, project_status(p, now));

	json_object_set_new(m, "pid", json_integer(getpid()));
	json_object_set_new(m, "socket", json_string(d->socket_path));
	json_object_set_new(m, "started_ms", json_integer((json_int_t)d->started_ms));
	json_object_set_new(m, "uptime_ms", json_integer((json_int_t)(wall_ms() - d->started_ms)));
	json_object_set_new(m, "requests", json_integer((json_int_t)d->requests));
	json_object_set_new(m, "idle_drop_seconds", json_integer(d->o.idle_drop_seconds));
	json_object_set_new(m, "projects", projects);
	return m;
}

static void stop(struct ctxd_daemon *d)
{
	if (!d->running)
		return;
	d->running = false;
	logf_(d, "stopping");
	uv_stop(&d->loop);
}

/* The daemon's own trouble, answered without closing the connection. */
static int request_error(struct conn *c, struct ctxd_error *err)
{
	send_error(c, err->msg, false);
	return 0;
}

static struct project *project_find(struct ctxd_daemon *d, const char *root)
{
	for (struct project *p = d->projects; p; p = p->next)
		if (strcmp(p->root, root) == 0)
			return p;
	return NULL;
}

/* The project for root (absolute, resolved), read and watched when new. */
static struct project *project_get(struct ctxd_daemon *d, const char *root, struct ctxd_error *err)
{
	struct project *p = project_find(d, root);

	if (p) {
		p->used_ms = wall_ms();
		return p;
	}
	p = calloc(1, sizeof *p);
	if (!p || !(p->root = strdup(root))) {
		free(p);
		ctxd_error_set(err, "out of memory");
		return NULL;
	}
	if (ctxd_watch_create(&d->loop, root, &p->w, err) < 0) {
		free(p->root);
		free(p);
		return NULL;
	}
	p->added_ms = p->used_ms = wall_ms();
	p->next = d->projects;
	d->projects = p;
	logf_(d, "watching %s", root);
	return p;
}

static bool project_drop(struct ctxd_daemon *d, const char *root)
{
	for (struct project **pp = &d->projects; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->root, root) == 0) {
			struct project *p = *pp;

			*pp = p->next;
			ctxd_gitview_destroy(p->git);
			ctxd_watch_destroy(p->w);
			free(p->root);
			free(p);
			return true;
		}
	return false;
}

struct answer {
	struct conn *c;
	json_t *batch;        /* hashes */
	struct ctxd_buf recs; /* entries, as records */
	size_t nrecs;
	size_t sent;
	struct ctxd_manifest *m; /* the sent entries, when hashes are wanted */
	struct ctxd_index *idx;
	bool oom;
};

/* Sends the hashes held as one "hashes" message. */
static int flush_hashes(struct answer *a)
{
	json_t *m;

	if (!json_array_size(a->batch))
		return 0;
	m = ctxd_protocol_message("hashes");
	json_object_set_new(m, "h", a->batch);
	a->batch = json_array();
	a->sent++;
	if (!a->batch) {
		json_decref(m);
		return -1;
	}
	if (conn_send(a->c, m, false) < 0) {
		json_decref(m);
		return -1;
	}
	json_decref(m);
	return 0;
}

/* Sends the entries held as one "entries" message. */
static int flush_batch(struct answer *a)
{
	json_t *m;
	int rc = -1;

	if (!a->nrecs)
		return 0;
	m = ctxd_protocol_message("entries");
	if (m && json_object_set_new(m, "n", json_integer((json_int_t)a->nrecs)) == 0)
		rc = conn_send_payload(a->c, m, &a->recs);
	json_decref(m);
	a->recs.len = 0;
	a->nrecs = 0;
	a->sent++;
	return rc;
}

static int answer_visit(void *ud, const struct ctxd_entry *e, struct ctxd_error *err)
{
	struct answer *a = ud;

	ctxd_query_entry_append(&a->recs, e);
	a->nrecs++;
	if (a->recs.oom || (a->m && ctxd_manifest_visit(a->m, e, err) < 0)) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	if (a->nrecs >= (a->sent < 6 ? (size_t)FIRST_BATCH << a->sent : BATCH) &&
	    flush_batch(a) < 0) {
		ctxd_error_set(err, "the client went away");
		return -1;
	}
	return 0;
}

static void answer_warn(void *ud, const char *msg)
{
	struct answer *a = ud;
	json_t *m = ctxd_protocol_message("warning");

	/* in order with the entries around it */
	flush_batch(a);
	json_object_set_new(m, "message", json_string(msg));
	conn_send(a->c, m, false);
	json_decref(m);
}

/* One candidate's hash, from the index's cache or read now; a file that
 * cannot be read is left for the client to find out about. */
static void answer_hash(void *ud, size_t i)
{
	struct answer *a = ud;
	const struct ctxd_entry *e = ctxd_manifest_entry(a->m, i);
	uint64_t ino = e->ino, size = e->size;
	struct ctxd_hash h;
	struct ctxd_hash_key key;
	struct ctxd_error err;
	json_t *j;

	if (a->oom || ctxd_index_hash(a->idx, e->path, &h, &key, &err) < 0 || key.ino != ino ||
	    key.size != size)
		return;
	if (!(j = ctxd_query_hash_encode(i, &h, &key)) || json_array_append_new(a->batch, j) < 0 ||
	    (json_array_size(a->batch) >= BATCH && flush_hashes(a) < 0))
		a->oom = true;
}

/* The hashes of the sent files dedup would hash, after the entries. */
static int send_hashes(struct answer *a, struct ctxd_error *err)
{
	if (ctxd_dedup_candidates(a->m, answer_hash, a, err) < 0)
		return -1;
	if (a->oom || flush_hashes(a) < 0) {
		json_array_clear(a->batch); /* no hashes in the error path's flush */
		ctxd_error_set(err, "out of memory, or the client went away");
		return -1;
	}
	return 0;
}

static bool onbuild_answer(void *ud, const char *image)
{
	json_t *v = json_object_get(ud, image);

	return !v || json_is_true(v);
}

/* Git's view of the project for a query that asks git, as the client
 * would open it (cli_context_git): a repository git cannot read is the
 * walk's error for the git filter; for the summary alone it costs the
 * savings figure (a warning), not the answer. The view is the project's,
 * kept for the next query while it is current. Without the Dockerfile
 * filter (keep_opts set), the Dockerfile's analysis still says what git
 * must keep; it sends nothing, so it asks docker nothing and warns
 * nothing. */
static int open_git(struct project *p, const struct ctxd_context *ctx, struct answer *a, bool filter,
		    const struct ctxd_select_options *keep_opts, struct ctxd_gitview **git,
		    struct ctxd_select **keep, struct ctxd_error *err)
{
	struct ctxd_watch_status st;
	struct ctxd_error gerr;

	ctxd_watch_status(p->w, &st);
	if (!p->git || p->git_changes != st.changes || !ctxd_gitview_current(p->git)) {
		ctxd_gitview_destroy(p->git);
		p->git_changes = st.changes;
		if (ctxd_gitview_open(ctx->root, &p->git, &gerr) < 0) {
			char msg[sizeof gerr.msg + sizeof CTXD_GITVIEW_NO_SAVINGS + 2];

			p->git = NULL;
			if (filter) {
				*err = gerr;
				return -1;
			}
			snprintf(msg, sizeof msg, "%s; " CTXD_GITVIEW_NO_SAVINGS, gerr.msg);
			answer_warn(a, msg);
			return 0;
		}
	}
	*git = p->git;
	if (keep_opts && ctxd_gitview_workdir(*git)) {
		struct ctxd_select_options ko = *keep_opts;

		ko.has_onbuild = NULL;
		ko.warn = NULL;
		if (ctxd_select_create(ctx, &ko, keep, err) < 0)
			return -1;
	}
	return 0;
}

/* The history record of a query for a command that keeps one: the end
 * message says it was made, with build's growth warning or why the
 * history could not be written (the client prints either). */
static void record_history(const struct ctxd_context *ctx, const char *cmd,
			   const struct ctxd_summary *sum, const struct ctxd_manifest *m, json_t *end)
{
	struct ctxd_buf w = {0};
	struct ctxd_error err;

	json_object_set_new(end, "recorded", json_true());
	if (ctxd_history_record_run(ctx, cmd, sum, m, NULL, &w, &err) < 0)
		json_object_set_new(end, "history_error", json_string(err.msg));
	else if (w.len && !w.oom)
		json_object_set_new(end, "history_warning", json_string(w.data));
	ctxd_buf_free(&w);
}

/* A query: sync the project to now, then the scan over its index. The
 * walk's own error goes back marked, so the client reports it as a cold
 * walk would; anything else lets the client do the work itself. */
static int answer_query(struct conn *c, const json_t *msg)
{
	struct ctxd_daemon *d = c->d;
	struct ctxd_query q;
	const char **args = NULL;
	struct ctxd_context_options co = {0};
	struct ctxd_context *ctx = NULL;
	struct ctxd_select_options sopt = {0};
	struct ctxd_select *sel = NULL, *keep = NULL;
	struct ctxd_gitview *git = NULL;
	struct ctxd_scan_source src;
	struct ctxd_scan_options so = {0};
	struct answer a = {.c = c};
	struct ctxd_summary sum = {.next = answer_visit, .next_ud = &a};
	struct project *p;
	struct ctxd_error err;
	bool walk_error = false;
	json_t *m;
	int rc = -1;

	if (ctxd_query_decode(msg, &q, &args, &err) < 0)
		goto fail;
	if (!(p = project_get(d, q.root, &err)) || ctxd_watch_sync(p->w, SYNC_TIMEOUT_MS, &err) < 0)
		goto fail;
	co.dir = q.root;
	co.dockerfile = q.dockerfile;
	co.classic_ignore = q.classic_ignore;
	walk_error = true;
	if (ctxd_context_open(&co, &ctx, &err) < 0)
		goto fail;
	sopt.target = q.target;
	sopt.build_args = q.build_args;
	sopt.nbuild_args = q.nbuild_args;
	sopt.platform = q.platform;
	sopt.classic = q.classic_ignore;
	sopt.has_onbuild = q.onbuild ? onbuild_answer : NULL;
	sopt.ud = q.onbuild;
	if (q.select && ctxd_select_create(ctx, &sopt, &sel, &err) < 0)
		goto fail;
	ctxd_index_source(ctxd_watch_index(p->w), &src);
	so.source = &src;
	so.select = sel;
	so.want_excluded = q.want_excluded;
	so.list_unread = q.list_unread;
	so.warn = answer_warn;
	so.warn_ud = &a;
	a.idx = ctxd_watch_index(p->w);
	if (q.git && !d->git_held)
		d->git_held = ctxd_gitview_hold() == 0;
	if (q.git && open_git(p, ctx, &a, q.git_filter != CTXD_GIT_FILTER_OFF, sel ? NULL : &sopt, &git,
			      &keep, &err) < 0)
		goto fail;
	if (git && ctxd_gitview_workdir(git)) {
		so.git = git;
		so.git_filter = q.git_filter;
		so.git_keep = sel ? sel : keep;
	}
	/* the sent entries: for the hashes, and a history record's directories */
	if (!(a.batch = json_array()) ||
	    ((q.want_hashes || q.record) && !(a.m = ctxd_manifest_create()))) {
		ctxd_error_set(&err, "out of memory");
		goto fail;
	}
	if (ctxd_scan_run(ctx, &so, q.record ? ctxd_summary_visit : answer_visit,
			  q.record ? (void *)&sum : (void *)&a, &err) < 0 || flush_batch(&a) < 0)
		goto fail;
	walk_error = false;
	if (q.want_hashes && send_hashes(&a, &err) < 0)
		goto fail;
	m = ctxd_protocol_message("end");
	if (so.git)
		json_object_set_new(m, "git_repository", json_string(ctxd_gitview_workdir(git)));
	if (q.record)
		record_history(ctx, q.record, &sum, a.m, m);
	conn_send(c, m, false);
	json_decref(m);
	rc = 0;
	goto out;
fail:
	flush_batch(&a);
	m = ctxd_protocol_message("error");
	json_object_set_new(m, "message", json_string(err.msg));
	json_object_set_new(m, "walk", json_boolean(walk_error));
	conn_send(c, m, false);
	json_decref(m);
	rc = 0;
out:
	json_decref(a.batch);
	ctxd_buf_free(&a.recs);
	ctxd_manifest_destroy(a.m);
	ctxd_select_destroy(keep);
	ctxd_select_destroy(sel);
	ctxd_context_destroy(ctx);
	free(args);
	return rc;
}

static int on_message(void *ud, json_t *msg, struct ctxd_error *err)
{
	struct conn *c = ud;
	struct ctxd_daemon *d = c->d;
	const char *type = ctxd_protocol_type(msg);
	json_t *reply;

	d->requests++;
	if (strcmp(type, "status") == 0) {
		reply = status_reply(d);
		conn_send(c, reply, false);
		json_decref(reply);
		return 0;
	}
	if (strcmp(type, "watch") == 0 || strcmp(type, "unwatch") == 0) {
		const char *path = json_string_value(json_object_get(msg, "path"));
		char *root = path ? realpath(path, NULL) : NULL;
		struct project *p;

		if (!root) {
			ctxd_error_set(err, "%s: %s", path ? path : "(no path)", path ? strerror(errno) : "a path is needed");
			return request_error(c, err);
		}
		if (type[0] == 'w') {
			if (!(p = project_get(d, root, err))) {
				free(root);
				return request_error(c, err);
			}
			reply = project_status(p, wall_ms());
			json_object_set_new(reply, "type", json_string("ok"));
			json_object_set_new(reply, "v", json_integer(CTXD_PROTOCOL_VERSION));
		} else if (!project_drop(d, root)) {
			ctxd_error_set(err, "%s is not watched", root);
			free(root);
			return request_error(c, err);
		} else {
			reply = ctxd_protocol_message("ok");
		}
		free(root);
		conn_send(c, reply, false);
		json_decref(reply);
		return 0;
	}
	if (strcmp(type, "query") == 0)
		return answer_query(c, msg);
	if (strcmp(type, "stop") == 0) {
		reply = ctxd_protocol_message("ok");
		conn_send(c, reply, true);
		json_decref(reply);
		stop(d);
		return 0;
	}
	ctxd_error_set(err, "unknown request type \"%s\"", type);
	return -1;
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)h;
	buf->base = malloc(hint);
	buf->len = buf->base ? hint : 0;
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	struct ctxd_error err;

	if (n > 0 && !c->closing &&
	    ctxd_protocol_decoder_feed(c->dec, buf->base, (size_t)n, on_message, c, &err) < 0) {
		/* a bad request costs that client its connection, nothing more */
		uv_read_stop(s);
		send_error(c, err.msg, true);
	} else if (n < 0) {
		if (n != UV_EOF)
			logf_(c->d, "client read error: %s", uv_strerror((int)n));
		else if (ctxd_protocol_decoder_finish(c->dec, &err) < 0)
			logf_(c->d, "client went away: %s", err.msg);
		conn_close(c);
	}
	free(buf->base);
}

static void accept_cb(uv_stream_t *server, int status)
{
	struct ctxd_daemon *d = server->data;
	struct conn *c;

	if (status < 0) {
		logf_(d, "accept: %s", uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof *c);
	if (!c || !(c->dec = ctxd_protocol_decoder_create(0))) {
		free(c);
		logf_(d, "accept: out of memory");
		return;
	}
	c->d = d;
	uv_pipe_init(&d->loop, &c->pipe, 0);
	c->pipe.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
		c->closing = true;
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
		return;
	}
	c->next = d->conns;
	if (d->conns)
		d->conns->prev = c;
	d->conns = c;
	uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb);
}

/* Drops the projects no query touched for idle_drop_seconds. */
static void on_idle(uv_timer_t *t)
{
	struct ctxd_daemon *d = t->data;
	uint64_t now = wall_ms(), limit = (uint64_t)d->o.idle_drop_seconds * 1000;
	struct project *p = d->projects;

	while (p) {
		struct project *next = p->next;

		if (now - p->used_ms >= limit) {
			logf_(d, "dropping %s (no query for %u s)", p->root, d->o.idle_drop_seconds);
			project_drop(d, p->root);
		}
		p = next;
	}
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct ctxd_daemon *d = h->data;

	logf_(d, "%s received", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	stop(d);
}

static void close_any(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int ctxd_daemon_run(struct ctxd_daemon *d, struct ctxd_error *err)
{
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (write_pid(d, err) < 0)
		return -1;
	if ((rc = uv_loop_init(&d->loop)) < 0) {
		ctxd_error_set(err, "event loop: %s", uv_strerror(rc));
		return -1;
	}
	uv_pipe_init(&d->loop, &d->server, 0);
	d->server.data = d;
	if ((rc = uv_pipe_open(&d->server, d->listen_fd)) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&d->server, 128, accept_cb)) < 0) {
		ctxd_error_set(err, "%s: %s", d->socket_path, uv_strerror(rc));
		uv_close((uv_handle_t *)&d->server, NULL);
		uv_run(&d->loop, UV_RUN_DEFAULT);
		uv_loop_close(&d->loop);
		return -1;
	}
	d->listen_fd = -1; /* the pipe handle owns it now */
	uv_signal_init(&d->loop, &d->sigterm);
	uv_signal_init(&d->loop, &d->sigint);
	d->sigterm.data = d->sigint.data = d;
	uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	uv_signal_start(&d->sigint, on_signal, SIGINT);
	if (d->o.idle_drop_seconds) {
		uint64_t every = d->o.idle_drop_seconds * 1000ull / 4;

		uv_timer_init(&d->loop, &d->idle);
		d->idle.data = d;
		uv_timer_start(&d->idle, on_idle, every ? every : 1, every ? every : 1);
	}
	d->started_ms = wall_ms();
	d->running = true;
	logf_(d, "serving %s (pid %ld)", d->socket_path, (long)getpid());
	uv_run(&d->loop, UV_RUN_DEFAULT);

	/* shut down: every client, every handle */
	while (d->conns)
		conn_close(d->conns);
	while (d->projects)
		project_drop(d, d->projects->root);
	uv_walk(&d->loop, close_any, NULL);
	uv_run(&d->loop, UV_RUN_DEFAULT);
	uv_loop_close(&d->loop);
	return 0;
}

void ctxd_daemon_destroy(struct ctxd_daemon *d)
{
	if (!d)
		return;
	if (d->bound)
		unlink(d->socket_path);
	if (d->listen_fd >= 0)
		close(d->listen_fd);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	if (d->git_held)
		ctxd_gitview_release();
	free(d->socket_path);
	free(d->lock_path);
	free(d);
}
