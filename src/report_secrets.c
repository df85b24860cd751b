/* Credentials in a context: name rules, content signatures and the
 * allow-list (see include/ctxd/report_secrets.h). */
#include "ctxd/report_secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The content a signature needs is near the start of a file. */
#define CONTENT_MAX 65536

struct rule {
	const char *name;
	const char *text;
};

static const struct rule rules[] = {
	{"dotenv", "an environment file (.env, .env.*)"},
	{"private-key-file", "a private key or certificate store (*.pem, *.key, id_rsa, *.p12, ...)"},
	{"aws-credentials", "AWS CLI credentials or config (.aws/)"},
	{"docker-config", "a docker client config with registry logins (.docker/config.json)"},
	{"kubeconfig", "a Kubernetes config (.kube/config, kubeconfig, *.kubeconfig)"},
	{"git-credentials", "git's stored credentials (.git-credentials)"},
	{"netrc", "a .netrc with logins"},
	{"npmrc-token", "an .npmrc holding an auth token or password"},
	{"pypirc-password", "a .pypirc holding a password or token"},
	{"private-key-pem", "a PEM private key (-----BEGIN ... PRIVATE KEY-----)"},
	{"aws-access-key-id", "an AWS access key id (AKIA...)"},
	{"github-token", "a GitHub token (ghp_, gho_, ghs_, github_pat_...)"},
	{"slack-token", "a Slack token (xoxb-, xoxp-, ...)"},
};

const char *ctxd_secrets_rule_text(const char *rule)
{
	for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
		if (strcmp(rules[i].name, rule) == 0)
			return rules[i].text;
	return NULL;
}

static const char *rule_name(const char *name)
{
	for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
		if (strcmp(rules[i].name, name) == 0)
			return rules[i].name;
	return NULL;
}

struct allow_line {
	char *glob;
	const char *rule; /* NULL: every rule */
};

struct ctxd_secrets_allow {
	struct allow_line *lines;
	size_t n;
};

void ctxd_secrets_allow_destroy(struct ctxd_secrets_allow *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		free(a->lines[i].glob);
	free(a->lines);
	free(a);
}

struct ctxd_secrets_allow *ctxd_secrets_allow_parse(const char *data, size_t len,
						    const char *file, struct ctxd_error *err)
{
	struct ctxd_secrets_allow *a = calloc(1, sizeof *a);
	const char *p = data, *end = data + len;
	unsigned lineno = 0;

	if (!a)
		goto oom;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *g, *ge, *rs, *re;
		struct allow_line *l;

		lineno++;
		while (p < le && (*p == ' ' || *p == '\t'))
			p++;
		while (le > p && (le[-1] == ' ' || le[-1] == '\t' || le[-1] == '\r'))
			le--;
		if (p == le || *p == '#')
			goto next;
		g = p;
		for (ge = g; ge < le && *ge != ' ' && *ge != '\t'; ge++)
			;
		for (rs = ge; rs < le && (*rs == ' ' || *rs == '\t'); rs++)
			;
		for (re = rs; re < le && *re != ' ' && *re != '\t'; re++)
			;
		if (re != le) {
			ctxd_error_set(err, "%s:%u: expected a pattern and at most one rule name", file,
				       lineno);
			goto fail;
		}
		l = realloc(a->lines, (a->n + 1) * sizeof *l);
		if (!l)
			goto oom;
		a->lines = l;
		l = &a->lines[a->n];
		l->rule = NULL;
		if (rs < re) {
			char name[64];
			size_t n = (size_t)(re - rs) < sizeof name ? (size_t)(re - rs) : sizeof name - 1;

			memcpy(name, rs, n);
			name[n] = '\0';
			if (!(l->rule = rule_name(name))) {
				ctxd_error_set(err, "%s:%u: no secrets rule is named '%s' (see README, "
					       "\"Secrets in the context\")", file, lineno, name);
				goto fail;
			}
		}
		if (!(l->glob = strndup(g, (size_t)(ge - g))))
			goto oom;
		a->n++;
next:
		p = nl ? nl + 1 : end;
	}
	return a;
oom:
	ctxd_error_set(err, "out of memory");
fail:
	ctxd_secrets_allow_destroy(a);
	return NULL;
}

