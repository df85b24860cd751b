/* libFuzzer target: arbitrary bytes as a Dockerfile, parsed, then analysed
 * under a few option sets; the bytes also go through the shell-word lexer
 * and the --mount reader directly. Nothing may crash, leak or read out of
 * bounds, whatever the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/dockerfile.h"
#include "ctxd/dockerfile_expand.h"
#include "ctxd/dockerfile_mount.h"
#include "ctxd/dockerfile_reads.h"

static bool some_onbuild(void *ctx, const char *image)
{
	(void)ctx;
	return strlen(image) % 3 == 0;
}

static void analyse(const struct ctxd_dockerfile *df, const struct ctxd_dockerfile_reads_options *o)
{
	struct ctxd_dockerfile_reads r;
	struct ctxd_error err;

	ctxd_dockerfile_reads(df, o, &r, &err);
	ctxd_dockerfile_reads_clear(&r);
}

static void lex(const char *s, size_t n)
{
	static const struct ctxd_dockerfile_lex modes[] = {
		{.escape = '\\'},
		{.escape = '`', .raw_quotes = true, .raw_escapes = true, .skip_unset_env = true},
		{.escape = '\\', .skip_process_quotes = true},
	};
	struct ctxd_dockerfile_env *env = ctxd_dockerfile_env_create(false);
	struct ctxd_error err;

	if (!env)
		return;
	ctxd_dockerfile_env_set(env, "A", "a*b/c?d");
	ctxd_dockerfile_env_set(env, "U", NULL);
	ctxd_dockerfile_env_set(env, "E", "");
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		struct ctxd_dockerfile_word w;

		if (ctxd_dockerfile_expand(&modes[i], s, n, env, i == 1, &w, &err) == 0)
			ctxd_dockerfile_word_clear(&w);
	}
	if (!memchr(s, '\0', n)) {
		struct ctxd_dockerfile_mount m;

		if (ctxd_dockerfile_mount_parse(s, true, &modes[0], env, &m, &err) == 0)
			ctxd_dockerfile_mount_clear(&m);
		if (ctxd_dockerfile_mount_parse(s, false, NULL, NULL, &m, &err) == 0)
			ctxd_dockerfile_mount_clear(&m);
		ctxd_dockerfile_is_heredoc(s);
	}
	ctxd_dockerfile_env_destroy(env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const args[] = {"A=x", "DIR=src", "BASE=scratch", "TARGETARCH=arm",
					   "NOEQUALS", "BUILDKIT_SBOM_SCAN_STAGE=true"};
	const struct ctxd_dockerfile_reads_options opts[] = {
		{0},
		{.target = "build", .platform = "linux/arm/v6", .build_platform = "darwin/arm64",
		 .build_args = args, .nbuild_args = sizeof args / sizeof args[0]},
		{.has_onbuild = some_onbuild, .trust_official_syntax = true},
	};
	struct ctxd_dockerfile *df;
	struct ctxd_error err;
	char *text;

	if (ctxd_dockerfile_parse((const char *)data, size, "fuzz", &df, &err) == 0) {
		for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
			analyse(df, &opts[i]);
		ctxd_dockerfile_destroy(df);
	}
	/* the lexer sees at most one line's worth, as from a Dockerfile */
	if (size > 4096)
		size = 4096;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	lex(text, size);
	free(text);
	return 0;
}
