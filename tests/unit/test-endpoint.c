/* Endpoint selection in the docker CLI's order, contexts and TLS files;
 * X-Registry-Config; the /build query. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctxd/auth.h"
#include "ctxd/build.h"
#include "ctxd/docker.h"
#include "ctxd/endpoint.h"
#include "testutil.h"

static char *cfg;

static int setup(void **state)
{
	(void)state;
	cfg = tu_mkdtemp();
	setenv("DOCKER_CONFIG", cfg, 1);
	unsetenv("DOCKER_HOST");
	unsetenv("DOCKER_CONTEXT");
	unsetenv("DOCKER_TLS_VERIFY");
	unsetenv("DOCKER_CERT_PATH");
	unsetenv("DOCKER_TLS");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(cfg);
	free(cfg);
	return 0;
}

static void resolve_ok(const struct ctxd_endpoint_options *o, const char *host, const char *origin)
{
	struct ctxd_endpoint ep;
	struct ctxd_error err;

	if (ctxd_endpoint_resolve(o, &ep, &err) < 0)
		fail_msg("resolve failed: %s", err.msg);
	assert_string_equal(ep.host, host);
	if (!strstr(ep.origin, origin))
		fail_msg("origin '%s' lacks '%s'", ep.origin, origin);
	ctxd_endpoint_clear(&ep);
}

static void write_context(const char *name, const char *host)
{
	unsigned char md[32];
	unsigned int n;
	char hex[65], rel[512], json[1024];

	EVP_Digest(name, strlen(name), md, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		sprintf(hex + i * 2, "%02x", md[i]);
	snprintf(rel, sizeof rel, "contexts/meta/%s/meta.json", hex);
	snprintf(json, sizeof json,
		 "{\"Name\":\"%s\",\"Metadata\":{},\"Endpoints\":{\"docker\":{\"Host\":\"%s\",\"SkipTLSVerify\":false}}}",
		 name, host);
	tu_write(cfg, rel, json);
	snprintf(rel, sizeof rel, "contexts/tls/%s/docker/ca.pem", hex);
	tu_write(cfg, rel, "pem");
}

static void test_order(void **state)
{
	struct ctxd_endpoint_options o = {0};
	struct ctxd_endpoint ep;
	struct ctxd_error err;

	(void)state;
	resolve_ok(&o, "unix:///var/run/docker.sock", "default");
	write_context("remote", "tcp://10.0.0.1:2376");
	tu_write(cfg, "config.json", "{\"currentContext\":\"remote\"}");
	resolve_ok(&o, "tcp://10.0.0.1:2376", "currentContext");
	setenv("DOCKER_CONTEXT", "default", 1);
	resolve_ok(&o, "unix:///var/run/docker.sock", "");
	setenv("DOCKER_HOST", "unix:///tmp/x.sock", 1);
	resolve_ok(&o, "unix:///tmp/x.sock", "from DOCKER_HOST");
	o.context = "remote";
	resolve_ok(&o, "tcp://10.0.0.1:2376", "from --context");
	if (ctxd_endpoint_resolve(&o, &ep, &err) == 0) {
		assert_true(ep.tls && ep.tls_verify && ep.ca);
		ctxd_endpoint_clear(&ep);
	}
	o.host = "tcp://h:1";
	assert_int_equal(ctxd_endpoint_resolve(&o, &ep, &err), -1);
	assert_non_null(strstr(err.msg, "conflicting options"));
	o.context = NULL;
	resolve_ok(&o, "tcp://h:1", "from --host");
	o.host = NULL;
	o.context = "nope";
	assert_int_equal(ctxd_endpoint_resolve(&o, &ep, &err), -1);
	assert_non_null(strstr(err.msg, "context \"nope\""));
	unsetenv("DOCKER_HOST");
	unsetenv("DOCKER_CONTEXT");
	tu_write(cfg, "config.json", "{not json");
	o.context = NULL;
	assert_int_equal(ctxd_endpoint_resolve(&o, &ep, &err), -1);
	assert_non_null(strstr(err.msg, "config.json"));
}

static void test_parse(void **state)
{
	struct ctxd_endpoint ep = {0};
	struct ctxd_error err;

	(void)state;
	assert_int_equal(ctxd_endpoint_parse("ssh://me@example.com:2222", &ep, &err), 0);
	assert_int_equal(ep.kind, CTXD_ENDPOINT_SSH);
	assert_string_equal(ep.user, "me");
	assert_string_equal(ep.hostname, "example.com");
	assert_int_equal(ep.port, 2222);
	ctxd_endpoint_clear(&ep);
	assert_int_equal(ctxd_endpoint_parse("tcp://[::1]:2375", &ep, &err), 0);
	assert_string_equal(ep.hostname, "::1");
	ctxd_endpoint_clear(&ep);
	assert_int_equal(ctxd_endpoint_parse("npipe:////./pipe/docker", &ep, &err), -1);
	ctxd_endpoint_clear(&ep);
	assert_int_equal(ctxd_endpoint_parse("tcp://h:99999", &ep, &err), -1);
	ctxd_endpoint_clear(&ep);
	assert_int_equal(ctxd_endpoint_parse("unix://", &ep, &err), -1);
	ctxd_endpoint_clear(&ep);
}

/* --compress=auto's choice: plain to unix sockets and loopback daemons */
static void is_local(const char *host, bool want)
{
	struct ctxd_endpoint ep; /* parse must not depend on its old contents */
	struct ctxd_docker *d;
	struct ctxd_error err;

	memset(&ep, 0xa5, sizeof ep);
	if (ctxd_endpoint_parse(host, &ep, &err) < 0)
		fail_msg("%s: %s", host, err.msg);
	d = ctxd_docker_create(&ep, &err);
	ctxd_endpoint_clear(&ep);
	if (!d)
		fail_msg("%s: %s", host, err.msg);
	if (ctxd_docker_is_local(d) != want)
		fail_msg("%s: is_local is %d", host, !want);
	ctxd_docker_destroy(d);
}