struct ctxd_secrets_allow *ctxd_secrets_allow_load(const char *dir, struct ctxd_error *err)
{
	char path[4096];
	struct ctxd_secrets_allow *a;
	char *data = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, CTXD_SECRETS_ALLOW_FILE) >= sizeof path) {
		ctxd_error_set(err, "%s: path too long", dir);
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return calloc(1, sizeof(struct ctxd_secrets_allow));
		ctxd_error_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len == cap) {
			char *d = realloc(data, cap = cap ? cap * 2 : 4096);

			if (!d) {
				free(data);
				close(fd);
				ctxd_error_set(err, "out of memory");
				return NULL;
			}
			data = d;
		}
		n = read(fd, data + len, cap - len);
		if (n < 0) {
			ctxd_error_set(err, "%s: %s", path, strerror(errno));
			free(data);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	a = ctxd_secrets_allow_parse(data ? data : "", len, path, err);
	free(data);
	return a;
}

static bool allowed(const struct ctxd_secrets_allow *a, const char *path, const char *rule)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	for (size_t i = 0; a && i < a->n; i++) {
		const struct allow_line *l = &a->lines[i];
		const char *subject = strchr(l->glob, '/') ? path : base;

		if (l->rule && strcmp(l->rule, rule) != 0)
			continue;
		if (fnmatch(l->glob[0] == '/' ? l->glob + 1 : l->glob, subject, FNM_PATHNAME) == 0)
			return true;
	}
	return false;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static bool name_is(const char *s, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(s, name, n) == 0;
}

/* Whether a component of the directory part of path equals name. */
static bool in_dir(const char *path, size_t len, const char *name)
{
	size_t k = strlen(name);

	for (const char *p = path; p + k < path + len; ) {
		const char *slash = memchr(p, '/', (size_t)(path + len - p));

		if (!slash)
			return false;
		if ((size_t)(slash - p) == k && memcmp(p, name, k) == 0)
			return true;
		p = slash + 1;
	}
	return false;
}

const char *ctxd_secrets_name_rule(const char *path, size_t len)
{
	const char *base = memrchr(path, '/', len);
	size_t n;

	base = base ? base + 1 : path;
	n = len - (size_t)(base - path);
	if (name_is(base, n, ".env") ||
	    (n > 5 && memcmp(base, ".env.", 5) == 0 && !ends_with(base, n, ".example") &&
	     !ends_with(base, n, ".sample") && !ends_with(base, n, ".template") &&
	     !ends_with(base, n, ".dist")))
		return "dotenv";
	if (ends_with(base, n, ".pem") || ends_with(base, n, ".key") || ends_with(base, n, ".p12") ||
	    ends_with(base, n, ".pfx") || ends_with(base, n, ".jks") || ends_with(base, n, ".keystore") ||
	    name_is(base, n, "id_rsa") || name_is(base, n, "id_dsa") || name_is(base, n, "id_ecdsa") ||
	    name_is(base, n, "id_ed25519"))
		return "private-key-file";
	/* the name before the directories: every file of the context comes here */
	if ((name_is(base, n, "credentials") || name_is(base, n, "config")) && in_dir(path, len, ".aws"))
		return "aws-credentials";
	if (name_is(base, n, "config.json") && in_dir(path, len, ".docker"))
		return "docker-config";
	if ((name_is(base, n, "config") && in_dir(path, len, ".kube")) || name_is(base, n, "kubeconfig") ||
	    ends_with(base, n, ".kubeconfig"))
		return "kubeconfig";
	if (name_is(base, n, ".git-credentials"))
		return "git-credentials";
	if (name_is(base, n, ".netrc") || name_is(base, n, "_netrc"))
		return "netrc";
	return NULL;
}

bool ctxd_secrets_content_named(const char *path, size_t len)
{
	const char *base = memrchr(path, '/', len);
	size_t n;

	base = base ? base + 1 : path;
	n = len - (size_t)(base - path);
	return name_is(base, n, ".npmrc") || name_is(base, n, ".pypirc");
}

static const char *const content_exts[] = {
	".json", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".config", ".properties",
	".env", ".txt", ".tfvars", ".xml", ".crt",
};

