/* Splitting the /build response stream into JSON values (see
 * include/ctxd/jsonstream.h). A small scanner finds where each value ends
 * without parsing it, so only the unfinished tail of a chunk is copied and
 * jansson parses each value exactly once. */
#include "ctxd/jsonstream.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/buf.h"

/* Where the scanner is: between values, or inside one of three kinds. */
enum state {
	BETWEEN,
	NESTED, /* an object or array: brackets counted, strings skipped */
	STRING, /* a top-level string */
	SCALAR, /* a number or literal: ends at whitespace or punctuation */
};

struct ctxd_jsonstream {
	size_t max;
	enum state state;
	size_t depth;
	bool in_string, escaped;
	struct ctxd_buf part; /* the unfinished value's bytes from earlier chunks */
	size_t count;
	unsigned long long offset; /* stream offset of the next byte fed */
	bool dead;
	struct ctxd_error why; /* what killed it */
};

struct ctxd_jsonstream *ctxd_jsonstream_create(size_t max_message)
{
	struct ctxd_jsonstream *js = calloc(1, sizeof *js);

	if (js)
		js->max = max_message ? max_message : CTXD_JSONSTREAM_DEFAULT_MAX;
	return js;
}

void ctxd_jsonstream_destroy(struct ctxd_jsonstream *js)
{
	if (!js)
		return;
	ctxd_buf_free(&js->part);
	free(js);
}

