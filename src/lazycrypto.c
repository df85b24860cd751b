/* libcrypto's functions, forwarded to the library opened on first use (see
 * include/ctxd/lazycrypto.h). Only what src/endpoint.c calls is here. */
#include "ctxd/lazycrypto.h"

#include <pthread.h>
#include <stdbool.h>

#include <openssl/evp.h>

#include "ctxd/lazyload.h"

static struct {
	int (*digest)(const void *, size_t, unsigned char *, unsigned int *, const EVP_MD *,
		      ENGINE *);
	const EVP_MD *(*sha256)(void);
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[512];

static void load(void)
{
	const struct ctxd_lazy_sym syms[] = {
		{"EVP_Digest", &fn.digest},
		{"EVP_sha256", &fn.sha256},
	};

	ctxd_lazy_load("libcrypto", "CTXD_LIBCRYPTO", CTXD_LIBCRYPTO_SONAME, syms,
		       sizeof syms / sizeof syms[0], load_error, sizeof load_error);
}

static bool loaded(void)
{
	pthread_once(&once, load);
	return fn.digest != NULL;
}

const char *ctxd_lazycrypto_error(void)
{
	return load_error[0] ? load_error : NULL;
}

/* Both fail as OpenSSL's do: 0 and NULL. */
int EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size,
	       const EVP_MD *type, ENGINE *impl)
{
	return loaded() ? fn.digest(data, count, md, size, type, impl) : 0;
}

const EVP_MD *EVP_sha256(void)
{
	return loaded() ? fn.sha256() : NULL;
}
