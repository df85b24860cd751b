/* libcurl, loaded when ctxd first talks to Docker. src/lazycurl.c defines
 * the libcurl functions ctxd calls, each forwarding to libcurl's own, found
 * in the library opened (dlopen) on the first call: the commands that never
 * talk to Docker (pack, ls, why: every client of the daemon) do not load
 * libcurl and the twenty-odd libraries it needs (TLS, LDAP, Kerberos, IDN,
 * RTMP...), which cost about 20 ms of every process start. $CTXD_LIBCURL
 * names another file to open (default libcurl.so.4). */
#ifndef CTXD_LAZYCURL_H
#define CTXD_LAZYCURL_H

/* Why libcurl could not be loaded ("cannot load libcurl: ..."), or NULL
 * when it was (or was not needed yet). */
const char *ctxd_lazycurl_error(void);

#endif
