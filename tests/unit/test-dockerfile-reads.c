/* The context-read analysis (dockerfile_reads): multi-stage builds of the
 * usual languages, ARG/ENV-driven paths, targets, --from, RUN mounts,
 * heredocs, syntax directives, ONBUILD, and the errors BuildKit raises. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/dockerfile_reads.h"
#include "testutil.h"

static struct ctxd_dockerfile *parse(const char *text)
{
	struct ctxd_dockerfile *df;
	struct ctxd_error err;

	if (ctxd_dockerfile_parse(text, strlen(text), "Dockerfile", &df, &err) < 0)
		fail_msg("parse failed: %s", err.msg);
	return df;
}

/* "pattern:line" for each read, space-separated; "*" marks an ONBUILD
 * trigger's read, "!x" an exclude */
static void reads_string(const struct ctxd_dockerfile_reads *r, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < r->nreads; i++) {
		n += (size_t)snprintf(buf + n, cap - n, "%s%s:%u%s", i ? " " : "", r->reads[i].pattern,
				      r->reads[i].line, r->reads[i].onbuild ? "*" : "");
		for (size_t k = 0; k < r->reads[i].nexcludes; k++)
			n += (size_t)snprintf(buf + n, cap - n, "!%s", r->reads[i].excludes[k]);
	}
}

/* Analyses text; whole and reads (see reads_string) as expected; when
 * reason is given, the whole-context reason contains it. */
static void check(const char *text, const struct ctxd_dockerfile_reads_options *o, bool whole,
		  const char *reason, const char *reads)
{
	struct ctxd_dockerfile *df = parse(text);
	struct ctxd_dockerfile_reads r;
	struct ctxd_error err;
	char got[2048];

	if (ctxd_dockerfile_reads(df, o, &r, &err) < 0)
		fail_msg("reads failed: %s", err.msg);
	reads_string(&r, got, sizeof got);
	if (r.whole_context != whole)
		fail_msg("whole_context %d, want %d (reason: %s; reads: %s)", r.whole_context, whole,
			 r.reason ? r.reason : "-", got);
	if (whole && (!r.reason || (reason && !strstr(r.reason, reason))))
		fail_msg("reason '%s' lacks '%s'", r.reason ? r.reason : "(none)", reason);
	if (!whole)
		assert_null(r.reason);
	if (reads && strcmp(got, reads) != 0)
		fail_msg("reads\n  '%s'\nwant\n  '%s'", got, reads);
	ctxd_dockerfile_reads_clear(&r);
	assert_int_equal(r.nreads, 0);
	ctxd_dockerfile_destroy(df);
}

static void check_error(const char *text, const struct ctxd_dockerfile_reads_options *o,
			const char *want)
{
	struct ctxd_dockerfile *df = parse(text);
	struct ctxd_dockerfile_reads r;
	struct ctxd_error err;

	if (ctxd_dockerfile_reads(df, o, &r, &err) == 0)
		fail_msg("analysis succeeded, want error '%s'", want);
	if (strcmp(err.msg, want) != 0)
		fail_msg("error\n  '%s'\nwant\n  '%s'", err.msg, want);
	ctxd_dockerfile_reads_clear(&r);
	ctxd_dockerfile_destroy(df);
}

static const char node_app[] =
	"FROM node:20 AS deps\n"
	"WORKDIR /app\n"
	"COPY package*.json ./\n"
	"RUN npm ci\n"
	"FROM deps AS build\n"
	"COPY . .\n"
	"RUN npm run build\n"
	"FROM nginx:alpine\n"
	"COPY --from=build /app/dist /usr/share/nginx/html\n";

static void test_node_copy_dot(void **state)
{
	(void)state;
	/* the classic: lock files first, then everything */
	check(node_app, NULL, true, "COPY . (line 6) reads the whole context",
	      "package*.json:3 .:6");
}

static void test_node_explicit_sources(void **state)
{
	(void)state;
	check("FROM node:20-alpine\nWORKDIR /app\nCOPY package.json package-lock.json ./\n"
	      "RUN npm ci --omit=dev\nCOPY src ./src\nCOPY public/ ./public/\n"
	      "CMD [\"node\", \"src/index.js\"]\n",
	      NULL, false, NULL, "package.json:3 package-lock.json:3 src:5 public:6");
}

static void test_node_deps_stage_only(void **state)
{
	struct ctxd_dockerfile_reads_options o = {.target = "deps"};

	(void)state;
	/* --target deps: the COPY . of the later stage is not built */
	check(node_app, &o, false, NULL, "package*.json:3");
}

