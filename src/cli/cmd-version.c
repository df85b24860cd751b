/* ctxd version */
#include <stdio.h>

#include <archive.h>
#include <uv.h>
#include <xxhash.h>

#include "cli.h"
#include "ctxd/lazygit.h"

static int run(int argc, char **argv)
{
	int gmaj, gmin, grev;
	char git[600];

	(void)argc;
	(void)argv;
	/* the libgit2 ctxd would load, which this loads */
	if (git_libgit2_version(&gmaj, &gmin, &grev) < 0) {
		const git_error *e = git_error_last();

		snprintf(git, sizeof git, "libgit2 unavailable (%s)",
			 e && e->message ? e->message : "unknown error");
	} else {
		snprintf(git, sizeof git, "libgit2 %d.%d.%d", gmaj, gmin, grev);
	}
	printf("ctxd %s\n", CTXD_VERSION);
	printf("libuv %s, %s, xxhash %u, %s\n", uv_version_string(), git, XXH_versionNumber(),
	       archive_version_string());
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
