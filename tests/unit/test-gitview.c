/* gitview and gitignore against real repositories built with git, which is
 * the oracle: `git check-ignore -v --no-index` for the deciding rule, `git
 * ls-files` and `git check-ignore` for the state. Subdirectory contexts,
 * submodules, linked worktrees, nested repositories, no repository,
 * info/exclude, core.excludesFile and negations. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctxd/gitignore.h"
#include "ctxd/gitview.h"
#include "testutil.h"

static char *home;

/* A repository in a fresh directory, with one commit of what `add` adds. */
static char *repo(void)
{
	char *d = tu_mkdtemp();

	tu_sh("git init -q '%s'", d);
	return d;
}

static struct ctxd_gitview *open_gv(const char *dir)
{
	struct ctxd_gitview *gv;
	struct ctxd_error err;
	char rp[PATH_MAX];

	assert_non_null(realpath(dir, rp));
	if (ctxd_gitview_open(rp, &gv, &err) < 0)
		fail_msg("open %s: %s", dir, err.msg);
	return gv;
}

static enum ctxd_git_state state(struct ctxd_gitview *gv, const char *path)
{
	size_t len = strlen(path);
	bool dir = len && path[len - 1] == '/';
	enum ctxd_git_state s;
	struct ctxd_error err;

	if (ctxd_gitview_state(gv, path, len - dir, dir, &s, &err) < 0)
		fail_msg("state %s: %s", path, err.msg);
	return s;
}

static const char *state_name(enum ctxd_git_state s)
{
	static const char *const n[] = {"none", "tracked", "untracked", "ignored"};

	return n[s];
}

static void expect_state(struct ctxd_gitview *gv, const char *path, enum ctxd_git_state want)
{
	enum ctxd_git_state got = state(gv, path);

	if (got != want)
		fail_msg("%s: %s, expected %s", path, state_name(got), state_name(want));
}

/* rule() as "FILE:LINE:PATTERN" with FILE made real, or "" when none. */
static void rule_text(struct ctxd_gitview *gv, const char *path, char *out, size_t n)
{
	size_t len = strlen(path);
	bool dir = len && path[len - 1] == '/';
	struct ctxd_git_rule r;
	struct ctxd_error err;
	char rp[PATH_MAX];
	int rc = ctxd_gitview_rule(gv, path, len - dir, dir, &r, &err);

	if (rc < 0)
		fail_msg("rule %s: %s", path, err.msg);
	if (rc == 0) {
		*out = '\0';
		return;
	}
	if (!r.file) {
		snprintf(out, n, "-:0:%s", r.pattern);
		return;
	}
	assert_non_null(realpath(r.file, rp));
	snprintf(out, n, "%s:%u:%s", rp, r.line, r.pattern);
}

/* A path as git's commands take it: a trailing '/' would be part of the
 * name they match. */
static int gitlen(const char *path)
{
	size_t len = strlen(path);

	return (int)(len && path[len - 1] == '/' ? len - 1 : len);
}

/* What `git check-ignore -v --no-index` says for path, in the same form;
 * git names pattern files relative to the work tree's root. */
static void git_rule(const char *ctx, const char *path, char *out, size_t n)
{
	char *cmd, line[PATH_MAX * 2], *tab, *c1, *c2, rp[PATH_MAX], *src, top[PATH_MAX];
	FILE *p;

	assert_true(asprintf(&cmd, "git -C '%s' rev-parse --show-toplevel", ctx) >= 0);
	p = popen(cmd, "r");
	assert_non_null(fgets(top, sizeof top, p));
	pclose(p);
	free(cmd);
	top[strcspn(top, "\n")] = '\0';
	assert_true(asprintf(&cmd, "cd '%s' && git check-ignore -v -n --no-index -- '%.*s'", ctx,
			     gitlen(path), path) >= 0);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(line, sizeof line, p))
		fail_msg("no output from %s", cmd);
	pclose(p);
	free(cmd);
	*out = '\0';
	tab = strchr(line, '\t');
	assert_non_null(tab);
	*tab = '\0';
	c1 = strchr(line, ':');
	assert_non_null(c1);
	c2 = strchr(c1 + 1, ':');
	assert_non_null(c2);
	if (c1 == line || c2[1] == '!')
		return; /* not matched, or re-included */
	*c1 = '\0';
	if (line[0] == '/') {
		src = line;
	} else {
		assert_true(asprintf(&src, "%s/%s", top, line) >= 0);
	}
	if (!realpath(src, rp))
		fail_msg("git named %s", src);
	if (src != line)
		free(src);
	*c2 = '\0';
	snprintf(out, n, "%s:%s:%s", rp, c1 + 1, c2 + 1);
}