static void test_python(void **state)
{
	(void)state;
	check("FROM python:3.12-slim AS base\nWORKDIR /app\nCOPY requirements.txt .\n"
	      "RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt\n"
	      "COPY app/ ./app/\nCOPY pyproject.toml setup.cfg* ./\n"
	      "CMD [\"python\", \"-m\", \"app\"]\n",
	      NULL, false, NULL, "requirements.txt:3 app:5 pyproject.toml:6 setup.cfg*:6");
}

static void test_python_poetry_multistage(void **state)
{
	(void)state;
	check("FROM python:3.12 AS builder\nRUN pip install poetry\nWORKDIR /src\n"
	      "COPY pyproject.toml poetry.lock ./\nRUN poetry export -o requirements.txt\n"
	      "FROM python:3.12-slim\nCOPY --from=builder /src/requirements.txt .\n"
	      "RUN pip install -r requirements.txt\nCOPY ./service /srv/service\n",
	      NULL, false, NULL, "pyproject.toml:4 poetry.lock:4 service:9");
}

static void test_go(void **state)
{
	(void)state;
	check("# syntax is absent: the built-in frontend\n"
	      "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\n"
	      "COPY cmd/ cmd/\nCOPY internal/ internal/\n"
	      "RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app\n"
	      "FROM gcr.io/distroless/static\nCOPY --from=build /out/app /app\n"
	      "ENTRYPOINT [\"/app\"]\n",
	      NULL, false, NULL, "go.mod:4 go.sum:4 cmd:6 internal:7");
}

static void test_go_bind_mounts(void **state)
{
	(void)state;
	/* Docker's own Go template: bind mounts of single files, then of "." */
	check("FROM golang:1.22 AS build\nWORKDIR /src\n"
	      "RUN --mount=type=cache,target=/go/pkg/mod \\\n"
	      "    --mount=type=bind,source=go.sum,target=go.sum \\\n"
	      "    --mount=type=bind,source=go.mod,target=go.mod \\\n"
	      "    go mod download -x\n"
	      "RUN --mount=type=cache,target=/go/pkg/mod --mount=type=bind,target=. \\\n"
	      "    go build -o /bin/server ./cmd/server\n"
	      "FROM alpine\nCOPY --from=build /bin/server /bin/\n",
	      NULL, true, "without a source (line 7) mounts the whole context", "go.sum:3 go.mod:3 .:7");
}

static void test_java_maven(void **state)
{
	(void)state;
	check("FROM maven:3.9-eclipse-temurin-21 AS build\nWORKDIR /build\nCOPY pom.xml .\n"
	      "RUN mvn -q dependency:go-offline\nCOPY src ./src\nRUN mvn -q package -DskipTests\n"
	      "FROM eclipse-temurin:21-jre\nCOPY --from=build /build/target/*.jar /app/app.jar\n"
	      "ENTRYPOINT [\"java\", \"-jar\", \"/app/app.jar\"]\n",
	      NULL, false, NULL, "pom.xml:3 src:5");
}

static void test_java_gradle(void **state)
{
	(void)state;
	check("FROM gradle:8-jdk21 AS build\nWORKDIR /home/gradle/project\n"
	      "COPY --chown=gradle:gradle gradlew settings.gradle* build.gradle* ./\n"
	      "COPY --chown=gradle:gradle gradle ./gradle\n"
	      "COPY --chown=gradle:gradle ./app/src/main/ ./app/src/main/\n"
	      "RUN ./gradlew build\nFROM eclipse-temurin:21\n"
	      "COPY --from=build /home/gradle/project/app/build/libs/ /app/\n",
	      NULL, false, NULL,
	      "gradlew:3 settings.gradle*:3 build.gradle*:3 gradle:4 app/src/main:5");
}

static void test_arg_default(void **state)
{
	(void)state;
	check("FROM alpine\nARG APP_DIR=app\nCOPY ${APP_DIR}/ /app/\n", NULL, false, NULL, "app:3");
}

static void test_arg_build_arg_overrides(void **state)
{
	static const char *const args[] = {"APP_DIR=services/api", "UNUSED", "OTHER=1"};
	struct ctxd_dockerfile_reads_options o = {.build_args = args, .nbuild_args = 3};

	(void)state;
	check("FROM alpine\nARG APP_DIR=app\nCOPY ${APP_DIR}/ /app/\n", &o, false, NULL,
	      "services/api:3");
	/* a build arg for a name the Dockerfile does not declare is not seen */
	check("FROM scratch\nCOPY x${OTHER} /app/\n", &o, false, NULL, "x:2");
}

