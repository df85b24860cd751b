/* BuildKit's shell-word lexer (frontend/dockerfile/shell): quotes, the escape
 * character, $VAR and ${VAR<modifier>word} expansion, word splitting. One
 * addition: a variable can be "unknown" (an ARG declared without a value, or
 * a name the base image may set), and an expansion that reads one says so
 * rather than guessing a value, because the analysis must then assume the
 * worst. */
#ifndef CTXD_DOCKERFILE_EXPAND_H
#define CTXD_DOCKERFILE_EXPAND_H

#include <stdbool.h>
#include <stddef.h>

#include "ctxd/buf.h"
#include "ctxd/error.h"

/* Longest expansion result kept; a longer one (ENV A=$A$A doubling) is
 * reported unknown instead of growing without bound. */
#define CTXD_DOCKERFILE_MAX_WORD (1u << 20)

/* A variable scope: names in order of first definition. A closed scope
 * reads an absent name as unset (FROM scratch, the global ARG scope); an
 * open one as unknown (a base image's config may set it). The scope owns
 * its copies of names and values. */
struct ctxd_dockerfile_env;

enum ctxd_dockerfile_var {
	CTXD_DOCKERFILE_UNSET,
	CTXD_DOCKERFILE_SET,
	CTXD_DOCKERFILE_UNKNOWN,
};

/* NULL on ENOMEM. */
struct ctxd_dockerfile_env *ctxd_dockerfile_env_create(bool open);
struct ctxd_dockerfile_env *ctxd_dockerfile_env_dup(const struct ctxd_dockerfile_env *env);
void ctxd_dockerfile_env_destroy(struct ctxd_dockerfile_env *env);

/* Sets name to value, or marks it unknown when value is NULL. -1 on ENOMEM. */
int ctxd_dockerfile_env_set(struct ctxd_dockerfile_env *env, const char *name,
			    const char *value);

/* Makes every name unknown from now on (an ENV whose key is unknown may
 * have set any of them). */
void ctxd_dockerfile_env_poison(struct ctxd_dockerfile_env *env);

/* The state of name; *value (when SET) points into env. env may be NULL
 * (everything unset). */
enum ctxd_dockerfile_var ctxd_dockerfile_env_get(const struct ctxd_dockerfile_env *env,
						 const char *name, const char **value);

/* Lexer settings, as shell.Lex's fields. */
struct ctxd_dockerfile_lex {
	char escape;              /* '\\' or '`' (the # escape= directive) */
	bool raw_quotes;          /* keep quote characters in the result */
	bool raw_escapes;         /* keep escape characters in the result */
	bool skip_process_quotes; /* quotes are ordinary characters */
	bool skip_unset_env;      /* leave $X / ${X...} as written when X is unset */
};

/* One expansion. */
struct ctxd_dockerfile_word {
	char *value;        /* ProcessWord's result; owned */
	char **words;       /* ProcessWords' result, when asked for; owned */
	size_t nwords;
	bool unknown;       /* an unknown variable (or a result too long to keep) took part */
	char *unknown_name; /* the first unknown variable, NULL when none; owned */
};

/* Expands s[0..len) with variables from env (NULL: none). With split, also
 * fills words as ProcessWords would. On a BuildKit error (err reads
 * `failed to process "s": why`) or ENOMEM returns -1 and out is empty. */
int ctxd_dockerfile_expand(const struct ctxd_dockerfile_lex *lx, const char *s, size_t len,
			   const struct ctxd_dockerfile_env *env, bool split,
			   struct ctxd_dockerfile_word *out, struct ctxd_error *err);

/* Frees what out holds and zeroes it. */
void ctxd_dockerfile_word_clear(struct ctxd_dockerfile_word *out);

/* Appends s[0..len) quoted as Go's %q (strconv.Quote) does, the form
 * Docker's error messages use. */
void ctxd_dockerfile_quote(struct ctxd_buf *b, const char *s, size_t len);

#endif
