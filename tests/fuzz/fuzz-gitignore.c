/* libFuzzer target: arbitrary bytes as a .gitignore, then every pattern
 * against a set of paths as file and as directory, and the first line as a
 * wildmatch pattern against the rest. Nothing may crash, leak, read out of
 * bounds or take exponential time. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/gitignore.h"

static const char *const paths[] = {
	"a", "a/b", "a/b/c.txt", "sub/x.o", "sub/deep/er/z.tmp", "node_modules/x/package.json",
	"\xc3\xbc" "n\xc3\xaf.txt", "bad\xff" "name/x", "a b/#c", "[x]/!y", "**/*",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctxd_gitignore *gi;
	struct ctxd_gitignore_rule r;
	struct ctxd_error err;
	const char *nl = memchr(data, '\n', size);

	if (ctxd_gitignore_parse((const char *)data, size, "fuzz", size % 2 ? "sub" : "", &gi,
				 &err) < 0)
		return 0;
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		for (int dir = 0; dir < 2; dir++) {
			int m = ctxd_gitignore_match(gi, paths[i], strlen(paths[i]), dir);

			if (m >= 0)
				ctxd_gitignore_rule(gi, m, &r);
		}
	ctxd_gitignore_destroy(gi);
	if (nl) {
		char *pat = strndup((const char *)data, (size_t)(nl - (const char *)data));
		char *text = strndup(nl + 1, size - (size_t)(nl + 1 - (const char *)data));

		if (pat && text)
			ctxd_gitignore_wildmatch(pat, text);
		free(pat);
		free(text);
	}
	return 0;
}
