/* A context query asked of the daemon: what a command would otherwise walk
 * itself (the context, the Dockerfile filter's options, what the scan
 * lists), its wire form, and the client side that visits the entries the
 * daemon streams back. The daemon answers from its synced index with the
 * same scan (include/ctxd/scan.h), so the entries, their order, the
 * warnings and the first error are what a cold walk would give. */
#ifndef CTXD_QUERY_H
#define CTXD_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "ctxd/buf.h"
#include "ctxd/entry.h"
#include "ctxd/error.h"
#include "ctxd/gitview.h"
#include "ctxd/hash.h"
#include "ctxd/scan.h"

struct ctxd_query {
	const char *root;       /* the context directory, absolute, resolved */
	const char *dockerfile; /* absolute; NULL: the context's default */
	bool classic_ignore;
	bool select;            /* the Dockerfile filter applies */
	const char *target, *platform;
	const char *const *build_args; /* "NAME=VALUE" */
	size_t nbuild_args;
	/* Base images the client asked about: name -> true when it may have
	 * ONBUILD triggers. NULL: assume none (as ls and pack do); an image
	 * missing from a non-NULL map may have them. Borrowed. */
	json_t *onbuild;
	bool want_excluded, list_unread;
	/* Also the content hashes the index holds (or computes now, caching
	 * them) for the sent files dedup would hash (ctxd_dedup_candidates),
	 * after the entries: a client deduplicating reads no file to hash it. */
	bool want_hashes;
	/* Git's view of the context applies: the git filter git_filter drops
	 * what it covers (but what the Dockerfile names), each entry carries
	 * its git state (entry.git), and the end message names the
	 * repository, as a walk with git's view gives them. The daemon, not
	 * the client, opens the repository. */
	bool git;
	enum ctxd_git_filter git_filter;
	/* The command whose run this is, when it goes in the history
	 * (include/ctxd/report_history.h): "build", "pack" or "report"; NULL:
	 * none. The daemon then records the run itself and says so at the end
	 * of its answer, so the client records only what it walks itself. */
	const char *record;
};

/* The "query" request for q; NULL on ENOMEM. */
json_t *ctxd_query_encode(const struct ctxd_query *q);
/* Reads a "query" request; the strings borrow from msg (and *args, which
 * the caller frees). */
int ctxd_query_decode(const json_t *msg, struct ctxd_query *q, const char ***args,
		      struct ctxd_error *err);

/* An "entries" message carries {"n": count} and a payload
 * (include/ctxd/protocol.h) of count binary records, in order. Appends e's
 * record (out->oom on ENOMEM). */
void ctxd_query_entry_append(struct ctxd_buf *out, const struct ctxd_entry *e);
/* Reads the record at *p (before end) into e and moves *p past it: 1, or 0
 * at end, or -1 with err for a record that does not parse. e's strings
 * point into the payload, NUL-terminated there. */
int ctxd_query_entry_next(const char **p, const char *end, struct ctxd_entry *e,
			  struct ctxd_error *err);

/* One content hash for a "hashes" message: the n-th sent entry's (from 0,
 * excluded entries not counted), with the stat key it was computed under.
 * NULL on ENOMEM. */
json_t *ctxd_query_hash_encode(size_t n, const struct ctxd_hash *h, const struct ctxd_hash_key *key);
int ctxd_query_hash_decode(const json_t *a, size_t *n, struct ctxd_hash *h, struct ctxd_hash_key *key,
			   struct ctxd_error *err);

/* What a query's answer is given to: every entry to visit, the warnings to
 * warn (NULL: dropped), and with want_hashes each hash to hash (NULL:
 * dropped), once all entries have been visited. */
struct ctxd_query_handlers {
	ctxd_scan_visit_fn visit;
	void *ud;
	void (*warn)(void *ud, const char *msg);
	void *warn_ud;
	void (*hash)(void *ud, size_t n, const struct ctxd_hash *h, const struct ctxd_hash_key *key);
	void *hash_ud;
	/* With record: the daemon recorded the run. error: why the history
	 * could not be written (NULL: it was); warning: build's growth
	 * warning (NULL: none). NULL: dropped. */
	void (*recorded)(void *ud, const char *error, const char *warning);
	void *recorded_ud;
	/* With git: the repository's work tree (NULL: none). NULL: dropped. */
	void (*repository)(void *ud, const char *workdir);
	void *repository_ud;
	/* Called before waiting on the daemon when it has sent nothing more
	 * yet; returns 0, or -1 with err set to stop. NULL: not called. */
	int (*idle)(void *ud, struct ctxd_error *err);
	void *idle_ud;
};

/* Nothing was visited, so the caller can do the work in-process: no
 * daemon serves the socket, or the daemon failed before its first entry
 * (err says how). */
#define CTXD_QUERY_NO_DAEMON 1
#define CTXD_QUERY_DAEMON_FAILED 2

/* Asks the daemon at socket (NULL: the default) and hands the answer to h
 * as it arrives. Returns 0; -1 with err (the walk's own error, a
 * visitor's, or the daemon failing after entries were visited); or one of
 * the two above. */
int ctxd_query_run(const char *socket, const struct ctxd_query *q,
		   const struct ctxd_query_handlers *h, struct ctxd_error *err);

#endif