bool ctxd_secrets_wants_content(const char *path, size_t len, uint64_t size)
{
	const char *base = memrchr(path, '/', len), *dot;
	size_t n;

	if (size == 0 || size > CONTENT_MAX)
		return false;
	base = base ? base + 1 : path;
	n = len - (size_t)(base - path);
	if (ctxd_secrets_content_named(path, len))
		return true;
	/* the name first (cheap, and it rules out most files), then where */
	if ((dot = memrchr(base, '.', n))) {
		size_t i = 0, k = n - (size_t)(dot - base);

		while (i < sizeof content_exts / sizeof *content_exts &&
		       !(k == strlen(content_exts[i]) && memcmp(dot, content_exts[i], k) == 0))
			i++;
		if (i == sizeof content_exts / sizeof *content_exts)
			return false;
	}
	/* vendored trees hold other people's test keys: too noisy to read */
	return !in_dir(path, len, "node_modules") && !in_dir(path, len, "site-packages") &&
	       !in_dir(path, len, "vendor") && !in_dir(path, len, ".git") && !in_dir(path, len, ".venv");
}

/* Byte classes of the tokens' characters. */
enum { UPPER_DIGIT = 1, ALNUM = 2, UNDERSCORE = 4, DASH = 8 };

static unsigned byte_class(unsigned char ch)
{
	if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
		return UPPER_DIGIT | ALNUM;
	if (ch >= 'a' && ch <= 'z')
		return ALNUM;
	return ch == '_' ? UNDERSCORE : ch == '-' ? DASH : 0;
}

/* Whether data[i..] is prefix followed by at least min characters of the
 * classes in set, not in the middle of a longer word. */
static bool token_at(const char *data, size_t n, size_t i, const char *prefix, unsigned set, size_t min)
{
	size_t k = strlen(prefix), run = 0;

	if (n - i < k + min || memcmp(data + i, prefix, k) != 0)
		return false;
	if (i > 0 && (byte_class((unsigned char)data[i - 1]) & set))
		return false;
	for (const char *q = data + i + k; run < min && (byte_class((unsigned char)*q) & set); q++)
		run++;
	return run == min;
}

static bool starts(const char *data, size_t n, size_t i, const char *s)
{
	size_t k = strlen(s);

	return n - i >= k && memcmp(data + i, s, k) == 0;
}

/* The first byte of a signature ("-----BEGIN ", "PRIVATE KEY", "AKIA",
 * "ghp_", "xoxb-", ...) at or after i, or n: eight bytes at a time (a word
 * holds byte t when word ^ t*ONES has a zero byte), then byte by byte. */
static size_t next_first(const char *data, size_t n, size_t i)
{
	static const bool first[256] = {['-'] = true, ['P'] = true, ['A'] = true, ['g'] = true,
					['x'] = true};
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;

	for (; i + 8 <= n; i += 8) {
		uint64_t w, a, b, c, d, e;

		memcpy(&w, data + i, 8);
		a = w ^ (ones * '-');
		b = w ^ (ones * 'P');
		c = w ^ (ones * 'A');
		d = w ^ (ones * 'g');
		e = w ^ (ones * 'x');
		if (((a - ones) & ~a & highs) | ((b - ones) & ~b & highs) | ((c - ones) & ~c & highs) |
		    ((d - ones) & ~d & highs) | ((e - ones) & ~e & highs))
			break;
	}
	while (i < n && !first[(unsigned char)data[i]])
		i++;
	return i;
}

/* The signatures, found in one pass over data (each signature's first
 * byte sends the pass to its check): the first of the rules in order. */
static const char *signature(const char *data, size_t n)
{
	static const char *const found[] = {"private-key-pem", "aws-access-key-id", "github-token",
					    "slack-token", NULL};
	bool begin = false, private = false;
	size_t best = 4;

	for (size_t i = next_first(data, n, 0); i < n; i = next_first(data, n, i + 1)) {
		switch (data[i]) {
		case '-':
			begin = begin || starts(data, n, i, "-----BEGIN ");
			if (begin && private)
				return found[0];
			break;
		case 'P':
			private = private || starts(data, n, i, "PRIVATE KEY-----") ||
				  starts(data, n, i, "PRIVATE KEY BLOCK-----");
			if (begin && private)
				return found[0];
			break;
		case 'A':
			if (best > 1 && (token_at(data, n, i, "AKIA", UPPER_DIGIT, 16) ||
					 token_at(data, n, i, "ASIA", UPPER_DIGIT, 16)))
				best = 1;
			break;
		case 'g':
			if (best > 2 && i + 1 < n && (data[i + 1] == 'h' || data[i + 1] == 'i') &&
			    (token_at(data, n, i, "ghp_", ALNUM, 36) ||
			     token_at(data, n, i, "gho_", ALNUM, 36) || token_at(data, n, i, "ghs_", ALNUM, 36) ||
			     token_at(data, n, i, "github_pat_", ALNUM | UNDERSCORE, 40)))
				best = 2;
			break;
		case 'x':
			if (best > 3 && (token_at(data, n, i, "xoxb-", ALNUM | DASH, 20) ||
					 token_at(data, n, i, "xoxp-", ALNUM | DASH, 20) ||
					 token_at(data, n, i, "xoxa-", ALNUM | DASH, 20)))
				best = 3;
			break;
		default:
			break;
		}
	}
	return found[best];
}

