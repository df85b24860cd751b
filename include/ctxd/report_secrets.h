/* Files in a build context that look like credentials: by name (.env,
 * private keys, .aws/, .docker/config.json, kubeconfigs, .git-credentials,
 * ...) and by a few content signatures (a PEM private key, an AWS access
 * key id, a token in .npmrc or a password in .pypirc, ...). Each finding
 * names the rule that matched. An allow-list file at the context root,
 * .ctxdsecretsignore, silences false findings: one glob per line
 * (fnmatch(3), '*' stops at '/'; a pattern without '/' matches the file
 * name at any depth), optionally followed by the rule it silences; '#'
 * starts a comment. The rules are listed in README ("Secrets"). */
#ifndef CTXD_REPORT_SECRETS_H
#define CTXD_REPORT_SECRETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctxd/error.h"
#include "ctxd/manifest.h"

#define CTXD_SECRETS_ALLOW_FILE ".ctxdsecretsignore"

struct ctxd_secret {
	char *path;        /* context-relative */
	const char *rule;  /* "dotenv", "private-key", ... */
	bool sent;         /* in ctxd's context, not only docker's */
};

struct ctxd_secrets {
	struct ctxd_secret *items; /* in walk order */
	size_t n, cap;
	bool oom;
};

struct ctxd_secrets_allow;

/* Reads DIR/.ctxdsecretsignore (absent: an empty list). A line with a rule
 * name no rule has is an error "FILE:LINE: ...". NULL on error. */
struct ctxd_secrets_allow *ctxd_secrets_allow_load(const char *dir, struct ctxd_error *err);
/* Parses the bytes of an allow-list; `file` names it in errors. */
struct ctxd_secrets_allow *ctxd_secrets_allow_parse(const char *data, size_t len,
						    const char *file, struct ctxd_error *err);
void ctxd_secrets_allow_destroy(struct ctxd_secrets_allow *a);

/* The rule a file's name matches (path context-relative), or NULL. Rules
 * that need the content to decide (.npmrc, .pypirc) are not name rules. */
const char *ctxd_secrets_name_rule(const char *path, size_t len);

/* Whether the content of a file at path should be looked at: small
 * files whose name or type may hold a credential, outside vendored
 * dependency trees (node_modules, site-packages, vendor, .git). */
bool ctxd_secrets_wants_content(const char *path, size_t len, uint64_t size);

/* Whether a name rule needs the content to decide (.npmrc, .pypirc). */
bool ctxd_secrets_content_named(const char *path, size_t len);

/* The rule the content matches (data: the file's first bytes), or NULL. */
const char *ctxd_secrets_content_rule(const char *path, size_t len, const char *data,
				      size_t n);

/* Checks a file: by name, then (when fd >= 0 and the name asks for it) by
 * content read from fd (the file, opened by the caller and not closed
 * here). Adds a finding to s unless the allow-list (may be NULL)
 * silences it. Returns 1 when a finding was added. */
int ctxd_secrets_check(struct ctxd_secrets *s, const struct ctxd_secrets_allow *allow,
		       const char *path, size_t len, uint64_t size, int fd, bool sent);

/* Checks every regular file of m (read through rootfd, the context
 * directory), all of them sent. -1 only when out of memory. */
int ctxd_secrets_scan_manifest(struct ctxd_secrets *s, const struct ctxd_secrets_allow *allow,
			       const struct ctxd_manifest *m, int rootfd);

/* For people: what a rule means. */
const char *ctxd_secrets_rule_text(const char *rule);

void ctxd_secrets_clear(struct ctxd_secrets *s);

#endif
