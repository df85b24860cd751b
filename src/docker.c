/* Engine API transport (see include/ctxd/docker.h). libcurl speaks HTTP
 * and TLS; for ssh, curl connects to a private relay socket that pipes each
 * connection through a new `ssh HOST docker system dial-stdio`, as the
 * docker CLI does. (Handing curl a connected socketpair end through
 * CURLOPT_OPENSOCKETFUNCTION does not work with libcurl 7.88: it connects
 * the socket again.) */
#include "ctxd/docker.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/buf.h"
#include "ctxd/lazycurl.h"
#include "ctxd/relay.h"

struct ctxd_docker {
	CURL *curl;
	struct ctxd_endpoint ep; /* our copy */
	char *base;              /* "http://api.moby.localhost" or "https://h:p" */
	char *describe;
	char api[16];
	int builder;
	struct ctxd_relay *relay; /* ssh */
};

struct xfer {
	const struct ctxd_docker_request *r;
	struct ctxd_docker *d;
	CURL *curl;
	bool ping;      /* read the version headers */
	struct ctxd_error *err;
	bool failed;    /* a callback set err */
	bool cancelled;
	struct ctxd_buf errbody; /* body of a non-2xx answer */
	long status;
	uint64_t sent;
};

static char *strdup0(const char *s)
{
	return s ? strdup(s) : NULL;
}

static bool is_loopback(const char *h)
{
	return strcmp(h, "localhost") == 0 || strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0;
}

/* ssh: curl connects to a relay socket whose every connection runs
 * `ssh [-l USER] [-p PORT] -- HOST docker system dial-stdio`. */
static int start_ssh(struct ctxd_docker *d, struct ctxd_error *err)
{
	const char *argv[16];
	char port[16];
	int n = 0;

	argv[n++] = "ssh";
	argv[n++] = "-o";
	argv[n++] = "ConnectTimeout=30";
	argv[n++] = "-T";
	if (d->ep.user) {
		argv[n++] = "-l";
		argv[n++] = d->ep.user;
	}
	if (d->ep.port) {
		snprintf(port, sizeof port, "%d", d->ep.port);
		argv[n++] = "-p";
		argv[n++] = port;
	}
	argv[n++] = "--";
	argv[n++] = d->ep.hostname;
	argv[n++] = "docker";
	argv[n++] = "system";
	argv[n++] = "dial-stdio";
	argv[n] = NULL;
	d->relay = ctxd_relay_create(argv, err);
	return d->relay ? 0 : -1;
}

struct ctxd_docker *ctxd_docker_create(const struct ctxd_endpoint *ep, struct ctxd_error *err)
{
	struct ctxd_docker *d = calloc(1, sizeof *d);
	int port;

	if (!d) {
		ctxd_error_set(err, "out of memory");
		return NULL;
	}
	d->builder = 1;
	d->ep.kind = ep->kind;
	d->ep.host = strdup0(ep->host);
	d->ep.path = strdup0(ep->path);
	d->ep.hostname = strdup0(ep->hostname);
	d->ep.port = ep->port;
	d->ep.user = strdup0(ep->user);
	d->ep.tls = ep->tls;
	d->ep.tls_verify = ep->tls_verify;
	d->ep.ca = strdup0(ep->ca);
	d->ep.cert = strdup0(ep->cert);
	d->ep.key = strdup0(ep->key);
	d->ep.origin = strdup0(ep->origin);
	if (asprintf(&d->describe, "%s (%s)", ep->host, ep->origin ? ep->origin : "given") < 0)
		d->describe = NULL;
	port = ep->port ? ep->port : (ep->tls ? 2376 : 2375);
	if (ep->kind == CTXD_ENDPOINT_TCP) {
		bool v6 = strchr(ep->hostname, ':') != NULL;

		if (asprintf(&d->base, "%s://%s%s%s:%d", ep->tls ? "https" : "http", v6 ? "[" : "",
			     ep->hostname, v6 ? "]" : "", port) < 0)
			d->base = NULL;
	} else {
		d->base = strdup("http://api.moby.localhost");
	}
	d->curl = curl_easy_init();
	if (!d->curl || !d->base || !d->describe) {
		ctxd_error_set(err, "%s",
			       !d->curl && ctxd_lazycurl_error() ? ctxd_lazycurl_error() : "out of memory");
		ctxd_docker_destroy(d);
		return NULL;
	}
	if (ep->kind == CTXD_ENDPOINT_SSH && start_ssh(d, err) < 0) {
		ctxd_docker_destroy(d);
		return NULL;
	}
	strcpy(d->api, CTXD_DOCKER_API_MAX);
	return d;
}

