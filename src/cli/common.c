/* Messages and the option handling all context commands share. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "ctxd: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void cli_warn_cb(void *ud, const char *msg)
{
	(void)ud;
	cli_warn("%s", msg);
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'ctxd %s --help' for more information.\n", cmd ? cmd->name : "");
	return CLI_USAGE;
}

int cli_context_opt(const struct cli_command *cmd, struct cli_context_opts *o, int c,
		    const char *arg)
{
	switch (c) {
	case 'f':
		o->ctx.dockerfile = arg;
		return 1;
	case OPT_EXACT:
		o->exact = true;
		return 1;
	case OPT_JSON:
		o->json = true;
		return 1;
	case OPT_DEDUP:
		o->dedup = true;
		return 1;
	case OPT_HELP:
		fputs(cmd->help, stdout);
		return -1;
	default:
		return 0;
	}
}

int cli_context_finish(const struct cli_command *cmd, struct cli_context_opts *o, int argc,
		       char **argv)
{
	const char *bk = getenv("DOCKER_BUILDKIT");

	if (optind >= argc)
		return cli_usage_error(cmd, "%s: missing the context PATH", cmd->name);
	if (optind + 1 < argc)
		return cli_usage_error(cmd, "%s: one context PATH expected, got %d", cmd->name,
				       argc - optind);
	o->ctx.dir = argv[optind];
	/* the classic builder's CLI reads only <context>/.dockerignore */
	o->ctx.classic_ignore = bk && (strcmp(bk, "0") == 0 || strcasecmp(bk, "false") == 0);
	return CLI_OK;
}
