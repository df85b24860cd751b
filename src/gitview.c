/* Git's view of a context (see include/ctxd/gitview.h). libgit2 finds the
 * repository (worktrees, gitfiles, submodules), reads the index (loaded once
 * into a sorted array of context-relative paths: what is tracked) and the
 * configuration. Whether an untracked path is ignored is decided by
 * gitignore.c over a stack of per-directory pattern lists kept in step with
 * the walk, as git's prep_exclude does: libgit2 1.5's ignore check drops a
 * subdirectory's "!pattern" that negates a parent's rule (it keeps a
 * negation only when it negates a rule of its own file), so git and
 * libgit2 disagree there, and git is the reference. */
#include "ctxd/gitview.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctxd/buf.h"
#include "ctxd/gitignore.h"
#include "ctxd/lazygit.h"

struct submodule {
	char *path;                 /* context-relative */
	size_t len;
	bool tried;
	struct ctxd_gitview *view;  /* NULL when it cannot be opened */
};

/* One directory on the ignore stack: its .gitignore and whether it (or an
 * ancestor) is excluded, and by which rule. */
struct level {
	size_t len;                 /* of its work-tree-relative path */
	struct ctxd_gitignore *gi;  /* NULL when it has none (or is excluded) */
	bool excluded;
	struct ctxd_gitignore_rule rule;
	size_t excluded_len;        /* the excluded directory's path length */
};

/* A file a view was read from, as it was when read. */
struct stamp {
	char *path;
	bool exists;
	struct stat st;
};

/* The repository's files, the user's and the system's config (where
 * core.excludesFile may be set), the excludes files. */
enum {
	STAMP_INDEX,
	STAMP_CONFIG,
	STAMP_XDG_CONFIG,
	STAMP_HOME_CONFIG,
	STAMP_SYSTEM_CONFIG,
	STAMP_INFO_EXCLUDE,
	STAMP_EXCLUDES_FILE,
	NSTAMPS
};

struct ctxd_gitview {
	bool libgit2;               /* git_libgit2_init was called */
	struct stamp stamps[NSTAMPS];
	/* the .gitignore files of the work tree's directories above the
	 * context, which no watcher of the context sees */
	struct stamp *above;
	size_t nabove;
	git_repository *repo;       /* NULL: no repository */
	char *workdir;              /* realpath, no trailing '/' */
	char *prefix;               /* the context in the work tree: "" or "a/b/" */
	size_t prefixlen;
	char **paths;               /* index paths under the context, prefix
				     * stripped, sorted by bytes, unique */
	size_t npaths;
	char *arena;
	struct submodule *subs;
	size_t nsubs;
	struct ctxd_buf key, key2;  /* scratch for lookups */

	/* the last parent directory asked about, and the length of the
	 * nested repository root above it (0 when none) */
	struct ctxd_buf memo_dir;
	bool memo_valid;
	size_t memo_nested;

	struct ctxd_gitignore *info_exclude, *excludes_file;
	struct level *stack;        /* root first */
	size_t depth, stack_cap;
	struct ctxd_buf stack_path; /* the top level's work-tree-relative path */
	struct ctxd_buf matched;
};

static void git_err(struct ctxd_error *err, const char *what)
{
	const git_error *e = git_error_last();

	ctxd_error_set(err, "%s: git: %s", what, e && e->message ? e->message : "unknown error");
}

/* git's per-user file $XDG_CONFIG_HOME/git/<name>, or ~/.config/git/<name>
 * without XDG_CONFIG_HOME; NULL when neither is set (or on ENOMEM). */
static char *xdg_git_file(const char *name)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *p = NULL;

	if (xdg && *xdg) {
		if (asprintf(&p, "%s/git/%s", xdg, name) < 0)
			p = NULL;
	} else if (home && *home) {
		if (asprintf(&p, "%s/.config/git/%s", home, name) < 0)
			p = NULL;
	}
	return p;
}

static void stamp_take(struct stamp *s, const char *path)
{
	free(s->path);
	s->path = path ? strdup(path) : NULL;
	s->exists = s->path && stat(s->path, &s->st) == 0;
}

