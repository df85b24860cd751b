/* The daemon's framing (see include/ctxd/protocol.h): one validation shared
 * by the incremental decoder the daemon uses and the blocking reader the
 * clients use, so both refuse exactly the same messages. */
#include "ctxd/protocol.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

json_t *ctxd_protocol_message(const char *type)
{
	json_t *m = json_object();

	if (!m)
		return NULL;
	if (json_object_set_new(m, "v", json_integer(CTXD_PROTOCOL_VERSION)) < 0 ||
	    json_object_set_new(m, "type", json_string(type)) < 0) {
		json_decref(m);
		return NULL;
	}
	return m;
}

const char *ctxd_protocol_type(const json_t *msg)
{
	return json_string_value(json_object_get(msg, "type"));
}

int ctxd_protocol_encode_payload(const json_t *msg, const void *payload, size_t len, size_t max,
				 struct ctxd_buf *out, struct ctxd_error *err)
{
	size_t at = out->len, n;
	char *s;

	if (!max)
		max = CTXD_PROTOCOL_DEFAULT_MAX;
	if (!json_is_object(msg) || !json_is_string(json_object_get(msg, "type"))) {
		ctxd_error_set(err, "protocol: a message must be an object with a string \"type\"");
		return -1;
	}
	s = json_dumps(msg, JSON_COMPACT);
	if (!s) {
		ctxd_error_set(err, "protocol: cannot encode the message (out of memory or invalid UTF-8)");
		return -1;
	}
	n = strlen(s) + (payload ? 1 + len : 0);
	if (n > max) {
		free(s);
		ctxd_error_set(err, "protocol: a message of %zu bytes is over the %zu-byte limit", n, max);
		return -1;
	}
	ctxd_buf_append(out, "\0\0\0\0", 4);
	ctxd_buf_append(out, s, strlen(s));
	if (payload) {
		ctxd_buf_append(out, "\0", 1);
		ctxd_buf_append(out, payload, len);
	}
	free(s);
	if (out->oom) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	out->data[at] = (char)(n >> 24);
	out->data[at + 1] = (char)(n >> 16);
	out->data[at + 2] = (char)(n >> 8);
	out->data[at + 3] = (char)n;
	return 0;
}

int ctxd_protocol_encode(const json_t *msg, size_t max, struct ctxd_buf *out,
			 struct ctxd_error *err)
{
	return ctxd_protocol_encode_payload(msg, NULL, 0, max, out, err);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int check_length(uint32_t n, size_t max, struct ctxd_error *err)
{
	if (n == 0) {
		ctxd_error_set(err, "protocol: empty message (length 0)");
		return -1;
	}
	if (n > max) {
		ctxd_error_set(err, "protocol: message length %u is over the %zu-byte limit", n, max);
		return -1;
	}
	return 0;
}

/* Parses one message body; the caller owns the result. */
static json_t *parse_body(const char *body, size_t n, struct ctxd_error *err)
{
	json_error_t je;
	json_t *m, *v;

	m = json_loadb(body, n, JSON_REJECT_DUPLICATES, &je);
	if (!m) {
		ctxd_error_set(err, "protocol: invalid JSON at byte %d of the message: %s", je.position,
			       je.text);
		return NULL;
	}
	if (!json_is_object(m)) {
		ctxd_error_set(err, "protocol: a message must be a JSON object");
		goto bad;
	}
	v = json_object_get(m, "v");
	if (!json_is_integer(v)) {
		ctxd_error_set(err, "protocol: the message has no integer \"v\" (protocol version)");
		goto bad;
	}
	if (json_integer_value(v) != CTXD_PROTOCOL_VERSION) {
		ctxd_error_set(err, "protocol: version %lld is not the supported version %d",
			       (long long)json_integer_value(v), CTXD_PROTOCOL_VERSION);
		goto bad;
	}
	if (!json_is_string(json_object_get(m, "type"))) {
		ctxd_error_set(err, "protocol: the message has no string \"type\"");
		goto bad;
	}
	return m;
bad:
	json_decref(m);
	return NULL;
}

struct ctxd_protocol_decoder {
	size_t max;
	unsigned char head[4];
	size_t head_len;
	uint32_t want;       /* body length once the head is complete */
	struct ctxd_buf body;
	bool dead;
	struct ctxd_error why;
};

struct ctxd_protocol_decoder *ctxd_protocol_decoder_create(size_t max)
{
	struct ctxd_protocol_decoder *d = calloc(1, sizeof *d);

	if (d)
		d->max = max ? max : CTXD_PROTOCOL_DEFAULT_MAX;
	return d;
}

void ctxd_protocol_decoder_destroy(struct ctxd_protocol_decoder *d)
{
	if (!d)
		return;
	ctxd_buf_free(&d->body);
	free(d);
}

static int die(struct ctxd_protocol_decoder *d, struct ctxd_error *err)
{
	d->dead = true;
	d->why = *err;
	return -1;
}

int ctxd_protocol_decoder_feed(struct ctxd_protocol_decoder *d, const void *buf, size_t len,
			       int (*fn)(void *ud, json_t *msg, struct ctxd_error *err), void *ud,
			       struct ctxd_error *err)
{
	const char *p = buf;