static void test_arg_without_value(void **state)
{
	(void)state;
	check("FROM alpine\nARG APP_DIR\nCOPY ${APP_DIR}/ /app/\n", NULL, true,
	      "COPY source ${APP_DIR}/ (line 3) depends on APP_DIR, which has no known value", ".:3");
	/* even where a default word would be used */
	check("FROM scratch\nARG V\nCOPY ${V:-src} /s\n", NULL, true, "depends on V", ".:3");
}

static void test_global_args(void **state)
{
	static const char *const args[] = {"DIR=lib"};
	struct ctxd_dockerfile_reads_options o = {.build_args = args, .nbuild_args = 1};

	(void)state;
	/* a global ARG is visible in a stage only once declared there */
	check("ARG DIR=src\nFROM scratch\nCOPY ${DIR}/file /f\nARG DIR\nCOPY $DIR /d\n", NULL, false,
	      NULL, "file:3 src:5");
	check("ARG DIR=src\nFROM scratch\nARG DIR\nCOPY $DIR /d\n", &o, false, NULL, "lib:4");
	/* a global ARG without a value stays unknown when brought in */
	check("ARG DIR\nFROM scratch\nARG DIR\nCOPY $DIR /d\n", NULL, true, "DIR", ".:4");
	/* global ARGs choose the base; the default platform args are set */
	check("ARG VARIANT=alpine\nARG BASE=node:20-${VARIANT}\nFROM ${BASE}\nARG TARGETOS\n"
	      "COPY dist/${TARGETOS} /dist\n", NULL, false, NULL, "dist/linux:5");
}

static void test_base_image_env_is_unknown(void **state)
{
	(void)state;
	/* NODE_VERSION may come from the node image's config */
	check("FROM node:20\nCOPY vendor/$NODE_VERSION /v\n", NULL, true, "NODE_VERSION", ".:2");
	/* from scratch nothing is inherited but PATH */
	check("FROM scratch\nCOPY a${NOPE}b /v\nCOPY ${PATH%%:*} /p\n", NULL, false, NULL,
	      "ab:2 usr/local/sbin:3");
	/* a stage built FROM another inherits its variables, ARGs included */
	check("FROM scratch AS a\nARG D=conf\nENV E=etc\nFROM a\nCOPY $D $E /x\n", NULL, false, NULL,
	      "conf:5 etc:5");
}

static void test_env_forms(void **state)
{
	(void)state;
	check("FROM scratch\nENV SRC=lib OTHER=\"two words\"\nENV LEGACY legacy dir\n"
	      "COPY $SRC \"$OTHER\" /x\nCOPY [\"$LEGACY\", \"/y\"]\n", NULL, false, NULL,
	      "lib:4 two words:4 legacy dir:5");
	/* pairs on one line see the values from before it */
	check("FROM scratch\nENV A=1\nENV A=2 B=$A\nCOPY ${B}${A} /x\n", NULL, false, NULL, "12:4");
	/* an ENV whose name is unknown could set anything */
	check("FROM scratch\nARG K\nENV $K=v\nCOPY $X /x\n", NULL, true, "X", ".:4");
}

static void test_targets(void **state)
{
	static const char df[] =
		"FROM alpine AS base\nCOPY common /common\n"
		"FROM base AS test\nCOPY tests /tests\nRUN ./tests/run\n"
		"FROM base AS final\nCOPY app /app\n";
	struct ctxd_dockerfile_reads_options o = {0};

	(void)state;
	check(df, &o, false, NULL, "common:2 app:7");
	o.target = "test";
	check(df, &o, false, NULL, "common:2 tests:4");
	o.target = "BASE"; /* case-insensitive */
	check(df, &o, false, NULL, "common:2");
	o.target = "tst";
	check_error(df, &o, "Dockerfile: target stage \"tst\" could not be found (did you mean test?)");
}

/* The classic builder builds every stage up to the target, used or not
 * (corpus case java-gradle-target), and none after it. */
