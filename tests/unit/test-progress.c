/* Rendering the /build response: classic messages, BuildKit traces merged
 * across messages and printed as buildx's plain printer does, the terminal
 * view, upload progress, the image ID and the build's error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/jsonstream.h"
#include "ctxd/progress.h"
#include "fixture-bk-fail.h"
#include "pbenc.h"
#include "testutil.h"

struct cap {
	FILE *out, *err;
	char *obuf, *ebuf;
	size_t olen, elen;
	struct ctxd_progress *p;
};

static void cap_open(struct cap *c, enum ctxd_progress_mode mode)
{
	memset(c, 0, sizeof *c);
	c->out = open_memstream(&c->obuf, &c->olen);
	c->err = open_memstream(&c->ebuf, &c->elen);
	assert_non_null(c->out);
	assert_non_null(c->err);
	c->p = ctxd_progress_create(mode, c->out, c->err, false);
	assert_non_null(c->p);
}

static const char *out_text(struct cap *c)
{
	fflush(c->out);
	return c->obuf;
}

static const char *err_text(struct cap *c)
{
	fflush(c->err);
	return c->ebuf;
}

static void cap_close(struct cap *c)
{
	ctxd_progress_destroy(c->p);
	fclose(c->out);
	fclose(c->err);
	free(c->obuf);
	free(c->ebuf);
}

static void feed(struct cap *c, const char *json)
{
	struct ctxd_error err;
	json_error_t jerr;
	json_t *msg = json_loads(json, JSON_DECODE_ANY, &jerr);

	if (!msg)
		fail_msg("bad test JSON %s: %s", json, jerr.text);
	if (ctxd_progress_message(c->p, msg, &err) < 0)
		fail_msg("message %s: %s", json, err.msg);
	json_decref(msg);
}

/* Sends b (a StatusResponse) as a trace message, and frees it. */
static void feed_trace(struct cap *c, struct ctxd_buf *b)
{
	char *text = pb_base64(b->data ? b->data : "", b->len);
	struct ctxd_error err;
	json_t *msg = json_pack("{s:s, s:s}", "id", "moby.buildkit.trace", "aux", text);

	if (ctxd_progress_message(c->p, msg, &err) < 0)
		fail_msg("trace: %s", err.msg);
	json_decref(msg);
	free(text);
	ctxd_buf_free(b);
}

/* Times are milliseconds after T; -1 leaves a timestamp out. */
#define T 1700000000
#define NONE (-1)

static void add_time(struct ctxd_buf *b, unsigned field, long ms)
{
	if (ms >= 0)
		pb_time(b, field, T + ms / 1000, (int32_t)(ms % 1000) * 1000000);
}

static void vertex(struct ctxd_buf *b, const char *digest, const char *name, long started,
		   long completed, bool cached, const char *error)
{
	struct ctxd_buf v = {0};

	pb_str(&v, 1, digest);
	pb_str(&v, 3, name);
	if (cached)
		pb_int(&v, 4, 1);
	add_time(&v, 5, started);
	add_time(&v, 6, completed);
	if (error)
		pb_str(&v, 7, error);
	pb_msg(b, 1, &v);
}

static void status(struct ctxd_buf *b, const char *id, const char *vtx, int64_t current,
		   int64_t total, long started, long now, long completed)
{
	struct ctxd_buf s = {0};

	pb_str(&s, 1, id);
	pb_str(&s, 2, vtx);
	pb_int(&s, 4, (uint64_t)current);
	pb_int(&s, 5, (uint64_t)total);
	add_time(&s, 6, now);
	add_time(&s, 7, started);
	add_time(&s, 8, completed);
	pb_msg(b, 2, &s);
}

static void logmsg(struct ctxd_buf *b, const char *vtx, long at, const char *msg)
{
	struct ctxd_buf l = {0};

	pb_str(&l, 1, vtx);
	add_time(&l, 2, at);
	pb_int(&l, 3, 1);
	pb_str(&l, 4, msg);
	pb_msg(b, 3, &l);
}

