/* Decoding BuildKit's StatusResponse (see include/ctxd/bkstatus.h): base64,
 * then a protobuf wire-format reader driven by the field table of spec 3.3.
 * Hand-written so ctxd needs no protobuf runtime; every read is bounds
 * checked because the bytes come from the network. */
#include "ctxd/bkstatus.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper than any message in the schema (3) but far from the stack's end,
 * for unknown groups which nest without limit on the wire. */
#define MAX_DEPTH 32

enum wire { VARINT = 0, I64 = 1, LEN = 2, SGROUP = 3, EGROUP = 4, I32 = 5 };

struct rd {
	const unsigned char *p, *end;
};

struct dec {
	const unsigned char *base; /* for offsets in messages */
	struct ctxd_error *err;
};

__attribute__((format(printf, 3, 4)))
static int bad(struct dec *d, const unsigned char *at, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	ctxd_error_set(d->err, "bad BuildKit status from the daemon: %s at byte %zu", what,
		       (size_t)(at - d->base));
	return -1;
}

static int oom(struct dec *d)
{
	ctxd_error_set(d->err, "out of memory decoding a BuildKit status");
	return -1;
}

static int rd_varint(struct dec *d, struct rd *r, uint64_t *v)
{
	const unsigned char *at = r->p;
	uint64_t x = 0;

	for (unsigned i = 0;; i++) {
		unsigned char b;

		if (r->p == r->end)
			return bad(d, at, "truncated varint");
		b = *r->p++;
		if (i == 9) {
			if (b & 0x80)
				return bad(d, at, "varint longer than 10 bytes");
			if (b > 1)
				return bad(d, at, "varint overflows 64 bits");
		}
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			break;
	}
	*v = x;
	return 0;
}

static int rd_skip(struct dec *d, struct rd *r, size_t n, const char *what)
{
	if ((size_t)(r->end - r->p) < n)
		return bad(d, r->p, "truncated %s", what);
	r->p += n;
	return 0;
}

/* A length-delimited field's bytes, as a reader of their own. */
static int rd_len(struct dec *d, struct rd *r, struct rd *sub)
{
	const unsigned char *at = r->p;
	uint64_t n;

	if (rd_varint(d, r, &n) < 0)
		return -1;
	if (n > (uint64_t)(r->end - r->p))
		return bad(d, at, "length %llu past the end (%zu bytes left)", (unsigned long long)n,
			   (size_t)(r->end - r->p));
	sub->p = r->p;
	sub->end = r->p + n;
	r->p += n;
	return 0;
}

static int rd_tag(struct dec *d, struct rd *r, uint32_t *num, unsigned *wt)
{
	const unsigned char *at = r->p;
	uint64_t tag;

	if (rd_varint(d, r, &tag) < 0)
		return -1;
	*wt = (unsigned)(tag & 7);
	if (tag >> 3 == 0 || tag >> 3 > 0x1fffffff)
		return bad(d, at, "invalid field number %llu", (unsigned long long)(tag >> 3));
	if (*wt > I32)
		return bad(d, at, "invalid wire type %u", *wt);
	*num = (uint32_t)(tag >> 3);
	return 0;
}

/* An unknown field (or a known one with an unexpected wire type). */
static int skip_field(struct dec *d, struct rd *r, uint32_t num, unsigned wt, unsigned depth)
{
	const unsigned char *at = r->p;
	struct rd sub;
	uint64_t v;

	switch (wt) {
	case VARINT:
		return rd_varint(d, r, &v);
	case I64:
		return rd_skip(d, r, 8, "64-bit field");
	case I32:
		return rd_skip(d, r, 4, "32-bit field");
	case LEN:
		return rd_len(d, r, &sub);
	case SGROUP:
		if (depth + 1 > MAX_DEPTH)
			return bad(d, at, "nested deeper than %d", MAX_DEPTH);
		for (;;) {
			uint32_t n;
			unsigned w;

			if (r->p == r->end)
				return bad(d, r->p, "unterminated group %u", num);
			at = r->p;
			if (rd_tag(d, r, &n, &w) < 0)
				return -1;
			if (w == EGROUP) {
				if (n != num)
					return bad(d, at, "group %u ended as %u", num, n);
				return 0;
			}
			if (skip_field(d, r, n, w, depth + 1) < 0)
				return -1;
		}
	default:
		return bad(d, at, "end of group %u that was never started", num);
	}
}

/* Field readers: 1 when they took the field, 0 when the wire type does not
 * match (the caller skips it), -1 on error. */

