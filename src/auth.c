/* X-Registry-Config (see include/ctxd/auth.h), as the docker CLI's
 * ConfigFile.GetAllCredentials builds it. */
#include "ctxd/auth.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctxd/buf.h"

char *ctxd_auth_base64(const void *data, size_t len, int url)
{
	static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char urls[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *a = url ? urls : std;
	const unsigned char *p = data;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < len ? p[i + 2] : 0);

		*o++ = a[v >> 18 & 63];
		*o++ = a[v >> 12 & 63];
		*o++ = i + 1 < len ? a[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? a[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decodes config.json's "auth" ("user:password" in base64). */
static char *b64decode(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(n + 1), *o = out;
	unsigned v = 0;
	int bits = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int d = b64val((unsigned char)s[i]);

		if (d < 0) {
			free(out);
			return NULL;
		}
		v = v << 6 | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (char)(v >> bits & 0xFF);
		}
	}
	*o = '\0';
	return out;
}

/* Runs docker-credential-<helper> <verb>, feeding input; returns its stdout
 * parsed as JSON, or NULL. */
static json_t *helper_run(const char *helper, const char *verb, const char *input)
{
	int in[2], out[2];
	struct ctxd_buf b = {0};
	char prog[256], buf[4096];
	json_t *j = NULL;
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	ssize_t n;
	pid_t pid;
	int status;

	snprintf(prog, sizeof prog, "docker-credential-%s", helper);
	if (pipe(in) < 0)
		return NULL;
	if (pipe(out) < 0) {
		close(in[0]);
		close(in[1]);
		return NULL;
	}
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execlp(prog, prog, verb, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	/* a helper that is not installed has exited before reading: EPIPE,
	 * not the SIGPIPE that would end ctxd */
	sigaction(SIGPIPE, &ign, &old);
	if (pid > 0 && input && write(in[1], input, strlen(input)) < 0)
		(void)0;
	sigaction(SIGPIPE, &old, NULL);
	close(in[1]);
	while (pid > 0 && (n = read(out[0], buf, sizeof buf)) > 0)
		ctxd_buf_append(&b, buf, (size_t)n);
	close(out[0]);
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0 && b.data)
		j = json_loadb(b.data, b.len, 0, NULL);
	ctxd_buf_free(&b);
	return j;
}

static void add_from_helper(json_t *all, const char *helper, const char *server)
{
	json_t *got = helper_run(helper, "get", server);
	const char *user = json_string_value(json_object_get(got, "Username"));
	const char *secret = json_string_value(json_object_get(got, "Secret"));

	if (user && secret) {
		json_t *a = json_object();

		/* the helper protocol's "<token>" user means an identity token */
		if (strcmp(user, "<token>") == 0) {
			json_object_set_new(a, "identitytoken", json_string(secret));
		} else {
			json_object_set_new(a, "username", json_string(user));
			json_object_set_new(a, "password", json_string(secret));
		}
		json_object_set_new(a, "serveraddress", json_string(server));
		json_object_set_new(all, server, a);
	}
	json_decref(got);
}

char *ctxd_auth_registry_config(struct ctxd_error *err)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	char *path = NULL, *dump, *out;
	json_t *conf = NULL, *all = json_object(), *auths, *v;
	const char *server, *store;
	json_error_t je;

	if (dir && *dir ? asprintf(&path, "%s/config.json", dir) < 0
			: asprintf(&path, "%s/.docker/config.json", home && *home ? home : "/root") < 0) {
		ctxd_error_set(err, "out of memory");
		json_decref(all);
		return NULL;
	}
	if (access(path, F_OK) == 0) {
		conf = json_load_file(path, 0, &je);
		if (!conf) {
			ctxd_error_set(err, "%s:%d: %s", path, je.line, je.text);
			free(path);
			json_decref(all);
			return NULL;
		}
	}
	free(path);
	auths = json_object_get(conf, "auths");
	json_object_foreach(auths, server, v) {
		const char *enc = json_string_value(json_object_get(v, "auth"));
		json_t *a = json_object();
		char *plain = enc ? b64decode(enc) : NULL, *colon = plain ? strchr(plain, ':') : NULL;

		if (colon) {
			*colon = '\0';
			json_object_set_new(a, "username", json_string(plain));
			json_object_set_new(a, "password", json_string(colon + 1));
			json_object_set_new(a, "auth", json_string(enc));
		}
		if (json_string_value(json_object_get(v, "identitytoken")))
			json_object_set(a, "identitytoken", json_object_get(v, "identitytoken"));
		json_object_set_new(a, "serveraddress", json_string(server));
		json_object_set_new(all, server, a);
		free(plain);
	}
	store = json_string_value(json_object_get(conf, "credsStore"));
	if (store) {
		json_t *list = helper_run(store, "list", NULL);

		json_object_foreach(list, server, v)
			add_from_helper(all, store, server);
		json_decref(list);
	}
	json_object_foreach(json_object_get(conf, "credHelpers"), server, v)
		if (json_string_value(v))
			add_from_helper(all, json_string_value(v), server);
	dump = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
	out = dump ? ctxd_auth_base64(dump, strlen(dump), 1) : NULL;
	if (!out)
		ctxd_error_set(err, "out of memory");
	free(dump);
	json_decref(conf);
	json_decref(all);
	return out;
}