static bool stamp_same(const struct stamp *s)
{
	struct stat st;
	bool exists = s->path && stat(s->path, &st) == 0;

	if (exists != s->exists)
		return false;
	return !exists ||
	       (st.st_dev == s->st.st_dev && st.st_ino == s->st.st_ino && st.st_size == s->st.st_size &&
		st.st_mtim.tv_sec == s->st.st_mtim.tv_sec && st.st_mtim.tv_nsec == s->st.st_mtim.tv_nsec &&
		st.st_ctim.tv_sec == s->st.st_ctim.tv_sec && st.st_ctim.tv_nsec == s->st.st_ctim.tv_nsec);
}

/* The files a view reads besides the context's own, stamped before they
 * are read so a change while reading shows as one. */
static int stamp_repository(struct ctxd_gitview *gv)
{
	const char *home = getenv("HOME");
	char *p;
	static const struct {
		int slot;
		git_repository_item_t item;
	} items[] = {{STAMP_INDEX, GIT_REPOSITORY_ITEM_INDEX}, {STAMP_CONFIG, GIT_REPOSITORY_ITEM_CONFIG}};

	for (size_t i = 0; i < sizeof items / sizeof *items; i++) {
		git_buf b = {0};

		if (git_repository_item_path(&b, gv->repo, items[i].item) == 0) {
			stamp_take(&gv->stamps[items[i].slot], b.ptr);
			git_buf_dispose(&b);
		}
	}
	p = xdg_git_file("config");
	stamp_take(&gv->stamps[STAMP_XDG_CONFIG], p);
	free(p);
	if (home && *home && asprintf(&p, "%s/.gitconfig", home) >= 0) {
		stamp_take(&gv->stamps[STAMP_HOME_CONFIG], p);
		free(p);
	}
	stamp_take(&gv->stamps[STAMP_SYSTEM_CONFIG], "/etc/gitconfig");
	/* the work tree's root, then each directory down to the context's
	 * parent: one per '/' of the prefix ("a/b/": the root and a) */
	for (size_t i = 0; i < gv->prefixlen; i++)
		gv->nabove += gv->prefix[i] == '/';
	if (!gv->nabove)
		return 0;
	if (!(gv->above = calloc(gv->nabove, sizeof *gv->above)))
		return -1;
	for (size_t i = 0, at = 0; i < gv->nabove; i++) {
		if (asprintf(&p, "%s/%.*s.gitignore", gv->workdir, (int)at, gv->prefix) < 0)
			return -1;
		stamp_take(&gv->above[i], p);
		free(p);
		at = (size_t)(strchr(gv->prefix + at, '/') - gv->prefix) + 1;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Copies the index entries under the prefix into gv->paths and gitlinks
 * into gv->subs. */
static int load_index(struct ctxd_gitview *gv, struct ctxd_error *err)
{
	git_index *idx;
	size_t n, total = 0, k = 0, nsub = 0;
	char *a;

	if (git_repository_index(&idx, gv->repo) < 0) {
		git_err(err, gv->workdir);
		return -1;
	}
	n = git_index_entrycount(idx);
	for (size_t i = 0; i < n; i++) {
		const git_index_entry *e = git_index_get_byindex(idx, i);

		if (strncmp(e->path, gv->prefix, gv->prefixlen) == 0 && e->path[gv->prefixlen]) {
			total += strlen(e->path) - gv->prefixlen + 1;
			k++;
			nsub += e->mode == GIT_FILEMODE_COMMIT;
		}
	}
	gv->paths = malloc((k ? k : 1) * sizeof *gv->paths);
	gv->arena = a = malloc(total ? total : 1);
	gv->subs = calloc(nsub ? nsub : 1, sizeof *gv->subs);
	if (!gv->paths || !a || !gv->subs) {
		git_index_free(idx);
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const git_index_entry *e = git_index_get_byindex(idx, i);
		size_t len;

		if (strncmp(e->path, gv->prefix, gv->prefixlen) != 0 || !e->path[gv->prefixlen])
			continue;
		len = strlen(e->path) - gv->prefixlen;
		memcpy(a, e->path + gv->prefixlen, len + 1);
		gv->paths[gv->npaths++] = a;
		if (e->mode == GIT_FILEMODE_COMMIT) {
			gv->subs[gv->nsubs].path = a;
			gv->subs[gv->nsubs++].len = len;
		}
		a += len + 1;
	}
	git_index_free(idx);
	qsort(gv->paths, gv->npaths, sizeof *gv->paths, cmp_str);
	/* conflicted entries appear once per stage */
	k = 0;
	for (size_t i = 0; i < gv->npaths; i++)
		if (!k || strcmp(gv->paths[k - 1], gv->paths[i]) != 0)
			gv->paths[k++] = gv->paths[i];
	gv->npaths = k;
	return 0;
}

static int load_globals(struct ctxd_gitview *gv, struct ctxd_error *err);

/* Whether dir or a directory above it has a .git entry: without one
 * libgit2's discovery cannot find a repository, so a context in none costs
 * a few lstat calls and no libgit2 at all. */
static bool git_entry_above(const char *dir)
{
	struct ctxd_buf b = {0};
	struct stat st;
	bool found = false;

	ctxd_buf_puts(&b, dir);
	while (!b.oom && !found) {
		size_t len = b.len;
		char *slash;

		ctxd_buf_puts(&b, len && b.data[len - 1] == '/' ? ".git" : "/.git");
		if (b.oom)
			break;
		found = lstat(b.data, &st) == 0;
		b.len = len;
		b.data[len] = '\0';
		slash = strrchr(b.data, '/');
		if (!slash || (slash == b.data && len == 1))
			break;
		b.len = slash == b.data ? 1 : (size_t)(slash - b.data);
		b.data[b.len] = '\0';
	}
	/* out of memory: let libgit2 look */
	found = found || b.oom;
	ctxd_buf_free(&b);
	return found;
}

static int open_view(const char *dir, bool search, struct ctxd_gitview **out,
		     struct ctxd_error *err)
{
	struct ctxd_gitview *gv = calloc(1, sizeof *gv);
	char *root = NULL;
	const char *wd;
	size_t wlen, rlen;
	int rc;

	if (!gv) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	*out = gv;
	if (search && !git_entry_above(dir))
		return 0;
	/* fails when libgit2 cannot be loaded (include/ctxd/lazygit.h) */
	if (git_libgit2_init() < 0) {
		git_err(err, dir);
		goto fail;
	}
	gv->libgit2 = true;
	rc = git_repository_open_ext(&gv->repo, dir, search ? 0 : GIT_REPOSITORY_OPEN_NO_SEARCH,
				     NULL);
	if (rc == GIT_ENOTFOUND) {
		gv->repo = NULL;
		return 0;
	}
	if (rc < 0) {
		git_err(err, dir);
		goto fail;
	}
	wd = git_repository_workdir(gv->repo);
	if (git_repository_is_bare(gv->repo) || !wd)
		goto none;
	gv->workdir = realpath(wd, NULL);
	root = realpath(dir, NULL);
	if (!gv->workdir || !root) {
		ctxd_error_set(err, "%s: %s", gv->workdir ? dir : wd, strerror(errno));
		goto fail;
	}
	wlen = strlen(gv->workdir);
	rlen = strlen(root);
	if (wlen == 1)
		wlen = 0; /* the work tree is "/" */
	/* core.worktree may point elsewhere: then the context is not in it */
	if (rlen < wlen || memcmp(root, gv->workdir, wlen) != 0 ||
	    (rlen > wlen && root[wlen] != '/'))
		goto none;
	if (rlen > wlen) {
		if (asprintf(&gv->prefix, "%s/", root + wlen + 1) < 0)
			gv->prefix = NULL;
	} else {
		gv->prefix = strdup("");
	}
	free(root);
	root = NULL;
	if (!gv->prefix) {
		ctxd_error_set(err, "out of memory");
		goto fail;
	}
	gv->prefixlen = strlen(gv->prefix);
	if (stamp_repository(gv) < 0) {
		ctxd_error_set(err, "out of memory");
		goto fail;
	}
	if (load_index(gv, err) < 0 || load_globals(gv, err) < 0)
		goto fail;
	return 0;
none:
	free(root);
	git_repository_free(gv->repo);
	gv->repo = NULL;
	return 0;
fail:
	free(root);
	ctxd_gitview_destroy(gv);
	*out = NULL;
	return -1;
}

int ctxd_gitview_open(const char *dir, struct ctxd_gitview **out, struct ctxd_error *err)
{
	return open_view(dir, true, out, err);
}

void ctxd_gitview_destroy(struct ctxd_gitview *gv)
{
	if (!gv)
		return;
	for (size_t i = 0; i < gv->nsubs; i++)
		ctxd_gitview_destroy(gv->subs[i].view);
	for (size_t i = 0; i < gv->depth; i++)
		ctxd_gitignore_destroy(gv->stack[i].gi);
	free(gv->stack);
	ctxd_buf_free(&gv->stack_path);
	ctxd_gitignore_destroy(gv->info_exclude);
	ctxd_gitignore_destroy(gv->excludes_file);
	ctxd_buf_free(&gv->matched);
	ctxd_buf_free(&gv->key);
	ctxd_buf_free(&gv->key2);
	ctxd_buf_free(&gv->memo_dir);
	free(gv->subs);
	free(gv->paths);
	free(gv->arena);
	free(gv->prefix);
	free(gv->workdir);
	for (size_t i = 0; i < NSTAMPS; i++)
		free(gv->stamps[i].path);
	for (size_t i = 0; i < gv->nabove; i++)
		free(gv->above[i].path);
	free(gv->above);
	git_repository_free(gv->repo);
	if (gv->libgit2)
		git_libgit2_shutdown();
	free(gv);
}

bool ctxd_gitview_current(const struct ctxd_gitview *gv)
{
	for (size_t i = 0; i < gv->nsubs; i++)
		if (gv->subs[i].tried)
			return false;
	for (size_t i = 0; i < NSTAMPS; i++)
		if (!stamp_same(&gv->stamps[i]))
			return false;
	for (size_t i = 0; i < gv->nabove; i++)
		if (!stamp_same(&gv->above[i]))
			return false;
	return true;
}

int ctxd_gitview_hold(void)
{
	return git_libgit2_init() < 0 ? -1 : 0;
}

void ctxd_gitview_release(void)
{
	git_libgit2_shutdown();
}

const char *ctxd_gitview_workdir(const struct ctxd_gitview *gv)
{
	return gv->repo ? gv->workdir : NULL;
}

/* First index path >= key. */
static size_t lower_bound(const struct ctxd_gitview *gv, const char *key)
{
	size_t lo = 0, hi = gv->npaths;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(gv->paths[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* In the index, or (for a directory) holding something that is. */
static int tracked(struct ctxd_gitview *gv, const char *path, size_t len, bool is_dir, bool *out)
{
	size_t i;

	gv->key.len = 0;
	ctxd_buf_append(&gv->key, path, len);
	ctxd_buf_putc(&gv->key, '/');
	if (gv->key.oom)
		return -1;
	gv->key.data[len] = '\0';
	i = lower_bound(gv, gv->key.data);
	if (i < gv->npaths && strcmp(gv->paths[i], gv->key.data) == 0) {
		*out = true;
		return 0;
	}
	if (!is_dir) {
		*out = false;
		return 0;
	}
	gv->key.data[len] = '/';
	/* "d/" sorts after "d" and "d-x" but before everything under "d/" */
	for (; i < gv->npaths && strncmp(gv->paths[i], gv->key.data, len) == 0; i++)
		if (gv->paths[i][len] == '/') {
			*out = true;
			return 0;
		}
		else if ((unsigned char)gv->paths[i][len] > '/')
			break;
	*out = false;
	return 0;
}

static struct submodule *find_sub(struct ctxd_gitview *gv, const char *path, size_t len)
{
	for (size_t i = 0; i < gv->nsubs; i++) {
		struct submodule *s = &gv->subs[i];

		if (len > s->len && path[s->len] == '/' && memcmp(path, s->path, s->len) == 0)
			return s;
	}
	return NULL;
}

static char *abs_path(const struct ctxd_gitview *gv, const char *path, size_t len,
		      const char *suffix)
{
	char *p;

	if (asprintf(&p, "%s/%s%.*s%s", gv->workdir, gv->prefix, (int)len, path, suffix) < 0)
		return NULL;
	return p;
}

static int sub_view(struct ctxd_gitview *gv, struct submodule *s, struct ctxd_error *err)
{
	char *dir;
	int rc;

	if (s->tried)
		return 0;
	s->tried = true;
	dir = abs_path(gv, s->path, s->len, "");
	if (!dir) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	/* an uninitialised submodule has no repository of its own, and its
	 * directory is not the superproject's business either */
	rc = open_view(dir, false, &s->view, err);
	free(dir);
	if (rc == 0 && s->view && !s->view->repo) {
		ctxd_gitview_destroy(s->view);
		s->view = NULL;
	}
	return rc;
}

/* Whether the untracked directory path[0..len) is a repository of its own,
 * which git status treats as one untracked entry. */
static bool nested_repo(const struct ctxd_gitview *gv, const char *path, size_t len)
{
	char *p = abs_path(gv, path, len, "/.git");
	struct stat st;
	bool yes = false;

	if (p && lstat(p, &st) == 0 && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
		p[strlen(p) - 5] = '\0';
		yes = git_repository_open_ext(NULL, p, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) == 0;
	}
	free(p);
	return yes;
}

/* The length of the nested repository root strictly above path, or 0. */
static int nested_above(struct ctxd_gitview *gv, const char *path, size_t len, size_t *out)
{
	const char *slash = memrchr(path, '/', len);
	size_t dlen = slash ? (size_t)(slash - path) : 0;

	*out = 0;
	if (!dlen)
		return 0;
	if (gv->memo_valid && gv->memo_dir.len == dlen && memcmp(gv->memo_dir.data, path, dlen) == 0) {
		*out = gv->memo_nested;
		return 0;
	}
	for (size_t i = 0; i <= dlen; i++) {
		bool tr;

		if (i < dlen && path[i] != '/')
			continue;
		if (tracked(gv, path, i, true, &tr) < 0)
			return -1;
		if (!tr && nested_repo(gv, path, i)) {
			*out = i;
			break;
		}
	}
	gv->memo_dir.len = 0;
	ctxd_buf_append(&gv->memo_dir, path, dlen);
	if (gv->memo_dir.oom)
		return -1;
	gv->memo_valid = true;
	gv->memo_nested = *out;
	return 0;
}

/* The length of path up to and including its first ".git" component (a
 * repository's own files, or a gitfile), or 0 when it has none. */
static size_t dotgit_len(const char *path, size_t len)
{
	for (size_t at = 0; at + 4 <= len;) {
		const char *slash = memchr(path + at, '/', len - at);
		size_t end = slash ? (size_t)(slash - path) : len;

		if (end - at == 4 && memcmp(path + at, ".git", 4) == 0)
			return end;
		at = end + 1;
	}
	return 0;
}

static int read_file(const char *path, char **data, size_t *len, bool *found,
		     struct ctxd_error *err)
{
	struct ctxd_buf b = {0};
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*found = false;
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		ctxd_error_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		ctxd_buf_append(&b, chunk, (size_t)n);
	if (n < 0) {
		/* a directory named .gitignore is no ignore file, to git either */
		int e = errno;

		close(fd);
		ctxd_buf_free(&b);
		if (e == EISDIR)
			return 0;
		ctxd_error_set(err, "%s: %s", path, strerror(e));
		return -1;
	}
	close(fd);
	if (b.oom) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	*len = b.len;
	*data = b.data ? b.data : strdup("");
	*found = *data != NULL;
	return 0;
}

/* Parses the pattern file at path, if it exists, with the given base. */
static int load_list(const char *path, const char *base, struct ctxd_gitignore **out,
		     struct ctxd_error *err)
{
	char *data = NULL;
	size_t len = 0;
	bool found;
	int rc;

	*out = NULL;
	if (read_file(path, &data, &len, &found, err) < 0)
		return -1;
	if (!found)
		return 0;
	rc = ctxd_gitignore_parse(data, len, path, base, out, err);
	free(data);
	return rc;
}

/* core.excludesFile, or git's default (xdg_git_file "ignore"). */
static char *excludes_file_path(struct ctxd_gitview *gv)
{
	git_config *cfg = NULL;
	git_buf b = {0};
	char *p;

	if (git_repository_config_snapshot(&cfg, gv->repo) == 0 &&
	    git_config_get_path(&b, cfg, "core.excludesfile") == 0) {
		p = strdup(b.ptr);
		git_buf_dispose(&b);
	} else {
		p = xdg_git_file("ignore");
	}
	git_config_free(cfg);
	return p;
}

static int load_globals(struct ctxd_gitview *gv, struct ctxd_error *err)
{
	git_buf info = {0};
	char *path = NULL;
	int rc;

	if (git_repository_item_path(&info, gv->repo, GIT_REPOSITORY_ITEM_INFO) < 0) {
		git_err(err, gv->workdir);
		return -1;
	}
	if (asprintf(&path, "%sexclude", info.ptr) < 0) {
		git_buf_dispose(&info);
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	git_buf_dispose(&info);
	stamp_take(&gv->stamps[STAMP_INFO_EXCLUDE], path);
	rc = load_list(path, "", &gv->info_exclude, err);
	free(path);
	if (rc < 0)
		return -1;
	path = excludes_file_path(gv);
	stamp_take(&gv->stamps[STAMP_EXCLUDES_FILE], path);
	rc = path ? load_list(path, "", &gv->excludes_file, err) : 0;
	free(path);
	return rc;
}

/* git's last_matching_pattern_from_lists over the stack as it stands: the
 * deepest .gitignore first, then info/exclude, then core.excludesFile. */
static bool match_lists(const struct ctxd_gitview *gv, const char *p, size_t len, bool is_dir,
			struct ctxd_gitignore_rule *rule)
{
	const struct ctxd_gitignore *globals[2] = {gv->info_exclude, gv->excludes_file};
	int m;

	for (size_t i = gv->depth; i-- > 0;)
		if (gv->stack[i].gi && (m = ctxd_gitignore_match(gv->stack[i].gi, p, len, is_dir)) >= 0) {
			ctxd_gitignore_rule(gv->stack[i].gi, m, rule);
			return true;
		}
	for (int i = 0; i < 2; i++)
		if (globals[i] && (m = ctxd_gitignore_match(globals[i], p, len, is_dir)) >= 0) {
			ctxd_gitignore_rule(globals[i], m, rule);
			return true;
		}
	return false;
}

/* Pushes the directory dir[0..len) (work-tree-relative) on the stack. */
static int push_level(struct ctxd_gitview *gv, const char *dir, size_t len, struct ctxd_error *err)
{
	struct level *lv, *up = gv->depth ? &gv->stack[gv->depth - 1] : NULL;
	char *path;
	int rc;

	if (gv->depth == gv->stack_cap) {
		size_t cap = gv->stack_cap ? gv->stack_cap * 2 : 16;

		lv = realloc(gv->stack, cap * sizeof *lv);
		if (!lv)
			goto oom;
		gv->stack = lv;
		gv->stack_cap = cap;
	}
	lv = &gv->stack[gv->depth];
	memset(lv, 0, sizeof *lv);
	lv->len = len;
	if (up && up->excluded) {
		lv->excluded = true;
		lv->rule = up->rule;
		lv->excluded_len = up->excluded_len;
	} else if (up && match_lists(gv, dir, len, true, &lv->rule) && !lv->rule.negative) {
		/* nothing below an excluded directory can be re-included, and
		 * git reads no pattern file inside it */
		lv->excluded = true;
		lv->excluded_len = len;
	} else {
		if (asprintf(&path, "%s/%.*s%s.gitignore", gv->workdir, (int)len, dir, len ? "/" : "") < 0)
			goto oom;
		gv->key2.len = 0;
		ctxd_buf_append(&gv->key2, dir, len);
		ctxd_buf_putc(&gv->key2, '\0');
		rc = gv->key2.oom ? -1 : load_list(path, gv->key2.data, &lv->gi, err);
		free(path);
		if (gv->key2.oom)
			goto oom;
		if (rc < 0)
			return -1;
	}
	gv->depth++;
	gv->stack_path.len = 0;
	ctxd_buf_append(&gv->stack_path, dir, len);
	ctxd_buf_putc(&gv->stack_path, '\0');
	if (gv->stack_path.oom)
		goto oom;
	gv->stack_path.len = len;
	return 0;
oom:
	ctxd_error_set(err, "out of memory");
	return -1;
}

/* Makes the stack hold the root and every directory down to dir[0..len). */
static int stack_sync(struct ctxd_gitview *gv, const char *dir, size_t len, struct ctxd_error *err)
{
	size_t keep = 0, at;

	while (keep < gv->depth) {
		size_t l = gv->stack[keep].len;

		if (l > len || memcmp(gv->stack_path.data, dir, l) != 0 || (l && l < len && dir[l] != '/'))
			break;
		keep++;
	}
	while (gv->depth > keep)
		ctxd_gitignore_destroy(gv->stack[--gv->depth].gi);
	if (!gv->depth && push_level(gv, dir, 0, err) < 0)
		return -1;
	at = gv->stack[gv->depth - 1].len;
	while (at < len) {
		const char *slash;

		at += at ? 1 : 0;
		slash = memchr(dir + at, '/', len - at);
		at = slash ? (size_t)(slash - dir) : len;
		if (push_level(gv, dir, at, err) < 0)
			return -1;
	}
	return 0;
}

/* Whether git ignores the work-tree-relative path p[0..len), and by what. */
static int decide(struct ctxd_gitview *gv, const char *p, size_t len, bool is_dir, bool *ign,
		  struct ctxd_gitignore_rule *rule, size_t *matched_len, struct ctxd_error *err)
{
	const char *slash = memrchr(p, '/', len);
	const struct level *top;

	if (stack_sync(gv, p, slash ? (size_t)(slash - p) : 0, err) < 0)
		return -1;
	top = &gv->stack[gv->depth - 1];
	if (top->excluded) {
		*ign = true;
		*rule = top->rule;
		*matched_len = top->excluded_len;
		return 0;
	}
	*ign = match_lists(gv, p, len, is_dir, rule) && !rule->negative;
	*matched_len = len;
	return 0;
}

/* The work-tree-relative form of a context-relative path, in gv->key. */
static int worktree_path(struct ctxd_gitview *gv, const char *path, size_t len,
			 struct ctxd_error *err)
{
	gv->key.len = 0;
	ctxd_buf_puts(&gv->key, gv->prefix);
	ctxd_buf_append(&gv->key, path, len);
	ctxd_buf_putc(&gv->key, '\0');
	if (gv->key.oom) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	gv->key.len--;
	return 0;
}

/* Keeps "head/tail" (either part may be empty) as out->matched; an empty
 * result means the context directory itself. */
static int set_matched(struct ctxd_gitview *gv, const char *head, size_t hlen, const char *tail,
		       size_t tlen, struct ctxd_git_rule *out, struct ctxd_error *err)
{
	gv->matched.len = 0;
	ctxd_buf_append(&gv->matched, head, hlen);
	if (hlen && tlen)
		ctxd_buf_putc(&gv->matched, '/');
	ctxd_buf_append(&gv->matched, tail, tlen);
	if (!gv->matched.len)
		ctxd_buf_putc(&gv->matched, '.');
	ctxd_buf_putc(&gv->matched, '\0');
	if (gv->matched.oom) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	out->matched = gv->matched.data;
	return 0;
}

int ctxd_gitview_state(struct ctxd_gitview *gv, const char *path, size_t len, bool is_dir,
		       enum ctxd_git_state *out, struct ctxd_error *err)
{
	struct ctxd_gitignore_rule rule;
	struct submodule *s;
	size_t nested, at;
	bool yes;

	if (!gv->repo) {
		*out = CTXD_GIT_NONE;
		return 0;
	}
	if (dotgit_len(path, len)) {
		*out = CTXD_GIT_IGNORED;
		return 0;
	}
	s = find_sub(gv, path, len);
	if (s) {
		if (sub_view(gv, s, err) < 0)
			return -1;
		if (!s->view) {
			*out = CTXD_GIT_NONE;
			return 0;
		}
		return ctxd_gitview_state(s->view, path + s->len + 1, len - s->len - 1, is_dir, out,
					  err);
	}
	if (tracked(gv, path, len, is_dir, &yes) < 0)
		goto oom;
	if (yes) {
		*out = CTXD_GIT_TRACKED;
		return 0;
	}
	if (nested_above(gv, path, len, &nested) < 0)
		goto oom;
	if (nested) {
		len = nested;
		is_dir = true;
	}
	if (worktree_path(gv, path, len, err) < 0 ||
	    decide(gv, gv->key.data, gv->key.len, is_dir, &yes, &rule, &at, err) < 0)
		return -1;
	*out = yes ? CTXD_GIT_IGNORED : CTXD_GIT_UNTRACKED;
	return 0;
oom:
	ctxd_error_set(err, "out of memory");
	return -1;
}

int ctxd_gitview_rule(struct ctxd_gitview *gv, const char *path, size_t len, bool is_dir,
		      struct ctxd_git_rule *out, struct ctxd_error *err)
{
	struct ctxd_gitignore_rule r;
	struct submodule *s;
	size_t nested, at;
	bool ign;
	int rc;

	memset(out, 0, sizeof *out);
	if (!gv->repo)
		return 0;
	if ((at = dotgit_len(path, len)) != 0) {
		out->pattern = ".git";
		return set_matched(gv, path, at, "", 0, out, err) < 0 ? -1 : 1;
	}
	s = find_sub(gv, path, len);
	if (s) {
		if (sub_view(gv, s, err) < 0)
			return -1;
		if (!s->view)
			return 0;
		rc = ctxd_gitview_rule(s->view, path + s->len + 1, len - s->len - 1, is_dir, out, err);
		if (rc == 1 && set_matched(gv, s->path, s->len, out->matched,
					   strcmp(out->matched, ".") ? strlen(out->matched) : 0,
					   out, err) < 0)
			return -1;
		return rc;
	}
	if (nested_above(gv, path, len, &nested) < 0) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	if (nested) {
		len = nested;
		is_dir = true;
	}
	if (worktree_path(gv, path, len, err) < 0 ||
	    decide(gv, gv->key.data, gv->key.len, is_dir, &ign, &r, &at, err) < 0)
		return -1;
	if (!ign)
		return 0;
	out->file = r.file;
	out->line = r.line;
	out->pattern = r.text;
	at = at > gv->prefixlen ? at - gv->prefixlen : 0;
	return set_matched(gv, path, at, "", 0, out, err) < 0 ? -1 : 1;
}

void ctxd_git_savings_add(struct ctxd_git_savings *sv, enum ctxd_git_state s, uint64_t size)
{
	if (s == CTXD_GIT_IGNORED) {
		sv->ignored_files++;
		sv->ignored_bytes += size;
	} else if (s == CTXD_GIT_UNTRACKED) {
		sv->untracked_files++;
		sv->untracked_bytes += size;
	}
}

bool ctxd_git_filter_drops(enum ctxd_git_filter f, enum ctxd_git_state s)
{
	switch (f) {
	case CTXD_GIT_FILTER_IGNORED:
		return s == CTXD_GIT_IGNORED;
	case CTXD_GIT_FILTER_UNTRACKED:
		return s == CTXD_GIT_IGNORED || s == CTXD_GIT_UNTRACKED;
	default:
		return false;
	}
}

static const char *const filter_names[] = {"off", "ignored", "untracked"};

int ctxd_git_filter_parse(const char *s, enum ctxd_git_filter *out)
{
	for (size_t i = 0; i < sizeof filter_names / sizeof filter_names[0]; i++)
		if (strcmp(s, filter_names[i]) == 0) {
			*out = (enum ctxd_git_filter)i;
			return 0;
		}
	return -1;
}

const char *ctxd_git_filter_name(enum ctxd_git_filter f)
{
	return (size_t)f < sizeof filter_names / sizeof filter_names[0] ? filter_names[f] : "?";
}
