/* The relay: bytes both ways through a child, a fresh child per connection,
 * the child's stderr kept, strangers turned away, no deadlock when both
 * directions are full at once. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctxd/relay.h"
#include "testutil.h"

static int dial(struct ctxd_relay *r)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	const char *name = ctxd_relay_name(r);
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memcpy(a.sun_path + 1, name, len);
	assert_int_equal(connect(fd, (struct sockaddr *)&a,
				 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)), 0);
	return fd;
}

/* Everything fd sends until its end (NUL-terminated). */
static char *read_all(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);

	for (;;) {
		ssize_t k;

		if (n + 1 == cap)
			b = realloc(b, cap *= 2);
		k = read(fd, b + n, cap - n - 1);
		if (k < 0 && errno == EINTR)
			continue;
		assert_true(k >= 0);
		if (k == 0)
			break;
		n += (size_t)k;
	}
	b[n] = '\0';
	if (len)
		*len = n;
	return b;
}

static struct ctxd_relay *relay(const char *const *argv)
{
	struct ctxd_error err;
	struct ctxd_relay *r = ctxd_relay_create(argv, &err);

	if (!r)
		fail_msg("%s", err.msg);
	return r;
}

static void test_echo(void **state)
{
	const char *argv[] = {"cat", NULL};
	struct ctxd_relay *r = relay(argv);
	int fd = dial(r);
	char *got;

	(void)state;
	assert_int_equal(write(fd, "hello\n", 6), 6);
	shutdown(fd, SHUT_WR);
	got = read_all(fd, NULL);
	assert_string_equal(got, "hello\n");
	free(got);
	close(fd);
	ctxd_relay_destroy(r);
}

static void test_child_per_connection(void **state)
{
	const char *argv[] = {"sh", "-c", "echo $$", NULL};
	struct ctxd_relay *r = relay(argv);
	char *a, *b;
	int fd;

	(void)state;
	fd = dial(r);
	a = read_all(fd, NULL);
	close(fd);
	fd = dial(r);
	b = read_all(fd, NULL);
	close(fd);
	assert_true(atoi(a) > 0 && atoi(b) > 0);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
	ctxd_relay_destroy(r);
}

static void test_side_by_side(void **state)
{
	/* an idle first connection (an HTTP client's cached one) must not hold
	 * up the next */
	const char *argv[] = {"cat", NULL};
	struct ctxd_relay *r = relay(argv);
	int a = dial(r), b = dial(r);
	char *got;

	(void)state;
	assert_int_equal(write(b, "second\n", 7), 7);
	shutdown(b, SHUT_WR);
	got = read_all(b, NULL);
	assert_string_equal(got, "second\n");
	free(got);
	assert_int_equal(write(a, "first\n", 6), 6);
	shutdown(a, SHUT_WR);
	got = read_all(a, NULL);
	assert_string_equal(got, "first\n");
	free(got);
	close(a);
	close(b);
	ctxd_relay_destroy(r);
}

static void test_stderr_kept(void **state)
{
	/* the message must be there by the time the client sees the end, even
	 * when stderr is written after stdout closed */
	const char *argv[] = {"sh", "-c", "exec >&-; sleep 0.2; printf '\\nssh: connect to host x port 22: Connection refused\\nmore\\n' >&2; exit 255", NULL};
	struct ctxd_relay *r = relay(argv);
	char msg[128], *got;
	int fd = dial(r);

	(void)state;
	got = read_all(fd, NULL);
	assert_string_equal(got, "");
	ctxd_relay_message(r, msg, sizeof msg);
	assert_string_equal(msg, "ssh: connect to host x port 22: Connection refused");
	ctxd_relay_message(r, msg, 9);
	assert_string_equal(msg, "ssh: con");
	free(got);
	close(fd);
	ctxd_relay_destroy(r);
}

