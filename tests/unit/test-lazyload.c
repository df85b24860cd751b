/* Opening a library on first use: every function found, or a message
 * naming the library and no half-filled table. */
#include <stdlib.h>
#include <string.h>

#include "ctxd/lazyload.h"
#include "testutil.h"

static size_t (*my_strlen)(const char *);
static int (*my_abs)(int);

static void test_loads_default_file(void **state)
{
	const struct ctxd_lazy_sym syms[] = {{"strlen", &my_strlen}, {"abs", &my_abs}};
	char error[256] = "";

	(void)state;
	unsetenv("CTXD_TEST_LIB");
	my_strlen = NULL;
	assert_int_equal(ctxd_lazy_load("libc", "CTXD_TEST_LIB", "libc.so.6", syms, 2, error,
					sizeof error), 0);
	assert_int_equal(my_strlen("four"), 4);
	assert_int_equal(my_abs(-3), 3);
	assert_string_equal(error, "");
}

static void test_env_names_another_file(void **state)
{
	const struct ctxd_lazy_sym syms[] = {{"strlen", &my_strlen}};
	char error[256] = "";

	(void)state;
	my_strlen = NULL;
	setenv("CTXD_TEST_LIB", "libc.so.6", 1);
	assert_int_equal(ctxd_lazy_load("libc", "CTXD_TEST_LIB", "/nonexistent/libc.so", syms, 1,
					error, sizeof error), 0);
	assert_int_equal(my_strlen("ab"), 2);
	/* empty is unset */
	setenv("CTXD_TEST_LIB", "", 1);
	assert_int_equal(ctxd_lazy_load("libc", "CTXD_TEST_LIB", "libc.so.6", syms, 1, error,
					sizeof error), 0);
	unsetenv("CTXD_TEST_LIB");
}

static void test_missing_file(void **state)
{
	const struct ctxd_lazy_sym syms[] = {{"strlen", &my_strlen}};
	char error[256] = "";

	(void)state;
	setenv("CTXD_TEST_LIB", "/nonexistent/libc.so.6", 1);
	assert_int_equal(ctxd_lazy_load("libthing", "CTXD_TEST_LIB", "libc.so.6", syms, 1, error,
					sizeof error), -1);
	unsetenv("CTXD_TEST_LIB");
	assert_non_null(strstr(error, "cannot load libthing: "));
	assert_non_null(strstr(error, "/nonexistent/libc.so.6"));
}

static void test_missing_function_fills_nothing(void **state)
{
	const struct ctxd_lazy_sym syms[] = {
		{"strlen", &my_strlen}, {"abs", &my_abs}, {"ctxd_no_such_function", &my_strlen}};
	char error[256] = "";

	(void)state;
	unsetenv("CTXD_TEST_LIB");
	assert_int_equal(ctxd_lazy_load("libc", "CTXD_TEST_LIB", "libc.so.6", syms, 3, error,
					sizeof error), -1);
	assert_null(my_strlen);
	assert_null(my_abs);
	assert_non_null(strstr(error, "cannot load libc: "));
	assert_non_null(strstr(error, "libc.so.6"));
	assert_non_null(strstr(error, "ctxd_no_such_function"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads_default_file),
		cmocka_unit_test(test_env_names_another_file),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_missing_function_fills_nothing),
	};

	return TU_RUN("lazyload", tests);
}
