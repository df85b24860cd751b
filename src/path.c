/* Go-compatible lexical path operations (filepath.Clean, filepath.Rel). */
#include "ctxd/path.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

size_t ctxd_path_clean(const char *path, size_t n, char *out)
{
	bool rooted;
	size_t r = 0, w = 0, dotdot = 0;

	if (n == 0) {
		out[0] = '.';
		out[1] = '\0';
		return 1;
	}
	rooted = path[0] == '/';
	if (rooted) {
		out[w++] = '/';
		r = dotdot = 1;
	}
	while (r < n) {
		if (path[r] == '/') {
			r++;
		} else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
			r++;
		} else if (path[r] == '.' && path[r + 1] == '.' &&
			   (r + 2 == n || path[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			for (; r < n && path[r] != '/'; r++)
				out[w++] = path[r];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return w;
}

char *ctxd_path_clean_dup(const char *path)
{
	size_t n = strlen(path);
	char *out = malloc(n + 2);

	if (out)
		ctxd_path_clean(path, n, out);
	return out;
}

char *ctxd_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	bool slash = la > 0 && a[la - 1] != '/';
	char *out = malloc(la + slash + lb + 1);

	if (!out)
		return NULL;
	memcpy(out, a, la);
	if (slash)
		out[la] = '/';
	memcpy(out + la + slash, b, lb + 1);
	return out;
}

/* Number of path elements in s[from..] (both inputs are clean absolute). */
static size_t count_elems(const char *s, size_t from)
{
	size_t n = 0;

	for (size_t i = from; s[i]; i++)
		if (s[i] != '/' && (i == 0 || s[i - 1] == '/'))
			n++;
	return n;
}

char *ctxd_path_rel(const char *base, const char *target)
{
	size_t lb = strlen(base), lt = strlen(target), common = 0, i = 0;
	size_t ups, rest_len, len;
	const char *rest;
	char *out, *p;

	if (strcmp(base, target) == 0)
		return strdup(".");
	/* find the last element boundary the two share */
	while (i < lb && i < lt && base[i] == target[i]) {
		i++;
		if ((i == lb || base[i] == '/') && (i == lt || target[i] == '/'))
			common = i;
	}
	if (lb == 1) /* base is "/" */
		common = 0;
	ups = count_elems(base, common);
	rest = target + common;
	while (*rest == '/')
		rest++;
	rest_len = strlen(rest);
	len = ups * 3 + rest_len + 1;
	out = malloc(len);
	if (!out)
		return NULL;
	p = out;
	for (size_t k = 0; k < ups; k++) {
		memcpy(p, "../", 3);
		p += 3;
	}
	memcpy(p, rest, rest_len + 1);
	if (rest_len == 0 && p > out)
		p[-1] = '\0';
	return out;
}
