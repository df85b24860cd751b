/* libcrypto, loaded when ctxd first names a docker context. src/endpoint.c
 * hashes a context's name (SHA-256) for its directory in the docker CLI's
 * context store; src/lazycrypto.c defines the two OpenSSL functions that
 * takes, each forwarding to libcrypto's own, found in the library opened
 * (dlopen) on the first call, so the commands that use the default
 * endpoint (or none) do not load libcrypto (about 2.4 ms of a process
 * start). $CTXD_LIBCRYPTO names another file to open (default: the soname
 * of the libcrypto ctxd was built against, CTXD_LIBCRYPTO_SONAME from
 * meson). */
#ifndef CTXD_LAZYCRYPTO_H
#define CTXD_LAZYCRYPTO_H

/* Why libcrypto could not be loaded ("cannot load libcrypto: ..."), or
 * NULL when it was (or was not needed yet). */
const char *ctxd_lazycrypto_error(void);

#endif