static void expect_err(struct cap *c, const char *want)
{
	const char *got = err_text(c);

	if (strcmp(got ? got : "", want) != 0)
		fail_msg("stderr is\n---\n%s\n---\nwant\n---\n%s\n---", got ? got : "", want);
}

static const char RUN_ERROR[] = "process \"/bin/sh -c make\" did not complete successfully: exit code: 2";

/* ---- BuildKit, plain ---- */

static void test_bk_plain(void **state)
{
	struct ctxd_buf b = {0};
	struct cap c;
	char want[4096];

	(void)state;
	cap_open(&c, CTXD_PROGRESS_PLAIN);

	/* the graph first, nothing started: nothing to show */
	vertex(&b, "sha256:a", "[internal] load build definition from Dockerfile", NONE, NONE, false, NULL);
	vertex(&b, "sha256:b", "[1/2] FROM docker.io/library/alpine", NONE, NONE, false, NULL);
	vertex(&b, "sha256:c", "[2/2] RUN make", NONE, NONE, false, NULL);
	feed_trace(&c, &b);
	expect_err(&c, "");

	/* the same vertex, updated across several messages */
	vertex(&b, "sha256:a", "[internal] load build definition from Dockerfile", 0, NONE, false, NULL);
	feed_trace(&c, &b);
	status(&b, "transferring dockerfile:", "sha256:a", 37, 0, 0, 5, 5);
	feed_trace(&c, &b);
	vertex(&b, "sha256:a", "[internal] load build definition from Dockerfile", 0, 20, false, NULL);
	feed_trace(&c, &b);
	/* a repeated initial record changes nothing */
	vertex(&b, "sha256:a", "[internal] load build definition from Dockerfile", NONE, NONE, false, NULL);
	feed_trace(&c, &b);
	strcpy(want, "#1 [internal] load build definition from Dockerfile\n"
		     "#1 transferring dockerfile: 37B done\n"
		     "#1 DONE 0.0s\n");
	expect_err(&c, want);

	vertex(&b, "sha256:b", "[1/2] FROM docker.io/library/alpine", 30, 30, true, NULL);
	feed_trace(&c, &b);
	strcat(want, "\n#2 [1/2] FROM docker.io/library/alpine\n#2 CACHED\n");
	expect_err(&c, want);

	/* log chunks cut mid-line: the open line shows at once, then ends */
	vertex(&b, "sha256:c", "[2/2] RUN make", 1000, NONE, false, NULL);
	feed_trace(&c, &b);
	logmsg(&b, "sha256:c", 1200, "hello\nwor");
	feed_trace(&c, &b);
	strcat(want, "\n#3 [2/2] RUN make\n#3 0.200 hello\n#3 0.200 wor");
	expect_err(&c, want);
	logmsg(&b, "sha256:c", 1300, "ld\npartial");
	feed_trace(&c, &b);
	strcat(want, "ld\n#3 0.300 partial");
	expect_err(&c, want);
	logmsg(&b, "sha256:c", 12346, "\n\nlate line\n");
	feed_trace(&c, &b);
	strcat(want, "\n#3 11.35 \n#3 11.35 late line\n");
	expect_err(&c, want);

	vertex(&b, "sha256:c", "[2/2] RUN make", 1000, 2500, false, RUN_ERROR);
	feed_trace(&c, &b);
	strcat(want, "#3 ERROR: ");
	strcat(want, RUN_ERROR);
	strcat(want, "\n");
	expect_err(&c, want);

	assert_string_equal(ctxd_progress_error(c.p), RUN_ERROR);
	ctxd_progress_finish(c.p);
	strcat(want, "------\n > [2/2] RUN make:\n0.200 hello\n0.200 world\n0.300 partial\n11.35 \n11.35 late line\n------\n");
	expect_err(&c, want);
	ctxd_progress_finish(c.p); /* idempotent */
	expect_err(&c, want);
	assert_string_equal(out_text(&c) ? out_text(&c) : "", "");
	cap_close(&c);
}

