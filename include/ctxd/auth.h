/* Registry credentials for builds: the X-Registry-Config header the docker
 * CLI sends with /build, built from the client config's "auths" and its
 * credential helpers (credsStore, credHelpers). */
#ifndef CTXD_AUTH_H
#define CTXD_AUTH_H

#include <stddef.h>

#include "ctxd/error.h"

/* Returns the header value (base64url of a JSON map registry -> auth
 * config; "e30=" when there is none), malloc'd. Unreadable helpers are
 * skipped, as the CLI skips them; a config.json that is not JSON is an
 * error naming it. */
char *ctxd_auth_registry_config(struct ctxd_error *err);

/* base64 (RFC 4648) of data, with padding; url selects the URL alphabet.
 * malloc'd, NULL on ENOMEM. */
char *ctxd_auth_base64(const void *data, size_t len, int url);

#endif
