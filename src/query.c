/* Context queries to the daemon (see include/ctxd/query.h): the request,
 * entries as compact arrays (bytes that are not UTF-8 travel as hex), and
 * the client loop. */
#include "ctxd/query.h"

#include <poll.h>
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

/* A string, or {"x": hex} for bytes that are not UTF-8. */
static json_t *bytes(const void *p, size_t len)
{
	json_t *s = json_stringn(p, len), *o;
	char *hex;

	if (s)
		return s;
	hex = malloc(len * 2 + 1);
	if (!hex)
		return NULL;
	for (size_t i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", ((const unsigned char *)p)[i]);
	o = json_pack("{s:s#}", "x", hex, (int)(len * 2));
	free(hex);
	return o;
}

static int unbytes(const json_t *v, char **out, size_t *len)
{
	const char *hex;
	size_t n;

	*out = NULL;
	*len = 0;
	if (json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		n = json_string_length(v);
		if (!(*out = malloc(n + 1)))
			return -1;
		memcpy(*out, json_string_value(v), n);
		(*out)[n] = '\0';
		*len = n;
		return 0;
	}
	hex = json_string_value(json_object_get(v, "x"));
	if (!hex || strlen(hex) % 2)
		return -1;
	n = strlen(hex) / 2;
	if (!(*out = malloc(n + 1)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1) {
			free(*out);
			*out = NULL;
			return -1;
		}
		(*out)[i] = (char)b;
	}
	(*out)[n] = '\0';
	*len = n;
	return 0;
}

json_t *ctxd_query_entry_encode(const struct ctxd_entry *e)
{
	return json_pack("[o,i,i,I,I,i,I,I,i,i,i,o,o,b,i,b,i]", bytes(e->path, e->path_len),
			 (int)e->type, (int)e->mode, (json_int_t)e->size, (json_int_t)e->mtime,
			 (int)e->mtime_nsec, (json_int_t)e->dev, (json_int_t)e->ino, (int)e->nlink,
			 (int)e->rdev_major, (int)e->rdev_minor,
			 e->link ? bytes(e->link, e->link_len) : json_null(),
			 e->data ? bytes(e->data, (size_t)e->size) : json_null(), e->excluded,
			 (int)e->reason, e->pruned, e->rule);
}

void ctxd_query_store_free(struct ctxd_query_store *s)
{
	free(s->path);
	free(s->link);
	free(s->data);
	memset(s, 0, sizeof *s);
}

int ctxd_query_entry_decode(const json_t *a, struct ctxd_entry *e, struct ctxd_query_store *s,
			    struct ctxd_error *err)
{
	json_t *path, *link, *data;
	json_int_t size, mtime, dev, ino;
	int type, mode, nsec, nlink, maj, min, excluded, reason, pruned, rule;
	size_t dlen;

	ctxd_query_store_free(s);
	memset(e, 0, sizeof *e);
	if (json_unpack((json_t *)a, "[o,i,i,I,I,i,I,I,i,i,i,o,o,b,i,b,i]", &path, &type, &mode, &size, &mtime,
			&nsec, &dev, &ino, &nlink, &maj, &min, &link, &data, &excluded, &reason, &pruned,
			&rule) < 0 ||
	    unbytes(path, &s->path, &e->path_len) < 0 || !s->path ||
	    unbytes(link, &s->link, &e->link_len) < 0 || unbytes(data, (char **)&s->data, &dlen) < 0) {
		ctxd_error_set(err, "the daemon sent an entry that does not parse");
		return -1;
	}
	e->path = s->path;
	e->type = (enum ctxd_entry_type)type;
	e->mode = (uint32_t)mode;
	e->size = (uint64_t)size;
	e->mtime = mtime;
	e->mtime_nsec = (uint32_t)nsec;
	e->dev = (uint64_t)dev;
	e->ino = (uint64_t)ino;
	e->nlink = (uint32_t)nlink;
	e->rdev_major = (uint32_t)maj;
	e->rdev_minor = (uint32_t)min;
	e->link = s->link;
	e->data = s->data;
	e->dirfd = -1;
	e->excluded = excluded;
	e->reason = (enum ctxd_entry_reason)reason;
	e->pruned = pruned;
	e->rule = rule;
	return 0;
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

static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) > 0;
}

int ctxd_query_run(const char *socket, const struct ctxd_query *q,
		   const struct ctxd_query_handlers *h, struct ctxd_error *err)
{
	struct ctxd_query_store store = {0};
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
		json_t *list, *v;
		size_t i;

		json_decref(msg);
		msg = NULL;
		if (h->idle && !readable(fd) && h->idle(h->idle_ud, err) < 0)
			goto out;
		if (ctxd_protocol_read(fd, &msg, CTXD_CLIENT_REPLY_TIMEOUT_MS, err) < 0) {
			ctxd_error_prefix(err, "the daemon stopped answering");
			rc = visited ? -1 : CTXD_QUERY_DAEMON_FAILED;
			goto out;
		}
		type = ctxd_protocol_type(msg);
		if (strcmp(type, "end") == 0) {
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
		list = json_object_get(msg, "e");
		json_array_foreach(list, i, v) {
			struct ctxd_entry e;

			if (ctxd_query_entry_decode(v, &e, &store, err) < 0)
				goto out;
			visited = true;
			if (h->visit(h->ud, &e, err) < 0)
				goto out;
		}
	}
	rc = 0;
out:
	json_decref(msg);
	json_decref(req);
	ctxd_query_store_free(&store);
	close(fd);
	return rc;
}