static void test_no_such_command(void **state)
{
	const char *argv[] = {"/nonexistent/ctxd-no-such-ssh", NULL};
	struct ctxd_relay *r = relay(argv);
	char msg[128], *got;
	int fd = dial(r);

	(void)state;
	got = read_all(fd, NULL);
	assert_string_equal(got, "");
	ctxd_relay_message(r, msg, sizeof msg);
	assert_non_null(strstr(msg, "cannot run /nonexistent/ctxd-no-such-ssh: "));
	free(got);
	close(fd);
	ctxd_relay_destroy(r);
}

static void test_stranger_refused(void **state)
{
	/* the command would say "ran"; another process gets nothing */
	const char *argv[] = {"echo", "ran", NULL};
	struct ctxd_relay *r = relay(argv);
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		const char *name = ctxd_relay_name(r);
		size_t len = strlen(name);
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		char b[16];

		memcpy(a.sun_path + 1, name, len);
		if (connect(fd, (struct sockaddr *)&a,
			    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)) < 0)
			_exit(2);
		_exit(read(fd, b, sizeof b) <= 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* and the relay still serves this process */
	{
		int fd = dial(r);
		char *got = read_all(fd, NULL);

		assert_string_equal(got, "ran\n");
		free(got);
		close(fd);
	}
	ctxd_relay_destroy(r);
}

static void test_both_ways_full(void **state)
{
	/* 8 MiB up while cat sends it back: a relay that blocked on one side
	 * would stall with both socket buffers full */
	const char *argv[] = {"cat", NULL};
	struct ctxd_relay *r = relay(argv);
	size_t total = 8u << 20, sent = 0, got = 0;
	char *out = malloc(total), *in = malloc(total);
	int fd = dial(r);

	(void)state;
	for (size_t i = 0; i < total; i++)
		out[i] = (char)(i * 7 + i / 4096);
	while (got < total) {
		struct pollfd p = {fd, (short)(POLLIN | (sent < total ? POLLOUT : 0)), 0};

		assert_true(poll(&p, 1, 10000) > 0);
		if ((p.revents & POLLOUT) && sent < total) {
			ssize_t n = send(fd, out + sent, total - sent > 65536 ? 65536 : total - sent,
					 MSG_DONTWAIT | MSG_NOSIGNAL);

			if (n > 0 && (sent += (size_t)n) == total)
				shutdown(fd, SHUT_WR);
		}
		if (p.revents & (POLLIN | POLLHUP)) {
			ssize_t n = recv(fd, in + got, total - got, MSG_DONTWAIT);

			assert_true(n != 0);
			if (n > 0)
				got += (size_t)n;
		}
	}
	assert_memory_equal(in, out, total);
	free(in);
	free(out);
	close(fd);
	ctxd_relay_destroy(r);
}

static void test_destroy_kills_child(void **state)
{
	/* a child that never ends on its own, and a client still connected */
	const char *argv[] = {"sleep", "1000", NULL};
	struct ctxd_relay *r = relay(argv);
	int fd = dial(r);
	char b[4];

	(void)state;
	assert_int_equal(write(fd, "x", 1), 1);
	usleep(100000);
	ctxd_relay_destroy(r);
	assert_true(read(fd, b, sizeof b) <= 0);
	close(fd);
}

static void test_no_command(void **state)
{
	const char *argv[] = {NULL};
	struct ctxd_error err;

	(void)state;
	assert_null(ctxd_relay_create(argv, &err));
	assert_string_equal(err.msg, "relay: no command");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_child_per_connection),
		cmocka_unit_test(test_side_by_side),
		cmocka_unit_test(test_stderr_kept),
		cmocka_unit_test(test_no_such_command),
		cmocka_unit_test(test_stranger_refused),
		cmocka_unit_test(test_both_ways_full),
		cmocka_unit_test(test_destroy_kills_child),
		cmocka_unit_test(test_no_command),
	};

	return TU_RUN("unit-relay", tests);
}