	if (d->dead) {
		*err = d->why;
		return -1;
	}
	while (len) {
		if (d->head_len < 4) {
			size_t k = 4 - d->head_len < len ? 4 - d->head_len : len;

			memcpy(d->head + d->head_len, p, k);
			d->head_len += k;
			p += k;
			len -= k;
			if (d->head_len < 4)
				break;
			d->want = be32(d->head);
			if (check_length(d->want, d->max, err) < 0)
				return die(d, err);
			d->body.len = 0;
			continue;
		}
		{
			size_t k = d->want - d->body.len < len ? d->want - d->body.len : len;
			json_t *m;
			int rc;

			/* a whole body in this chunk is parsed where it lies */
			if (d->body.len == 0 && k == d->want) {
				m = parse_body(p, k, err);
				p += k;
				len -= k;
			} else {
				ctxd_buf_append(&d->body, p, k);
				if (d->body.oom) {
					ctxd_error_set(err, "out of memory");
					return die(d, err);
				}
				p += k;
				len -= k;
				if (d->body.len < d->want)
					continue;
				m = parse_body(d->body.data, d->body.len, err);
			}
			if (!m)
				return die(d, err);
			d->head_len = 0;
			d->body.len = 0;
			rc = fn(ud, m, err);
			json_decref(m);
			if (rc < 0)
				return die(d, err);
		}
	}
	return 0;
}

int ctxd_protocol_decoder_finish(struct ctxd_protocol_decoder *d, struct ctxd_error *err)
{
	if (d->dead) {
		*err = d->why;
		return -1;
	}
	if (d->head_len == 0)
		return 0;
	if (d->head_len < 4)
		ctxd_error_set(err, "protocol: connection closed inside a message's length (%zu of 4 bytes)",
			       d->head_len);
	else
		ctxd_error_set(err, "protocol: connection closed inside a message (%zu of %u bytes)",
			       d->body.len, d->want);
	return die(d, err);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for events until the deadline (< 0: none). */
static int wait_fd(int fd, short events, int64_t deadline, const char *what, struct ctxd_error *err)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = events};
		int left = -1, r;

		if (deadline >= 0) {
			int64_t d = deadline - now_ms();

			left = d > 0 ? (int)d : 0;
		}
		r = poll(&pfd, 1, left);
		if (r > 0)
			return 0;
		if (r == 0) {
			ctxd_error_set(err, "the daemon did not answer in time (%s)", what);
			return -1;
		}
		if (errno != EINTR) {
			ctxd_error_set(err, "poll: %s", strerror(errno));
			return -1;
		}
	}
}

int ctxd_protocol_write(int fd, const json_t *msg, int timeout_ms, struct ctxd_error *err)
{
	struct ctxd_buf b = {0};
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	size_t at = 0;
	int rc = -1;

	if (ctxd_protocol_encode(msg, 0, &b, err) < 0) {
		ctxd_buf_free(&b);
		return -1;
	}
	while (at < b.len) {
		ssize_t n;

		if (wait_fd(fd, POLLOUT, deadline, "sending", err) < 0)
			break;
		n = send(fd, b.data + at, b.len - at, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			ctxd_error_set(err, "sending to the daemon: %s", strerror(errno));
			break;
		}
		at += (size_t)n;
		if (at == b.len)
			rc = 0;
	}
	ctxd_buf_free(&b);
	return rc;
}

/* Reads exactly len bytes; got says how many arrived before a failure. */
static int read_full(int fd, void *buf, size_t len, int64_t deadline, size_t *got,
		     struct ctxd_error *err)
{
	*got = 0;
	while (*got < len) {
		ssize_t n;

		if (wait_fd(fd, POLLIN, deadline, "reading", err) < 0)
			return -1;
		n = recv(fd, (char *)buf + *got, len - *got, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			ctxd_error_set(err, "reading from the daemon: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			ctxd_error_set(err, "the daemon closed the connection");
			return -1;
		}
		*got += (size_t)n;
	}
	return 0;
}

int ctxd_protocol_read(int fd, json_t **out, struct ctxd_buf *payload, int timeout_ms,
		       struct ctxd_error *err)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	unsigned char head[4];
	uint32_t n;
	size_t got, json_len;
	char *body, *nul;

	*out = NULL;
	if (read_full(fd, head, 4, deadline, &got, err) < 0) {
		if (got)
			ctxd_error_prefix(err, "protocol: message cut short after %zu of 4 length bytes", got);
		return -1;
	}
	n = be32(head);
	if (check_length(n, CTXD_PROTOCOL_DEFAULT_MAX, err) < 0)
		return -1;
	body = malloc(n);
	if (!body) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	if (read_full(fd, body, n, deadline, &got, err) < 0) {
		ctxd_error_prefix(err, "protocol: message cut short after %zu of %u bytes", got, n);
		free(body);
		return -1;
	}
	nul = memchr(body, '\0', n);
	json_len = nul ? (size_t)(nul - body) : n;
	if (payload) {
		payload->len = 0;
		if (nul)
			ctxd_buf_append(payload, nul + 1, n - json_len - 1);
	}
	if (payload && payload->oom)
		ctxd_error_set(err, "out of memory");
	else if (nul && !payload)
		ctxd_error_set(err, "protocol: a message with a payload where none is expected");
	else
		*out = parse_body(body, json_len, err);
	free(body);
	return *out ? 0 : -1;
}