/* git's state of a path: ls-files, then check-ignore (which honours the
 * index), else untracked. */
static enum ctxd_git_state git_state(const char *ctx, const char *path)
{
	char *cmd, buf[16];
	FILE *p;
	size_t n;
	int rc;

	assert_true(asprintf(&cmd, "cd '%s' && git ls-files -- '%.*s' | head -c 1", ctx, gitlen(path),
			     path) >= 0);
	p = popen(cmd, "r");
	n = fread(buf, 1, sizeof buf, p);
	pclose(p);
	free(cmd);
	if (n)
		return CTXD_GIT_TRACKED;
	assert_true(asprintf(&cmd, "cd '%s' && git check-ignore -q -- '%.*s'", ctx, gitlen(path),
			     path) >= 0);
	rc = system(cmd);
	free(cmd);
	return WEXITSTATUS(rc) == 0 ? CTXD_GIT_IGNORED : CTXD_GIT_UNTRACKED;
}

static void compare_with_git(const char *ctx, const char *const *paths)
{
	struct ctxd_gitview *gv = open_gv(ctx);

	for (size_t i = 0; paths[i]; i++) {
		char got[PATH_MAX * 2], want[PATH_MAX * 2];
		enum ctxd_git_state gs = git_state(ctx, paths[i]), s = state(gv, paths[i]);

		if (s != gs)
			fail_msg("%s: state %s, git says %s", paths[i], state_name(s), state_name(gs));
		rule_text(gv, paths[i], got, sizeof got);
		git_rule(ctx, paths[i], want, sizeof want);
		if (strcmp(got, want) != 0)
			fail_msg("%s: rule '%s', git check-ignore -v says '%s'", paths[i], got, want);
	}
	ctxd_gitview_destroy(gv);
}

/* A tree exercising the pattern language: every path in the list exists. */
static char *pattern_repo(void)
{
	char *d = repo();

	tu_sh("cd '%s' && mkdir -p src/gen build/out logs keep sub/deep a/b/c/d docs vendor/x 'sp ace' "
	   "'br[ack]' lib/Foo && "
	   "for f in src/a.c src/a.o src/gen/x.c build/out/b logs/x.log logs/keep.log "
	   "keep/f sub/deep/z.tmp sub/deep/y.tmp sub/q.tmp untracked.txt a/b/c/d/e.txt a/x.txt "
	   "docs/readme.md docs/notes.bak vendor/x/v.go 'sp ace/f ' 'sp ace/g' 'br[ack]/h' "
	   "'#hash' '!bang' lib/Foo/bar.class lib/keep.class top.swp; do echo x > \"$f\"; done",
	   d);
	tu_sh("cd '%s' && printf '%%s\\n' '# comment' 'build/' '*.o' 'logs/*' '!logs/keep.log' '*.tmp' "
	   "'/src/gen/' 'a/**/e.txt' '**/notes.*' 'vendor/**' 'f\\ ' '\\#hash' '\\!bang' "
	   "'lib/**/*.class' '!lib/keep.class' 'br\\[ack\\]/' 'trailing   ' > .gitignore && "
	   "printf '!z.tmp\\n' > sub/.gitignore && printf '*.md\\n!deep/\\n' > sub/../docs/.gitignore && "
	   "printf 'keep/\\n' >> .git/info/exclude && printf '*.swp\\n' > '%s/global-ignore' && "
	   "git config core.excludesFile '%s/global-ignore' && "
	   "git add src/a.c .gitignore sub/.gitignore docs/.gitignore && git add -f build/out/b && "
	   "git -c user.name=t -c user.email=t@t commit -qm init",
	   d, home, home);
	return d;
}

