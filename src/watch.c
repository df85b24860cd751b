/* Following a project tree with inotify (see include/ctxd/watch.h). The
 * inotify fd is read through a uv_poll_t rather than uv_fs_event_t: libuv
 * drops IN_Q_OVERFLOW, and an overflow must cost a rescan, never a stale
 * answer; one instance per project also keeps one busy tree's overflow
 * from costing the others theirs. Events are applied in order; each
 * re-reads the disk at the name it names, so a burst of events for one
 * name converges on the latest state. */
#include "ctxd/watch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/inotify.h>
#endif

#include "ctxd/buf.h"

/* wd -> listed directory, open addressing. */
struct slot {
	int wd;
	struct ctxd_index_node *node;
};

struct ctxd_watch {
	uv_poll_t poll;
	bool polling;
	int fd;
	struct ctxd_index *idx;
	struct slot *slots;
	size_t cap, n;
	bool overflowed;  /* events were lost: rescan before answering */
	bool rebuild;     /* the ignore file or the root changed */
	bool degraded;    /* a watch was refused: rescan on every query */
	long limit_seen;  /* max_user_watches when it was refused */
	uint64_t refused_ms; /* when (monotonic) */
	char reason[512];
	uint64_t events, rescans, last_event_ms;
	uint64_t changes; /* events not our cookies', and rescans */
	unsigned seq;
	const char *cookie; /* the name being waited for, NULL when none */
	bool cookie_seen;
};

