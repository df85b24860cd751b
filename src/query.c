/* Context queries to the daemon (see include/ctxd/query.h): the request,
 * entries as binary records in the answer's payloads, and the client
 * loop. */
#include "ctxd/query.h"

#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctxd/client.h"
#include "ctxd/protocol.h"

static void set_str(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

json_t *ctxd_query_encode(const struct ctxd_query *q)
{
	json_t *m = ctxd_protocol_message("query"), *args = json_array();

	if (!m || !args) {
		json_decref(m);
		json_decref(args);
		return NULL;
	}
	set_str(m, "root", q->root);
	set_str(m, "dockerfile", q->dockerfile);
	set_str(m, "target", q->target);
	set_str(m, "platform", q->platform);
	json_object_set_new(m, "classic_ignore", json_boolean(q->classic_ignore));
	json_object_set_new(m, "select", json_boolean(q->select));
	json_object_set_new(m, "want_excluded", json_boolean(q->want_excluded));
	json_object_set_new(m, "list_unread", json_boolean(q->list_unread));
	json_object_set_new(m, "want_hashes", json_boolean(q->want_hashes));
	json_object_set_new(m, "git", json_boolean(q->git));
	json_object_set_new(m, "git_filter", json_string(ctxd_git_filter_name(q->git_filter)));
	set_str(m, "record", q->record);
	for (size_t i = 0; i < q->nbuild_args; i++)
		json_array_append_new(args, json_string(q->build_args[i]));
	json_object_set_new(m, "build_args", args);
	if (q->onbuild)
		json_object_set(m, "onbuild", q->onbuild);
	return m;
}

static const char *get_str(const json_t *m, const char *key)
{
	return json_string_value(json_object_get(m, key));
}

int ctxd_query_decode(const json_t *msg, struct ctxd_query *q, const char ***args,
		      struct ctxd_error *err)
{
	const json_t *a = json_object_get(msg, "build_args"), *v;
	size_t i;

	memset(q, 0, sizeof *q);
	*args = NULL;
	q->root = get_str(msg, "root");
	if (!q->root || q->root[0] != '/') {
		ctxd_error_set(err, "query: \"root\" must be an absolute path");
		return -1;
	}
	q->dockerfile = get_str(msg, "dockerfile");
	q->target = get_str(msg, "target");
	q->platform = get_str(msg, "platform");
	q->classic_ignore = json_is_true(json_object_get(msg, "classic_ignore"));
	q->select = json_is_true(json_object_get(msg, "select"));
	q->want_excluded = json_is_true(json_object_get(msg, "want_excluded"));
	q->list_unread = json_is_true(json_object_get(msg, "list_unread"));
	q->want_hashes = json_is_true(json_object_get(msg, "want_hashes"));
	q->git = json_is_true(json_object_get(msg, "git"));
	if (ctxd_git_filter_parse(get_str(msg, "git_filter") ? get_str(msg, "git_filter") : "off",
				  &q->git_filter) < 0) {
		ctxd_error_set(err, "query: \"git_filter\" must be off, ignored or untracked");
		return -1;
	}
	q->record = get_str(msg, "record");
	if (q->record && strcmp(q->record, "build") && strcmp(q->record, "pack") &&
	    strcmp(q->record, "report")) {
		ctxd_error_set(err, "query: \"record\" must be build, pack or report");
		return -1;
	}
	q->onbuild = json_object_get(msg, "onbuild");
	if (q->onbuild && !json_is_object(q->onbuild))
		q->onbuild = NULL;
	if (json_array_size(a)) {
		*args = calloc(json_array_size(a), sizeof **args);
		if (!*args) {
			ctxd_error_set(err, "out of memory");
			return -1;
		}
		json_array_foreach(a, i, v) {
			if (!json_is_string(v)) {
				free(*args);
				*args = NULL;
				ctxd_error_set(err, "query: \"build_args\" must hold strings");
				return -1;
			}
			(*args)[i] = json_string_value(v);
		}
		q->build_args = *args;
		q->nbuild_args = json_array_size(a);
	}
	return 0;
}

/* An entry's record in an "entries" payload: unsigned LEB128 varints, in
 * order: path length, the path and a NUL; type, mode, size, mtime
 * (zigzag), mtime_nsec, dev, ino, nlink, rdev major, rdev minor; flags
 * (1 excluded, 2 pruned, 4 a link follows, 8 data follows); reason; rule
 * + 1; git state; then the link's length, the link and a NUL; then size bytes of
 * data. The NULs let the decoded strings point into the payload. */
enum { F_EXCLUDED = 1, F_PRUNED = 2, F_LINK = 4, F_DATA = 8 };

static void put(struct ctxd_buf *out, uint64_t v)
{
	unsigned char b[10];
	size_t n = 0;

	do {
		b[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			b[n] |= 0x80;
		n++;
	} while (v);
	ctxd_buf_append(out, b, n);
}

static void put_str(struct ctxd_buf *out, const char *s, size_t len)
{
	put(out, len);
	ctxd_buf_append(out, s, len);
	ctxd_buf_append(out, "", 1);
}

void ctxd_query_entry_append(struct ctxd_buf *out, const struct ctxd_entry *e)
{
	unsigned flags = (e->excluded ? F_EXCLUDED : 0) | (e->pruned ? F_PRUNED : 0) |
			 (e->link ? F_LINK : 0) | (e->data ? F_DATA : 0);

	put_str(out, e->path, e->path_len);
	put(out, (uint64_t)e->type);
	put(out, e->mode);
	put(out, e->size);
	put(out, ((uint64_t)e->mtime << 1) ^ (uint64_t)(e->mtime >> 63));
	put(out, e->mtime_nsec);
	put(out, e->dev);
	put(out, e->ino);
	put(out, e->nlink);
	put(out, e->rdev_major);
	put(out, e->rdev_minor);
	put(out, flags);
	put(out, (uint64_t)e->reason);
	put(out, (uint64_t)(e->rule + 1));
	put(out, (uint64_t)e->git);
	if (e->link)
		put_str(out, e->link, e->link_len);
	if (e->data)
		ctxd_buf_append(out, e->data, (size_t)e->size);
}

struct reader {
	const char *p, *end;
	bool bad;
};

static uint64_t get(struct reader *r, uint64_t max)
{
	uint64_t v = 0;

	for (unsigned shift = 0; !r->bad; shift += 7) {
		unsigned char c;

		if (r->p == r->end || shift > 63) {
			r->bad = true;
			break;
		}
		c = (unsigned char)*r->p++;
		if (shift == 63 && c > 1) {
			r->bad = true;
			break;
		}
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			break;
	}
	if (v > max)
		r->bad = true;
	return r->bad ? 0 : v;
}

/* len bytes, then (nul) a NUL that no byte before it may be. */
static const char *get_bytes(struct reader *r, size_t len, bool nul)
{
	const char *s = r->p;

	if (r->bad || (size_t)(r->end - r->p) < len + nul ||
	    (nul && (s[len] != '\0' || memchr(s, '\0', len)))) {
		r->bad = true;
		return NULL;
	}
	r->p += len + nul;
	return s;
}

int ctxd_query_entry_next(const char **p, const char *end, struct ctxd_entry *e,
			  struct ctxd_error *err)
{
	struct reader r = {.p = *p, .end = end};
	uint64_t flags, zz;

	if (*p == end)
		return 0;
	memset(e, 0, sizeof *e);
	e->path_len = (size_t)get(&r, SIZE_MAX - 1);
	e->path = get_bytes(&r, e->path_len, true);
	e->type = (enum ctxd_entry_type)get(&r, CTXD_ENTRY_SOCKET);
	e->mode = (uint32_t)get(&r, 07777);
	e->size = get(&r, UINT64_MAX);
	zz = get(&r, UINT64_MAX);
	e->mtime = (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
	e->mtime_nsec = (uint32_t)get(&r, 999999999);
	e->dev = get(&r, UINT64_MAX);
	e->ino = get(&r, UINT64_MAX);
	e->nlink = (uint32_t)get(&r, UINT32_MAX);
	e->rdev_major = (uint32_t)get(&r, UINT32_MAX);
	e->rdev_minor = (uint32_t)get(&r, UINT32_MAX);
	flags = get(&r, F_EXCLUDED | F_PRUNED | F_LINK | F_DATA);
	e->excluded = flags & F_EXCLUDED;
	e->pruned = flags & F_PRUNED;
	e->reason = (enum ctxd_entry_reason)get(&r, CTXD_REASON_GIT_UNTRACKED); /* the last */
	e->rule = (int)get(&r, INT_MAX) - 1;
	e->git = (enum ctxd_git_state)get(&r, CTXD_GIT_IGNORED); /* the last */
	if (flags & F_LINK) {
		e->link_len = (size_t)get(&r, SIZE_MAX - 1);
		e->link = get_bytes(&r, e->link_len, true);
	}
	if ((flags & F_DATA) && e->size > (uint64_t)(r.end - r.p))
		r.bad = true;
	else if (flags & F_DATA)
		e->data = get_bytes(&r, (size_t)e->size, false);
	e->dirfd = -1;
	if (r.bad || !e->path_len) {
		ctxd_error_set(err, "the daemon sent an entry that does not parse (at byte %zu of its answer)",
			       (size_t)(r.p - *p));
		return -1;
	}
	*p = r.p;
	return 1;
}

/* The 64-bit values travel as JSON's signed integers, bit for bit. */
json_t *ctxd_query_hash_encode(size_t n, const struct ctxd_hash *h, const struct ctxd_hash_key *key)
{
	return json_pack("[I,I,I,I,I,I,I,i,I,i]", (json_int_t)n, (json_int_t)h->hi, (json_int_t)h->lo,
			 (json_int_t)key->dev, (json_int_t)key->ino, (json_int_t)key->size,
			 (json_int_t)key->mtime, (int)key->mtime_nsec, (json_int_t)key->ctime,
			 (int)key->ctime_nsec);
}

int ctxd_query_hash_decode(const json_t *a, size_t *n, struct ctxd_hash *h, struct ctxd_hash_key *key,
			   struct ctxd_error *err)
{
	json_int_t in, hi, lo, dev, ino, size, mtime, ctime;
	int mnsec, cnsec;

	if (json_unpack((json_t *)a, "[I,I,I,I,I,I,I,i,I,i]", &in, &hi, &lo, &dev, &ino, &size, &mtime,
			&mnsec, &ctime, &cnsec) < 0 || in < 0) {
		ctxd_error_set(err, "the daemon sent a hash that does not parse");
		return -1;
	}
	*n = (size_t)in;
	h->hi = (uint64_t)hi;
	h->lo = (uint64_t)lo;
	memset(key, 0, sizeof *key);
	key->dev = (uint64_t)dev;
	key->ino = (uint64_t)ino;
	key->size = (uint64_t)size;
	key->mtime = mtime;
	key->mtime_nsec = (uint32_t)mnsec;
	key->ctime = ctime;
	key->ctime_nsec = (uint32_t)cnsec;
	return 0;
}

/* An "entries" message: its payload holds n records. */
static int visit_entries(const struct ctxd_buf *payload, const json_t *n,
			 const struct ctxd_query_handlers *h, struct ctxd_error *err)
{
	const char *p = payload->len ? payload->data : "", *end = p + payload->len;
	json_int_t count = 0;
	struct ctxd_entry e;
	int r;

	while ((r = ctxd_query_entry_next(&p, end, &e, err)) > 0) {
		count++;
		if (h->visit(h->ud, &e, err) < 0)
			return -1;
	}
	if (r < 0)
		return -1;
	if (!json_is_integer(n) || json_integer_value(n) != count) {
		ctxd_error_set(err, "the daemon's entries message holds %lld entries, not the number it says",
			       (long long)count);
		return -1;
	}
	return 0;
}

static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) > 0;
}

int ctxd_query_run(const char *socket, const struct ctxd_query *q,
		   const struct ctxd_query_handlers *h, struct ctxd_error *err)
{
	struct ctxd_buf payload = {0};
	json_t *req, *msg = NULL;
	bool no_daemon, visited = false;
	int fd, rc = -1;

	if (ctxd_client_connect(socket, CTXD_CLIENT_CONNECT_TIMEOUT_MS, &fd, &no_daemon, err) < 0)
		return no_daemon ? CTXD_QUERY_NO_DAEMON : CTXD_QUERY_DAEMON_FAILED;
	req = ctxd_query_encode(q);
	if (!req) {
		close(fd);
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	if (ctxd_protocol_write(fd, req, CTXD_CLIENT_REPLY_TIMEOUT_MS, err) < 0) {
		rc = CTXD_QUERY_DAEMON_FAILED;
		goto out;
	}
	for (;;) {
		const char *type;
		json_t *v;
		size_t i;

		json_decref(msg);
		msg = NULL;
		if (h->idle && !readable(fd) && h->idle(h->idle_ud, err) < 0)
			goto out;
		if (ctxd_protocol_read(fd, &msg, &payload, CTXD_CLIENT_REPLY_TIMEOUT_MS, err) < 0) {
			ctxd_error_prefix(err, "the daemon stopped answering");
			rc = visited ? -1 : CTXD_QUERY_DAEMON_FAILED;
			goto out;
		}
		type = ctxd_protocol_type(msg);
		if (strcmp(type, "end") == 0) {
			if (q->git && h->repository)
				h->repository(h->repository_ud, get_str(msg, "git_repository"));
			if (h->recorded && json_is_true(json_object_get(msg, "recorded")))
				h->recorded(h->recorded_ud, get_str(msg, "history_error"),
					    get_str(msg, "history_warning"));
			break;
		}
		if (strcmp(type, "error") == 0) {
			const char *m = get_str(msg, "message");

			ctxd_error_set(err, "%s", m ? m : "the daemon failed without saying why");
			/* the walk's own error is the answer; the daemon's trouble is not */
			rc = json_is_true(json_object_get(msg, "walk")) || visited ? -1 : CTXD_QUERY_DAEMON_FAILED;
			goto out;
		}
		if (strcmp(type, "warning") == 0) {
			if (h->warn && get_str(msg, "message"))
				h->warn(h->warn_ud, get_str(msg, "message"));
			continue;
		}
		if (strcmp(type, "hashes") == 0) {
			json_array_foreach(json_object_get(msg, "h"), i, v) {
				struct ctxd_hash hash;
				struct ctxd_hash_key key;
				size_t n;

				if (ctxd_query_hash_decode(v, &n, &hash, &key, err) < 0)
					goto out;
				if (h->hash)
					h->hash(h->hash_ud, n, &hash, &key);
			}
			continue;
		}
		if (strcmp(type, "entries") != 0) {
			ctxd_error_set(err, "the daemon answered a query with \"%s\"", type);
			rc = visited ? -1 : CTXD_QUERY_DAEMON_FAILED;
			goto out;
		}
		if (visit_entries(&payload, json_object_get(msg, "n"), h, err) < 0)
			goto out;
		visited = true;
	}
	rc = 0;
out:
	json_decref(msg);
	json_decref(req);
	ctxd_buf_free(&payload);
	close(fd);
	return rc;
}
