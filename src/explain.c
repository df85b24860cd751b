/* Deciding single paths with the real scan (see include/ctxd/explain.h). */
#include "ctxd/explain.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctxd/dedup.h"
#include "ctxd/manifest.h"
#include "ctxd/path.h"

struct run {
	const struct ctxd_context *ctx;
	const struct ctxd_select *sel;
	struct ctxd_explain *x;
	struct ctxd_manifest *m;
	size_t *manifest_index; /* per item: its entry in m, or SIZE_MAX */
	size_t *via_len;        /* per item: length of the deciding ancestor, 0 none */
	bool oom;
};

static char *dupn(const char *s, size_t n, bool *oom)
{
	char *d = strndup(s, n);

	if (!d)
		*oom = true;
	return d;
}

static void set_rule(struct run *r, struct ctxd_explain_item *it, const struct ctxd_entry *e)
{
	struct ctxd_ignore_rule rule;

	free(it->rule_file);
	free(it->rule_text);
	it->rule_file = it->rule_text = NULL;
	it->rule_line = 0;
	if (e->reason != CTXD_REASON_DOCKERIGNORE || e->rule < 0)
		return;
	ctxd_ignore_rule(r->ctx->walk, (size_t)e->rule, &rule);
	if (rule.file)
		it->rule_file = dupn(rule.file, strlen(rule.file), &r->oom);
	it->rule_line = rule.line;
	it->rule_text = dupn(rule.text, strlen(rule.text), &r->oom);
}

static int visit(void *ud, const struct ctxd_entry *e, struct ctxd_error *err)
{
	struct run *r = ud;

	for (size_t i = 0; i < r->x->n; i++) {
		struct ctxd_explain_item *it = &r->x->items[i];
		size_t plen = strlen(it->path);

		if (plen == e->path_len && memcmp(it->path, e->path, plen) == 0) {
			it->exists = true;
			it->sent = !e->excluded;
			it->reason = e->reason;
			it->type = e->type;
			it->size = e->size;
			free(it->via);
			it->via = NULL;
			r->via_len[i] = 0;
			set_rule(r, it, e);
			if (!e->excluded)
				r->manifest_index[i] = ctxd_manifest_count(r->m);
		} else if (e->excluded && e->type == CTXD_ENTRY_DIR && e->pruned &&
			   plen > e->path_len && it->path[e->path_len] == '/' &&
			   memcmp(it->path, e->path, e->path_len) == 0 && e->path_len > r->via_len[i]) {
			/* a directory left unopened decides everything inside */
			it->sent = false;
			it->reason = e->reason;
			free(it->via);
			it->via = dupn(e->path, e->path_len, &r->oom);
			r->via_len[i] = e->path_len;
			set_rule(r, it, e);
		}
	}
	if (r->oom) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	return ctxd_manifest_visit(r->m, e, err);
}

/* Whether a path the walk never reached exists (inside an unopened
 * directory, say), and is a directory. */
