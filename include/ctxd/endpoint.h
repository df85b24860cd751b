/* Which Docker daemon to talk to, chosen the docker CLI's way: --host,
 * --context, DOCKER_HOST, DOCKER_CONTEXT, then currentContext in the client
 * config, each context's meta.json and TLS files; plus TLS settings from
 * flags and DOCKER_TLS_VERIFY / DOCKER_CERT_PATH. */
#ifndef CTXD_ENDPOINT_H
#define CTXD_ENDPOINT_H

#include <stdbool.h>

#include "ctxd/error.h"

enum ctxd_endpoint_kind {
	CTXD_ENDPOINT_UNIX,
	CTXD_ENDPOINT_TCP,
	CTXD_ENDPOINT_SSH,
};

/* What the user typed; NULL/false for "not given". */
struct ctxd_endpoint_options {
	const char *host;      /* -H/--host */
	const char *context;   /* --context */
	bool tls;              /* --tls */
	bool tlsverify;        /* --tlsverify */
	const char *tlscacert; /* --tlscacert */
	const char *tlscert;   /* --tlscert */
	const char *tlskey;    /* --tlskey */
};

/* A resolved endpoint. Strings are owned; free with ctxd_endpoint_clear. */
struct ctxd_endpoint {
	enum ctxd_endpoint_kind kind;
	char *host;        /* the address as given: unix:///p, tcp://h:p, ssh://u@h:p */
	char *path;        /* UNIX: socket path */
	char *hostname;    /* TCP, SSH: host name or address */
	int port;          /* TCP, SSH: port (0 = ssh's default) */
	char *user;        /* SSH: user, or NULL */
	bool tls;          /* TCP: use TLS */
	bool tls_verify;   /* TCP+TLS: verify the daemon's certificate */
	char *ca, *cert, *key; /* TCP+TLS: PEM files, or NULL */
	char *origin;      /* how it was chosen, for messages */
};

/* Resolves against the environment and the client config directory
 * (DOCKER_CONFIG, else ~/.docker). */
int ctxd_endpoint_resolve(const struct ctxd_endpoint_options *o, struct ctxd_endpoint *out,
			  struct ctxd_error *err);

/* Parses one address (unix://, tcp://, ssh://, npipe:// refused) into out,
 * which need not be initialised; clear it after success or failure. */
int ctxd_endpoint_parse(const char *host, struct ctxd_endpoint *out, struct ctxd_error *err);

void ctxd_endpoint_clear(struct ctxd_endpoint *ep);

#endif
