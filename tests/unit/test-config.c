/* The project config file: the format, every error with FILE:LINE, and the
 * precedence flag > CTXD_GIT_FILTER > file > default. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctxd/config.h"
#include "testutil.h"

static void test_parse(void **state)
{
	static const char data[] = "# project defaults\n\n  git-filter = untracked\r\n"
				   "prune=off\n\t# indented comment\ndedup =  true  \n";
	struct ctxd_config cfg;
	struct ctxd_error err;

	(void)state;
	ctxd_config_init(&cfg);
	assert_int_equal(cfg.git_filter, CTXD_GIT_FILTER_OFF);
	assert_true(cfg.prune);
	assert_false(cfg.dedup);
	assert_int_equal(ctxd_config_parse(&cfg, data, sizeof data - 1, "c.conf", &err), 0);
	assert_int_equal(cfg.git_filter, CTXD_GIT_FILTER_UNTRACKED);
	assert_int_equal(cfg.git_filter_line, 3);
	assert_false(cfg.prune);
	assert_int_equal(cfg.prune_line, 4);
	assert_true(cfg.dedup);
	assert_int_equal(cfg.dedup_line, 6);
	assert_string_equal(cfg.file, "c.conf");
	ctxd_config_free(&cfg);
}

static void test_errors(void **state)
{
	static const struct {
		const char *data, *msg;
	} t[] = {
		{"colour = red\n", "c.conf:1: unknown key 'colour' (known: git-filter, prune, dedup)"},
		{"\n\ngit-filter = all\n", "c.conf:3: git-filter: 'all' is not one of off, ignored, untracked"},
		{"prune = yes\n", "c.conf:1: prune: 'yes' is not one of dockerfile, off"},
		{"dedup = 1\n", "c.conf:1: dedup: '1' is not one of true, false"},
		{"dedup = TRUE\n", "c.conf:1: dedup: 'TRUE' is not one of true, false"},
		{"git-filter\n", "c.conf:1: expected 'key = value', got 'git-filter'"},
		{"= off\n", "c.conf:1: a key is missing before '='"},
		{"prune =\n", "c.conf:1: prune: a value is missing after '='"},
		{"dedup = true\ndedup = false\n", "c.conf:2: dedup is already set on line 1"},
		{"dedup = true # no trailing comments\n",
		 "c.conf:1: dedup: 'true # no trailing comments' is not one of true, false"},
		{"git-filter = off\0x\n", "c.conf:1: a NUL byte in the line"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct ctxd_config cfg;
		struct ctxd_error err;
		size_t len = strlen(t[i].data);

		if (i == sizeof t / sizeof t[0] - 1)
			len = 19;
		ctxd_config_init(&cfg);
		assert_int_equal(ctxd_config_parse(&cfg, t[i].data, len, "c.conf", &err), -1);
		assert_string_equal(err.msg, t[i].msg);
		ctxd_config_free(&cfg);
	}
}

static void test_load(void **state)
{
	char *d = tu_mkdtemp(), *p;
	struct ctxd_config cfg;
	struct ctxd_error err;
	bool found;

	(void)state;
	ctxd_config_init(&cfg);
	assert_int_equal(ctxd_config_load(&cfg, d, &found, &err), 0);
	assert_false(found);
	assert_null(cfg.file);
	tu_write(d, ".ctxd.conf", "git-filter = ignored\n");
	assert_int_equal(ctxd_config_load(&cfg, d, &found, &err), 0);
	assert_true(found);
	assert_int_equal(cfg.git_filter, CTXD_GIT_FILTER_IGNORED);
	assert_non_null(strstr(cfg.file, "/.ctxd.conf"));
	ctxd_config_free(&cfg);
	/* a bad line names the file's path */
	tu_write(d, ".ctxd.conf", "\nbudget = 3\n");
	ctxd_config_init(&cfg);
	assert_int_equal(ctxd_config_load(&cfg, d, &found, &err), -1);
	assert_non_null(strstr(err.msg, "/.ctxd.conf:2: unknown key 'budget'"));
	ctxd_config_free(&cfg);
	/* a directory in its place cannot be read */
	assert_true(asprintf(&p, "%s/.ctxd.conf", d) >= 0);
	remove(p);
	mkdir(p, 0755);
	ctxd_config_init(&cfg);
	assert_int_equal(ctxd_config_load(&cfg, d, &found, &err), -1);
	assert_non_null(strstr(err.msg, "/.ctxd.conf: Is a directory"));
	ctxd_config_free(&cfg);
	free(p);
	tu_rmtree(d);
	free(d);
}

static void test_precedence(void **state)
{
	struct ctxd_config cfg;
	struct ctxd_error err;
	enum ctxd_git_filter f;
	enum ctxd_config_source src;

	(void)state;
	ctxd_config_init(&cfg);
	assert_int_equal(ctxd_config_git_filter(&cfg, NULL, NULL, &f, &src, &err), 0);
	assert_int_equal(f, CTXD_GIT_FILTER_OFF);
	assert_int_equal(src, CTXD_SOURCE_DEFAULT);
	assert_int_equal(ctxd_config_git_filter(NULL, NULL, "", &f, &src, &err), 0);
	assert_int_equal(src, CTXD_SOURCE_DEFAULT);
	assert_int_equal(ctxd_config_parse(&cfg, "git-filter=ignored", 18, "c", &err), 0);
	assert_int_equal(ctxd_config_git_filter(&cfg, NULL, NULL, &f, &src, &err), 0);
	assert_int_equal(f, CTXD_GIT_FILTER_IGNORED);
	assert_int_equal(src, CTXD_SOURCE_FILE);
	assert_int_equal(ctxd_config_git_filter(&cfg, NULL, "untracked", &f, &src, &err), 0);
	assert_int_equal(f, CTXD_GIT_FILTER_UNTRACKED);
	assert_int_equal(src, CTXD_SOURCE_ENV);
	assert_int_equal(ctxd_config_git_filter(&cfg, "off", "untracked", &f, &src, &err), 0);
	assert_int_equal(f, CTXD_GIT_FILTER_OFF);
	assert_int_equal(src, CTXD_SOURCE_FLAG);
	assert_int_equal(ctxd_config_git_filter(&cfg, NULL, "yes", &f, &src, &err), -1);
	assert_string_equal(err.msg, "CTXD_GIT_FILTER: 'yes' is not one of off, ignored, untracked");
	assert_int_equal(ctxd_config_git_filter(&cfg, "on", NULL, &f, &src, &err), -1);
	assert_string_equal(err.msg, "--git-filter: 'on' is not one of off, ignored, untracked");
	ctxd_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_precedence),
	};

	return TU_RUN("config", tests);
}