static int get_str(struct dec *d, struct rd *r, unsigned wt, char **dst)
{
	struct rd sub;
	size_t n;
	char *s;

	if (wt != LEN)
		return 0;
	if (rd_len(d, r, &sub) < 0)
		return -1;
	n = (size_t)(sub.end - sub.p);
	if (!(s = malloc(n + 1)))
		return oom(d);
	memcpy(s, sub.p, n);
	s[n] = '\0';
	free(*dst);
	*dst = s;
	return 1;
}

static int get_bytes(struct dec *d, struct rd *r, unsigned wt, struct ctxd_bkstatus_bytes *dst)
{
	struct rd sub;
	size_t n;
	char *s;

	if (wt != LEN)
		return 0;
	if (rd_len(d, r, &sub) < 0)
		return -1;
	n = (size_t)(sub.end - sub.p);
	if (!(s = malloc(n + 1)))
		return oom(d);
	memcpy(s, sub.p, n);
	s[n] = '\0';
	free(dst->data);
	dst->data = s;
	dst->len = n;
	return 1;
}

static int get_u64(struct dec *d, struct rd *r, unsigned wt, uint64_t *dst)
{
	if (wt != VARINT)
		return 0;
	return rd_varint(d, r, dst) < 0 ? -1 : 1;
}

static int get_i64(struct dec *d, struct rd *r, unsigned wt, int64_t *dst)
{
	uint64_t v;
	int rc = get_u64(d, r, wt, &v);

	if (rc == 1)
		*dst = (int64_t)v; /* two's complement, as protobuf's int64 */
	return rc;
}

static int get_i32(struct dec *d, struct rd *r, unsigned wt, int32_t *dst)
{
	uint64_t v;
	int rc = get_u64(d, r, wt, &v);

	if (rc == 1)
		*dst = (int32_t)(uint32_t)v; /* protobuf truncates int32 */
	return rc;
}

static int get_bool(struct dec *d, struct rd *r, unsigned wt, bool *dst)
{
	uint64_t v;
	int rc = get_u64(d, r, wt, &v);

	if (rc == 1)
		*dst = v != 0;
	return rc;
}

/* Appends a zeroed element to a growable array whose capacity is the next
 * power of two above its length, so no capacity field is needed. */
static void *push(struct dec *d, void *arrp, size_t *n, size_t size)
{
	char *arr, *p;

	/* arrp points to some "T *"; copied, not cast, to stay within aliasing rules */
	memcpy(&arr, arrp, sizeof arr);
	if ((*n & (*n - 1)) == 0) {
		size_t cap = *n ? *n * 2 : 1;

		if (cap > SIZE_MAX / size || !(p = realloc(arr, cap * size))) {
			oom(d);
			return NULL;
		}
		arr = p;
		memcpy(arrp, &arr, sizeof arr);
	}
	p = arr + *n * size;
	memset(p, 0, size);
	(*n)++;
	return p;
}

static int add_str(struct dec *d, struct rd *r, unsigned wt, char ***arr, size_t *n)
{
	char **slot;

	if (wt != LEN)
		return 0;
	if (!(slot = push(d, arr, n, sizeof *slot)))
		return -1;
	return get_str(d, r, wt, slot);
}

/* A submessage field: its reader, after the depth check. */
static int sub_msg(struct dec *d, struct rd *r, unsigned wt, unsigned depth, struct rd *sub)
{
	if (wt != LEN)
		return 0;
	if (depth + 1 > MAX_DEPTH)
		return bad(d, r->p, "nested deeper than %d", MAX_DEPTH);
	return rd_len(d, r, sub) < 0 ? -1 : 1;
}

/* Each decoder below merges into *out, as protobuf merges a repeated
 * occurrence of a singular message field. */

static int dec_time(struct dec *d, struct rd r, unsigned depth, struct ctxd_bkstatus_time *out)
{
	out->set = true;
	while (r.p < r.end) {
		uint32_t num;
		unsigned wt;
		int rc = 0;

		if (rd_tag(d, &r, &num, &wt) < 0)
			return -1;
		if (num == 1)
			rc = get_i64(d, &r, wt, &out->sec);
		else if (num == 2)
			rc = get_i32(d, &r, wt, &out->nsec);
		if (rc < 0 || (rc == 0 && skip_field(d, &r, num, wt, depth) < 0))
			return -1;
	}
	return 0;
}