static const char *const pattern_paths[] = {
	"src/", "src/a.c", "src/a.o", "src/gen/", "src/gen/x.c", "build/", "build/out/",
	"build/out/b", "logs/", "logs/x.log", "logs/keep.log", "keep/", "keep/f", "sub/deep/z.tmp",
	"sub/deep/y.tmp", "sub/q.tmp", "untracked.txt", "a/b/c/d/e.txt", "a/x.txt",
	"docs/readme.md", "docs/notes.bak", "vendor/x/v.go", "vendor/", "sp ace/f ", "sp ace/g",
	"br[ack]/", "br[ack]/h", "#hash", "!bang", "lib/Foo/bar.class", "lib/keep.class", "top.swp",
	".gitignore", NULL,
};

static void test_rules_match_git(void **state)
{
	char *d = pattern_repo();

	(void)state;
	compare_with_git(d, pattern_paths);
	tu_rmtree(d);
	free(d);
}

/* The context is a subdirectory: paths are relative to it, rules come from
 * the levels above too, and an ignored context ignores everything. */
static void test_subdirectory_context(void **state)
{
	static const char *const paths[] = {
		"gen/", "gen/x.c", "a.c", "a.o", NULL,
	};
	char *d = pattern_repo(), *sub;
	struct ctxd_gitview *gv;
	char got[PATH_MAX * 2];

	(void)state;
	assert_true(asprintf(&sub, "%s/src", d) >= 0);
	compare_with_git(sub, paths);
	free(sub);
	/* an untracked, ignored context: */
	assert_true(asprintf(&sub, "%s/logs", d) >= 0);
	gv = open_gv(sub);
	expect_state(gv, "x.log", CTXD_GIT_IGNORED);
	expect_state(gv, "keep.log", CTXD_GIT_UNTRACKED);
	ctxd_gitview_destroy(gv);
	free(sub);
	assert_true(asprintf(&sub, "%s/vendor/x", d) >= 0);
	gv = open_gv(sub);
	expect_state(gv, "v.go", CTXD_GIT_IGNORED);
	rule_text(gv, "v.go", got, sizeof got);
	assert_non_null(strstr(got, "/.gitignore:10:vendor/**"));
	ctxd_gitview_destroy(gv);
	free(sub);
	tu_rmtree(d);
	free(d);
}

static void test_tracked_wins_and_dirs(void **state)
{
	char *d = pattern_repo();
	struct ctxd_gitview *gv = open_gv(d);

	(void)state;
	/* force-added under an ignored directory: tracked, so the walker goes in */
	expect_state(gv, "build/", CTXD_GIT_TRACKED);
	expect_state(gv, "build/out/b", CTXD_GIT_TRACKED);
	/* a new file next to it is ignored by the directory's rule */
	tu_sh("echo n > '%s/build/out/new'", d);
	expect_state(gv, "build/out/new", CTXD_GIT_IGNORED);
	/* nothing tracked inside: skippable whole */
	expect_state(gv, "keep/", CTXD_GIT_IGNORED);
	expect_state(gv, "logs/", CTXD_GIT_UNTRACKED);
	expect_state(gv, ".git/", CTXD_GIT_IGNORED);
	/* what is inside .git is git's own too, decided by the .git directory */
	expect_state(gv, ".git/HEAD", CTXD_GIT_IGNORED);
	expect_state(gv, ".git/refs/", CTXD_GIT_IGNORED);
	{
		struct ctxd_git_rule r;
		struct ctxd_error err;

		assert_int_equal(ctxd_gitview_rule(gv, ".git/refs/heads", 15, true, &r, &err), 1);
		assert_null(r.file);
		assert_string_equal(r.pattern, ".git");
		assert_string_equal(r.matched, ".git");
	}
	expect_state(gv, "src/.gitx", CTXD_GIT_UNTRACKED);
	expect_state(gv, "src/a.", CTXD_GIT_UNTRACKED); /* a prefix of a tracked path is not one */
	expect_state(gv, "sr/", CTXD_GIT_UNTRACKED);
	ctxd_gitview_destroy(gv);
	tu_rmtree(d);
	free(d);
}