void ctxd_docker_destroy(struct ctxd_docker *d)
{
	if (!d)
		return;
	if (d->curl)
		curl_easy_cleanup(d->curl);
	ctxd_relay_destroy(d->relay);
	ctxd_endpoint_clear(&d->ep);
	free(d->base);
	free(d->describe);
	free(d);
}

const char *ctxd_docker_api_version(const struct ctxd_docker *d)
{
	return d->api;
}

int ctxd_docker_builder(const struct ctxd_docker *d)
{
	return d->builder;
}

const char *ctxd_docker_describe(const struct ctxd_docker *d)
{
	return d->describe;
}

bool ctxd_docker_is_local(const struct ctxd_docker *d)
{
	return d->ep.kind == CTXD_ENDPOINT_UNIX ||
	       (d->ep.kind == CTXD_ENDPOINT_TCP && is_loopback(d->ep.hostname));
}

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	ssize_t r = x->r->body(x->r->body_ud, buf, size * n, x->err);

	if (r < 0) {
		x->failed = true;
		return CURL_READFUNC_ABORT;
	}
	x->sent += (uint64_t)r;
	return (size_t)r;
}

static size_t on_write(char *buf, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;

	if (!x->status)
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->status < 200 || x->status > 299) {
		if (x->errbody.len < 65536)
			ctxd_buf_append(&x->errbody, buf, len);
		return len;
	}
	if (x->r->response && x->r->response(x->r->response_ud, buf, len, x->err) < 0) {
		x->failed = true;
		return 0;
	}
	return len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = ud;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (x->r->poll && x->r->poll(x->r->poll_ud, x->sent)) {
		x->cancelled = true;
		return 1;
	}
	return 0;
}

/* /_ping's headers: the daemon's API version and preferred builder. */
static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	struct ctxd_docker *d = x->d;
	size_t len = size * n;
	int a1 = 0, b1 = 0, a2 = 0, b2 = 0;

	if (!x->ping)
		return len;
	if (len > 12 && strncasecmp(buf, "Api-Version:", 12) == 0) {
		/* use the older of the two versions */
		if (sscanf(buf + 12, " %d.%d", &a1, &b1) == 2 &&
		    sscanf(CTXD_DOCKER_API_MAX, "%d.%d", &a2, &b2) == 2 &&
		    (a1 < a2 || (a1 == a2 && b1 < b2)))
			snprintf(d->api, sizeof d->api, "%d.%d", a1, b1);
	} else if (len > 16 && strncasecmp(buf, "Builder-Version:", 16) == 0) {
		d->builder = atoi(buf + 16) == 2 ? 2 : 1;
	}
	return len;
}

/* Daemon errors come as {"message": "..."}. */
static void daemon_error(struct xfer *x, struct ctxd_error *err)
{
	json_t *j = json_loadb(x->errbody.data ? x->errbody.data : "", x->errbody.len, 0, NULL);
	const char *m = json_string_value(json_object_get(j, "message"));

	if (m)
		ctxd_error_set(err, "Error response from daemon: %s", m);
	else
		ctxd_error_set(err, "Error response from daemon: HTTP %ld: %.*s", x->status,
			       (int)(x->errbody.len > 200 ? 200 : x->errbody.len),
			       x->errbody.data ? x->errbody.data : "");
	json_decref(j);
}