/* Two steps running at once: output switches between them with "#N ..."
 * and the header again, as buildx's printer does. */
static void test_bk_interleaved(void **state)
{
	struct ctxd_buf b = {0};
	struct cap c;

	(void)state;
	cap_open(&c, CTXD_PROGRESS_PLAIN);
	vertex(&b, "sha256:d", "[stage-a 1/1] RUN a", 0, NONE, false, NULL);
	vertex(&b, "sha256:e", "[stage-b 1/1] RUN b", 0, NONE, false, NULL);
	feed_trace(&c, &b);
	logmsg(&b, "sha256:d", 100, "a1\na2-open");
	feed_trace(&c, &b);
	logmsg(&b, "sha256:e", 150, "b1\n");
	feed_trace(&c, &b);
	logmsg(&b, "sha256:d", 200, "-closed\n");
	feed_trace(&c, &b);
	vertex(&b, "sha256:e", "[stage-b 1/1] RUN b", 0, 300, false, NULL);
	vertex(&b, "sha256:d", "[stage-a 1/1] RUN a", 0, 400, false, NULL);
	feed_trace(&c, &b);
	expect_err(&c,
		   "#1 [stage-a 1/1] RUN a\n"
		   "#1 ...\n\n"
		   "#2 [stage-b 1/1] RUN b\n"
		   "#2 ...\n\n"
		   "#1 [stage-a 1/1] RUN a\n"
		   "#1 0.100 a1\n"
		   "#1 0.100 a2-open\n"
		   "#1 ...\n\n"
		   "#2 [stage-b 1/1] RUN b\n"
		   "#2 0.150 b1\n"
		   "#2 ...\n\n"
		   "#1 [stage-a 1/1] RUN a\n"
		   "#1 0.100 a2-open-closed\n"
		   "#1 DONE 0.4s\n\n"
		   "#2 [stage-b 1/1] RUN b\n"
		   "#2 DONE 0.3s\n");
	assert_null(ctxd_progress_error(c.p));
	cap_close(&c);
}

static void test_bk_statuses(void **state)
{
	struct ctxd_buf b = {0};
	struct cap c;

	(void)state;
	cap_open(&c, CTXD_PROGRESS_PLAIN);
	vertex(&b, "sha256:f", "[internal] load build context", 0, NONE, false, NULL);
	status(&b, "transferring context:", "sha256:f", 1000, 0, 0, 100, NONE);
	feed_trace(&c, &b);
	/* little progress and little time: held back, as buildkit does */
	status(&b, "transferring context:", "sha256:f", 1200, 0, 0, 200, NONE);
	feed_trace(&c, &b);
	status(&b, "transferring context:", "sha256:f", 2500000, 0, 0, 6000, NONE);
	feed_trace(&c, &b);
	status(&b, "transferring context:", "sha256:f", 2600000, 0, 0, 6100, 6100);
	/* a status not started yet is not shown; nor one for an unknown step */
	status(&b, "exporting layers", "sha256:f", 0, 0, NONE, 6100, NONE);
	status(&b, "ghost", "sha256:nope", 0, 0, 0, 6100, NONE);
	feed_trace(&c, &b);
	status(&b, "writing image sha256:0123", "sha256:f", 50, 200, 6100, 6100, NONE);
	vertex(&b, "sha256:f", "[internal] load build context", 0, 6200, false, NULL);
	feed_trace(&c, &b);
	expect_err(&c,
		   "#1 [internal] load build context\n"
		   "#1 transferring context: 1.00kB 0.1s\n"
		   "#1 transferring context: 2.50MB 6.0s\n"
		   "#1 transferring context: 2.60MB 6.1s done\n"
		   "#1 writing image sha256:0123 50B / 200B\n"
		   "#1 DONE 6.2s\n");
	cap_close(&c);
}

