/* Opening a shared library on first use (see include/ctxd/lazyload.h). */
#include "ctxd/lazyload.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* dlsym's object pointer goes into a function pointer slot by memcpy:
 * ISO C does not define the cast, POSIX makes the sizes equal. */
static void set_slot(void *slot, void *p)
{
	memcpy(slot, &p, sizeof p);
}

int ctxd_lazy_load(const char *what, const char *env, const char *file,
		   const struct ctxd_lazy_sym *syms, size_t nsyms, char *error, size_t errlen)
{
	const char *named = getenv(env);
	void *lib;

	if (named && *named)
		file = named;
	/* lazy: the dependencies not linked with -z now bind a function when
	 * it is first called, as they would have at process start (for
	 * ctxd version, libgit2's load takes 9.9 million instructions
	 * instead of 11.7) */
	lib = dlopen(file, RTLD_LAZY | RTLD_LOCAL);
	if (!lib) {
		snprintf(error, errlen, "cannot load %s: %s", what, dlerror());
		return -1;
	}
	for (size_t i = 0; i < nsyms; i++) {
		void *p = dlsym(lib, syms[i].name);

		if (!p) {
			/* dlerror names the file and the function */
			snprintf(error, errlen, "cannot load %s: %s", what, dlerror());
			for (size_t j = 0; j < i; j++)
				set_slot(syms[j].slot, NULL);
			dlclose(lib);
			return -1;
		}
		set_slot(syms[i].slot, p);
	}
	return 0;
}