static void connect_error(struct ctxd_docker *d, CURLcode rc, const char *detail,
			  struct ctxd_error *err)
{
	char sshmsg[512] = "";
	long oserr = 0;
	bool os;

	curl_easy_getinfo(d->curl, CURLINFO_OS_ERRNO, &oserr);
	if (d->relay)
		ctxd_relay_message(d->relay, sshmsg, sizeof sshmsg);
	os = oserr && !*sshmsg;
	ctxd_error_set(err, "cannot connect to the Docker daemon at %s: %s%s%s%s", d->describe,
		       *sshmsg ? sshmsg : (*detail ? detail : curl_easy_strerror(rc)),
		       os ? " (" : "", os ? strerror((int)oserr) : "", os ? ")" : "");
}

/* One HTTP exchange on the kept connection. */
static int perform(struct ctxd_docker *d, const char *url, struct xfer *x)
{
	const struct ctxd_docker_request *r = x->r;
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct ctxd_error *err = x->err;
	CURL *c = d->curl;
	CURLcode rc;
	int ret = -1;

	x->curl = c;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ctxd/" CTXD_VERSION);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	switch (d->ep.kind) {
	case CTXD_ENDPOINT_UNIX:
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, d->ep.path);
		break;
	case CTXD_ENDPOINT_SSH:
		curl_easy_setopt(c, CURLOPT_ABSTRACT_UNIX_SOCKET, ctxd_relay_name(d->relay));
		break;
	case CTXD_ENDPOINT_TCP:
		if (!d->ep.tls)
			break;
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, d->ep.tls_verify ? 1L : 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, d->ep.tls_verify ? 2L : 0L);
		if (d->ep.ca)
			curl_easy_setopt(c, CURLOPT_CAINFO, d->ep.ca);
		if (d->ep.cert)
			curl_easy_setopt(c, CURLOPT_SSLCERT, d->ep.cert);
		if (d->ep.key)
			curl_easy_setopt(c, CURLOPT_SSLKEY, d->ep.key);
		break;
	}
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
	if (strcmp(r->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	hdrs = curl_slist_append(hdrs, "Expect:");
	for (const char *const *h = r->headers; h && *h; h++)
		hdrs = curl_slist_append(hdrs, *h);
	if (r->body) {
		hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, x);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->failed) {
		/* err already says what failed */
	} else if (x->cancelled) {
		ctxd_error_set(err, "cancelled");
	} else if (rc != CURLE_OK && x->status == 0) {
		connect_error(d, rc, errbuf, err);
	} else if (rc != CURLE_OK) {
		ctxd_error_set(err, "talking to the Docker daemon at %s: %s", d->describe,
			       *errbuf ? errbuf : curl_easy_strerror(rc));
	} else if (x->status < 200 || x->status > 299) {
		daemon_error(x, err);
	} else {
		ret = 0;
	}
	curl_slist_free_all(hdrs);
	ctxd_buf_free(&x->errbody);
	return ret;
}

int ctxd_docker_request(struct ctxd_docker *d, const struct ctxd_docker_request *r,
			bool *cancelled, struct ctxd_error *err)
{
	struct xfer x = {.r = r, .err = err, .d = d};
	char *url;
	int rc;

	if (asprintf(&url, "%s/v%s%s", d->base, d->api, r->path) < 0) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	rc = perform(d, url, &x);
	if (r->status)
		*r->status = x.status;
	if (cancelled)
		*cancelled = x.cancelled;
	free(url);
	return rc;
}

int ctxd_docker_ping(struct ctxd_docker *d, struct ctxd_error *err)
{
	struct ctxd_docker_request r = {.method = "GET", .path = "/_ping"};
	struct xfer x = {.r = &r, .err = err, .d = d, .ping = true};
	char *url;
	int rc;

	if (asprintf(&url, "%s/_ping", d->base) < 0) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	rc = perform(d, url, &x);
	free(url);
	return rc;
}