static void test_bk_cancel_and_warnings(void **state)
{
	struct ctxd_buf b = {0}, w = {0};
	struct cap c;

	(void)state;
	cap_open(&c, CTXD_PROGRESS_PLAIN);
	vertex(&b, "sha256:g", "[a 1/1] RUN sleep 9", 0, 500, false, "context canceled");
	pb_str(&w, 1, "sha256:g");
	pb_int(&w, 2, 1);
	pb_str(&w, 3, "JSONArgsRecommended: JSON arguments recommended for CMD (line 3)");
	pb_msg(&b, 4, &w);
	feed_trace(&c, &b);
	/* a cancelled step alone is not why a build failed */
	assert_null(ctxd_progress_error(c.p));
	ctxd_progress_finish(c.p);
	expect_err(&c,
		   "#1 [a 1/1] RUN sleep 9\n"
		   "#1 CANCELED\n"
		   "\n 1 warning found:\n"
		   " - JSONArgsRecommended: JSON arguments recommended for CMD (line 3)\n");
	cap_close(&c);
}

static void test_bk_errors(void **state)
{
	struct ctxd_buf b = {0};
	struct cap c;

	(void)state;
	/* the daemon's errorDetail wins over the failed step's error */
	cap_open(&c, CTXD_PROGRESS_PLAIN);
	vertex(&b, "sha256:h", "[1/1] RUN false", 0, 100, false, "exit code: 1");
	feed_trace(&c, &b);
	assert_string_equal(ctxd_progress_error(c.p), "exit code: 1");
	feed(&c, "{\"errorDetail\":{\"message\":\"executor failed running [/bin/sh -c false]: exit code: 1\"},"
		 "\"error\":\"executor failed running [/bin/sh -c false]: exit code: 1\"}");
	assert_string_equal(ctxd_progress_error(c.p),
			    "executor failed running [/bin/sh -c false]: exit code: 1");
	cap_close(&c);

	/* a step that failed in a build that still named an image is not the build's error */
	cap_open(&c, CTXD_PROGRESS_PLAIN);
	vertex(&b, "sha256:i", "importing cache manifest from x", 0, 100, false, "not found");
	feed_trace(&c, &b);
	feed(&c, "{\"id\":\"moby.image.id\",\"aux\":{\"ID\":\"sha256:"
		 "1111111111111111111111111111111111111111111111111111111111111111\"}}");
	assert_null(ctxd_progress_error(c.p));
	cap_close(&c);

	/* an undecodable trace: one warning, no failure, the next one still shown */
	cap_open(&c, CTXD_PROGRESS_PLAIN);
	feed(&c, "{\"id\":\"moby.buildkit.trace\",\"aux\":\"not base64!\"}");
	feed(&c, "{\"id\":\"moby.buildkit.trace\",\"aux\":\"Dg==\"}");
	feed(&c, "{\"id\":\"moby.buildkit.trace\",\"aux\":42}");
	vertex(&b, "sha256:j", "ok", 0, NONE, false, NULL);
	feed_trace(&c, &b);
	expect_err(&c, "ctxd: warning: ignoring what the daemon sent: bad BuildKit status from the daemon: "
		       "invalid base64: byte 0x20 at byte 3\n#1 ok\n");
	assert_null(ctxd_progress_error(c.p));
	cap_close(&c);
}

/* ---- BuildKit, terminal ---- */