static void test_classic_builds_earlier_stages(void **state)
{
	static const char df[] =
		"FROM alpine AS base\nCOPY common /common\n"
		"FROM base AS test\nCOPY tests /tests\n"
		"FROM alpine AS release\nCOPY app /app\n"
		"FROM alpine AS later\nCOPY later /later\n";
	struct ctxd_dockerfile_reads_options o = {.target = "release", .classic = true};
	struct ctxd_dockerfile *d = parse(df);
	struct ctxd_dockerfile_reads r;
	struct ctxd_error err;

	(void)state;
	check(df, &o, false, NULL, "common:2 tests:4 app:6");
	o.target = "base";
	check(df, &o, false, NULL, "common:2");
	o.classic = false;
	o.target = "release";
	check(df, &o, false, NULL, "app:6");
	o.classic = true;
	assert_int_equal(ctxd_dockerfile_reads(d, &o, &r, &err), 0);
	assert_true(r.stages[1].reachable);
	assert_string_equal(r.stages[1].why, "the classic builder builds every stage before the target");
	assert_false(r.stages[3].reachable);
	ctxd_dockerfile_reads_clear(&r);
	ctxd_dockerfile_destroy(d);
}

static void test_copy_from_index_and_name(void **state)
{
	(void)state;
	check("FROM alpine AS a\nCOPY x /x\nFROM alpine AS b\nCOPY y /y\nFROM alpine\n"
	      "COPY --from=0 /x /x\nCOPY --from=B /y /y\n",
	      NULL, false, NULL, "x:2 y:4");
	/* an unreferenced stage is not built */
	check("FROM alpine AS a\nCOPY x /x\nFROM alpine AS b\nCOPY y /y\nFROM alpine\n"
	      "COPY --from=a /x /x\n",
	      NULL, false, NULL, "x:2");
}

static void test_copy_from_image(void **state)
{
	struct ctxd_dockerfile *df = parse("FROM alpine\nCOPY --from=nginx:latest /etc/nginx /n\n"
					   "COPY --from=docker.io/library/busybox:1 /bin/sh /sh\n");
	struct ctxd_dockerfile_reads r;
	struct ctxd_error err;

	(void)state;
	assert_int_equal(ctxd_dockerfile_reads(df, NULL, &r, &err), 0);
	assert_false(r.whole_context);
	assert_int_equal(r.nreads, 0);
	assert_int_equal(r.nsteps, 2);
	assert_string_equal(r.steps[0].instruction, "COPY");
	assert_string_equal(r.steps[0].effect, "reads nothing from the context (--from=nginx:latest)");
	assert_int_equal(r.nstages, 1);
	ctxd_dockerfile_reads_clear(&r);
	ctxd_dockerfile_destroy(df);
}

static void test_from_errors(void **state)
{
	(void)state;
	check_error("FROM alpine AS a\nCOPY --from=b /x /x\nFROM alpine AS b\n",
		    &(struct ctxd_dockerfile_reads_options){.target = "a"},
		    "Dockerfile:2: cannot copy from stage \"b\", it needs to be defined before "
		    "current stage \"a\"");
	check_error("FROM alpine AS x\nCOPY --from=y /a /a\nFROM alpine AS y\nCOPY --from=x /b /b\n",
		    NULL, "Dockerfile:1: circular dependency detected on stage: x");
	check_error("FROM alpine\nCOPY --from=5 /a /a\n", NULL, "Dockerfile:2: invalid stage index 5");
	check_error("ARG S=build\nFROM alpine\nCOPY --from=$S /a /a\n", NULL,
		    "Dockerfile:3: variable expansion is not supported for --from, define a new stage "
		    "with FROM using ARG from global scope as a workaround");
	check_error("ARG B=\nFROM $B\n", NULL, "Dockerfile:2: base name ($B) should not be blank");
	check_error("ARG X\n", NULL, "Dockerfile:1: dockerfile contains no stages to build");
	check_error("FROM alpine\nCOPY git@github.com:a/b.git /src\n", NULL,
		    "Dockerfile:2: source can't be a git ref for COPY");
	check_error("FROM alpine\nCOPY https://example.com/x /x\n", NULL,
		    "Dockerfile:2: source can't be a URL for COPY");
	/* expansion errors count in reachable stages only */
	check_error("FROM scratch\nCOPY ${X:?needX} /x\n", NULL,
		    "Dockerfile:2: failed to process \"${X:?needX}\": X: needX");
	check("FROM scratch AS unused\nCOPY ${X:?need X} /x\nFROM scratch\nCOPY y /y\n", NULL, false,
	      NULL, "y:4");
	check_error("FROM scratch\nWORKDIR ${W:?}\n", NULL,
		    "Dockerfile:2: failed to process \"${W:?}\": W: is not allowed to be unset");
	check_error("FROM scratch\nARG E=\nVOLUME $E\n", NULL,
		    "Dockerfile:3: VOLUME specified can not be an empty string");
}

