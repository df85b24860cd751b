/* Helpers for the tests of the daemon's index and watcher: a tree walked
 * as text, so an index's walk can be compared with the disk's. */
#ifndef CTXD_TEST_TREEWALK_H
#define CTXD_TEST_TREEWALK_H

#include "ctxd/index.h"
#include "ctxd/scan.h"

/* The walk of dir over src (NULL: the disk), every exclusion listed, one
 * line per entry; malloc'd. */
char *tw_walk(const char *dir, const struct ctxd_scan_source *src);
/* Fails the test unless a walk over idx equals a walk of root. */
void tw_expect_same(const char *root, struct ctxd_index *idx);

#endif
