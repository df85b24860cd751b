/* libgit2's functions, forwarded to the library opened on first use (see
 * include/ctxd/lazygit.h). Only what src/gitview.c and `ctxd version` call
 * is here. */
#include "ctxd/lazygit.h"

#include <pthread.h>
#include <stdbool.h>

#include "ctxd/lazyload.h"

static struct {
	int (*libgit2_init)(void);
	int (*libgit2_shutdown)(void);
	int (*libgit2_version)(int *, int *, int *);
	const git_error *(*error_last)(void);
	void (*buf_dispose)(git_buf *);
	int (*repository_open_ext)(git_repository **, const char *, unsigned int, const char *);
	void (*repository_free)(git_repository *);
	const char *(*repository_workdir)(const git_repository *);
	int (*repository_is_bare)(const git_repository *);
	int (*repository_index)(git_index **, git_repository *);
	int (*repository_config_snapshot)(git_config **, git_repository *);
	int (*repository_item_path)(git_buf *, const git_repository *, git_repository_item_t);
	size_t (*index_entrycount)(const git_index *);
	const git_index_entry *(*index_get_byindex)(git_index *, size_t);
	void (*index_free)(git_index *);
	int (*config_get_path)(git_buf *, const git_config *, const char *);
	void (*config_free)(git_config *);
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[512];
static const git_error load_failure = {load_error, GIT_ERROR_OS};

static void load(void)
{
	const struct ctxd_lazy_sym syms[] = {
		{"git_libgit2_init", &fn.libgit2_init},
		{"git_libgit2_shutdown", &fn.libgit2_shutdown},
		{"git_libgit2_version", &fn.libgit2_version},
		{"git_error_last", &fn.error_last},
		{"git_buf_dispose", &fn.buf_dispose},
		{"git_repository_open_ext", &fn.repository_open_ext},
		{"git_repository_free", &fn.repository_free},
		{"git_repository_workdir", &fn.repository_workdir},
		{"git_repository_is_bare", &fn.repository_is_bare},
		{"git_repository_index", &fn.repository_index},
		{"git_repository_config_snapshot", &fn.repository_config_snapshot},
		{"git_repository_item_path", &fn.repository_item_path},
		{"git_index_entrycount", &fn.index_entrycount},
		{"git_index_get_byindex", &fn.index_get_byindex},
		{"git_index_free", &fn.index_free},
		{"git_config_get_path", &fn.config_get_path},
		{"git_config_free", &fn.config_free},
	};

	ctxd_lazy_load("libgit2", "CTXD_LIBGIT2", CTXD_LIBGIT2_SONAME, syms,
		       sizeof syms / sizeof syms[0], load_error, sizeof load_error);
}

static bool loaded(void)
{
	pthread_once(&once, load);
	return fn.libgit2_init != NULL;
}

/* The functions that take no libgit2 object load the library; the others
 * are handed objects only a loaded library made (the free functions also
 * NULL, or a git_buf never filled, which need no library). */
int git_libgit2_init(void)
{
	return loaded() ? fn.libgit2_init() : -1;
}

int git_libgit2_shutdown(void)
{
	return loaded() ? fn.libgit2_shutdown() : -1;
}

int git_libgit2_version(int *major, int *minor, int *rev)
{
	if (loaded())
		return fn.libgit2_version(major, minor, rev);
	*major = *minor = *rev = 0;
	return -1;
}

const git_error *git_error_last(void)
{
	return loaded() ? fn.error_last() : &load_failure;
}

int git_repository_open_ext(git_repository **out, const char *path, unsigned int flags,
			    const char *ceiling_dirs)
{
	if (!loaded()) {
		if (out)
			*out = NULL;
		return -1;
	}
	return fn.repository_open_ext(out, path, flags, ceiling_dirs);
}

void git_buf_dispose(git_buf *buffer)
{
	if (buffer && buffer->ptr)
		fn.buf_dispose(buffer);
}

void git_repository_free(git_repository *repo)
{
	if (repo)
		fn.repository_free(repo);
}

void git_index_free(git_index *index)
{
	if (index)
		fn.index_free(index);
}

void git_config_free(git_config *cfg)
{
	if (cfg)
		fn.config_free(cfg);
}

const char *git_repository_workdir(const git_repository *repo)
{
	return fn.repository_workdir(repo);
}

int git_repository_is_bare(const git_repository *repo)
{
	return fn.repository_is_bare(repo);
}

int git_repository_index(git_index **out, git_repository *repo)
{
	return fn.repository_index(out, repo);
}

int git_repository_config_snapshot(git_config **out, git_repository *repo)
{
	return fn.repository_config_snapshot(out, repo);
}

int git_repository_item_path(git_buf *out, const git_repository *repo,
			     git_repository_item_t item)
{
	return fn.repository_item_path(out, repo, item);
}

size_t git_index_entrycount(const git_index *index)
{
	return fn.index_entrycount(index);
}

const git_index_entry *git_index_get_byindex(git_index *index, size_t n)
{
	return fn.index_get_byindex(index, n);
}

int git_config_get_path(git_buf *out, const git_config *cfg, const char *name)
{
	return fn.config_get_path(out, cfg, name);
}