static int get_time(struct dec *d, struct rd *r, unsigned wt, unsigned depth,
		    struct ctxd_bkstatus_time *dst)
{
	struct rd sub;
	int rc = sub_msg(d, r, wt, depth, &sub);

	if (rc == 1 && dec_time(d, sub, depth + 1, dst) < 0)
		return -1;
	return rc;
}

static int dec_group(struct dec *d, struct rd r, unsigned depth, struct ctxd_bkstatus_vertex *v)
{
	while (r.p < r.end) {
		uint32_t num;
		unsigned wt;
		int rc = 0;

		if (rd_tag(d, &r, &num, &wt) < 0)
			return -1;
		if (num == 1)
			rc = get_str(d, &r, wt, &v->group_id);
		else if (num == 2)
			rc = get_str(d, &r, wt, &v->group_name);
		else if (num == 3)
			rc = get_bool(d, &r, wt, &v->group_weak);
		if (rc < 0 || (rc == 0 && skip_field(d, &r, num, wt, depth) < 0))
			return -1;
	}
	return 0;
}

static int dec_vertex(struct dec *d, struct rd r, unsigned depth, struct ctxd_bkstatus_vertex *v)
{
	while (r.p < r.end) {
		struct rd sub;
		uint32_t num;
		unsigned wt;
		int rc = 0;

		if (rd_tag(d, &r, &num, &wt) < 0)
			return -1;
		switch (num) {
		case 1: rc = get_str(d, &r, wt, &v->digest); break;
		case 2: rc = add_str(d, &r, wt, &v->inputs, &v->ninputs); break;
		case 3: rc = get_str(d, &r, wt, &v->name); break;
		case 4: rc = get_bool(d, &r, wt, &v->cached); break;
		case 5: rc = get_time(d, &r, wt, depth, &v->started); break;
		case 6: rc = get_time(d, &r, wt, depth, &v->completed); break;
		case 7: rc = get_str(d, &r, wt, &v->error); break;
		case 8:
			rc = sub_msg(d, &r, wt, depth, &sub);
			if (rc == 1 && dec_group(d, sub, depth + 1, v) < 0)
				return -1;
			break;
		}
		if (rc < 0 || (rc == 0 && skip_field(d, &r, num, wt, depth) < 0))
			return -1;
	}
	return 0;
}

static int dec_status(struct dec *d, struct rd r, unsigned depth, struct ctxd_bkstatus_status *s)
{
	while (r.p < r.end) {
		uint32_t num;
		unsigned wt;
		int rc = 0;

		if (rd_tag(d, &r, &num, &wt) < 0)
			return -1;
		switch (num) {
		case 1: rc = get_str(d, &r, wt, &s->id); break;
		case 2: rc = get_str(d, &r, wt, &s->vertex); break;
		case 3: rc = get_str(d, &r, wt, &s->name); break;
		case 4: rc = get_i64(d, &r, wt, &s->current); break;
		case 5: rc = get_i64(d, &r, wt, &s->total); break;
		case 6: rc = get_time(d, &r, wt, depth, &s->timestamp); break;
		case 7: rc = get_time(d, &r, wt, depth, &s->started); break;
		case 8: rc = get_time(d, &r, wt, depth, &s->completed); break;
		}
		if (rc < 0 || (rc == 0 && skip_field(d, &r, num, wt, depth) < 0))
			return -1;
	}
	return 0;
}

static int dec_log(struct dec *d, struct rd r, unsigned depth, struct ctxd_bkstatus_log *l)
{
	while (r.p < r.end) {
		uint32_t num;
		unsigned wt;
		int rc = 0;

		if (rd_tag(d, &r, &num, &wt) < 0)
			return -1;
		switch (num) {
		case 1: rc = get_str(d, &r, wt, &l->vertex); break;
		case 2: rc = get_time(d, &r, wt, depth, &l->timestamp); break;
		case 3: rc = get_i64(d, &r, wt, &l->stream); break;
		case 4: rc = get_bytes(d, &r, wt, &l->msg); break;
		}
		if (rc < 0 || (rc == 0 && skip_field(d, &r, num, wt, depth) < 0))
			return -1;
	}
	return 0;
}

/* pb.SourceInfo: only the file name; data and definition are skipped. */
static int dec_info(struct dec *d, struct rd r, unsigned depth, struct ctxd_bkstatus_warning *w)
{
	while (r.p < r.end) {
		uint32_t num;
		unsigned wt;
		int rc = 0;

		if (rd_tag(d, &r, &num, &wt) < 0)
			return -1;
		if (num == 1)
			rc = get_str(d, &r, wt, &w->filename);
		if (rc < 0 || (rc == 0 && skip_field(d, &r, num, wt, depth) < 0))
			return -1;
	}
	return 0;
}

