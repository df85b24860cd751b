/* libcurl's functions, forwarded to the library opened on first use (see
 * include/ctxd/lazycurl.h). Only what src/docker.c calls is here. */
#include "ctxd/lazycurl.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>

/* the definitions below are libcurl's functions themselves, not the
 * type-checking macros curl.h puts in front of them */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "ctxd/lazyload.h"

static struct {
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[512];

static void load(void)
{
	const struct ctxd_lazy_sym syms[] = {
		{"curl_easy_init", &fn.easy_init},
		{"curl_easy_cleanup", &fn.easy_cleanup},
		{"curl_easy_reset", &fn.easy_reset},
		{"curl_easy_perform", &fn.easy_perform},
		{"curl_easy_setopt", &fn.easy_setopt},
		{"curl_easy_getinfo", &fn.easy_getinfo},
		{"curl_easy_strerror", &fn.easy_strerror},
		{"curl_slist_append", &fn.slist_append},
		{"curl_slist_free_all", &fn.slist_free_all},
	};

	ctxd_lazy_load("libcurl", "CTXD_LIBCURL", "libcurl.so.4", syms, sizeof syms / sizeof syms[0],
		       load_error, sizeof load_error);
}

static bool loaded(void)
{
	pthread_once(&once, load);
	return fn.easy_init != NULL;
}

const char *ctxd_lazycurl_error(void)
{
	return load_error[0] ? load_error : NULL;
}

/* Every handle and list comes from the two functions that load the
 * library, so the others find it loaded. */
CURL *curl_easy_init(void)
{
	return loaded() ? fn.easy_init() : NULL;
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *data)
{
	return loaded() ? fn.slist_append(list, data) : NULL;
}

void curl_easy_cleanup(CURL *curl)
{
	if (curl)
		fn.easy_cleanup(curl);
}

void curl_slist_free_all(struct curl_slist *list)
{
	if (list)
		fn.slist_free_all(list);
}

void curl_easy_reset(CURL *curl)
{
	fn.easy_reset(curl);
}

CURLcode curl_easy_perform(CURL *curl)
{
	return fn.easy_perform(curl);
}

const char *curl_easy_strerror(CURLcode code)
{
	return loaded() ? fn.easy_strerror(code) : load_error;
}

/* The one argument after the option has the type the option's number
 * range says (curl.h's CURLOPTTYPE_*), and is passed on as that type. */
CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
	va_list ap;
	CURLcode rc;

	va_start(ap, option);
	if (option < CURLOPTTYPE_OBJECTPOINT)
		rc = fn.easy_setopt(curl, option, va_arg(ap, long));
	else if (option < CURLOPTTYPE_FUNCTIONPOINT)
		rc = fn.easy_setopt(curl, option, va_arg(ap, void *));
	else if (option < CURLOPTTYPE_OFF_T)
		rc = fn.easy_setopt(curl, option, va_arg(ap, void (*)(void)));
	else if (option < CURLOPTTYPE_BLOB)
		rc = fn.easy_setopt(curl, option, va_arg(ap, curl_off_t));
	else
		rc = fn.easy_setopt(curl, option, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	va_list ap;
	void *out;

	va_start(ap, info);
	out = va_arg(ap, void *);
	va_end(ap);
	return fn.easy_getinfo(curl, info, out);
}