static void test_stage_base_by_arg(void **state)
{
	static const char *const args[] = {"BASE=runtime-dev"};
	struct ctxd_dockerfile_reads_options o = {.build_args = args, .nbuild_args = 1};
	static const char df[] =
		"ARG BASE=runtime\nFROM alpine AS runtime\nCOPY prod.conf /c\n"
		"FROM alpine AS runtime-dev\nCOPY dev.conf /c\nFROM ${BASE}\nCOPY app /app\n";

	(void)state;
	check(df, NULL, false, NULL, "prod.conf:3 app:7");
	check(df, &o, false, NULL, "dev.conf:5 app:7");
}

static bool onbuild_images(void *ctx, const char *image)
{
	(*(int *)ctx)++;
	return strstr(image, "onbuild") != NULL;
}

static void test_unknown_base(void **state)
{
	int calls = 0;
	struct ctxd_dockerfile_reads_options o = {0};
	static const char df[] =
		"ARG BASE\nFROM alpine AS one\nCOPY one.txt /\nFROM alpine AS two\nCOPY two.txt /\n"
		"FROM ${BASE}\nCOPY app /app\n";

	(void)state;
	/* the base may be any earlier stage: they all count */
	check(df, &o, false, NULL, "one.txt:3 two.txt:5 app:7");
	/* asked about ONBUILD triggers, we cannot answer for a base we
	 * cannot name */
	o.has_onbuild = onbuild_images;
	o.ctx = &calls;
	check(df, &o, true, "the base image of stage stage-2 (line 6) depends on BASE", NULL);
}

static void test_onbuild_image(void **state)
{
	int calls = 0;
	struct ctxd_dockerfile_reads_options o = {.has_onbuild = onbuild_images, .ctx = &calls};

	(void)state;
	check("FROM myorg/python:3-onbuild\nCOPY extra /extra\n", &o, true,
	      "the base image myorg/python:3-onbuild of stage stage-0 (line 1) has, or may have, ONBUILD triggers",
	      "extra:2");
	assert_int_equal(calls, 1);
	check("FROM python:3\nCOPY extra /extra\n", &o, false, NULL, "extra:2");
	/* an unreachable stage's image is not asked about */
	calls = 0;
	check("FROM x-onbuild AS unused\nFROM scratch\nCOPY a /a\n", &o, false, NULL, "a:3");
	assert_int_equal(calls, 0);
	/* nor is scratch or a stage */
	check("FROM scratch AS s\nFROM s\nCOPY a /a\n", &o, false, NULL, "a:3");
	assert_int_equal(calls, 0);
	/* a base we cannot name may have triggers */
	check("ARG IMG\nFROM $IMG\nCOPY a /a\n", &o, true,
	      "the base image of stage stage-0 (line 2) depends on IMG", "a:3");
}

static void test_onbuild_in_dockerfile(void **state)
{
	static const char df[] =
		"FROM alpine AS assets\nCOPY assets /assets\n"
		"FROM node:20 AS base\nONBUILD COPY package.json /app/\n"
		"ONBUILD COPY --from=assets /assets /app/assets\nONBUILD RUN npm install\n"
		"FROM base\nCOPY src /app/src\n";
	struct ctxd_dockerfile_reads_options o = {.target = "base"};
	struct ctxd_dockerfile *d;
	struct ctxd_dockerfile_reads r;
	struct ctxd_error err;

	(void)state;
	/* the triggers run first in the stage built FROM base, and bring in
	 * the stage their --from names */
	check(df, NULL, false, NULL, "assets:2 package.json:4* src:8");
	/* building base itself runs no trigger */
	check(df, &o, false, NULL, "");

	d = parse(df);
	assert_int_equal(ctxd_dockerfile_reads(d, NULL, &r, &err), 0);
	assert_true(r.stages[0].reachable);
	assert_string_equal(r.stages[0].why, "ONBUILD COPY --from=assets at line 5 in stage stage-2");
	assert_string_equal(r.reads[1].instruction, "COPY");
	assert_int_equal(r.reads[1].stage, 2);
	for (size_t i = 0; i < r.nsteps; i++)
		if (r.steps[i].line == 6 && r.steps[i].stage == 2)
			assert_string_equal(r.steps[i].instruction, "ONBUILD RUN");
	ctxd_dockerfile_reads_clear(&r);
	ctxd_dockerfile_destroy(d);

	/* a trigger BuildKit cannot parse fails the stage that runs it */
	check_error("FROM alpine AS b\nONBUILD FORM x\nFROM b\n", NULL,
		    "Dockerfile:3: unknown instruction: FORM (did you mean FROM?)");
	/* an unknown base that may be a stage with triggers */
	check("ARG B\nFROM alpine AS t\nONBUILD COPY x /x\nFROM $B\n", NULL, true,
	      "may be stage t, which has ONBUILD triggers", "");
}