static int dec_position(struct dec *d, struct rd r, unsigned depth, int32_t *line, int32_t *ch)
{
	while (r.p < r.end) {
		uint32_t num;
		unsigned wt;
		int rc = 0;

		if (rd_tag(d, &r, &num, &wt) < 0)
			return -1;
		if (num == 1)
			rc = get_i32(d, &r, wt, line);
		else if (num == 2)
			rc = get_i32(d, &r, wt, ch);
		if (rc < 0 || (rc == 0 && skip_field(d, &r, num, wt, depth) < 0))
			return -1;
	}
	return 0;
}

static int dec_range(struct dec *d, struct rd r, unsigned depth, struct ctxd_bkstatus_range *g)
{
	while (r.p < r.end) {
		struct rd sub;
		uint32_t num;
		unsigned wt;
		int rc = 0;

		if (rd_tag(d, &r, &num, &wt) < 0)
			return -1;
		if (num == 1 || num == 2) {
			rc = sub_msg(d, &r, wt, depth, &sub);
			if (rc == 1 && dec_position(d, sub, depth + 1,
						    num == 1 ? &g->start_line : &g->end_line,
						    num == 1 ? &g->start_char : &g->end_char) < 0)
				return -1;
		}
		if (rc < 0 || (rc == 0 && skip_field(d, &r, num, wt, depth) < 0))
			return -1;
	}
	return 0;
}

static int dec_warning(struct dec *d, struct rd r, unsigned depth, struct ctxd_bkstatus_warning *w)
{
	while (r.p < r.end) {
		struct ctxd_bkstatus_bytes *b;
		struct ctxd_bkstatus_range *g;
		struct rd sub;
		uint32_t num;
		unsigned wt;
		int rc = 0;

		if (rd_tag(d, &r, &num, &wt) < 0)
			return -1;
		switch (num) {
		case 1: rc = get_str(d, &r, wt, &w->vertex); break;
		case 2: rc = get_i64(d, &r, wt, &w->level); break;
		case 3: rc = get_bytes(d, &r, wt, &w->short_text); break;
		case 4:
			if (wt != LEN)
				break;
			if (!(b = push(d, &w->details, &w->ndetails, sizeof *b)))
				return -1;
			rc = get_bytes(d, &r, wt, b);
			break;
		case 5: rc = get_str(d, &r, wt, &w->url); break;
		case 6:
			rc = sub_msg(d, &r, wt, depth, &sub);
			if (rc == 1 && dec_info(d, sub, depth + 1, w) < 0)
				return -1;
			break;
		case 7:
			rc = sub_msg(d, &r, wt, depth, &sub);
			if (rc != 1)
				break;
			if (!(g = push(d, &w->ranges, &w->nranges, sizeof *g)) ||
			    dec_range(d, sub, depth + 1, g) < 0)
				return -1;
			break;
		}
		if (rc < 0 || (rc == 0 && skip_field(d, &r, num, wt, depth) < 0))
			return -1;
	}
	return 0;
}

static int dec_response(struct dec *d, struct rd r, struct ctxd_bkstatus *st)
{
	const unsigned depth = 0;

	while (r.p < r.end) {
		struct rd sub;
		uint32_t num;
		unsigned wt;
		void *e;
		int rc = 0;

		if (rd_tag(d, &r, &num, &wt) < 0)
			return -1;
		if (num >= 1 && num <= 4)
			rc = sub_msg(d, &r, wt, depth, &sub);
		if (rc == 1) {
			switch (num) {
			case 1:
				if (!(e = push(d, &st->vertexes, &st->nvertexes, sizeof *st->vertexes)) ||
				    dec_vertex(d, sub, depth + 1, e) < 0)
					return -1;
				break;
			case 2:
				if (!(e = push(d, &st->statuses, &st->nstatuses, sizeof *st->statuses)) ||
				    dec_status(d, sub, depth + 1, e) < 0)
					return -1;
				break;
			case 3:
				if (!(e = push(d, &st->logs, &st->nlogs, sizeof *st->logs)) ||
				    dec_log(d, sub, depth + 1, e) < 0)
					return -1;
				break;
			case 4:
				if (!(e = push(d, &st->warnings, &st->nwarnings, sizeof *st->warnings)) ||
				    dec_warning(d, sub, depth + 1, e) < 0)
					return -1;
				break;
			}
		}
		if (rc < 0 || (rc == 0 && skip_field(d, &r, num, wt, depth) < 0))
			return -1;
	}
	return 0;
}