static void test_bk_tty(void **state)
{
	struct ctxd_buf b = {0};
	struct cap c;
	const char *e;

	(void)state;
	cap_open(&c, CTXD_PROGRESS_TTY);
	vertex(&b, "sha256:a", "[internal] load .dockerignore", 0, 10, false, NULL);
	vertex(&b, "sha256:b", "[1/2] FROM alpine", 20, 20, true, NULL);
	vertex(&b, "sha256:c", "[2/2] RUN make", 1000, NONE, false, NULL);
	status(&b, "transferring context:", "sha256:a", 2048, 0, 0, 10, 10);
	logmsg(&b, "sha256:c", 1100, "one\ntwo\nthree\nfour\nfive\nsix\nseven\n\033[31mred\033[0m\tx\nbar 10%\rbar 90%");
	feed_trace(&c, &b);
	e = err_text(&c);
	assert_non_null(strstr(e, "[+] Building "));
	assert_non_null(strstr(e, "(2/3)"));
	assert_non_null(strstr(e, " => [internal] load .dockerignore"));
	assert_non_null(strstr(e, " => => transferring context: 2.05kB"));
	assert_non_null(strstr(e, " => CACHED [1/2] FROM alpine"));
	assert_non_null(strstr(e, " => [2/2] RUN make"));
	/* the last six lines of the running step, cleaned for the screen */
	assert_null(strstr(e, " => => # three"));
	assert_non_null(strstr(e, " => => # four"));
	assert_non_null(strstr(e, " => => # red x"));
	assert_non_null(strstr(e, " => => # bar 90%"));
	assert_null(strstr(e, "bar 10%"));
	assert_null(strstr(e, "\033[31m"));

	vertex(&b, "sha256:c", "[2/2] RUN make", 1000, 3000, false, RUN_ERROR);
	feed_trace(&c, &b);
	ctxd_progress_finish(c.p);
	e = err_text(&c);
	/* the final view moved the cursor back over the previous one */
	assert_non_null(strstr(e, "A\r\033[?25l"));
	assert_non_null(strstr(e, "(3/3) FINISHED"));
	assert_non_null(strstr(e, "ERROR [2/2] RUN make"));
	assert_non_null(strstr(e, "2.0s"));
	assert_non_null(strstr(e, "------\n > [2/2] RUN make:\n0.100 one\n"));
	assert_non_null(strstr(e, "0.100 bar 10%\rbar 90%\n------\n"));
	assert_string_equal(ctxd_progress_error(c.p), RUN_ERROR);
	cap_close(&c);
}

/* ---- classic ---- */