static void test_run_mounts(void **state)
{
	(void)state;
	check("FROM alpine\nRUN --mount=type=bind,source=scripts/build.sh,target=/b.sh sh /b.sh\n",
	      NULL, false, NULL, "scripts/build.sh:2");
	check("FROM alpine\nRUN --mount=src=./conf/../conf/app.ini,dst=/a.ini true\n", NULL, false,
	      NULL, "conf/app.ini:2");
	check("FROM alpine\nRUN --mount=type=bind,source=.,target=/src make\n", NULL, true,
	      "RUN --mount=type=bind,source=. (line 2) mounts the whole context", ".:2");
	check("FROM alpine\nRUN --mount=target=/src make\n", NULL, true, "without a source", ".:2");
	/* from another stage or image: nothing from the context */
	check("FROM alpine AS build\nCOPY src /src\nFROM alpine\n"
	      "RUN --mount=from=build,source=/src,target=/s --mount=from=busybox,target=/b ls\n",
	      NULL, false, NULL, "src:2");
	/* cache, secret, ssh read nothing */
	check("FROM alpine\nRUN --mount=type=cache,target=/c --mount=type=secret,id=npm "
	      "--mount=type=ssh true\n", NULL, false, NULL, "");
	/* values are expanded with the stage's variables */
	check("FROM alpine\nARG SCRIPTS=tools\nRUN --mount=type=bind,source=$SCRIPTS,target=/t true\n",
	      NULL, false, NULL, "tools:3");
	check("FROM alpine\nARG T\nRUN --mount=type=$T,target=/t true\n", NULL, true,
	      "RUN --mount (line 3) depends on T", ".:3");
	check_error("FROM alpine\nRUN --mount=type=bnd,target=/t true\n", NULL,
		    "Dockerfile:2: unsupported mount type \"bnd\" (did you mean bind?)");
}

static void test_tmpfs(void **state)
{
	(void)state;
	/* alone it uses no context at all */
	check("FROM alpine\nRUN --mount=type=tmpfs,target=/tmp true\n", NULL, false, NULL, "");
	/* BuildKit lists "/" for it and would transfer everything, but the
	 * mount is an empty directory: only the COPY is read (corpus case
	 * cache-mount proves the image is the same) */
	check("FROM alpine\nCOPY a /a\nRUN --mount=type=tmpfs,target=/tmp true\n", NULL, false,
	      NULL, "a:2");
	check("FROM alpine\nRUN --mount=type=tmpfs,target=/t,source=x true\nCOPY b /b\n", NULL,
	      false, NULL, "b:3");
}

static void test_heredoc_sources(void **state)
{
	(void)state;
	check("FROM alpine\nCOPY <<EOF /etc/motd\nhello\nEOF\n"
	      "COPY <<one <<two real.txt /d/\n1\none\n2\ntwo\n"
	      "RUN <<EOF\necho hi\nEOF\n", NULL, false, NULL, "real.txt:5");
}

static void test_add_sources(void **state)
{
	(void)state;
	check("FROM alpine\nADD https://example.com/a.tar.gz /a\n"
	      "ADD http://x/y git@github.com:moby/buildkit.git ssh://git@host/r.git /b/\n"
	      "ADD https://github.com/moby/buildkit.git#v0.10.1 /bk\n"
	      "ADD --chown=1:1 local.tar.gz vendor /c/\n",
	      NULL, false, NULL, "local.tar.gz:5 vendor:5");
}

static void test_copy_flags(void **state)
{
	(void)state;
	check("FROM alpine\nCOPY --parents ./src/./app/*.js /dst/\n", NULL, false, NULL,
	      "src/app/*.js:2");
	check("FROM alpine\nCOPY --link --chmod=755 --exclude=*.md --exclude=$X --exclude=tests "
	      "docs src /d/\n", NULL, false, NULL, "docs:2!*.md!tests src:2!*.md!tests");
	/* normalisation: no leading "/", ".." cannot leave the context */
	check("FROM alpine\nCOPY /abs/path ../up x/./y// /d/\n", NULL, false, NULL,
	      "abs/path:2 up:2 x/y:2");
	check("FROM alpine\nCOPY ./ /d/\n", NULL, true, "COPY ./ (line 2) reads the whole context", ".:2");
	check("FROM alpine\nCOPY a/.. /d/\n", NULL, true, "reads the whole context", ".:2");
}