static uint64_t ms_of(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t wall_ms(void)
{
	return ms_of(CLOCK_REALTIME);
}

static size_t slot_of(const struct ctxd_watch *w, int wd)
{
	size_t i = ((size_t)(unsigned)wd * 0x9E3779B97F4A7C15ull) & (w->cap - 1);

	while (w->slots[i].node && w->slots[i].wd != wd)
		i = (i + 1) & (w->cap - 1);
	return i;
}

static struct ctxd_index_node *map_get(const struct ctxd_watch *w, int wd)
{
	return w->cap ? w->slots[slot_of(w, wd)].node : NULL;
}

static int map_put(struct ctxd_watch *w, int wd, struct ctxd_index_node *node)
{
	size_t i;

	if ((w->n + 1) * 2 > w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct slot *old = w->slots;
		size_t ocap = w->cap;

		if (!(w->slots = calloc(cap, sizeof *w->slots))) {
			w->slots = old;
			return -1;
		}
		w->cap = cap;
		for (size_t k = 0; k < ocap; k++)
			if (old[k].node)
				w->slots[slot_of(w, old[k].wd)] = old[k];
		free(old);
	}
	i = slot_of(w, wd);
	if (!w->slots[i].node)
		w->n++;
	else if (w->slots[i].node != node)
		ctxd_index_node_set_tag(w->slots[i].node, -1); /* same directory, now this node's */
	w->slots[i] = (struct slot){wd, node};
	return 0;
}

/* Removal with backward shifting, so lookups never need tombstones. */
static void map_del(struct ctxd_watch *w, int wd)
{
	size_t i, j;

	if (!w->cap || !w->slots[i = slot_of(w, wd)].node)
		return;
	w->slots[i].node = NULL;
	w->n--;
	for (j = (i + 1) & (w->cap - 1); w->slots[j].node; j = (j + 1) & (w->cap - 1)) {
		struct slot s = w->slots[j];
		size_t k = slot_of(w, s.wd);

		if (k != j) {
			w->slots[j].node = NULL;
			w->slots[k] = s;
		}
	}
}

#ifdef __linux__
#define MASK (IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | \
	      IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

static int watch_dir(void *ud, struct ctxd_index_node *dir, const char *path)
{
	struct ctxd_watch *w = ud;
	int wd;

	if (w->degraded || w->fd < 0)
		return 0;
	wd = inotify_add_watch(w->fd, path, MASK);
	if (wd < 0)
		/* gone already: its parent's event drops it */
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (map_put(w, wd, dir) < 0) {
		inotify_rm_watch(w->fd, wd);
		errno = ENOMEM;
		return -1;
	}
	ctxd_index_node_set_tag(dir, wd);
	return 0;
}

static void unwatch_dir(void *ud, struct ctxd_index_node *dir)
{
	struct ctxd_watch *w = ud;
	int wd = ctxd_index_node_tag(dir);

	if (wd < 0)
		return;
	ctxd_index_node_set_tag(dir, -1);
	if (map_get(w, wd) == dir) {
		map_del(w, wd);
		inotify_rm_watch(w->fd, wd);
	}
}

static long read_limit(const char *name)
{
	char path[128], buf[32];
	long v = -1;
	int fd;
	ssize_t n;

	snprintf(path, sizeof path, "/proc/sys/fs/inotify/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof buf - 1);
		if (n > 0) {
			buf[n] = '\0';
			v = strtol(buf, NULL, 10);
		}
		close(fd);
	}
	return v;
}
#endif

/* Reads the whole tree again; a refused watch degrades the project (and
 * the tree is read once more with no watches, freeing them for others). */
static int rescan(struct ctxd_watch *w, struct ctxd_error *err)
{
	int e = 0;
	unsigned failed;

	w->overflowed = w->rebuild = false;
	if (ctxd_index_build(w->idx, err) < 0)
		return -1;
	failed = ctxd_index_hook_failed(w->idx, &e);
	if (failed && !w->degraded) {
		w->degraded = true;
#ifdef __linux__
		w->limit_seen = read_limit("max_user_watches");
		w->refused_ms = ms_of(CLOCK_MONOTONIC);
		if (e == ENOSPC)
			snprintf(w->reason, sizeof w->reason,
				 "the inotify watch limit was reached (fs.inotify.max_user_watches=%ld; "
				 "%u directories could not be watched), so every query rescans the tree; "
				 "raise it with: sysctl fs.inotify.max_user_watches=524288 (and a line in "
				 "/etc/sysctl.d/ to keep it); watching is tried again at the first query "
				 "after the limit is raised, or %d s after this try",
				 w->limit_seen, failed, CTXD_WATCH_RETRY_SECONDS);
		else
#endif
			snprintf(w->reason, sizeof w->reason,
				 "%u directories could not be watched (%s), so every query rescans the tree",
				 failed, strerror(e));
		if (ctxd_index_build(w->idx, err) < 0)
			return -1;
	}
	return 0;
}

#ifdef __linux__
/* Applies what the inotify fd holds now. Returns -1 only on ENOMEM. */
static int drain(struct ctxd_watch *w, struct ctxd_error *err)
{
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(w->fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			struct ctxd_index_node *dir;
			int rc;

			p += sizeof *ev + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				w->overflowed = true;
				continue;
			}
			if (w->cookie && ev->len && strcmp(ev->name, w->cookie) == 0 &&
			    (ev->mask & IN_DELETE))
				w->cookie_seen = true;
			dir = map_get(w, ev->wd);
			if (ev->mask & IN_IGNORED) {
				/* the kernel dropped a watch it was not asked to drop: the
				 * directory's inode is gone, and one made again in its
				 * place may well have its number */
				if (dir) {
					ctxd_index_node_set_tag(dir, -1);
					map_del(w, ev->wd);
					if (!w->overflowed && !w->rebuild) {
						rc = ctxd_index_forget(w->idx, dir, err);
						if (rc < 0)
							return -1;
						if (rc > 0)
							w->rebuild = true;
					}
				}
				continue;
			}
			if (!dir || w->overflowed || w->rebuild)
				continue; /* a dropped directory's, or a rescan will read it all */
			w->events++;
			if (!ev->len || strncmp(ev->name, CTXD_INDEX_COOKIE_PREFIX,
						strlen(CTXD_INDEX_COOKIE_PREFIX)) != 0)
				w->changes++;
			w->last_event_ms = wall_ms();
			if (!ev->len && (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))) {
				/* a move is the parent's event; a deletion, IN_IGNORED's */
				if (dir == ctxd_index_top(w->idx))
					w->rebuild = true;
				continue;
			}
			rc = ctxd_index_refresh(w->idx, dir, ev->len ? ev->name : NULL, err);
			if (rc < 0)
				return -1;
			if (rc > 0)
				w->rebuild = true;
		}
	}
	return 0;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct ctxd_watch *w = h->data;
	struct ctxd_error err;

	(void)events;
	if (status < 0 || drain(w, &err) < 0)
		w->overflowed = true; /* what was lost is read again at the next query */
}
#endif

int ctxd_watch_create(uv_loop_t *loop, const char *root, struct ctxd_watch **out,
		      struct ctxd_error *err)
{
	struct ctxd_watch *w = calloc(1, sizeof *w);
	struct ctxd_index_hooks hooks = {0};

	*out = NULL;
	if (!w) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	w->fd = -1;
	w->poll.data = w;
#ifdef __linux__
	hooks.watch_dir = watch_dir;
	hooks.unwatch_dir = unwatch_dir;
	hooks.ud = w;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		w->degraded = true;
		snprintf(w->reason, sizeof w->reason,
			 "no inotify instance (%s%s), so every query rescans the tree", strerror(errno),
			 errno == EMFILE ? "; raise fs.inotify.max_user_instances" : "");
	}
