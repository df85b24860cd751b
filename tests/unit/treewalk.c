/* Trees walked as text, for the index and watch tests (see treewalk.h). */
#include "treewalk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/buf.h"
#include "ctxd/context.h"
#include "testutil.h"

static int dump(void *ud, const struct ctxd_entry *e, struct ctxd_error *err)
{
	struct ctxd_buf *b = ud;

	(void)err;
	ctxd_buf_printf(b, "%s %s %d %o %llu %lld.%u %llu %u %s %d %d\n", e->path,
			ctxd_entry_type_name(e->type), e->excluded, (unsigned)e->mode,
			(unsigned long long)e->size, (long long)e->mtime, e->mtime_nsec,
			(unsigned long long)e->ino, e->nlink, e->link ? e->link : "-", e->rule, e->pruned);
	return 0;
}

char *tw_walk(const char *dir, const struct ctxd_scan_source *src)
{
	struct ctxd_context_options o = {.dir = dir};
	struct ctxd_scan_options so = {.source = src, .want_excluded = true, .list_unread = true};
	struct ctxd_context *ctx;
	struct ctxd_buf b = {0};
	struct ctxd_error err;

	if (ctxd_context_open(&o, &ctx, &err) < 0)
		fail_msg("context: %s", err.msg);
	if (ctxd_scan_run(ctx, &so, dump, &b, &err) < 0)
		ctxd_buf_printf(&b, "error: %s\n", err.msg);
	ctxd_context_destroy(ctx);
	return ctxd_buf_take(&b);
}

void tw_expect_same(const char *root, struct ctxd_index *idx)
{
	struct ctxd_scan_source src;
	char *disk = tw_walk(root, NULL), *mem;

	ctxd_index_source(idx, &src);
	mem = tw_walk(root, &src);
	if (strcmp(disk, mem) != 0)
		fail_msg("index walk:\n%s\ndisk walk:\n%s", mem, disk);
	free(disk);
	free(mem);
}