static void test_empty_expansion(void **state)
{
	(void)state;
	/* BuildKit joins "" to "/": the whole context */
	check("FROM scratch\nARG EMPTY=\nCOPY $EMPTY /x\n", NULL, true,
	      "COPY source $EMPTY (line 3) expands to an empty path, which is the whole context", ".:3");
}

static void test_platform_args(void **state)
{
	static const char df[] =
		"FROM --platform=$BUILDPLATFORM golang AS build\nARG TARGETARCH TARGETVARIANT BUILDOS\n"
		"COPY bin/${TARGETARCH}${TARGETVARIANT:+-$TARGETVARIANT}/app /app\n"
		"COPY tools/$BUILDOS /t\n";
	struct ctxd_dockerfile_reads_options o = {0};

	(void)state;
	check(df, &o, false, NULL, "bin/amd64/app:3 tools/linux:4");
	o.platform = "linux/arm64/v8";
	o.build_platform = "darwin/arm64";
	check(df, &o, false, NULL, "bin/arm64/app:3 tools/darwin:4");
	o.platform = "linux/arm";
	check(df, &o, false, NULL, "bin/arm-v7/app:3 tools/darwin:4");
	o.platform = "x86_64";
	check("FROM scratch\nARG TARGETPLATFORM\nCOPY p/$TARGETPLATFORM /p\n", &o, false, NULL,
	      "p/linux/amd64:3");
	/* a build arg overrides an automatic one */
	static const char *const args[] = {"TARGETARCH=riscv64"};
	o.build_args = args;
	o.nbuild_args = 1;
	check(df, &o, false, NULL, "bin/riscv64/app:3 tools/darwin:4");
	o.platform = "linux/a/b/c";
	check_error(df, &o, "Dockerfile: invalid target platform \"linux/a/b/c\"");
}

static void test_syntax(void **state)
{
	struct ctxd_dockerfile_reads_options o = {0};
	static const char *const args[] = {"BUILDKIT_SYNTAX=example.com/frontend:1"};

	(void)state;
	check("# syntax=docker/dockerfile:1\nFROM alpine\nCOPY a /a\n", &o, true,
	      "the syntax directive selects the frontend docker/dockerfile:1", "");
	o.trust_official_syntax = true;
	check("# syntax=docker/dockerfile:1\nFROM alpine\nCOPY a /a\n", &o, false, NULL, "a:3");
	check("# syntax=docker.io/docker/dockerfile:1.7-labs\nFROM alpine\nCOPY a /a\n", &o, false,
	      NULL, "a:3");
	check("# syntax=docker/dockerfile@sha256:abc\nFROM alpine\nCOPY a /a\n", &o, false, NULL, "a:3");
	check("# syntax=example.com/docker/dockerfile:1\nFROM alpine\nCOPY a /a\n", &o, true,
	      "example.com/docker/dockerfile:1", "");
	check("# syntax=docker/dockerfilex\nFROM alpine\nCOPY a /a\n", &o, true, NULL, "");
	/* a custom frontend's own syntax is not ours to refuse */
	check("# syntax=devthefuture/dockerfile-x\nINCLUDE ./base.dockerfile\n", &o, true,
	      "devthefuture/dockerfile-x", "");
	o.build_args = args;
	o.nbuild_args = 1;
	check("FROM alpine\nCOPY a /a\n", &o, true, "the BUILDKIT_SYNTAX build argument", "");
}

static void test_escape_directive(void **state)
{
	(void)state;
	check("# escape=`\nFROM scratch\nARG V=v\nCOPY a`$b c\\$V C:\\dir `\n   /d/\n", NULL, false, NULL,
	      "a$b:4 c\\v:4 C:\\dir:4");
}

