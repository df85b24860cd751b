/* A Dockerfile parsed the way BuildKit's frontend parses it (the parser and
 * instructions packages): parser directives, comments, line continuations
 * with the active escape character, heredocs, exec (JSON) and shell forms,
 * flags, and the checks BuildKit makes before anything runs, with its error
 * wording. Variables are not expanded here (dockerfile_expand.h) and no
 * stage is evaluated (dockerfile_reads.h).
 *
 * Ownership: ctxd_dockerfile_parse returns a tree the caller frees with
 * ctxd_dockerfile_destroy; every pointer reached from it (instructions,
 * stages, strings) belongs to the tree and lives until then. */
#ifndef CTXD_DOCKERFILE_H
#define CTXD_DOCKERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "ctxd/error.h"

struct ctxd_dockerfile;

/* A heredoc body attached to RUN, COPY, ADD (or ONBUILD of one of them). */
struct ctxd_dockerfile_heredoc {
	const char *name;    /* the terminator, quotes removed */
	const char *content; /* the body as written, line endings kept, not chomped */
	size_t content_len;
	unsigned long fd;    /* the digits before "<<", 0 when none */
	bool expand;         /* the terminator was not quoted: variables expand */
	bool chomp;          /* "<<-": leading tabs are removed */
};

/* One instruction. Arguments are as the parser splits them, before any
 * variable expansion:
 *   ENV, LABEL   key, value, key, value, ... (the legacy "ENV k v" form too)
 *   ARG          the words as written ("NAME" or "NAME=default")
 *   HEALTHCHECK  the type ("CMD", "NONE"), then the command
 *   ONBUILD      the trigger's keyword, then the trigger's arguments
 *   others       the words (shell form: whitespace-split, or one string
 *                for RUN, CMD, ENTRYPOINT, SHELL, WORKDIR, USER, ...),
 *                or the JSON array's strings in exec form. */
struct ctxd_dockerfile_instr {
	const char *keyword;    /* as written: "COPY", "copy", ... */
	const char *name;       /* lower case: "copy" */
	const char *original;   /* the line after continuations were joined */
	unsigned line;          /* 1-based first line */
	unsigned end_line;      /* last line, heredoc bodies included */
	const char **flags;     /* "--from=build", quotes removed as BuildKit does */
	size_t nflags;
	const char **args;
	size_t nargs;
	bool json;              /* exec (JSON array) form */
	const struct ctxd_dockerfile_heredoc *heredocs;
	size_t nheredocs;
	/* ONBUILD: the trigger re-parsed on its own, as BuildKit does when a
	 * later stage is built FROM this one (default escape, fresh parser);
	 * NULL with trigger_error set when that parse fails. */
	const struct ctxd_dockerfile_instr *trigger;
	const char *trigger_error;
};

/* A build stage: its FROM and the instructions up to the next FROM. */
struct ctxd_dockerfile_stage {
	const char *name;     /* the AS name in lower case, NULL when none */
	const char *base;     /* the FROM image or stage, unexpanded */
	const char *platform; /* --platform value, unexpanded; NULL when none */
	size_t from;          /* index of its FROM instruction */
	size_t end;           /* one past its last instruction */
};

/* Parses data[0..len). filename is used in errors ("FILE:LINE: why", with
 * BuildKit's message after it) and copied. Errors are the ones BuildKit
 * gives before building: unknown instructions, bad flags, argument counts,
 * unterminated heredocs, bad parser directives, instructions before FROM,
 * an empty file. A NUL byte in instruction text is refused (no Dockerfile
 * that builds has one). A file that selects another frontend
 * (ctxd_dockerfile_syntax) is that frontend's to read: if this parser
 * refuses it, the tree has the syntax and no instructions instead of an
 * error. On success *out is the new tree. */
int ctxd_dockerfile_parse(const char *data, size_t len, const char *filename,
			  struct ctxd_dockerfile **out, struct ctxd_error *err);

void ctxd_dockerfile_destroy(struct ctxd_dockerfile *df);

const char *ctxd_dockerfile_filename(const struct ctxd_dockerfile *df);

/* The escape character in force: '\\' or '`'. */
char ctxd_dockerfile_escape(const struct ctxd_dockerfile *df);

/* A parser directive from the top of the file ("syntax", "escape",
 * "check"; keys are case-insensitive): its value, NULL when absent. */
const char *ctxd_dockerfile_directive(const struct ctxd_dockerfile *df, const char *key);

/* The frontend image a "# syntax=" line (or "//syntax=", or a JSON
 * {"syntax": ...} file, after an optional "#!" line) selects, as BuildKit's
 * DetectSyntax finds it; NULL when none. Owned by df. */
const char *ctxd_dockerfile_syntax(const struct ctxd_dockerfile *df);

/* All instructions in file order, global ARGs first. */
size_t ctxd_dockerfile_count(const struct ctxd_dockerfile *df);
const struct ctxd_dockerfile_instr *ctxd_dockerfile_instr(const struct ctxd_dockerfile *df,
							  size_t i);

size_t ctxd_dockerfile_stage_count(const struct ctxd_dockerfile *df);
const struct ctxd_dockerfile_stage *ctxd_dockerfile_stage(const struct ctxd_dockerfile *df,
							  size_t i);

/* Whether word is a heredoc reference ("<<EOF", "<<-'EOF'", "3<<EOF"), as
 * BuildKit's MustParseHeredoc decides for COPY and ADD sources. */
bool ctxd_dockerfile_is_heredoc(const char *word);

#endif
