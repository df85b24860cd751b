/* Counting what each filter left out (see include/ctxd/summary.h). */
#include "ctxd/summary.h"

#include <inttypes.h>

#include "ctxd/units.h"

int ctxd_summary_visit(void *ud, const struct ctxd_entry *e, struct ctxd_error *err)
{
	struct ctxd_summary *s = ud;

	if (e->type == CTXD_ENTRY_FILE) {
		struct ctxd_summary_count *c = &s->by_reason[e->reason];

		c->files++;
		c->bytes += e->size;
		if (e->reason != CTXD_REASON_DOCKERIGNORE) {
			s->docker.files++;
			s->docker.bytes += e->size;
		}
		if (!e->excluded) {
			s->sent.files++;
			s->sent.bytes += e->size;
		}
	}
	return s->next ? s->next(s->next_ud, e, err) : 0;
}

void ctxd_summary_format(const struct ctxd_summary *s, struct ctxd_buf *out)
{
	char a[16], b[16];
	bool first = true;

	ctxd_buf_printf(out, "%" PRIu64 " files, %s of docker's %" PRIu64 " files, %s",
			s->sent.files, ctxd_units_human(s->sent.bytes, a), s->docker.files,
			ctxd_units_human(s->docker.bytes, b));
	for (int r = CTXD_REASON_NOT_READ; r <= CTXD_REASON_GIT_UNTRACKED; r++) {
		const struct ctxd_summary_count *c = &s->by_reason[r];

		if (!c->files)
			continue;
		ctxd_buf_printf(out, "%s%s: %" PRIu64 " files, %s", first ? " (" : "; ",
				ctxd_entry_reason_text(r), c->files, ctxd_units_human(c->bytes, a));
		first = false;
	}
	if (!first)
		ctxd_buf_putc(out, ')');
}