#else
	w->degraded = true;
	snprintf(w->reason, sizeof w->reason,
		 "this system has no inotify, so every query rescans the tree");
#endif
	if (ctxd_index_create(root, &hooks, &w->idx, err) < 0 || rescan(w, err) < 0) {
		ctxd_index_destroy(w->idx);
		if (w->fd >= 0)
			close(w->fd);
		free(w->slots);
		free(w);
		return -1;
	}
	w->rescans = 0;
#ifdef __linux__
	if (w->fd >= 0 && uv_poll_init(loop, &w->poll, w->fd) == 0) {
		w->polling = true;
		uv_poll_start(&w->poll, UV_READABLE, on_poll);
	}
#else
	(void)loop;
#endif
	*out = w;
	return 0;
}

static void free_watch(struct ctxd_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	free(w->slots);
	free(w);
}

static void closed(uv_handle_t *h)
{
	free_watch(h->data);
}

void ctxd_watch_destroy(struct ctxd_watch *w)
{
	if (!w)
		return;
	/* closing the inotify fd drops every watch at once */
	ctxd_index_destroy(w->idx);
	w->idx = NULL;
	if (w->polling)
		uv_close((uv_handle_t *)&w->poll, closed);
	else
		free_watch(w);
}

struct ctxd_index *ctxd_watch_index(struct ctxd_watch *w)
{
	return w->idx;
}

void ctxd_watch_status(const struct ctxd_watch *w, struct ctxd_watch_status *out)
{
	memset(out, 0, sizeof *out);
	out->watches = (unsigned)w->n;
	out->events = w->events;
	out->changes = w->changes;
	out->rescans = w->rescans;
	out->last_event_ms = w->last_event_ms;
	if (w->degraded) {
		out->state = "degraded";
		snprintf(out->reason, sizeof out->reason, "%s", w->reason);
	} else if (w->overflowed || w->rebuild) {
		out->state = "rescan-pending";
		snprintf(out->reason, sizeof out->reason, "%s",
			 w->overflowed ? "the inotify event queue overflowed; the next query rescans"
				       : "the ignore file or the root changed; the next query rescans");
	} else {
		out->state = "watching";
	}
}

static int full(struct ctxd_watch *w, struct ctxd_error *err)
{
	w->rescans++;
	w->changes++;
	return rescan(w, err);
}

#ifdef __linux__
/* Whether a degraded project should try watching again: the limit was
 * raised, or watches other processes held may have been freed since. */
static bool retry_due(const struct ctxd_watch *w)
{
	return read_limit("max_user_watches") > w->limit_seen ||
	       ms_of(CLOCK_MONOTONIC) - w->refused_ms >= CTXD_WATCH_RETRY_SECONDS * 1000ull;
}
#endif

int ctxd_watch_sync(struct ctxd_watch *w, int timeout_ms, struct ctxd_error *err)
{
#ifdef __linux__
	char name[64];
	struct ctxd_buf path = {0};
	struct timespec t0, now;
	int fd;

	if (w->degraded && w->fd >= 0 && retry_due(w)) {
		/* the rescan degrades the project again if the watches still do not fit */
		w->degraded = false;
		w->reason[0] = '\0';
	}
	if (w->degraded || w->fd < 0)
		return full(w, err);
	if (drain(w, err) < 0)
		return -1;
	if (w->overflowed || w->rebuild)
		return full(w, err);
	snprintf(name, sizeof name, CTXD_INDEX_COOKIE_PREFIX "%ld-%u", (long)getpid(), ++w->seq);
	ctxd_buf_printf(&path, "%s/%s", ctxd_index_root(w->idx), name);
	if (path.oom) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	/* created and removed at once: a walk of the tree hardly ever sees it */
	fd = open(path.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		close(fd);
		unlink(path.data);
	}
	ctxd_buf_free(&path);
	if (fd < 0)
		return full(w, err); /* a read-only tree: no cookie, so read it all */
	w->cookie = name;
	w->cookie_seen = false;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = {.fd = w->fd, .events = POLLIN};
		long left;

		if (drain(w, err) < 0) {
			w->cookie = NULL;
			return -1;
		}
		if (w->cookie_seen || w->overflowed || w->rebuild)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout_ms - ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			break;
		poll(&p, 1, (int)left);
	}
	w->cookie = NULL;
	if (!w->cookie_seen || w->overflowed || w->rebuild)
		return full(w, err);
	return ctxd_index_restat_links(w->idx, err);
#else
	(void)timeout_ms;
	return full(w, err);
#endif
}
