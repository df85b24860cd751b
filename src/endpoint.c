/* Docker endpoint selection, following the docker CLI (cli/command and
 * cli/context/docker): see include/ctxd/endpoint.h. */
#include "ctxd/endpoint.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctxd/lazycrypto.h"

#define DEFAULT_UNIX "unix:///var/run/docker.sock"

void ctxd_endpoint_clear(struct ctxd_endpoint *ep)
{
	free(ep->host);
	free(ep->path);
	free(ep->hostname);
	free(ep->user);
	free(ep->ca);
	free(ep->cert);
	free(ep->key);
	free(ep->origin);
	memset(ep, 0, sizeof *ep);
}

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* host[:port] with optional [v6]; port 0 when absent. */
static int split_host_port(const char *s, size_t n, char **host, int *port, struct ctxd_error *err)
{
	const char *colon = NULL;
	size_t hl;

	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (!close)
			goto bad;
		*host = dupn(s + 1, (size_t)(close - s - 1));
		if (close + 1 < s + n) {
			if (close[1] != ':')
				goto bad;
			colon = close + 1;
		}
	} else {
		for (size_t i = 0; i < n; i++)
			if (s[i] == ':')
				colon = s + i;
		hl = colon ? (size_t)(colon - s) : n;
		*host = dupn(s, hl);
	}
	*port = 0;
	if (colon) {
		char *end;
		long p = strtol(colon + 1, &end, 10);

		if (end != s + n || p <= 0 || p > 65535)
			goto bad;
		*port = (int)p;
	}
	if (!*host || !**host)
		goto bad;
	return 0;
bad:
	ctxd_error_set(err, "invalid address \"%.*s\": expected host[:port]", (int)n, s);
	return -1;
}

int ctxd_endpoint_parse(const char *host, struct ctxd_endpoint *ep, struct ctxd_error *err)
{
	const char *rest;
	size_t n;

	/* out is written, never read: a failed parse leaves nothing to free */
	memset(ep, 0, sizeof *ep);
	if (!(ep->host = strdup(host)))
		goto oom;
	if (strncmp(host, "unix://", 7) == 0) {
		ep->kind = CTXD_ENDPOINT_UNIX;
		if (!host[7]) {
			ctxd_error_set(err, "invalid address \"%s\": no socket path", host);
			return -1;
		}
		if (!(ep->path = strdup(host + 7)))
			goto oom;
		return 0;
	}
	if (strncmp(host, "tcp://", 6) == 0 || strncmp(host, "http://", 7) == 0 ||
	    strncmp(host, "https://", 8) == 0) {
		ep->kind = CTXD_ENDPOINT_TCP;
		rest = strstr(host, "://") + 3;
		n = strcspn(rest, "/");
		if (strncmp(host, "https://", 8) == 0)
			ep->tls = true;
		return split_host_port(rest, n, &ep->hostname, &ep->port, err);
	}
	if (strncmp(host, "ssh://", 6) == 0) {
		const char *at;

		ep->kind = CTXD_ENDPOINT_SSH;
		rest = host + 6;
		n = strcspn(rest, "/");
		at = memchr(rest, '@', n);
		if (at) {
			if (!(ep->user = dupn(rest, (size_t)(at - rest))))
				goto oom;
			n -= (size_t)(at + 1 - rest);
			rest = at + 1;
		}
		if (rest[n] == '/' && rest[n + 1]) {
			ctxd_error_set(err, "invalid address \"%s\": ssh:// takes no path", host);
			return -1;
		}
		return split_host_port(rest, n, &ep->hostname, &ep->port, err);
	}
	if (strstr(host, "://")) {
		ctxd_error_set(err, "unsupported address \"%s\": use unix://, tcp:// or ssh://", host);
		return -1;
	}
	/* the CLI reads a bare host[:port] as tcp:// */
	ep->kind = CTXD_ENDPOINT_TCP;
	return split_host_port(host, strlen(host), &ep->hostname, &ep->port, err);
oom:
	ctxd_error_set(err, "out of memory");
	return -1;
}

static char *config_dir(void)
{
	const char *d = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	char *p;

	if (d && *d)
		return strdup(d);
	if (!home || !*home)
		home = "/root";
	if (asprintf(&p, "%s/.docker", home) < 0)
		return NULL;
	return p;
}

static json_t *load_json(const char *path, bool *missing, struct ctxd_error *err)
{
	json_error_t je;
	json_t *j;

	*missing = false;
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		*missing = true;
		return NULL;
	}
	j = json_load_file(path, 0, &je);
	if (!j)
		ctxd_error_set(err, "%s:%d: %s", path, je.line, je.text);
	return j;
}

static char *sha256_hex(const char *s)
{
	unsigned char md[32];
	unsigned int len = 0;
	char *hex = malloc(65);

	if (!hex || !EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL)) {
		free(hex);
		return NULL;
	}
	for (unsigned i = 0; i < 32; i++)
		sprintf(hex + i * 2, "%02x", md[i]);
	return hex;
}

static char *file_if_exists(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	if (access(p, R_OK) == 0)
		return p;
	free(p);
	return NULL;
}