struct ctxd_bkstatus *ctxd_bkstatus_decode(const void *data, size_t len, struct ctxd_error *err)
{
	struct ctxd_bkstatus *st = calloc(1, sizeof *st);
	struct dec d = {.base = data, .err = err};
	struct rd r = {.p = data, .end = data};

	if (!st) {
		oom(&d);
		return NULL;
	}
	if (len)
		r.end = (const unsigned char *)data + len; /* never NULL + 0 */
	if (len && dec_response(&d, r, st) < 0) {
		ctxd_bkstatus_destroy(st);
		return NULL;
	}
	return st;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int ctxd_bkstatus_base64_decode(const char *text, size_t len, unsigned char **out,
				size_t *outlen, struct ctxd_error *err)
{
	unsigned char *o = malloc(len / 4 * 3 + 3);
	unsigned quad[4];
	size_t n = 0, q = 0, pad = 0;
	bool ended = false;

	if (!o) {
		ctxd_error_set(err, "out of memory decoding base64");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		int v;

		if (c == '\r' || c == '\n')
			continue;
		if (ended) {
			ctxd_error_set(err, "invalid base64: data after the padding at byte %zu", i);
			goto fail;
		}
		if (c == '=') {
			if (q < 2) {
				ctxd_error_set(err, "invalid base64: misplaced '=' at byte %zu", i);
				goto fail;
			}
			pad++;
			quad[q++] = 0;
		} else {
			if (pad) {
				ctxd_error_set(err, "invalid base64: data after the padding at byte %zu", i);
				goto fail;
			}
			if ((v = b64val(c)) < 0) {
				ctxd_error_set(err, "invalid base64: byte 0x%02x at byte %zu", c, i);
				goto fail;
			}
			quad[q++] = (unsigned)v;
		}
		if (q == 4) {
			unsigned long w = (unsigned long)quad[0] << 18 | quad[1] << 12 | quad[2] << 6 | quad[3];

			o[n++] = (unsigned char)(w >> 16);
			if (pad < 2)
				o[n++] = (unsigned char)(w >> 8);
			if (pad < 1)
				o[n++] = (unsigned char)w;
			ended = pad > 0;
			q = 0;
		}
	}
	if (q) {
		ctxd_error_set(err, "invalid base64: truncated (%zu characters past the last group of 4)", q);
		goto fail;
	}
	o[n] = '\0';
	*out = o;
	*outlen = n;
	return 0;
fail:
	free(o);
	return -1;
}

struct ctxd_bkstatus *ctxd_bkstatus_decode_base64(const char *text, size_t len,
						  struct ctxd_error *err)
{
	struct ctxd_bkstatus *st;
	unsigned char *raw;
	size_t n;

	if (ctxd_bkstatus_base64_decode(text, len, &raw, &n, err) < 0) {
		ctxd_error_prefix(err, "bad BuildKit status from the daemon");
		return NULL;
	}
	st = ctxd_bkstatus_decode(raw, n, err);
	free(raw);
	return st;
}

static void free_vertex(struct ctxd_bkstatus_vertex *v)
{
	for (size_t i = 0; i < v->ninputs; i++)
		free(v->inputs[i]);
	free(v->inputs);
	free(v->digest);
	free(v->name);
	free(v->error);
	free(v->group_id);
	free(v->group_name);
}

void ctxd_bkstatus_destroy(struct ctxd_bkstatus *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->nvertexes; i++)
		free_vertex(&st->vertexes[i]);
	free(st->vertexes);
	for (size_t i = 0; i < st->nstatuses; i++) {
		free(st->statuses[i].id);
		free(st->statuses[i].vertex);
		free(st->statuses[i].name);
	}
	free(st->statuses);
	for (size_t i = 0; i < st->nlogs; i++) {
		free(st->logs[i].vertex);
		free(st->logs[i].msg.data);
	}
	free(st->logs);
	for (size_t i = 0; i < st->nwarnings; i++) {
		struct ctxd_bkstatus_warning *w = &st->warnings[i];

		free(w->vertex);
		free(w->short_text.data);
		for (size_t j = 0; j < w->ndetails; j++)
			free(w->details[j].data);
		free(w->details);
		free(w->url);
		free(w->filename);
		free(w->ranges);
	}
	free(st->warnings);
	free(st);
}
