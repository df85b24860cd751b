/* libgit2, loaded when ctxd first reads a repository. src/lazygit.c
 * defines the libgit2 functions ctxd calls, each forwarding to libgit2's
 * own, found in the library opened (dlopen) by the first of
 * git_libgit2_init and git_libgit2_version: a command that reads no
 * repository (a context in none, the daemon's clients) does not load
 * libgit2 and the libraries it needs (ssh2, mbedtls, http_parser, pcre,
 * Kerberos...), about 6 ms of every process start. $CTXD_LIBGIT2 names
 * another file to open (default: the soname of the libgit2 ctxd was built
 * against, CTXD_LIBGIT2_SONAME from meson).
 *
 * The interface is libgit2's own (git2.h): when the library cannot be
 * loaded, git_libgit2_init and git_libgit2_version return -1 and
 * git_error_last says "cannot load libgit2: <why>". */
#ifndef CTXD_LAZYGIT_H
#define CTXD_LAZYGIT_H

#include <git2.h>

#endif