static void test_is_local(void **state)
{
	struct ctxd_endpoint ep;
	struct ctxd_error err;

	(void)state;
	is_local("unix:///var/run/docker.sock", true);
	is_local("tcp://127.0.0.1:2376", true);
	is_local("tcp://127.1.2.3", true);
	is_local("tcp://localhost:2375", true);
	is_local("tcp://[::1]:2376", true);
	is_local("https://localhost", true);
	is_local("tcp://10.0.0.1:2376", false);
	is_local("tcp://127example.com:2376", false);
	is_local("docker.example.com:2375", false);
	is_local("ssh://me@build.example.com", false);
	/* a failed parse of an uninitialised endpoint frees nothing it did not own */
	memset(&ep, 0xa5, sizeof ep);
	assert_int_equal(ctxd_endpoint_parse("tcp://h:0", &ep, &err), -1);
	ctxd_endpoint_clear(&ep);
	memset(&ep, 0xa5, sizeof ep);
	assert_int_equal(ctxd_endpoint_parse("unix://", &ep, &err), -1);
	ctxd_endpoint_clear(&ep);
}

static void test_tls_env(void **state)
{
	struct ctxd_endpoint_options o = {.host = "tcp://127.0.0.1:2376"};
	struct ctxd_endpoint ep;
	struct ctxd_error err;
	char *certs = tu_mkdtemp();

	(void)state;
	setenv("DOCKER_TLS_VERIFY", "1", 1);
	setenv("DOCKER_CERT_PATH", certs, 1);
	/* verification without a CA is refused up front */
	assert_int_equal(ctxd_endpoint_resolve(&o, &ep, &err), -1);
	assert_non_null(strstr(err.msg, "CA certificate"));
	tu_write(certs, "ca.pem", "x");
	tu_write(certs, "cert.pem", "x");
	tu_write(certs, "key.pem", "x");
	assert_int_equal(ctxd_endpoint_resolve(&o, &ep, &err), 0);
	assert_true(ep.tls && ep.tls_verify);
	assert_non_null(strstr(ep.cert, "cert.pem"));
	ctxd_endpoint_clear(&ep);
	unsetenv("DOCKER_TLS_VERIFY");
	unsetenv("DOCKER_CERT_PATH");
	tu_rmtree(certs);
	free(certs);
}

