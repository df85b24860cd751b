/* libFuzzer target: arbitrary bytes as a .ctxd.conf file. The parser must
 * never crash, leak or read out of bounds, and an error always names a
 * line of the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctxd_config cfg;
	struct ctxd_error err;
	enum ctxd_git_filter f;

	ctxd_config_init(&cfg);
	if (ctxd_config_parse(&cfg, (const char *)data, size, "fuzz", &err) < 0) {
		if (strncmp(err.msg, "fuzz:", 5) != 0 && strcmp(err.msg, "out of memory") != 0)
			abort();
	} else {
		ctxd_config_git_filter(&cfg, NULL, NULL, &f, NULL, &err);
	}
	ctxd_config_free(&cfg);
	return 0;
}