static bool exists_in(const struct ctxd_context *ctx, const char *path, bool *is_dir)
{
	struct stat st;

	if (fstatat(ctx->rootfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return false;
	*is_dir = S_ISDIR(st.st_mode);
	return true;
}

/* Git's word on an existing item: its state, its rule when ignored (the
 * deciding rule too when the git filter dropped it), whether the
 * Dockerfile names it. */
static int explain_git(const struct ctxd_scan_options *so, struct ctxd_explain_item *it,
		       bool is_dir, struct ctxd_error *err)
{
	size_t len = strlen(it->path);
	struct ctxd_git_rule r;
	int rc;

	if (strcmp(it->path, ".") == 0)
		return 0;
	if (ctxd_gitview_state(so->git, it->path, len, is_dir, &it->git, err) < 0)
		return -1;
	it->git_named = so->git_keep && ctxd_select_names(so->git_keep, it->path, len);
	if (it->git != CTXD_GIT_IGNORED)
		return 0;
	rc = ctxd_gitview_rule(so->git, it->path, len, is_dir, &r, err);
	if (rc <= 0)
		return rc;
	if ((r.file && !(it->git_rule_file = strdup(r.file))) ||
	    !(it->git_rule_pattern = strdup(r.pattern)))
		goto oom;
	it->git_rule_line = r.line;
	if (!it->sent && it->reason == CTXD_REASON_GIT_IGNORED) {
		free(it->rule_file);
		free(it->rule_text);
		it->rule_file = it->rule_text = NULL;
		if ((r.file && !(it->rule_file = strdup(r.file))) ||
		    !(it->rule_text = strdup(r.pattern)))
			goto oom;
		it->rule_line = r.line;
	}
	return 0;
oom:
	ctxd_error_set(err, "out of memory");
	return -1;
}

int ctxd_explain_run(const struct ctxd_context *ctx, const struct ctxd_scan_options *so,
		     const struct ctxd_explain_scan *scan, const char *const *paths, size_t n,
		     struct ctxd_explain *out, struct ctxd_error *err)
{
	struct ctxd_scan_options o = *so;
	struct run r = {.ctx = ctx, .sel = so->select, .x = out};
	int rc = -1;

	memset(out, 0, sizeof *out);
	out->items = calloc(n ? n : 1, sizeof *out->items);
	r.manifest_index = malloc((n ? n : 1) * sizeof *r.manifest_index);
	r.via_len = calloc(n ? n : 1, sizeof *r.via_len);
	r.m = ctxd_manifest_create();
	if (!out->items || !r.manifest_index || !r.via_len || !r.m) {
		ctxd_error_set(err, "out of memory");
		goto out;
	}
	out->n = n;
	for (size_t i = 0; i < n; i++) {
		char *clean = ctxd_path_clean_dup(paths[i]);

		r.manifest_index[i] = SIZE_MAX;
		if (!clean) {
			ctxd_error_set(err, "out of memory");
			goto out;
		}
		out->items[i].path = clean;
		if (clean[0] == '/' || strcmp(clean, "..") == 0 || strncmp(clean, "../", 3) == 0) {
			ctxd_error_set(err, "%s: not a path inside the context %s", paths[i], ctx->root);
			goto out;
		}
	}
	o.want_excluded = true;
	o.list_unread = true;
	rc = scan ? scan->run(scan->ud, &o, visit, &r, r.m, err) : ctxd_scan_run(ctx, &o, visit, &r, err);
	if (rc < 0)
		goto out;
	rc = -1;
	if (ctxd_dedup_run(r.m, ctx->rootfd, NULL, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct ctxd_explain_item *it = &out->items[i];
		size_t mi = r.manifest_index[i];
		bool is_dir = it->type == CTXD_ENTRY_DIR;

		if (it->via || (!it->exists && strcmp(it->path, ".") != 0))
			it->exists = exists_in(ctx, it->path, &is_dir);
		if (it->exists && so->git && explain_git(so, it, is_dir, err) < 0)
			goto out;
		if (it->sent && r.sel) {
			const char *why = ctxd_select_explain(r.sel, it->path, strlen(it->path));

			if (why && !(it->read_by = strdup(why))) {
				ctxd_error_set(err, "out of memory");
				goto out;
			}
		}
		if (mi != SIZE_MAX) {
			size_t of = ctxd_manifest_duplicate_of(r.m, mi);

			if (of != CTXD_MANIFEST_NONE) {
				const struct ctxd_entry *first = ctxd_manifest_entry(r.m, of);

				it->duplicate_of = strndup(first->path, first->path_len);
				if (!it->duplicate_of) {
					ctxd_error_set(err, "out of memory");
					goto out;
				}
			}
		}
	}
	rc = 0;
out:
	free(r.manifest_index);
	free(r.via_len);
	ctxd_manifest_destroy(r.m);
	if (rc < 0)
		ctxd_explain_clear(out);
	return rc;
}

void ctxd_explain_clear(struct ctxd_explain *x)
{
	for (size_t i = 0; i < x->n; i++) {
		struct ctxd_explain_item *it = &x->items[i];

		free(it->path);
		free(it->via);
		free(it->rule_file);
		free(it->rule_text);
		free(it->read_by);
		free(it->duplicate_of);
		free(it->git_rule_file);
		free(it->git_rule_pattern);
	}
	free(x->items);
	x->items = NULL;
	x->n = 0;
}