static void test_no_repository(void **state)
{
	char *d = tu_mkdtemp();
	struct ctxd_gitview *gv;
	struct ctxd_git_rule r;
	struct ctxd_error err;

	(void)state;
	tu_write(d, "f.o", "x");
	tu_write(d, ".gitignore", "*.o\n");
	/* no .git entry above: libgit2 is not even asked */
	gv = open_gv(d);
	assert_null(ctxd_gitview_workdir(gv));
	expect_state(gv, "f.o", CTXD_GIT_NONE);
	expect_state(gv, ".git/", CTXD_GIT_NONE);
	assert_int_equal(ctxd_gitview_rule(gv, "f.o", 3, false, &r, &err), 0);
	ctxd_gitview_destroy(gv);
	tu_rmtree(d);
	free(d);
}

static void test_submodule(void **state)
{
	char *outer = repo(), *inner = repo(), *sub;
	struct ctxd_gitview *gv;
	char got[PATH_MAX * 2];

	(void)state;
	tu_sh("cd '%s' && echo x > lib.c && echo '*.log' > .gitignore && git add . && "
	   "git -c user.name=t -c user.email=t@t commit -qm i", inner);
	tu_sh("cd '%s' && echo '*.tmp' > .gitignore && echo x > top.c && git add . && "
	   "git -c protocol.file.allow=always submodule --quiet add '%s' mod && "
	   "git -c user.name=t -c user.email=t@t commit -qm i && "
	   "echo x > mod/new.c && echo x > mod/run.log && echo x > mod/a.tmp", outer, inner);
	gv = open_gv(outer);
	expect_state(gv, "mod/", CTXD_GIT_TRACKED);
	expect_state(gv, "mod/lib.c", CTXD_GIT_TRACKED);    /* the submodule tracks it */
	expect_state(gv, "mod/new.c", CTXD_GIT_UNTRACKED);
	expect_state(gv, "mod/run.log", CTXD_GIT_IGNORED);  /* by the submodule's rules */
	expect_state(gv, "mod/a.tmp", CTXD_GIT_UNTRACKED);  /* not by the superproject's */
	expect_state(gv, "mod/.git", CTXD_GIT_IGNORED);     /* a gitfile */
	rule_text(gv, "mod/run.log", got, sizeof got);
	assert_non_null(strstr(got, "/mod/.gitignore:1:*.log"));
	ctxd_gitview_destroy(gv);
	/* a context inside the submodule is the submodule's */
	assert_true(asprintf(&sub, "%s/mod", outer) >= 0);
	gv = open_gv(sub);
	assert_non_null(strstr(ctxd_gitview_workdir(gv), "/mod"));
	expect_state(gv, "lib.c", CTXD_GIT_TRACKED);
	expect_state(gv, "run.log", CTXD_GIT_IGNORED);
	ctxd_gitview_destroy(gv);
	free(sub);
	/* an uninitialised submodule directory is nobody's business */
	tu_sh("cd '%s' && git submodule --quiet deinit -f mod && mkdir -p mod && echo x > mod/stray",
	   outer);
	gv = open_gv(outer);
	expect_state(gv, "mod/", CTXD_GIT_TRACKED);
	expect_state(gv, "mod/stray", CTXD_GIT_NONE);
	ctxd_gitview_destroy(gv);
	tu_rmtree(outer);
	tu_rmtree(inner);
	free(outer);
	free(inner);
}

static void test_worktree(void **state)
{
	static const char *const paths[] = {"a.c", "b.o", "new.c", "d/", "d/e.o", NULL};
	char *d = repo(), *wt;

	(void)state;
	assert_true(asprintf(&wt, "%s-wt", d) >= 0);
	tu_sh("cd '%s' && echo '*.o' > .gitignore && echo x > a.c && git add . && "
	   "git -c user.name=t -c user.email=t@t commit -qm i && "
	   "git worktree add -q '%s' && cd '%s' && echo x > b.o && echo x > new.c && mkdir d && "
	   "echo x > d/e.o && echo 'new.c' >> '%s/.git/info/exclude'", d, wt, wt, d);
	compare_with_git(wt, paths);
	{
		struct ctxd_gitview *gv = open_gv(wt);

		expect_state(gv, ".git", CTXD_GIT_IGNORED); /* the worktree's gitfile */
		expect_state(gv, "new.c", CTXD_GIT_IGNORED); /* the common info/exclude */
		ctxd_gitview_destroy(gv);
	}
	tu_rmtree(wt);
	tu_rmtree(d);
	free(wt);
	free(d);
}

