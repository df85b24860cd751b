/* libFuzzer target: arbitrary bytes as a .dockerignore file, then every
 * decision procedure over the patterns it yields. Parser, pattern compiler
 * and Go-regexp translation must never crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/ignore.h"

static const char *const paths[] = {
	"a", "a/b", "a/b/c.txt", ".git/config", "node_modules/x/package.json",
	"Dockerfile", "\xc3\xbc" "n\xc3\xaf.txt", "bad\xff" "name/x", "a b/#c",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctxd_ignore *ig = ctxd_ignore_create();
	struct ctxd_error err;
	uint8_t *vec, *parent;
	size_t n;
	int rule;

	if (!ig)
		return 0;
	if (ctxd_ignore_parse(ig, (const char *)data, size, "fuzz", &err) < 0) {
		ctxd_ignore_destroy(ig);
		return 0;
	}
	n = ctxd_ignore_count(ig);
	vec = calloc(n + 1, 1);
	parent = calloc(n + 1, 1);
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		size_t len = strlen(paths[i]);

		if (ctxd_ignore_match(ig, paths[i], len, NULL, parent, &rule, &err) >= 0)
			ctxd_ignore_match(ig, paths[i], len, parent, vec, &rule, &err);
		ctxd_ignore_match_or_parent(ig, paths[i], len, &err);
		ctxd_ignore_match_legacy(ig, paths[i], len, &err);
		ctxd_ignore_may_reach_inside(ig, paths[i], len);
	}
	free(vec);
	free(parent);
	ctxd_ignore_destroy(ig);
	return 0;
}
