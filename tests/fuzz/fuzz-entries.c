/* libFuzzer target: arbitrary bytes as the payload of the daemon's
 * "entries" message, which a client decodes. Decoding must never crash or
 * read past the payload, and every record it accepts must encode and decode
 * back to the same entry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/query.h"

static void same(const struct ctxd_entry *a, const struct ctxd_entry *b)
{
	if (a->path_len != b->path_len || memcmp(a->path, b->path, a->path_len) ||
	    a->type != b->type || a->mode != b->mode || a->size != b->size || a->mtime != b->mtime ||
	    a->mtime_nsec != b->mtime_nsec || a->dev != b->dev || a->ino != b->ino ||
	    a->nlink != b->nlink || a->rdev_major != b->rdev_major || a->rdev_minor != b->rdev_minor ||
	    a->excluded != b->excluded || a->pruned != b->pruned || a->reason != b->reason ||
	    a->rule != b->rule || a->git != b->git || !a->link != !b->link || !a->data != !b->data ||
	    (a->link && (a->link_len != b->link_len || memcmp(a->link, b->link, a->link_len))) ||
	    (a->data && memcmp(a->data, b->data, (size_t)a->size)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes, so a read past it is caught */
	char *payload = malloc(size ? size : 1);
	const char *p, *end;
	struct ctxd_entry e;
	struct ctxd_error err;

	if (!payload)
		return 0;
	memcpy(payload, data, size);
	p = payload;
	end = payload + size;
	while (ctxd_query_entry_next(&p, end, &e, &err) > 0) {
		struct ctxd_buf again = {0};
		struct ctxd_entry back;
		const char *q;

		ctxd_query_entry_append(&again, &e);
		q = again.data;
		if (again.oom || ctxd_query_entry_next(&q, again.data + again.len, &back, &err) != 1 ||
		    q != again.data + again.len)
			abort();
		same(&e, &back);
		ctxd_buf_free(&again);
	}
	free(payload);
	return 0;
}