static void test_stage_and_step_report(void **state)
{
	struct ctxd_dockerfile *df = parse(node_app);
	struct ctxd_dockerfile_reads r;
	struct ctxd_error err;

	(void)state;
	assert_int_equal(ctxd_dockerfile_reads(df, NULL, &r, &err), 0);
	assert_true(r.whole_context);
	assert_int_equal(r.reason_line, 6);
	assert_int_equal(r.nstages, 3);
	assert_string_equal(r.stages[0].name, "deps");
	assert_string_equal(r.stages[0].base, "node:20");
	assert_string_equal(r.stages[0].why, "base of stage build (FROM at line 5)");
	assert_string_equal(r.stages[1].why, "COPY --from=build at line 9 in stage stage-2");
	assert_string_equal(r.stages[2].name, "stage-2");
	assert_string_equal(r.stages[2].why, "target");
	assert_int_equal(r.stages[2].line, 8);
	assert_int_equal(r.nsteps, 6);
	assert_string_equal(r.steps[0].instruction, "WORKDIR");
	assert_string_equal(r.steps[0].effect, "no context access");
	assert_string_equal(r.steps[1].effect, "reads package*.json");
	assert_string_equal(r.steps[3].effect, "reads the whole context");
	assert_int_equal(r.steps[5].stage, 2);
	assert_int_equal(r.reads[0].stage, 0);
	assert_int_equal(r.reads[1].stage, 1);
	ctxd_dockerfile_reads_clear(&r);
	ctxd_dockerfile_destroy(df);

	/* unreachable stages are listed, not explained */
	df = parse("FROM alpine AS unused\nCOPY x /x\nFROM alpine\n");
	assert_int_equal(ctxd_dockerfile_reads(df, NULL, &r, &err), 0);
	assert_false(r.stages[0].reachable);
	assert_null(r.stages[0].why);
	assert_int_equal(r.nreads, 0);
	assert_int_equal(r.nsteps, 0);
	ctxd_dockerfile_reads_clear(&r);
	ctxd_dockerfile_destroy(df);
}

static void test_no_context_use(void **state)
{
	(void)state;
	/* nothing reads the context: BuildKit transfers none of it */
	check("FROM alpine\nRUN apk add curl\nCMD [\"curl\"]\n", NULL, false, NULL, "");
}

static void test_monorepo_workspace(void **state)
{
	static const char *const args[] = {"SERVICE=billing"};
	struct ctxd_dockerfile_reads_options o = {.build_args = args, .nbuild_args = 1};

	(void)state;
	check("ARG SERVICE=api\nFROM node:20 AS build\nARG SERVICE\nWORKDIR /repo\n"
	      "COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./\n"
	      "COPY packages/shared packages/shared\n"
	      "COPY services/${SERVICE} services/${SERVICE}\n"
	      "RUN pnpm install && pnpm --filter ${SERVICE} build\n"
	      "FROM node:20-slim\nARG SERVICE\n"
	      "COPY --from=build /repo/services/${SERVICE}/dist /app\n",
	      &o, false, NULL,
	      "package.json:5 pnpm-lock.yaml:5 pnpm-workspace.yaml:5 packages/shared:6 "
	      "services/billing:7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_copy_dot),
		cmocka_unit_test(test_node_explicit_sources),
		cmocka_unit_test(test_node_deps_stage_only),
		cmocka_unit_test(test_python),
		cmocka_unit_test(test_python_poetry_multistage),
		cmocka_unit_test(test_go),
		cmocka_unit_test(test_go_bind_mounts),
		cmocka_unit_test(test_java_maven),
		cmocka_unit_test(test_java_gradle),
		cmocka_unit_test(test_arg_default),
		cmocka_unit_test(test_arg_build_arg_overrides),
		cmocka_unit_test(test_arg_without_value),
		cmocka_unit_test(test_global_args),
		cmocka_unit_test(test_base_image_env_is_unknown),
		cmocka_unit_test(test_env_forms),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_classic_builds_earlier_stages),
		cmocka_unit_test(test_copy_from_index_and_name),
		cmocka_unit_test(test_copy_from_image),
		cmocka_unit_test(test_from_errors),
		cmocka_unit_test(test_stage_base_by_arg),
		cmocka_unit_test(test_unknown_base),
		cmocka_unit_test(test_onbuild_image),
		cmocka_unit_test(test_onbuild_in_dockerfile),
		cmocka_unit_test(test_run_mounts),
		cmocka_unit_test(test_tmpfs),
		cmocka_unit_test(test_heredoc_sources),
		cmocka_unit_test(test_add_sources),
		cmocka_unit_test(test_copy_flags),
		cmocka_unit_test(test_empty_expansion),
		cmocka_unit_test(test_platform_args),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_escape_directive),
		cmocka_unit_test(test_stage_and_step_report),
		cmocka_unit_test(test_no_context_use),
		cmocka_unit_test(test_monorepo_workspace),
	};

	return TU_RUN("dockerfile-reads", tests);
}