/* git status does not look inside a nested repository: its contents take
 * the nested root's state, whatever the outer rules say about them. */
static void test_nested_repository(void **state)
{
	char *d = repo();
	struct ctxd_gitview *gv;
	char got[PATH_MAX * 2];

	(void)state;
	tu_sh("cd '%s' && printf '*.log\\nskip/\\n' > .gitignore && git add . && "
	   "git -c user.name=t -c user.email=t@t commit -qm i && "
	   "git init -q nested && echo x > nested/a.c && echo x > nested/b.log && "
	   "mkdir -p nested/deep && echo x > nested/deep/c.log && "
	   "git init -q skip && echo x > skip/f && mkdir plain && echo x > plain/p.log", d);
	tu_sh("cd '%s' && git status --porcelain --ignored > status.txt", d);
	gv = open_gv(d);
	expect_state(gv, "nested/", CTXD_GIT_UNTRACKED);
	expect_state(gv, "nested/a.c", CTXD_GIT_UNTRACKED);
	expect_state(gv, "nested/b.log", CTXD_GIT_UNTRACKED);
	expect_state(gv, "nested/deep/c.log", CTXD_GIT_UNTRACKED);
	expect_state(gv, "nested/.git/", CTXD_GIT_IGNORED);
	expect_state(gv, "skip/", CTXD_GIT_IGNORED);
	expect_state(gv, "skip/f", CTXD_GIT_IGNORED);
	expect_state(gv, "plain/p.log", CTXD_GIT_IGNORED);
	rule_text(gv, "skip/f", got, sizeof got);
	assert_non_null(strstr(got, "/.gitignore:2:skip/"));
	rule_text(gv, "nested/b.log", got, sizeof got);
	assert_string_equal(got, "");
	ctxd_gitview_destroy(gv);
	{
		/* and git agrees: nested/ is one untracked entry, skip/ one ignored */
		char *st, *path;
		size_t n;

		assert_true(asprintf(&path, "%s/status.txt", d) >= 0);
		st = tu_read(path, &n);
		assert_non_null(strstr(st, "?? nested/\n"));
		assert_non_null(strstr(st, "!! skip/\n"));
		assert_null(strstr(st, "b.log"));
		free(st);
		free(path);
	}
	tu_rmtree(d);
	free(d);
}

/* An ignored directory is decided without being opened: mode 000 and
 * queried by another user. */