size_t ctxd_jsonstream_count(const struct ctxd_jsonstream *js)
{
	return js->count;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_punct(char c)
{
	return c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':' || c == '"';
}

/* A printable excerpt of at most 48 input bytes for error messages: the
 * daemon's bytes can hold anything, and a terminal should not see them. */
static void excerpt(const char *s, size_t len, char *out, size_t outsz)
{
	size_t o = 0, i;

	for (i = 0; i < len && i < 48 && o + 5 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			snprintf(out + o, outsz - o, "\\x%02x", c);
			o += 4;
		}
	}
	if (i < len && o + 4 <= outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static int die(struct ctxd_jsonstream *js, struct ctxd_error *err)
{
	js->dead = true;
	ctxd_buf_free(&js->part);
	if (err)
		*err = js->why;
	return -1;
}

/* One whole value, from data (the part buffer or the chunk itself). */
static int deliver(struct ctxd_jsonstream *js, const char *data, size_t len,
		   unsigned long long at,
		   int (*fn)(void *ud, json_t *msg, struct ctxd_error *err), void *ud,
		   struct ctxd_error *err)
{
	json_error_t jerr;
	json_t *msg;
	char ex[256];
	int rc;

	/* values keep their \u0000 escapes: Go's decoder accepts them too */
	msg = json_loadb(data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!msg) {
		excerpt(data, len, ex, sizeof ex);
		ctxd_error_set(&js->why, "invalid JSON from the daemon (message %zu, at byte %llu): %s: %s",
			       js->count + 1, at + (unsigned long long)(jerr.position > 0 ? jerr.position : 0),
			       jerr.text, ex);
		return die(js, err);
	}
	js->count++;
	rc = fn(ud, msg, &js->why);
	json_decref(msg);
	if (rc < 0)
		return die(js, err);
	return 0;
}

static int oversize(struct ctxd_jsonstream *js, const char *start, size_t len,
		    struct ctxd_error *err)
{
	char ex[256];

	/* the start of the value is what identifies it */
	if (js->part.len)
		excerpt(js->part.data, js->part.len, ex, sizeof ex);
	else
		excerpt(start, len, ex, sizeof ex);
	ctxd_error_set(&js->why, "message %zu from the daemon is larger than %zu bytes: %s",
		       js->count + 1, js->max, ex);
	return die(js, err);
}

int ctxd_jsonstream_feed(struct ctxd_jsonstream *js, const char *buf, size_t len,
			 int (*fn)(void *ud, json_t *msg, struct ctxd_error *err), void *ud,
			 struct ctxd_error *err)
{
	size_t i = 0, start = 0;

	if (js->dead)
		return die(js, err);
	while (i < len) {
		bool done = false;

		if (js->state == BETWEEN) {
			while (i < len && is_space(buf[i]))
				i++;
			if (i == len)
				break;
			start = i;
			switch (buf[i]) {
			case '{':
			case '[':
				js->state = NESTED;
				js->depth = 1;
				js->in_string = js->escaped = false;
				i++;
				break;
			case '"':
				js->state = STRING;
				js->escaped = false;
				i++;
				break;
			case '}':
			case ']':
			case ',':
			case ':': {
				char ex[256];

				excerpt(buf + i, len - i, ex, sizeof ex);
				ctxd_error_set(&js->why,
					       "invalid JSON from the daemon (message %zu, at byte %llu): unexpected '%c': %s",
					       js->count + 1, js->offset + i, buf[i], ex);
				return die(js, err);
			}
			default:
				js->state = SCALAR;
				break;
			}
		} else {
			start = 0; /* continuing a value begun in an earlier chunk */
		}

		for (; i < len && !done; i++) {
			char c = buf[i];

			switch (js->state) {
			case NESTED:
				if (js->in_string) {
					if (js->escaped)
						js->escaped = false;
					else if (c == '\\')
						js->escaped = true;
					else if (c == '"')
						js->in_string = false;
				} else if (c == '"') {
					js->in_string = true;
				} else if (c == '{' || c == '[') {
					js->depth++;
				} else if (c == '}' || c == ']') {
					done = --js->depth == 0;
				}
				break;
			case STRING:
				if (js->escaped)
					js->escaped = false;
				else if (c == '\\')
					js->escaped = true;
				else if (c == '"')
					done = true;
				break;
			case SCALAR:
				if (is_space(c) || is_punct(c)) {
					done = true;
					i--; /* the delimiter is not part of the value */
				}
				break;
			case BETWEEN:
				break;
			}
		}

		if (js->part.len + (i - start) > js->max)
			return oversize(js, buf + start, i - start, err);
		if (!done) {
			ctxd_buf_append(&js->part, buf + start, i - start);
			if (js->part.oom) {
				ctxd_error_set(&js->why, "out of memory reading the daemon's answer");
				return die(js, err);
			}
			break;
		}
		js->state = BETWEEN;
		if (js->part.len) {
			unsigned long long at = js->offset - js->part.len;

			ctxd_buf_append(&js->part, buf + start, i - start);
			if (js->part.oom) {
				ctxd_error_set(&js->why, "out of memory reading the daemon's answer");
				return die(js, err);
			}
			if (deliver(js, js->part.data, js->part.len, at, fn, ud, err) < 0)
				return -1;
			js->part.len = 0;
		} else if (deliver(js, buf + start, i - start, js->offset + start, fn, ud, err) < 0) {
			return -1;
		}
	}
	js->offset += len;
	return 0;
}

int ctxd_jsonstream_finish(struct ctxd_jsonstream *js, struct ctxd_error *err)
{
	char ex[256];

	if (js->dead)
		return die(js, err);
	if (js->state == BETWEEN)
		return 0;
	excerpt(js->part.data ? js->part.data : "", js->part.len, ex, sizeof ex);
	/* the scanner only counts brackets: an unfinished value that could
	 * never have become JSON ("{not json") is invalid, not cut short */
	if (js->part.len) {
		json_error_t jerr;
		json_t *v = json_loadb(js->part.data, js->part.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);

		json_decref(v);
		if (!v && json_error_code(&jerr) != json_error_premature_end_of_input) {
			ctxd_error_set(&js->why, "invalid JSON from the daemon (message %zu, at byte %llu): %s: %s",
				       js->count + 1,
				       js->offset - js->part.len + (unsigned long long)(jerr.position > 0 ? jerr.position : 0),
				       jerr.text, ex);
			return die(js, err);
		}
	}
	ctxd_error_set(&js->why, "truncated message from the daemon (message %zu, %zu bytes): %s",
		       js->count + 1, js->part.len, ex);
	return die(js, err);
}