static void test_classic_stream(void **state)
{
	struct cap c;

	(void)state;
	cap_open(&c, CTXD_PROGRESS_PLAIN);
	feed(&c, "{\"stream\":\"Step 1/3 : FROM busybox\"}");
	feed(&c, "{\"stream\":\"\\n\"}");
	feed(&c, "{\"stream\":\" ---\\u003e 2ea5b0209053\\n\"}");
	feed(&c, "{\"stream\":\"Step 2/3 : RUN echo out; echo err >&2\\n\"}");
	feed(&c, "{\"stream\":\" ---\\u003e Running in ddc8fa47576d\\n\"}");
	feed(&c, "{\"stream\":\"out\\n\"}");
	feed(&c, "{\"stream\":\"\\u001b[91merr\\n\\u001b[0m\"}");
	feed(&c, "{\"aux\":{\"ID\":\"sha256:2ea5b0209053aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}");
	feed(&c, "{\"stream\":\"Successfully built 2ea5b0209053\\n\"}");
	feed(&c, "{\"stream\":\"Successfully tagged a:latest\\n\"}");
	ctxd_progress_finish(c.p);
	/* stdout is not a terminal: the red for RUN's stderr is gone */
	assert_string_equal(out_text(&c),
			    "Step 1/3 : FROM busybox\n"
			    " ---> 2ea5b0209053\n"
			    "Step 2/3 : RUN echo out; echo err >&2\n"
			    " ---> Running in ddc8fa47576d\n"
			    "out\n"
			    "err\n"
			    "Successfully built 2ea5b0209053\n"
			    "Successfully tagged a:latest\n");
	expect_err(&c, "");
	assert_string_equal(ctxd_progress_image_id(c.p),
			    "sha256:2ea5b0209053aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_null(ctxd_progress_error(c.p));
	cap_close(&c);
}

static void test_classic_error(void **state)
{
	struct cap c;

	(void)state;
	cap_open(&c, CTXD_PROGRESS_PLAIN);
	feed(&c, "{\"stream\":\"Step 1/2 : COPY missing-file /\\n\"}");
	feed(&c, "{\"errorDetail\":{\"message\":\"COPY failed: file not found in build context or excluded by "
		 ".dockerignore: stat missing-file: file does not exist\"},\"error\":\"COPY failed: file not "
		 "found in build context or excluded by .dockerignore: stat missing-file: file does not exist\"}");
	feed(&c, "{\"errorDetail\":{\"message\":\"second\"}}");
	ctxd_progress_finish(c.p);
	assert_string_equal(ctxd_progress_error(c.p),
			    "COPY failed: file not found in build context or excluded by .dockerignore: "
			    "stat missing-file: file does not exist");
	/* the caller reports the error; progress does not print it twice */
	expect_err(&c, "");
	assert_null(ctxd_progress_image_id(c.p));
	cap_close(&c);

	/* only the old "error" string, or nothing usable */
	cap_open(&c, CTXD_PROGRESS_PLAIN);
	feed(&c, "{\"error\":\"old style\"}");
	assert_string_equal(ctxd_progress_error(c.p), "old style");
	cap_close(&c);
	cap_open(&c, CTXD_PROGRESS_PLAIN);
	feed(&c, "{\"errorDetail\":{}}");
	assert_string_equal(ctxd_progress_error(c.p), "the daemon reported an error without a message");
	cap_close(&c);
}

static void test_classic_status(void **state)
{
	struct cap c;

	(void)state;
	cap_open(&c, CTXD_PROGRESS_PLAIN);
	feed(&c, "{\"status\":\"Pulling from library/alpine\",\"id\":\"latest\"}");
	feed(&c, "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"abc\"}");
	feed(&c, "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":100,\"total\":1000},"
		 "\"progress\":\"[=====>    ]     100B/1kB\",\"id\":\"abc\"}");
	feed(&c, "{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"abc\"}");
	feed(&c, "{\"status\":\"Digest: sha256:abcd\"}");
	/* off a terminal, progress bars are dropped, as docker drops them */
	assert_string_equal(out_text(&c),
			    "latest: Pulling from library/alpine\n"
			    "abc: Pulling fs layer\n"
			    "abc: Download complete\n"
			    "Digest: sha256:abcd\n");
	cap_close(&c);

	/* on a terminal, each id keeps a line that is rewritten in place */
	cap_open(&c, CTXD_PROGRESS_TTY);
	feed(&c, "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1,\"total\":9},"
		 "\"progress\":\"[=>  ] 1B/9B\",\"id\":\"l1\"}");
	feed(&c, "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1,\"total\":9},"
		 "\"progress\":\"[=>  ] 1B/9B\",\"id\":\"l2\"}");
	feed(&c, "{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"l1\"}");
	assert_string_equal(out_text(&c),
			    "\n\033[1A\033[2K\rl1: Downloading [=>  ] 1B/9B\r\033[1B"
			    "\n\033[1A\033[2K\rl2: Downloading [=>  ] 1B/9B\r\033[1B"
			    "\033[2A\033[2K\rl1: Download complete\r\033[2B");
	cap_close(&c);
}

static void test_image_id(void **state)
{
	static const char id[] = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char msg[256];
	struct cap c;

	(void)state;
	/* classic aux */
	cap_open(&c, CTXD_PROGRESS_PLAIN);
	snprintf(msg, sizeof msg, "{\"aux\":{\"ID\":\"%s\"}}", id);
	feed(&c, msg);
	assert_string_equal(ctxd_progress_image_id(c.p), id);
	assert_string_equal(out_text(&c) ? out_text(&c) : "", ""); /* aux is never shown */
	cap_close(&c);

	/* BuildKit's moby.image.id */
	cap_open(&c, CTXD_PROGRESS_PLAIN);
	snprintf(msg, sizeof msg, "{\"id\":\"moby.image.id\",\"aux\":{\"ID\":\"%s\"}}", id);
	feed(&c, msg);
	assert_string_equal(ctxd_progress_image_id(c.p), id);
	cap_close(&c);

	/* q=1: the only stream text is the ID, and QUIET shows nothing */
	cap_open(&c, CTXD_PROGRESS_QUIET);
	snprintf(msg, sizeof msg, "{\"stream\":\"%s\\n\"}", id);
	feed(&c, msg);
	ctxd_progress_finish(c.p);
	assert_string_equal(ctxd_progress_image_id(c.p), id);
	assert_string_equal(out_text(&c) ? out_text(&c) : "", "");
	expect_err(&c, "");
	cap_close(&c);

	/* text that only looks like one is not taken */
	cap_open(&c, CTXD_PROGRESS_PLAIN);
	feed(&c, "{\"stream\":\"sha256:0123\\n\"}");
	snprintf(msg, sizeof msg, "{\"stream\":\"%sX\\n\"}", id);
	feed(&c, msg);
	snprintf(msg, sizeof msg, "{\"id\":\"other.aux\",\"aux\":{\"ID\":\"%s\"}}", id);
	feed(&c, msg);
	assert_null(ctxd_progress_image_id(c.p));
	cap_close(&c);
}

static void test_quiet(void **state)
{
	struct ctxd_buf b = {0};
	struct cap c;

	(void)state;
	/* a failed quiet build shows what it held back, on stderr */
	cap_open(&c, CTXD_PROGRESS_QUIET);
	feed(&c, "{\"stream\":\"Step 1/1 : RUN false\\n\"}");
	feed(&c, "{\"stream\":\"\\u001b[91moops\\n\\u001b[0m\"}");
	ctxd_progress_upload(c.p, 10, 10, true);
	expect_err(&c, "");
	feed(&c, "{\"errorDetail\":{\"message\":\"exit 1\"},\"error\":\"exit 1\"}");
	ctxd_progress_finish(c.p);
	assert_string_equal(out_text(&c) ? out_text(&c) : "", "");
	expect_err(&c, "Step 1/1 : RUN false\noops\n");
	cap_close(&c);

	/* BuildKit: the plain rendering and the failed step's logs */
	cap_open(&c, CTXD_PROGRESS_QUIET);
	vertex(&b, "sha256:k", "[1/1] RUN false", 0, NONE, false, NULL);
	logmsg(&b, "sha256:k", 10, "why\n");
	feed_trace(&c, &b);
	vertex(&b, "sha256:k", "[1/1] RUN false", 0, 20, false, "exit code: 1");
	feed_trace(&c, &b);
	expect_err(&c, "");
	ctxd_progress_finish(c.p);
	expect_err(&c, "#1 [1/1] RUN false\n#1 0.010 why\n#1 ERROR: exit code: 1\n"
		       "------\n > [1/1] RUN false:\n0.010 why\n------\n");
	cap_close(&c);
}

static void test_upload(void **state)
{
	struct cap c;
	const char *e;

	(void)state;
	cap_open(&c, CTXD_PROGRESS_PLAIN);
	ctxd_progress_upload(c.p, 1000, 3000000, false);
	expect_err(&c, "");
	ctxd_progress_upload(c.p, 2500000, 3000000, true);
	ctxd_progress_upload(c.p, 2500000, 3000000, true); /* once only */
	expect_err(&c, "Sending build context to Docker daemon  2.5MB\n");
	cap_close(&c);

	cap_open(&c, CTXD_PROGRESS_TTY);
	ctxd_progress_upload(c.p, 0, 3000000, false);
	ctxd_progress_upload(c.p, 1500000, 3000000, false); /* too soon to redraw */
	ctxd_progress_tick(c.p);
	e = err_text(&c);
	assert_non_null(strstr(e, "Sending build context to Docker daemon  [>"));
	assert_non_null(strstr(e, "0B/3MB"));
	ctxd_progress_upload(c.p, 3000000, 3000000, true);
	e = err_text(&c);
	assert_non_null(strstr(e, "\033[1A\r\033[?25lSending build context to Docker daemon  3MB\033[K\n"));
	ctxd_progress_finish(c.p);
	cap_close(&c);

	cap_open(&c, CTXD_PROGRESS_QUIET);
	ctxd_progress_upload(c.p, 5, 10, false);
	ctxd_progress_upload(c.p, 10, 10, true);
	ctxd_progress_finish(c.p);
	expect_err(&c, "");
	cap_close(&c);
}

static void test_not_object(void **state)
{
	struct ctxd_error err;
	struct cap c;
	json_t *msg = json_integer(3);

	(void)state;
	cap_open(&c, CTXD_PROGRESS_PLAIN);
	assert_int_equal(ctxd_progress_message(c.p, msg, &err), -1);
	assert_non_null(strstr(err.msg, "not a JSON object"));
	json_decref(msg);
	/* unknown keys and empty objects are ignored */
	feed(&c, "{}");
	feed(&c, "{\"novel\":{\"x\":1}}");
	cap_close(&c);
}

static int to_progress(void *ud, json_t *msg, struct ctxd_error *err)
{
	return ctxd_progress_message(ud, msg, err);
}

/* A real daemon's bytes, cut at every position: the same output each time. */
static void test_real_daemon(void **state)
{
	static const char want[] =
		"#1 [internal] load remote build context\n"
		"#1 DONE 0.0s\n"
		"\n"
		"#1 [internal] load remote build context\n" /* it ran twice */
		"#1 DONE 0.0s\n"
		"\n"
		"#2 copy /context /\n"
		"#2 DONE 0.1s\n"
		"\n"
		"#3 [internal] load metadata for docker.io/library/busybox:latest\n"
		"#3 DONE 0.0s\n"
		"\n"
		"#4 [1/2] FROM docker.io/library/busybox\n"
		"#4 CACHED\n"
		"\n"
		"#5 [2/2] RUN echo about to fail; echo bad >&2; false\n"
		"#5 0.089 bad\n"
		"#5 0.090 about to fail\n"
		"#5 ERROR: executor failed running [/bin/sh -c echo about to fail; echo bad >&2; false]: exit code: 1\n"
		"------\n"
		" > [2/2] RUN echo about to fail; echo bad >&2; false:\n"
		"0.089 bad\n"
		"0.090 about to fail\n"
		"------\n";
	size_t len = sizeof fixture_bk_fail - 1;

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		struct ctxd_jsonstream *js = ctxd_jsonstream_create(0);
		struct ctxd_error err;
		struct cap c;

		cap_open(&c, CTXD_PROGRESS_PLAIN);
		if (ctxd_jsonstream_feed(js, fixture_bk_fail, cut, to_progress, c.p, &err) < 0 ||
		    ctxd_jsonstream_feed(js, fixture_bk_fail + cut, len - cut, to_progress, c.p, &err) < 0 ||
		    ctxd_jsonstream_finish(js, &err) < 0)
			fail_msg("cut %zu: %s", cut, err.msg);
		ctxd_progress_finish(c.p);
		expect_err(&c, want);
		assert_string_equal(ctxd_progress_error(c.p),
				    "executor failed running [/bin/sh -c echo about to fail; echo bad >&2; false]: exit code: 1");
		assert_null(ctxd_progress_image_id(c.p));
		assert_int_equal(ctxd_jsonstream_count(js), 16);
		ctxd_jsonstream_destroy(js);
		cap_close(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bk_plain),
		cmocka_unit_test(test_bk_interleaved),
		cmocka_unit_test(test_bk_statuses),
		cmocka_unit_test(test_bk_cancel_and_warnings),
		cmocka_unit_test(test_bk_errors),
		cmocka_unit_test(test_bk_tty),
		cmocka_unit_test(test_classic_stream),
		cmocka_unit_test(test_classic_error),
		cmocka_unit_test(test_classic_status),
		cmocka_unit_test(test_image_id),
		cmocka_unit_test(test_quiet),
		cmocka_unit_test(test_upload),
		cmocka_unit_test(test_not_object),
		cmocka_unit_test(test_real_daemon),
	};

	return TU_RUN("unit-progress", tests);
}