/* A named context: contexts/meta/<sha256>/meta.json and contexts/tls/... */
static int from_context(const char *cfg, const char *name, struct ctxd_endpoint *ep,
			const char *origin, struct ctxd_error *err)
{
	char *id = sha256_hex(name), *meta = NULL, *tls = NULL;
	json_t *j = NULL, *docker;
	const char *host;
	bool missing;
	int rc = -1;

	if (!id) {
		ctxd_error_set(err, "context \"%s\" (%s): %s", name, origin,
			       ctxd_lazycrypto_error() ? ctxd_lazycrypto_error() : "out of memory");
		goto out;
	}
	if (asprintf(&meta, "%s/contexts/meta/%s/meta.json", cfg, id) < 0 ||
	    asprintf(&tls, "%s/contexts/tls/%s/docker", cfg, id) < 0) {
		ctxd_error_set(err, "out of memory");
		goto out;
	}
	j = load_json(meta, &missing, err);
	if (missing) {
		ctxd_error_set(err, "context \"%s\" (%s) does not exist: no %s", name, origin, meta);
		goto out;
	}
	if (!j)
		goto out;
	docker = json_object_get(json_object_get(j, "Endpoints"), "docker");
	host = json_string_value(json_object_get(docker, "Host"));
	if (!host) {
		ctxd_error_set(err, "context \"%s\": %s has no Endpoints.docker.Host", name, meta);
		goto out;
	}
	if (ctxd_endpoint_parse(host, ep, err) < 0) {
		ctxd_error_prefix(err, "context \"%s\" (%s)", name, meta);
		goto out;
	}
	ep->ca = file_if_exists(tls, "ca.pem");
	ep->cert = file_if_exists(tls, "cert.pem");
	ep->key = file_if_exists(tls, "key.pem");
	if (ep->kind == CTXD_ENDPOINT_TCP && (ep->ca || ep->cert)) {
		ep->tls = true;
		ep->tls_verify = !json_is_true(json_object_get(docker, "SkipTLSVerify"));
	}
	if (asprintf(&ep->origin, "context \"%s\" (%s)", name, origin) < 0)
		ep->origin = NULL;
	rc = 0;
out:
	json_decref(j);
	free(id);
	free(meta);
	free(tls);
	return rc;
}

static bool env_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v;
}

/* The default context: a host, and TLS from flags and environment. */
static int from_host(const char *host, const char *origin, const struct ctxd_endpoint_options *o,
		     const char *cfg, struct ctxd_endpoint *ep, struct ctxd_error *err)
{
	const char *certdir = getenv("DOCKER_CERT_PATH");
	char *dir = NULL;

	if (ctxd_endpoint_parse(host, ep, err) < 0) {
		ctxd_error_prefix(err, "%s", origin);
		return -1;
	}
	if (!(ep->origin = strdup(origin)))
		return -1;
	if (ep->kind != CTXD_ENDPOINT_TCP)
		return 0;
	ep->tls_verify = o->tlsverify || env_set("DOCKER_TLS_VERIFY");
	ep->tls = ep->tls || ep->tls_verify || o->tls || env_set("DOCKER_TLS") || o->tlscert || o->tlscacert;
	if (!ep->tls)
		return 0;
	dir = certdir && *certdir ? strdup(certdir) : strdup(cfg);
	ep->ca = o->tlscacert ? strdup(o->tlscacert) : file_if_exists(dir, "ca.pem");
	ep->cert = o->tlscert ? strdup(o->tlscert) : file_if_exists(dir, "cert.pem");
	ep->key = o->tlskey ? strdup(o->tlskey) : file_if_exists(dir, "key.pem");
	free(dir);
	if (ep->tls_verify && !ep->ca) {
		ctxd_error_set(err, "TLS verification is on (%s) but no CA certificate was found: "
			       "give --tlscacert or put ca.pem in DOCKER_CERT_PATH", origin);
		return -1;
	}
	return 0;
}

int ctxd_endpoint_resolve(const struct ctxd_endpoint_options *o, struct ctxd_endpoint *ep,
			  struct ctxd_error *err)
{
	char *cfg = config_dir(), *cfgfile = NULL;
	const char *ctxname = NULL, *origin = NULL;
	json_t *conf = NULL;
	bool missing;
	int rc = -1;

	memset(ep, 0, sizeof *ep);
	if (!cfg || asprintf(&cfgfile, "%s/config.json", cfg) < 0) {
		ctxd_error_set(err, "out of memory");
		goto out;
	}
	if (o->host && o->context) {
		ctxd_error_set(err, "conflicting options: either specify --host or --context, not both");
		goto out;
	}
	if (o->host) {
		rc = from_host(o->host, "from --host", o, cfg, ep, err);
		goto out;
	}
	if (o->context) {
		ctxname = o->context;
		origin = "from --context";
	} else if (env_set("DOCKER_HOST")) {
		rc = from_host(getenv("DOCKER_HOST"), "from DOCKER_HOST", o, cfg, ep, err);
		goto out;
	} else if (env_set("DOCKER_CONTEXT")) {
		ctxname = getenv("DOCKER_CONTEXT");
		origin = "from DOCKER_CONTEXT";
	} else {
		conf = load_json(cfgfile, &missing, err);
		if (!conf && !missing)
			goto out;
		ctxname = json_string_value(json_object_get(conf, "currentContext"));
		origin = "currentContext in config.json";
		if (ctxname && !*ctxname)
			ctxname = NULL;
	}
	if (!ctxname || strcmp(ctxname, "default") == 0)
		rc = from_host(DEFAULT_UNIX, ctxname ? origin : "the default socket", o, cfg, ep, err);
	else
		rc = from_context(cfg, ctxname, ep, origin, err);
out:
	if (rc < 0)
		ctxd_endpoint_clear(ep);
	json_decref(conf);
	free(cfg);
	free(cfgfile);
	return rc;
}
