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
			ctxd_git_savings_add(&s->git, e->git, e->size);
		}
	}
	return s->next ? s->next(s->next_ud, e, err) : 0;
}

struct ctxd_summary_count ctxd_summary_git_would_save(const struct ctxd_summary *s,
						      enum ctxd_git_filter f)
{
	struct ctxd_summary_count c = {0};

	if (f <= s->git_filter)
		return c;
	if (ctxd_git_filter_drops(f, CTXD_GIT_IGNORED)) {
		c.files += s->git.ignored_files;
		c.bytes += s->git.ignored_bytes;
	}
	if (ctxd_git_filter_drops(f, CTXD_GIT_UNTRACKED)) {
		c.files += s->git.untracked_files;
		c.bytes += s->git.untracked_bytes;
	}
	return c;
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
	first = true;
	for (int f = CTXD_GIT_FILTER_IGNORED; f <= CTXD_GIT_FILTER_UNTRACKED; f++) {
		struct ctxd_summary_count c = ctxd_summary_git_would_save(s, f);

		if (!c.files)
			continue;
		ctxd_buf_printf(out, "%s--git-filter=%s %s%" PRIu64 " files, %s", first ? "; " : ", ",
				ctxd_git_filter_name(f), first ? "would save " : "", c.files,
				ctxd_units_human(c.bytes, a));
		first = false;
	}
}