static void test_ignored_dir_not_opened(void **state)
{
	char *d = repo();
	pid_t pid;
	int status;

	(void)state;
	if (geteuid() != 0)
		skip();
	tu_sh("cd '%s' && echo 'secret/' > .gitignore && git add . && "
	   "git -c user.name=t -c user.email=t@t commit -qm i && mkdir -p secret/in other && "
	   "echo x > secret/in/f && chown -R 65534:65534 '%s' && chmod 755 '%s' && chmod 000 secret",
	   d, d, d);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ctxd_gitview *gv;
		struct ctxd_error err;
		enum ctxd_git_state s1, s2;

		if (setgid(65534) || setuid(65534))
			_exit(3);
		setenv("HOME", d, 1);
		if (ctxd_gitview_open(d, &gv, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			_exit(4);
		}
		if (ctxd_gitview_state(gv, "secret", 6, true, &s1, &err) < 0 ||
		    ctxd_gitview_state(gv, "other", 5, true, &s2, &err) < 0)
			_exit(5);
		_exit(s1 == CTXD_GIT_IGNORED && s2 == CTXD_GIT_UNTRACKED ? 0 : 6);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	tu_sh("chmod 755 '%s/secret'", d);
	tu_rmtree(d);
	free(d);
}

static void test_corrupt_index_is_an_error(void **state)
{
	char *d = repo();
	struct ctxd_gitview *gv = NULL;
	struct ctxd_error err;
	char rp[PATH_MAX];

	(void)state;
	tu_sh("cd '%s' && echo x > a && git add a && printf 'DIRCgarbage' > .git/index", d);
	assert_non_null(realpath(d, rp));
	assert_int_equal(ctxd_gitview_open(rp, &gv, &err), -1);
	assert_null(gv);
	assert_non_null(strstr(err.msg, "git:"));
	tu_rmtree(d);
	free(d);
}

static void test_wildmatch(void **state)
{
	static const struct {
		const char *pat, *text;
		bool match;
	} t[] = {
		{"foo", "foo", true}, {"foo", "bar", false}, {"???", "foo", true}, {"??", "foo", false},
		{"*", "foo", true}, {"f*", "foo", true}, {"*f", "foo", false}, {"*foo*", "foo", true},
		{"*ob*a*r*", "foobar", true}, {"\\*", "*", true}, {"\\*", "x", false},
		{"[ab]", "a", true}, {"[!ab]", "a", false}, {"[^ab]", "c", true}, {"[a-c]", "b", true},
		{"[]]", "]", true}, {"[]-]", "-", true}, {"[[:alpha:]]", "x", true},
		{"[[:digit:]]", "x", false}, {"[[:bogus:]]", "x", false}, {"[a-", "a", false},
		{"*", "a/b", false}, {"a/*", "a/b", true}, {"a/*", "a/b/c", false},
		{"**", "a/b/c", true}, {"a/**", "a/b/c", true}, {"a/**/c", "a/c", true},
		{"a/**/c", "a/b/x/c", true}, {"**/c", "c", true}, {"**/c", "a/b/c", true},
		{"a**", "a/b", false}, {"a?b", "a/b", false}, {"a[/]b", "a/b", false},
		{"foo/*/bar", "foo/x/bar", true}, {"foo/*/bar", "foo/x/y/bar", false},
		{"-*-*-*-*-*-*-12-*-*-*-m-*-*-*", "-adobe-courier-bold-o-normal--12-120-75-75-m-70-iso8859-1", true},
		{"-*-*-*-*-*-*-12-*-*-*-m-*-*-*", "-adobe-courier-bold-o-normal--12-120-75-75-X-70-iso8859-1", false},
		{"**/*a*b*g*n*t", "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txtz", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (ctxd_gitignore_wildmatch(t[i].pat, t[i].text) != t[i].match)
			fail_msg("wildmatch('%s', '%s') should be %d", t[i].pat, t[i].text, t[i].match);
	{
		/* backtracking is bounded: this gives up (no match) in well
		 * under a second where plain backtracking takes years */
		char pat[400] = "", text[400] = "";
		time_t t0 = time(NULL);

		for (int i = 0; i < 60; i++)
			strcat(pat, "**/*");
		strcat(pat, "/x");
		for (int i = 0; i < 90; i++)
			strcat(text, "a/");
		strcat(text, "b");
		assert_false(ctxd_gitignore_wildmatch(pat, text));
		assert_true(time(NULL) - t0 < 5);
	}
}

static void test_gitignore_parse(void **state)
{
	static const char data[] = "\xef\xbb\xbf" "a\r\n# c\n\n\\#h\nb  \nc\\ \n!d/\ne\0f\ng";
	struct ctxd_gitignore *gi;
	struct ctxd_gitignore_rule r;
	struct ctxd_error err;

	(void)state;
	assert_int_equal(ctxd_gitignore_parse(data, sizeof data - 1, "F", "", &gi, &err), 0);
	assert_int_equal(ctxd_gitignore_match(gi, "x/a", 3, false), 0);
	ctxd_gitignore_rule(gi, 0, &r);
	assert_string_equal(r.text, "a");
	assert_int_equal(r.line, 1);
	assert_int_equal(ctxd_gitignore_match(gi, "#h", 2, false), 1);
	ctxd_gitignore_rule(gi, 1, &r);
	assert_int_equal(r.line, 4);
	assert_int_equal(ctxd_gitignore_match(gi, "b", 1, false), 2);
	assert_int_equal(ctxd_gitignore_match(gi, "b  ", 3, false), -1);
	assert_int_equal(ctxd_gitignore_match(gi, "c ", 2, false), 3);
	assert_int_equal(ctxd_gitignore_match(gi, "d", 1, false), -1);
	assert_int_equal(ctxd_gitignore_match(gi, "d", 1, true), 4);
	ctxd_gitignore_rule(gi, 4, &r);
	assert_true(r.negative);
	assert_string_equal(r.text, "!d/");
	assert_int_equal(ctxd_gitignore_match(gi, "e", 1, false), 5); /* a NUL ends the line */
	assert_int_equal(ctxd_gitignore_match(gi, "g", 1, false), 6); /* no final newline */
	ctxd_gitignore_destroy(gi);
	/* a pattern file in a subdirectory anchors to it */
	assert_int_equal(ctxd_gitignore_parse("/x\ny/z\n", 7, "F", "sub", &gi, &err), 0);
	assert_int_equal(ctxd_gitignore_match(gi, "sub/x", 5, false), 0);
	assert_int_equal(ctxd_gitignore_match(gi, "x", 1, false), -1);
	assert_int_equal(ctxd_gitignore_match(gi, "sub/y/z", 7, false), 1);
	assert_int_equal(ctxd_gitignore_match(gi, "sub/q/y/z", 9, false), -1);
	ctxd_gitignore_destroy(gi);
}

static void test_filter_names(void **state)
{
	enum ctxd_git_filter f;

	(void)state;
	assert_int_equal(ctxd_git_filter_parse("untracked", &f), 0);
	assert_int_equal(f, CTXD_GIT_FILTER_UNTRACKED);
	assert_string_equal(ctxd_git_filter_name(f), "untracked");
	assert_int_equal(ctxd_git_filter_parse("Ignored", &f), -1);
	assert_true(ctxd_git_filter_drops(CTXD_GIT_FILTER_IGNORED, CTXD_GIT_IGNORED));
	assert_false(ctxd_git_filter_drops(CTXD_GIT_FILTER_IGNORED, CTXD_GIT_UNTRACKED));
	assert_true(ctxd_git_filter_drops(CTXD_GIT_FILTER_UNTRACKED, CTXD_GIT_UNTRACKED));
	assert_false(ctxd_git_filter_drops(CTXD_GIT_FILTER_UNTRACKED, CTXD_GIT_TRACKED));
	assert_false(ctxd_git_filter_drops(CTXD_GIT_FILTER_UNTRACKED, CTXD_GIT_NONE));
	assert_false(ctxd_git_filter_drops(CTXD_GIT_FILTER_OFF, CTXD_GIT_IGNORED));
	{
		struct ctxd_git_savings sv = {0};

		ctxd_git_savings_add(&sv, CTXD_GIT_IGNORED, 10);
		ctxd_git_savings_add(&sv, CTXD_GIT_IGNORED, 5);
		ctxd_git_savings_add(&sv, CTXD_GIT_UNTRACKED, 7);
		ctxd_git_savings_add(&sv, CTXD_GIT_TRACKED, 100);
		ctxd_git_savings_add(&sv, CTXD_GIT_NONE, 100);
		assert_int_equal(sv.ignored_files, 2);
		assert_int_equal(sv.ignored_bytes, 15);
		assert_int_equal(sv.untracked_files, 1);
		assert_int_equal(sv.untracked_bytes, 7);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wildmatch),
		cmocka_unit_test(test_gitignore_parse),
		cmocka_unit_test(test_filter_names),
		cmocka_unit_test(test_rules_match_git),
		cmocka_unit_test(test_subdirectory_context),
		cmocka_unit_test(test_tracked_wins_and_dirs),
		cmocka_unit_test(test_no_repository),
		cmocka_unit_test(test_submodule),
		cmocka_unit_test(test_worktree),
		cmocka_unit_test(test_nested_repository),
		cmocka_unit_test(test_ignored_dir_not_opened),
		cmocka_unit_test(test_corrupt_index_is_an_error),
	};
	int rc;

	/* the user's own git configuration must not leak in */
	home = tu_mkdtemp();
	setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	unsetenv("GIT_DIR");
	unsetenv("GIT_WORK_TREE");
	rc = TU_RUN("gitview", tests);
	tu_rmtree(home);
	free(home);
	return rc;
}
