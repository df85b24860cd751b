/* One BuildKit progress update from a /build response: the "aux" string of
 * {"id":"moby.buildkit.trace","aux":"<base64>"} is the standard base64 of a
 * protobuf moby.buildkit.v1.StatusResponse (spec 3.3). Decoded by a small
 * wire-format reader into plain structs; every update is incremental, so
 * merging them is the caller's job (see progress.h). */
#ifndef CTXD_BKSTATUS_H
#define CTXD_BKSTATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctxd/error.h"

/* google.protobuf.Timestamp; set is false when the field was absent. */
struct ctxd_bkstatus_time {
	int64_t sec;
	int32_t nsec;
	bool set;
};

/* Raw bytes, NUL-terminated for convenience (len excludes the NUL). */
struct ctxd_bkstatus_bytes {
	char *data;
	size_t len;
};

/* In every struct below a string is NULL when its field was absent, and
 * may hold an embedded NUL only where it is a ctxd_bkstatus_bytes. */

struct ctxd_bkstatus_vertex {
	char *digest; /* "sha256:...": the key updates are merged by */
	char **inputs;
	size_t ninputs;
	char *name;   /* "[2/3] RUN make" */
	bool cached;
	struct ctxd_bkstatus_time started, completed;
	char *error;  /* non-NULL, non-empty: the vertex failed */
	char *group_id, *group_name; /* pb.ProgressGroup, BuildKit >= 0.10 */
	bool group_weak;
};

struct ctxd_bkstatus_status {
	char *id;     /* "transferring context:", "exporting layers" */
	char *vertex; /* digest of the vertex it belongs to */
	char *name;
	int64_t current, total;
	struct ctxd_bkstatus_time timestamp, started, completed;
};

struct ctxd_bkstatus_log {
	char *vertex;
	struct ctxd_bkstatus_time timestamp;
	int64_t stream; /* 1 stdout, 2 stderr */
	struct ctxd_bkstatus_bytes msg; /* a raw chunk: lines may be split */
};

struct ctxd_bkstatus_range {
	int32_t start_line, start_char, end_line, end_char;
};

struct ctxd_bkstatus_warning {
	char *vertex;
	int64_t level;
	struct ctxd_bkstatus_bytes short_text; /* the one-line summary */
	struct ctxd_bkstatus_bytes *details;
	size_t ndetails;
	char *url;
	char *filename; /* info.filename, the Dockerfile it points into */
	struct ctxd_bkstatus_range *ranges;
	size_t nranges;
};

/* One StatusResponse. Owns everything it points to. */
struct ctxd_bkstatus {
	struct ctxd_bkstatus_vertex *vertexes;
	size_t nvertexes;
	struct ctxd_bkstatus_status *statuses;
	size_t nstatuses;
	struct ctxd_bkstatus_log *logs;
	size_t nlogs;
	struct ctxd_bkstatus_warning *warnings;
	size_t nwarnings;
};

/* Decodes serialized StatusResponse bytes. Unknown fields are skipped (and
 * a known field sent with another wire type is treated as unknown, as
 * protobuf does); a truncated or overlong varint, a length past the end, an
 * invalid wire type or field number, or nesting deeper than 32 is an error
 * naming the byte offset. NULL on error. */
struct ctxd_bkstatus *ctxd_bkstatus_decode(const void *data, size_t len, struct ctxd_error *err);

/* The same from the trace message's base64 text (standard alphabet,
 * padded; CR and LF are ignored, as Go's decoder ignores them). */
struct ctxd_bkstatus *ctxd_bkstatus_decode_base64(const char *text, size_t len,
						  struct ctxd_error *err);

void ctxd_bkstatus_destroy(struct ctxd_bkstatus *st);

/* Standard padded base64 into out (malloc'd, NUL-terminated, *outlen bytes
 * before the NUL). -1 with err naming the offending offset. */
int ctxd_bkstatus_base64_decode(const char *text, size_t len, unsigned char **out,
				size_t *outlen, struct ctxd_error *err);

#endif
