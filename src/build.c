/* POST /build (see include/ctxd/build.h). A producer thread packs the
 * manifest into one end of a socketpair; curl's body callback reads the
 * other, so the tar streams with constant memory. */
#include "ctxd/build.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctxd/dedup.h"

/* Go's url.QueryEscape, as the docker CLI's url.Values.Encode uses it:
 * unreserved bytes as they are, space as '+', the rest %XX. */
static void query_escape(struct ctxd_buf *q, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			ctxd_buf_putc(q, (char)*p);
		} else if (*p == ' ') {
			ctxd_buf_putc(q, '+');
		} else {
			ctxd_buf_putc(q, '%');
			ctxd_buf_putc(q, hex[*p >> 4]);
			ctxd_buf_putc(q, hex[*p & 15]);
		}
	}
}

static void put_param(struct ctxd_buf *q, const char *key, const char *val)
{
	ctxd_buf_putc(q, strchr(q->data ? q->data : "", '?') ? '&' : '?');
	ctxd_buf_puts(q, key);
	ctxd_buf_putc(q, '=');
	query_escape(q, val);
}

/* json.Marshal's text: compact, keys sorted, and <, >, &, U+2028 and
 * U+2029 escaped as \uXXXX (they only occur inside strings). */
static char *json_compact(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	struct ctxd_buf b = {0};

	json_decref(j);
	if (!s)
		return NULL;
	for (const char *p = s; *p; p++) {
		if (*p == '<' || *p == '>' || *p == '&')
			ctxd_buf_printf(&b, "\\u%04x", (unsigned)*p);
		else if ((unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x80 &&
			 ((unsigned char)p[2] == 0xa8 || (unsigned char)p[2] == 0xa9))
			ctxd_buf_printf(&b, "\\u202%c", p[2] == (char)0xa8 ? '8' : '9'), p += 2;
		else
			ctxd_buf_putc(&b, *p);
	}
	free(s);
	if (b.oom || !b.data) {
		ctxd_buf_free(&b);
		return NULL;
	}
	return b.data;
}

int ctxd_build_query(const struct ctxd_build_options *o, const char *dockerfile,
		     struct ctxd_buf *q, struct ctxd_error *err)
{
	char *s;

	if (o->nargs) {
		json_t *a = json_object();

		for (size_t i = 0; i < o->nargs; i++)
			json_object_set_new(a, o->args[i].name,
					    o->args[i].value ? json_string(o->args[i].value) : json_null());
		if (!(s = json_compact(a)))
			goto oom;
		put_param(q, "buildargs", s);
		free(s);
	}
	if (o->ncache_from) {
		json_t *c = json_array();

		for (size_t i = 0; i < o->ncache_from; i++)
			json_array_append_new(c, json_string(o->cache_from[i]));
		if (!(s = json_compact(c)))
			goto oom;
		put_param(q, "cachefrom", s);
		free(s);
	}
	put_param(q, "dockerfile", dockerfile);
	for (size_t i = 0; i < o->nextra_hosts; i++)
		put_param(q, "extrahosts", o->extra_hosts[i]);
	if (o->force_rm)
		put_param(q, "forcerm", "1");
	if (o->nlabels) {
		json_t *l = json_object();

		for (size_t i = 0; i < o->nlabels; i++) {
			const char *eq = strchr(o->labels[i], '=');
			char *k = eq ? strndup(o->labels[i], (size_t)(eq - o->labels[i])) : strdup(o->labels[i]);

			if (!k)
				goto oom;
			json_object_set_new(l, k, json_string(eq ? eq + 1 : ""));
			free(k);
		}
		if (!(s = json_compact(l)))
			goto oom;
		put_param(q, "labels", s);
		free(s);
	}
	if (o->network && strcmp(o->network, "default") != 0)
		put_param(q, "networkmode", o->network);
	if (o->nocache)
		put_param(q, "nocache", "1");
	if (o->platform)
		put_param(q, "platform", o->platform);
	if (o->pull)
		put_param(q, "pull", "1");
	if (o->quiet)
		put_param(q, "q", "1");
	if (o->no_rm)
		put_param(q, "rm", "0");
	for (size_t i = 0; i < o->ntags; i++)
		put_param(q, "t", o->tags[i]);
	if (o->target)
		put_param(q, "target", o->target);
	put_param(q, "version", o->version == 2 ? "2" : "1");
	if (q->oom)
		goto oom;
	return 0;
oom:
	ctxd_error_set(err, "out of memory");
	return -1;
}

struct producer {
	const struct ctxd_context *ctx;
	const struct ctxd_manifest *m;
	enum ctxd_compress compress;
	bool dedup;
	int fd;          /* write end */
	struct ctxd_pack *pk;
	_Atomic uint64_t tar_bytes; /* packed so far, before compression */
	int rc;
	struct ctxd_error err;
};

static int to_socket(void *ud, const void *buf, size_t len, struct ctxd_error *err)
{
	struct producer *p = ud;
	const char *b = buf;

	if (p->pk)
		atomic_store(&p->tar_bytes, ctxd_pack_stats(p->pk)->tar_bytes);
	while (len > 0) {
		ssize_t n = send(p->fd, b, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* the request ended first; its own error says why */
			ctxd_error_set(err, "upload stopped: %s", strerror(errno));
			return -1;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct ctxd_pack *pk = ctxd_pack_create(p->ctx->rootfd, p->ctx->root, p->compress, to_socket,
						p, &p->err);

	p->rc = -1;
	p->pk = pk;
	if (pk &&
	    (p->dedup ? ctxd_dedup_pack(p->m, p->ctx->rootfd, p->ctx->root, pk, &p->err)
		      : ctxd_manifest_pack(p->m, pk, &p->err)) == 0 &&
	    ctxd_pack_finish(pk, &p->err) == 0) {
		atomic_store(&p->tar_bytes, ctxd_pack_stats(pk)->tar_bytes);
		p->rc = 0;
	}
	p->pk = NULL;
	ctxd_pack_destroy(pk);
	/* EOF for the reader only after rc is final; a failure shuts the
	 * socket down hard so the body callback sees it */
	shutdown(p->fd, SHUT_WR);
	close(p->fd);
	return NULL;
}

struct upload {
	struct producer prod;
	pthread_t thread;
	bool joined;
	int fd; /* read end */
	uint64_t sent, total;
	const struct ctxd_build_options *o;
};

static void join(struct upload *u)
{
	if (!u->joined) {
		pthread_join(u->thread, NULL);
		u->joined = true;
	}
}

/* How far the upload is, in the units of the total (the plain tar's size):
 * the bytes sent, or under compression the tar bytes packed so far. */
static uint64_t progress(struct upload *u)
{
	if (u->prod.compress == CTXD_COMPRESS_NONE)
		return u->sent;
	return atomic_load(&u->prod.tar_bytes);
}

static ssize_t body(void *ud, char *buf, size_t len, struct ctxd_error *err)
{
	struct upload *u = ud;
	ssize_t n;

	do
		n = read(u->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		ctxd_error_set(err, "reading the packed context: %s", strerror(errno));
		return -1;
	}
	if (n == 0) {
		join(u);
		if (u->prod.rc < 0) {
			*err = u->prod.err;
			return -1; /* abort: never let the daemon see a finished stream */
		}
		if (u->o->uploaded)
			u->o->uploaded(u->o->upload_ud, progress(u), u->total, true);
		return 0;
	}
	u->sent += (uint64_t)n;
	return n;
}

static bool poll_cb(void *ud, uint64_t sent)
{
	struct upload *u = ud;

	(void)sent;
	if (u->o->uploaded && !u->joined)
		u->o->uploaded(u->o->upload_ud, progress(u), u->total, false);
	return u->o->cancelled && u->o->cancelled(u->o->cancel_ud);
}

/* The tar's size before compression: a header per entry, content padded to
 * 512, and the end blocks. */
static uint64_t tar_estimate(const struct ctxd_manifest *m, bool dedup)
{
	uint64_t t = 1024;

	for (size_t i = 0; i < ctxd_manifest_count(m); i++) {
		const struct ctxd_entry *e = ctxd_manifest_entry(m, i);

		t += 512;
		if (!dedup || ctxd_manifest_duplicate_of(m, i) == CTXD_MANIFEST_NONE)
			t += (e->size + 511) / 512 * 512;
	}
	return t;
}

int ctxd_build_send(struct ctxd_docker *d, const struct ctxd_context *ctx,
		    const struct ctxd_manifest *m, const struct ctxd_build_options *o,
		    bool *cancelled, struct ctxd_error *err)
{
	struct ctxd_buf q = {0};
	struct upload u = {.o = o, .fd = -1};
	char regcfg[4096];
	const char *headers[3];
	struct ctxd_docker_request r = {0};
	int sv[2], rc = -1;
	int bufsz = 1 << 20;

	*cancelled = false;
	ctxd_buf_puts(&q, "/build");
	if (ctxd_build_query(o, ctx->dockerfile_outside ? ctx->dockerfile_copy : ctx->dockerfile_rel,
			     &q, err) < 0)
		goto out;
	snprintf(regcfg, sizeof regcfg, "X-Registry-Config: %s",
		 o->registry_config ? o->registry_config : "e30=");
	headers[0] = "Content-Type: application/x-tar";
	headers[1] = regcfg;
	headers[2] = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		ctxd_error_set(err, "socketpair: %s", strerror(errno));
		goto out;
	}
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
	u.fd = sv[0];
	u.total = tar_estimate(m, o->dedup);
	u.prod = (struct producer){.ctx = ctx, .m = m, .compress = o->compress, .dedup = o->dedup,
				   .fd = sv[1]};
	if (pthread_create(&u.thread, NULL, produce, &u.prod) != 0) {
		close(sv[1]);
		ctxd_error_set(err, "cannot start the upload thread");
		goto out;
	}
	r.method = "POST";
	r.path = q.data;
	r.headers = headers;
	r.body = body;
	r.body_ud = &u;
	r.response = o->response;
	r.response_ud = o->response_ud;
	r.poll = poll_cb;
	r.poll_ud = &u;
	rc = ctxd_docker_request(d, &r, cancelled, err);
	/* unblock and collect the producer however the request ended */
	shutdown(u.fd, SHUT_RDWR);
	join(&u);
	if (rc == 0 && u.prod.rc < 0) {
		*err = u.prod.err;
		rc = -1;
	}
out:
	if (u.fd >= 0)
		close(u.fd);
	ctxd_buf_free(&q);
	return rc;
}
