/* Opening a shared library on first use: what src/lazycurl.c, lazygit.c
 * and lazycrypto.c share. Each defines the library's functions ctxd calls,
 * forwarding to the real ones this fills in, so a process start does not
 * pay the dynamic loader for libraries that command never uses. */
#ifndef CTXD_LAZYLOAD_H
#define CTXD_LAZYLOAD_H

#include <stddef.h>

/* One function to look up, and the function pointer it goes into. */
struct ctxd_lazy_sym {
	const char *name;
	void *slot;
};

/* Opens the file $env names (file when it is unset or empty) and fills
 * every slot. On failure returns -1, leaves every slot NULL and puts
 * "cannot load <what>: <dlerror>" in error. */
int ctxd_lazy_load(const char *what, const char *env, const char *file,
		   const struct ctxd_lazy_sym *syms, size_t nsyms, char *error, size_t errlen);

#endif
