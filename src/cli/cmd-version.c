/* ctxd version */
#include <stdio.h>

#include <archive.h>
#include <git2.h>
#include <uv.h>
#include <xxhash.h>

#include "cli.h"

static int run(int argc, char **argv)
{
	int gmaj, gmin, grev;

	(void)argc;
	(void)argv;
	git_libgit2_version(&gmaj, &gmin, &grev);
	printf("ctxd %s\n", CTXD_VERSION);
	printf("libuv %s, libgit2 %d.%d.%d, xxhash %u, %s\n", uv_version_string(), gmaj, gmin,
	       grev, XXH_versionNumber(), archive_version_string());
	return CLI_OK;
}

const struct cli_command cli_cmd_version = {
	.name = "version",
	.summary = "print the version of ctxd and its libraries",
	.help = "Usage: ctxd version   (or ctxd --version)\n"
		"\n"
		"Prints ctxd's version and those of the libraries it runs on.\n",
	.run = run,
};