static void test_auth(void **state)
{
	struct ctxd_error err;
	char *h, *b;

	(void)state;
	b = ctxd_auth_base64("{}", 2, 1);
	assert_string_equal(b, "e30=");
	free(b);
	b = ctxd_auth_base64("\xfb\xff", 2, 1);
	assert_string_equal(b, "-_8=");
	free(b);
	tu_write(cfg, "config.json", "{}");
	h = ctxd_auth_registry_config(&err);
	assert_string_equal(h, "e30=");
	free(h);
	/* user:secret */
	tu_write(cfg, "config.json", "{\"auths\":{\"reg.example\":{\"auth\":\"dXNlcjpzZWNyZXQ=\"}}}");
	h = ctxd_auth_registry_config(&err);
	assert_non_null(h);
	assert_true(strlen(h) > 20);
	free(h);
	/* credential helpers: one that answers, one not installed (its
	 * closed stdin must not end the process with SIGPIPE) */
	{
		char *bin = tu_mkdtemp(), helper[4096], path[8192];
		const char *want = "{\"reg.example\":{\"password\":\"s3\",\"serveraddress\":\"reg.example\","
				   "\"username\":\"u\"}}";
		char *oldpath = strdup(getenv("PATH"));

		tu_write(bin, "docker-credential-fake",
			 "#!/bin/sh\nread server\n[ \"$1\" = get ] && "
			 "printf '{\"ServerURL\":\"%s\",\"Username\":\"u\",\"Secret\":\"s3\"}' \"$server\"\n");
		snprintf(helper, sizeof helper, "%s/docker-credential-fake", bin);
		assert_int_equal(chmod(helper, 0755), 0);
		snprintf(path, sizeof path, "%s:%s", bin, oldpath);
		setenv("PATH", path, 1);
		tu_write(cfg, "config.json",
			 "{\"credHelpers\":{\"reg.example\":\"fake\",\"other.example\":\"not-installed-xyz\"}}");
		h = ctxd_auth_registry_config(&err);
		b = ctxd_auth_base64(want, strlen(want), 1);
		assert_non_null(h);
		assert_string_equal(h, b);
		free(h);
		free(b);
		setenv("PATH", oldpath, 1);
		free(oldpath);
		tu_rmtree(bin);
		free(bin);
	}
	tu_write(cfg, "config.json", "[broken");
	assert_null(ctxd_auth_registry_config(&err));
	assert_non_null(strstr(err.msg, "config.json"));
}

static void test_query(void **state)
{
	const char *tags[] = {"a/b:1", "c"};
	const char *labels[] = {"l1=v1", "bare", "sp=a b+c~\xc3\xa9<&>\xe2\x80\xa8"};
	struct ctxd_build_arg args[] = {{"K", "V"}, {"UNSET", NULL}};
	struct ctxd_build_options o = {
		.tags = tags, .ntags = 2, .labels = labels, .nlabels = 3, .args = args, .nargs = 2,
		.target = "prod", .platform = "linux/amd64", .network = "none", .nocache = true,
		.quiet = true, .version = 2,
	};
	struct ctxd_buf q = {0};
	struct ctxd_error err;

	(void)state;
	assert_int_equal(ctxd_build_query(&o, "sub/Dockerfile", &q, &err), 0);
	assert_string_equal(q.data,
			    "?buildargs=%7B%22K%22%3A%22V%22%2C%22UNSET%22%3Anull%7D"
			    "&dockerfile=sub%2FDockerfile"
			    "&labels=%7B%22bare%22%3A%22%22%2C%22l1%22%3A%22v1%22%2C%22sp%22%3A%22a+b%2Bc~%C3%A9%5Cu003c%5Cu0026%5Cu003e%5Cu2028%22%7D"
			    "&networkmode=none&nocache=1&platform=linux%2Famd64&q=1"
			    "&t=a%2Fb%3A1&t=c&target=prod&version=2");
	ctxd_buf_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_is_local, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query, setup, teardown),
	};

	return TU_RUN("unit-endpoint", tests);
}
