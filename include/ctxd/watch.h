/* Keeps one project's index (include/ctxd/index.h) in step with the disk:
 * an inotify instance per project, a watch per listed directory, events
 * applied as they come on the daemon's libuv loop. What cannot be followed
 * is rescanned, never answered stale: an event-queue overflow marks the
 * project for a rescan at its next query, and a refused watch (the inotify
 * limit) degrades it to a rescan on every query, saying why and how to
 * raise the limit; a query tries watching again once the limit was raised,
 * or CTXD_WATCH_RETRY_SECONDS after the last refusal. Without inotify (not
 * Linux) every project is degraded that way. */
#ifndef CTXD_WATCH_H
#define CTXD_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "ctxd/error.h"
#include "ctxd/index.h"

struct ctxd_watch;

/* How long a project degraded by the watch limit waits before a query
 * tries watching it again (sooner when the limit is raised). */
#define CTXD_WATCH_RETRY_SECONDS 30

struct ctxd_watch_status {
	const char *state;   /* "watching", "rescan-pending", "degraded" */
	char reason[512];    /* why not "watching"; "" otherwise */
	unsigned watches;    /* inotify watches held */
	uint64_t events;     /* events applied */
	uint64_t changes;    /* events other than sync cookies', and rescans:
			      * while it stays the same, so does the tree */
	uint64_t rescans;    /* full re-reads of the tree after the first */
	uint64_t last_event_ms; /* wall clock of the last event, 0: none */
};

/* Reads the tree at root (absolute, symlinks resolved) and starts
 * watching it on loop. */
int ctxd_watch_create(uv_loop_t *loop, const char *root, struct ctxd_watch **out,
		      struct ctxd_error *err);
/* Stops watching; the memory goes once the loop has closed the handle. */
void ctxd_watch_destroy(struct ctxd_watch *w);

/* Makes the index agree with the disk as it is now: a cookie file is
 * created and removed in the root, and the events up to its removal are
 * applied (waiting at most timeout_ms); a timeout, a pending overflow, a
 * degraded project or a root where no cookie can be written rescan
 * instead (a degraded project's rescan watches again when a retry is due,
 * and is back to "watching" if the watches fit). */
int ctxd_watch_sync(struct ctxd_watch *w, int timeout_ms, struct ctxd_error *err);

struct ctxd_index *ctxd_watch_index(struct ctxd_watch *w);
void ctxd_watch_status(const struct ctxd_watch *w, struct ctxd_watch_status *out);

#endif