static bool has_line_key(const char *data, size_t n, const char *key)
{
	size_t k = strlen(key);

	for (const char *p = data; p < data + n;) {
		const char *nl = memchr(p, '\n', (size_t)(data + n - p));
		const char *e = nl ? nl : data + n;

		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(e - p) > k && memcmp(p, key, k) == 0) {
			const char *q = p + k;

			while (q < e && (*q == ' ' || *q == '\t'))
				q++;
			if (q < e && (*q == '=' || *q == ':')) {
				q++;
				while (q < e && (*q == ' ' || *q == '\t' || *q == '\r'))
					q++;
				if (q < e && *q != '$')
					return true;
			}
		}
		p = nl ? nl + 1 : data + n;
	}
	return false;
}

const char *ctxd_secrets_content_rule(const char *path, size_t len, const char *data, size_t n)
{
	const char *base = memrchr(path, '/', len);
	size_t bn;

	base = base ? base + 1 : path;
	bn = len - (size_t)(base - path);
	if (name_is(base, bn, ".npmrc") &&
	    (memmem(data, n, "_authToken", 10) || has_line_key(data, n, "_auth") ||
	     has_line_key(data, n, "_password")))
		return "npmrc-token";
	if (name_is(base, bn, ".pypirc") && has_line_key(data, n, "password"))
		return "pypirc-password";
	return signature(data, n);
}

static int add(struct ctxd_secrets *s, const char *path, size_t len, const char *rule, bool sent)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct ctxd_secret *a = realloc(s->items, cap * sizeof *a);

		if (!a) {
			s->oom = true;
			return -1;
		}
		s->items = a;
		s->cap = cap;
	}
	if (!(s->items[s->n].path = strndup(path, len))) {
		s->oom = true;
		return -1;
	}
	s->items[s->n].rule = rule;
	s->items[s->n++].sent = sent;
	return 1;
}

int ctxd_secrets_check(struct ctxd_secrets *s, const struct ctxd_secrets_allow *allow,
		       const char *path, size_t len, uint64_t size, int fd, bool sent)
{
	const char *rule = ctxd_secrets_name_rule(path, len);
	char *p;
	bool ok;

	if (!rule && fd >= 0 && ctxd_secrets_wants_content(path, len, size)) {
		char buf[CONTENT_MAX];
		size_t n = 0, want = size < sizeof buf ? (size_t)size : sizeof buf;
		ssize_t k;

		while (n < want && (k = pread(fd, buf + n, want - n, (off_t)n)) > 0)
			n += (size_t)k;
		rule = ctxd_secrets_content_rule(path, len, buf, n);
	}
	if (!rule)
		return 0;
	if (!(p = strndup(path, len))) {
		s->oom = true;
		return -1;
	}
	ok = allowed(allow, p, rule);
	free(p);
	return ok ? 0 : add(s, path, len, rule, sent);
}

void ctxd_secrets_clear(struct ctxd_secrets *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i].path);
	free(s->items);
	memset(s, 0, sizeof *s);
}

int ctxd_secrets_scan_manifest(struct ctxd_secrets *s, const struct ctxd_secrets_allow *allow,
			       const struct ctxd_manifest *m, int rootfd)
{
	for (size_t i = 0; i < ctxd_manifest_count(m) && !s->oom; i++) {
		const struct ctxd_entry *e = ctxd_manifest_entry(m, i);
		int fd = -1;

		if (e->type != CTXD_ENTRY_FILE)
			continue;
		if (!e->data && ctxd_secrets_wants_content(e->path, e->path_len, e->size))
			fd = openat(rootfd, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		ctxd_secrets_check(s, allow, e->path, e->path_len, e->size, fd, true);
		if (fd >= 0)
			close(fd);
	}
	return s->oom ? -1 : 0;
}
