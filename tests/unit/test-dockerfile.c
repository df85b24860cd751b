/* The Dockerfile parser (dockerfile, dockerfile_instr, dockerfile_mount):
 * cases ported from BuildKit's parser, heredoc and instructions tests, and
 * every error path with Docker's wording. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxd/dockerfile.h"
#include "ctxd/dockerfile_instr.h"
#include "ctxd/dockerfile_mount.h"
#include "testutil.h"

static struct ctxd_dockerfile *parse(const char *text)
{
	struct ctxd_dockerfile *df;
	struct ctxd_error err;

	if (ctxd_dockerfile_parse(text, strlen(text), "Dockerfile", &df, &err) < 0)
		fail_msg("parse failed: %s", err.msg);
	return df;
}

static void expect_error(const char *text, size_t len, const char *want)
{
	struct ctxd_dockerfile *df = NULL;
	struct ctxd_error err;

	if (ctxd_dockerfile_parse(text, len, "Dockerfile", &df, &err) == 0) {
		ctxd_dockerfile_destroy(df);
		fail_msg("'%s' parsed, want error '%s'", text, want);
	}
	assert_null(df);
	if (strcmp(err.msg, want) != 0)
		fail_msg("'%s': error\n  '%s'\nwant\n  '%s'", text, err.msg, want);
}

#define EXPECT_ERROR(text, want) expect_error(text, sizeof(text) - 1, want)

/* "name a|b|c" of instruction i: its lower-case name and arguments */
static void expect_instr(const struct ctxd_dockerfile *df, size_t i, const char *want)
{
	const struct ctxd_dockerfile_instr *in = ctxd_dockerfile_instr(df, i);
	char got[1024];
	size_t n;

	assert_non_null(in);
	n = (size_t)snprintf(got, sizeof got, "%s", in->name);
	for (size_t k = 0; k < in->nargs; k++)
		n += (size_t)snprintf(got + n, sizeof got - n, "%s%s", k ? "|" : " ", in->args[k]);
	if (strcmp(got, want) != 0)
		fail_msg("instruction %zu is '%s', want '%s'", i, got, want);
}

static void test_parse_words(void **state)
{
	/* TestParseWords, through ARG (parseNameOrNameVal) */
	static const struct {
		const char *in, *want;
	} t[] = {
		{"ARG foo", "arg foo"},
		{"ARG foo bar", "arg foo|bar"},
		{"ARG foo\\ bar", "arg foo\\ bar"},
		{"ARG foo=bar", "arg foo=bar"},
		{"ARG foo bar 'abc xyz'", "arg foo|bar|'abc xyz'"},
		{"ARG foo bar \"abc xyz\"", "arg foo|bar|\"abc xyz\""},
		{"ARG àöû", "arg àöû"},
		{"ARG föo bàr \"âbc xÿz\"", "arg föo|bàr|\"âbc xÿz\""},
		{"ARG a=\"x\\\"y\" b='c\\'", "arg a=\"x\\\"y\"|b='c\\'"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char text[256];
		struct ctxd_dockerfile *df;

		snprintf(text, sizeof text, "%s\nFROM scratch\n", t[i].in);
		df = parse(text);
		expect_instr(df, 0, t[i].want);
		ctxd_dockerfile_destroy(df);
	}
}

static void test_directives(void **state)
{
	struct ctxd_dockerfile *df;

	(void)state;
	/* escape=` : backtick continues lines, backslash is ordinary */
	df = parse("# Escape = `\n# SYNTAX=docker/dockerfile:1.7\n#check=skip=all\n"
		   "FROM scratch\nCOPY a\\b `\n   c\\d /x\\\n");
	assert_int_equal(ctxd_dockerfile_escape(df), '`');
	assert_string_equal(ctxd_dockerfile_directive(df, "escape"), "`");
	assert_string_equal(ctxd_dockerfile_directive(df, "syntax"), "docker/dockerfile:1.7");
	assert_string_equal(ctxd_dockerfile_directive(df, "CHECK"), "skip=all");
	expect_instr(df, 1, "copy a\\b|c\\d|/x\\");
	ctxd_dockerfile_destroy(df);

	/* a blank line, a plain comment or an instruction ends the block */
	df = parse("\n# escape=`\nFROM scratch\n");
	assert_int_equal(ctxd_dockerfile_escape(df), '\\');
	assert_null(ctxd_dockerfile_directive(df, "escape"));
	ctxd_dockerfile_destroy(df);
	df = parse("# hello\n# escape=`\nFROM scratch\n");
	assert_int_equal(ctxd_dockerfile_escape(df), '\\');
	ctxd_dockerfile_destroy(df);
	df = parse("# unknown=x\n# escape=`\nFROM scratch\n");
	assert_int_equal(ctxd_dockerfile_escape(df), '\\');
	ctxd_dockerfile_destroy(df);
	df = parse("FROM scratch\n# escape=`\n");
	assert_int_equal(ctxd_dockerfile_escape(df), '\\');
	ctxd_dockerfile_destroy(df);
	/* a BOM and leading blanks do not hide one */
	df = parse("\xEF\xBB\xBF  #escape=`\t\nFROM scratch\n");
	assert_int_equal(ctxd_dockerfile_escape(df), '`');
	ctxd_dockerfile_destroy(df);
}

static void test_syntax_detection(void **state)
{
	static const struct {
		const char *text, *want;
	} t[] = {
		{"# syntax=docker/dockerfile:1\nFROM scratch\n", "docker/dockerfile:1"},
		{"#syntax = example.com/front:v2 --opt\nFROM scratch\n", "example.com/front:v2"},
		{"#!/usr/bin/env buildctl\n# syntax=x/y\nFROM scratch\n", "x/y"},
		/* not a Dockerfile this parser reads: the frontend will */
		{"// syntax=x/z\nINCLUDE other\n", "x/z"},
		{"# escape=`\n# syntax=a/b\nFROM scratch\n", "a/b"},
		{"FROM scratch\n# syntax=a/b\n", NULL},
		{"# comment\n# syntax=a/b\nFROM scratch\n", NULL},
		{"\n# syntax=a/b\nFROM scratch\n", NULL},
		/* the frontend is chosen before the parser would refuse the file */
		{"# syntax=a\n#syntax=b\nFROM a\n", "a"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct ctxd_dockerfile *df = parse(t[i].text);
		const char *got = ctxd_dockerfile_syntax(df);

		if (t[i].want ? !got || strcmp(got, t[i].want) != 0 : got != NULL)
			fail_msg("case %zu: syntax '%s', want '%s'", i, got ? got : "(none)",
				 t[i].want ? t[i].want : "(none)");
		ctxd_dockerfile_destroy(df);
	}
}

static void test_continuations(void **state)
{
	struct ctxd_dockerfile *df;
	const struct ctxd_dockerfile_instr *in;

	(void)state;
	/* TestParseWarnsOnEmptyContinutationLine's file: empty lines and comment
	 * lines inside a continuation are dropped; indentation is kept */
	df = parse("\nFROM alpine:3.6\n\nRUN valid \\\n    continuation\n\nRUN something \\\n\n"
		   "    following \\\n\n    more\n\nRUN another \\\n\n    thing\n\n"
		   "RUN non-indented \\\n# this is a comment\n   after-comment\n\n"
		   "RUN indented \\\n    # this is an indented comment\n    comment\n\t");
	assert_int_equal(ctxd_dockerfile_count(df), 6);
	expect_instr(df, 1, "run valid     continuation");
	expect_instr(df, 2, "run something     following     more");
	expect_instr(df, 3, "run another     thing");
	expect_instr(df, 4, "run non-indented    after-comment");
	expect_instr(df, 5, "run indented     comment");
	in = ctxd_dockerfile_instr(df, 2);
	assert_int_equal(in->line, 7);
	assert_int_equal(in->end_line, 11);
	assert_string_equal(in->original, "RUN something     following     more");
	ctxd_dockerfile_destroy(df);

	/* an escaped escape ends the line; blanks after the escape do not;
	 * CRLF line ends; a continuation at the end of the file */
	df = parse("FROM scratch\r\nRUN a \\\\\r\nRUN b \\  \t\r\n c\r\nRUN d \\");
	expect_instr(df, 1, "run a \\\\");
	expect_instr(df, 2, "run b  c");
	expect_instr(df, 3, "run d");
	assert_int_equal(ctxd_dockerfile_instr(df, 3)->line, 5);
	ctxd_dockerfile_destroy(df);

	/* comments anywhere, instructions in any case */
	df = parse("  # lead\nfrom scratch as Base\n\tCoPy a b # not a comment\n");
	expect_instr(df, 0, "from scratch|as|Base");
	expect_instr(df, 1, "copy a|b|#|not|a|comment");
	assert_string_equal(ctxd_dockerfile_instr(df, 1)->keyword, "CoPy");
	assert_string_equal(ctxd_dockerfile_stage(df, 0)->name, "base");
	ctxd_dockerfile_destroy(df);
}

struct hd_want {
	const char *name, *content;
	bool expand, chomp;
	unsigned long fd;
};

static void expect_heredocs(const struct ctxd_dockerfile_instr *in, const struct hd_want *w, size_t n)
{
	if (in->nheredocs != n)
		fail_msg("line %u: %zu heredocs, want %zu", in->line, in->nheredocs, n);
	for (size_t i = 0; i < n; i++) {
		const struct ctxd_dockerfile_heredoc *h = &in->heredocs[i];

		if (strcmp(h->name, w[i].name) != 0 || h->content_len != strlen(w[i].content) ||
		    memcmp(h->content, w[i].content, h->content_len) != 0 || h->expand != w[i].expand ||
		    h->chomp != w[i].chomp || h->fd != w[i].fd)
			fail_msg("line %u heredoc %zu: name '%s' content '%.*s' expand %d chomp %d fd %lu",
				 in->line, i, h->name, (int)h->content_len, h->content, h->expand,
				 h->chomp, h->fd);
	}
}

static void test_heredocs(void **state)
{
	/* TestParseExtractsHeredoc */
	static const char text[] =
		"\nFROM alpine:3.6\n\nENV NAME=me\n\nRUN ls\n\n"
		"RUN <<EMPTY\nEMPTY\n\nRUN 3<<EMPTY2\nEMPTY2\n\nRUN \"<<NOHEREDOC\"\n\n"
		"RUN <<INDENT\n\tfoo\n\tbar\nINDENT\n\nRUN <<-UNINDENT\n\tbaz\n\tquux\nUNINDENT\n\n"
		"RUN <<-UNINDENT2\n\tbaz\n\tquux\n\tUNINDENT2\n\nRUN <<-EXPAND\n\texpand $NAME\nEXPAND\n\n"
		"RUN <<-'NOEXPAND'\n\tdon't expand $NAME\nNOEXPAND\n\n"
		"RUN <<COPY\necho hello world\necho foo bar\nCOPY\n\n"
		"RUN <<COMMENT\n# internal comment\necho hello world\necho foo bar # trailing comment\nCOMMENT\n\n"
		"RUN --mount=type=cache,target=/foo <<MOUNT\necho hello\nMOUNT\n\n"
		"COPY <<FILE1 <<FILE2 /dest\ncontent 1\nFILE1\ncontent 2\nFILE2\n\n"
		"COPY <<EOF /quotes\n\"foo\"\n'bar'\nEOF\n\nCOPY <<X <<Y /dest\nY\nX\nX\nY\n\n"
		"RUN <<COMPLEX python3\nprint('hello world')\nCOMPLEX\n\n"
		"COPY <<file.txt /dest\nhello world\nfile.txt\n\nRUN <<eo'f'\necho foo\neof\n\n"
		"RUN <<eo\\'f\necho foo\neo'f\n\nRUN <<'e'o\\'f\necho foo\neo'f\n\n"
		"RUN <<'one two'\necho bar\none two\n\nRUN <<$EOF\n$EOF\n\nRUN <<  EOF\nEOF\n\n"
		"RUN <<  EOF  > foo\nEOF\n\t";
	static const struct hd_want
		empty[] = {{"EMPTY", "", true, false, 0}},
		empty2[] = {{"EMPTY2", "", true, false, 3}},
		indent[] = {{"INDENT", "\tfoo\n\tbar\n", true, false, 0}},
		unindent[] = {{"UNINDENT", "\tbaz\n\tquux\n", true, true, 0}},
		unindent2[] = {{"UNINDENT2", "\tbaz\n\tquux\n", true, true, 0}},
		expand[] = {{"EXPAND", "\texpand $NAME\n", true, true, 0}},
		noexpand[] = {{"NOEXPAND", "\tdon't expand $NAME\n", false, true, 0}},
		copy[] = {{"COPY", "echo hello world\necho foo bar\n", true, false, 0}},
		comment[] = {{"COMMENT", "# internal comment\necho hello world\necho foo bar # trailing comment\n", true, false, 0}},
		mount[] = {{"MOUNT", "echo hello\n", true, false, 0}},
		files[] = {{"FILE1", "content 1\n", true, false, 0}, {"FILE2", "content 2\n", true, false, 0}},
		quotes[] = {{"EOF", "\"foo\"\n'bar'\n", true, false, 0}},
		xy[] = {{"X", "Y\n", true, false, 0}, {"Y", "X\n", true, false, 0}},
		complex[] = {{"COMPLEX", "print('hello world')\n", true, false, 0}},
		file_txt[] = {{"file.txt", "hello world\n", true, false, 0}},
		eof1[] = {{"eof", "echo foo\n", false, false, 0}},
		eof2[] = {{"eo'f", "echo foo\n", true, false, 0}},
		eof3[] = {{"eo'f", "echo foo\n", false, false, 0}},
		onetwo[] = {{"one two", "echo bar\n", false, false, 0}},
		dollar[] = {{"$EOF", "", true, false, 0}},
		spaced[] = {{"EOF", "", true, false, 0}};
	static const struct {
		const struct hd_want *w;
		size_t n;
	} want[] = {
		{NULL, 0}, {NULL, 0}, {empty, 1}, {empty2, 1}, {NULL, 0},
		{indent, 1}, {unindent, 1}, {unindent2, 1}, {expand, 1}, {noexpand, 1}, {copy, 1},
		{comment, 1}, {mount, 1}, {files, 2}, {quotes, 1}, {xy, 2}, {complex, 1},
		{file_txt, 1}, {eof1, 1}, {eof2, 1}, {eof3, 1}, {onetwo, 1}, {dollar, 1},
		{spaced, 1}, {spaced, 1},
	};
	struct ctxd_dockerfile *df;

	(void)state;
	df = parse(text);
	assert_int_equal(ctxd_dockerfile_count(df), 1 + sizeof want / sizeof want[0]);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		expect_heredocs(ctxd_dockerfile_instr(df, i + 1), want[i].w, want[i].n);
	ctxd_dockerfile_destroy(df);

	/* TestParseJSONHeredoc: the exec form has none */
	df = parse("FROM alpine:3.6\nRUN [\"whoami\"]\nRUN [\"<<EOF\"]\nRUN [\"<<'EOF'\"]\n");
	for (size_t i = 1; i <= 3; i++)
		assert_int_equal(ctxd_dockerfile_instr(df, i)->nheredocs, 0);
	ctxd_dockerfile_destroy(df);

	/* heredocsFromLine: which words open one */
	static const struct {
		const char *line;
		const char *names;
	} lines[] = {
		{"RUN <<EOF", "EOF"},        {"RUN <<-EOF", "EOF"},   {"RUN <<- EOF", ""},
		{"RUN << -EOF", "-EOF"},     {"RUN <<'EOF'", "EOF"},  {"RUN 4<<EOF", "EOF"},
		{"RUN <<EOF <<EOF2", "EOF EOF2"}, {"RUN '<<EOF'", ""}, {"RUN \"<<EOF\"", ""},
		{"RUN cat <<EOF | sh -c \"x\"", "EOF"}, {"RUN echo a<<b", ""},
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		char text2[256], got[128] = "";
		const struct ctxd_dockerfile_instr *in;
		size_t total = 0;
		const char *p = lines[i].names;

		/* every body is one line "x" then its terminator */
		snprintf(text2, sizeof text2, "FROM scratch\n%s\n", lines[i].line);
		for (; *p;) {
			size_t l = strcspn(p, " ");

			snprintf(text2 + strlen(text2), sizeof text2 - strlen(text2), "x\n%.*s\n", (int)l, p);
			p += l + (p[l] == ' ');
			total++;
		}
		df = parse(text2);
		in = ctxd_dockerfile_instr(df, 1);
		assert_int_equal(in->nheredocs, total);
		for (size_t k = 0; k < in->nheredocs; k++)
			snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", k ? " " : "",
				 in->heredocs[k].name);
		if (strcmp(got, lines[i].names) != 0)
			fail_msg("'%s': heredocs '%s', want '%s'", lines[i].line, got, lines[i].names);
		ctxd_dockerfile_destroy(df);
	}

	/* TestParseHeredocHelpers: MustParseHeredoc on a word */
	static const char *const valid[] = {"<<EOF", "<<'EOF'", "<<\"EOF\"", "<<-EOF", "<<-'EOF'",
					    "<<-\"EOF\"", "<<EO\"F\"", "<< EOF", "<<- EOF", "12<<EOF"};
	static const char *const invalid[] = {"<<'EOF", "<<\"EOF", "<<EOF'", "<<EOF\"", "",
					      "EOF", "<<", "<<-", "<EOF", "<<<EOF", "<<EOF sh",
					      "a<<EOF"};
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
		if (!ctxd_dockerfile_is_heredoc(valid[i]))
			fail_msg("'%s' is a heredoc", valid[i]);
	for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
		if (ctxd_dockerfile_is_heredoc(invalid[i]))
			fail_msg("'%s' is not a heredoc", invalid[i]);

	/* a heredoc through a continuation; CRLF terminators; ADD and ONBUILD */
	df = parse("FROM scratch\nRUN \\\n  cat <<A\r\nbody\r\nA\r\nADD <<B /b\nb\nB\n"
		   "ONBUILD RUN <<C\nc\nC\nonbuild run [\"<<D\"]\n");
	{
		static const struct hd_want a[] = {{"A", "body\r\n", true, false, 0}};
		static const struct hd_want b[] = {{"B", "b\n", true, false, 0}};
		static const struct hd_want c[] = {{"C", "c\n", true, false, 0}};

		expect_heredocs(ctxd_dockerfile_instr(df, 1), a, 1);
		assert_int_equal(ctxd_dockerfile_instr(df, 1)->line, 2);
		assert_int_equal(ctxd_dockerfile_instr(df, 1)->end_line, 5);
		expect_heredocs(ctxd_dockerfile_instr(df, 2), b, 1);
		expect_heredocs(ctxd_dockerfile_instr(df, 3), c, 1);
		expect_heredocs(ctxd_dockerfile_instr(df, 4), NULL, 0);
		/* the trigger is the expression with its body re-attached */
		assert_non_null(ctxd_dockerfile_instr(df, 3)->trigger);
		expect_heredocs(ctxd_dockerfile_instr(df, 3)->trigger, c, 1);
	}
	ctxd_dockerfile_destroy(df);
}

static void test_forms_and_flags(void **state)
{
	struct ctxd_dockerfile *df;
	const struct ctxd_dockerfile_instr *in;

	(void)state;
	df = parse("FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n"
		   "RUN [\"echo\", \"a b\"]\n"
		   "RUN [\"echo\", \"unterminated\"\n"
		   "CMD []\n"
		   "COPY --from=build --chown=\"app user\" --link \\\n  --exclude=*.md --exclude=x a b /dst/\n"
		   "COPY -- --weird /x\n"
		   "COPY [\"a b\", \"/c\"]\n"
		   "ENV A=1 B=\"two words\" C=3\\ 4\n"
		   "ENV legacy   two  words\n"
		   "LABEL \"com.example\"=\"v\" x=\n"
		   "HEALTHCHECK --interval=5s CMD [\"curl\", \"-f\"]\n"
		   "HEALTHCHECK NONE\n"
		   "EXPOSE 80/tcp  443\n"
		   "VOLUME [\"/a\", \"/b\"]\n"
		   "WORKDIR /a b\n"
		   "ONBUILD ADD . /app\n"
		   "SHELL [\"/bin/bash\", \"-c\"]\n"
		   "MAINTAINER someone <x@y>\n"
		   "STOPSIGNAL SIGKILL\n");
	expect_instr(df, 0, "from golang:1.22|AS|build");
	assert_string_equal(ctxd_dockerfile_stage(df, 0)->platform, "$BUILDPLATFORM");
	in = ctxd_dockerfile_instr(df, 1);
	assert_true(in->json);
	expect_instr(df, 1, "run echo|a b");
	in = ctxd_dockerfile_instr(df, 2);
	assert_false(in->json);
	expect_instr(df, 2, "run [\"echo\", \"unterminated\"");
	assert_true(ctxd_dockerfile_instr(df, 3)->json);
	assert_int_equal(ctxd_dockerfile_instr(df, 3)->nargs, 0);
	in = ctxd_dockerfile_instr(df, 4);
	assert_int_equal(in->nflags, 5);
	assert_string_equal(in->flags[1], "--chown=app user");
	assert_string_equal(ctxd_dockerfile_instr_flag(in, "from"), "build");
	assert_string_equal(ctxd_dockerfile_instr_flag(in, "exclude"), "x");
	assert_true(ctxd_dockerfile_instr_flag_on(in, "link"));
	assert_false(ctxd_dockerfile_instr_flag_on(in, "parents"));
	assert_null(ctxd_dockerfile_instr_flag(in, "chmod"));
	expect_instr(df, 4, "copy a|b|/dst/");
	expect_instr(df, 5, "copy --weird|/x");
	assert_int_equal(ctxd_dockerfile_instr(df, 5)->nflags, 0);
	expect_instr(df, 6, "copy a b|/c");
	expect_instr(df, 7, "env A|1|B|\"two words\"|C|3\\ 4");
	expect_instr(df, 8, "env legacy|two  words");
	expect_instr(df, 9, "label \"com.example\"|\"v\"|x|");
	expect_instr(df, 10, "healthcheck CMD|curl|-f");
	assert_true(ctxd_dockerfile_instr(df, 10)->json);
	expect_instr(df, 11, "healthcheck NONE");
	expect_instr(df, 12, "expose 80/tcp|443");
	expect_instr(df, 13, "volume /a|/b");
	expect_instr(df, 14, "workdir /a b");
	expect_instr(df, 15, "onbuild ADD|.|/app");
	in = ctxd_dockerfile_instr(df, 15);
	assert_non_null(in->trigger);
	assert_string_equal(in->trigger->name, "add");
	assert_int_equal(in->trigger->line, 17);
	expect_instr(df, 16, "shell /bin/bash|-c");
	expect_instr(df, 17, "maintainer someone <x@y>");
	expect_instr(df, 18, "stopsignal SIGKILL");
	ctxd_dockerfile_destroy(df);

	/* flags are read byte by byte, as BuildKit does: \ escapes, quotes go */
	df = parse("FROM scratch\nCOPY --chmod=7'5'5 --chown=a\\ b x y\n");
	in = ctxd_dockerfile_instr(df, 1);
	assert_string_equal(in->flags[0], "--chmod=755");
	assert_string_equal(in->flags[1], "--chown=a b");
	ctxd_dockerfile_destroy(df);
}

static void test_stages(void **state)
{
	struct ctxd_dockerfile *df;
	const struct ctxd_dockerfile_stage *st;

	(void)state;
	df = parse("ARG A=1\nARG B\nFROM alpine AS One\nRUN x\nFROM one\nFROM scratch AS three\n"
		   "COPY a b\nRUN y\n");
	assert_int_equal(ctxd_dockerfile_count(df), 8);
	assert_int_equal(ctxd_dockerfile_stage_count(df), 3);
	st = ctxd_dockerfile_stage(df, 0);
	assert_string_equal(st->name, "one");
	assert_string_equal(st->base, "alpine");
	assert_null(st->platform);
	assert_int_equal(st->from, 2);
	assert_int_equal(st->end, 4);
	st = ctxd_dockerfile_stage(df, 1);
	assert_null(st->name);
	assert_string_equal(st->base, "one");
	assert_int_equal(st->from, 4);
	assert_int_equal(st->end, 5);
	st = ctxd_dockerfile_stage(df, 2);
	assert_int_equal(st->end, 8);
	assert_null(ctxd_dockerfile_stage(df, 3));
	assert_null(ctxd_dockerfile_instr(df, 8));
	assert_string_equal(ctxd_dockerfile_filename(df), "Dockerfile");
	ctxd_dockerfile_destroy(df);

	/* only global ARGs: parsed; building it fails later */
	df = parse("ARG X\n");
	assert_int_equal(ctxd_dockerfile_stage_count(df), 0);
	ctxd_dockerfile_destroy(df);
}

static void test_onbuild_triggers(void **state)
{
	struct ctxd_dockerfile *df;

	(void)state;
	df = parse("FROM scratch\nONBUILD COPY --from=x a b\nONBUILD -- RUN x\n"
		   "ONBUILD RUN --mount=from=$X true\nONBUILD FORM x\nONBUILD COPY a\n"
		   "ONBUILD ENV a b c\n");
	assert_string_equal(ctxd_dockerfile_instr(df, 1)->trigger->name, "copy");
	assert_string_equal(ctxd_dockerfile_instr_flag(ctxd_dockerfile_instr(df, 1)->trigger, "from"), "x");
	assert_string_equal(ctxd_dockerfile_instr(df, 2)->trigger_error, "unknown instruction: --");
	assert_string_equal(ctxd_dockerfile_instr(df, 3)->trigger_error,
			    "'from' doesn't support variable expansion, define alias stage instead");
	assert_string_equal(ctxd_dockerfile_instr(df, 4)->trigger_error,
			    "unknown instruction: FORM (did you mean FROM?)");
	assert_string_equal(ctxd_dockerfile_instr(df, 5)->trigger_error,
			    "COPY requires at least two arguments, but only one was provided. "
			    "Destination could not be determined");
	assert_non_null(ctxd_dockerfile_instr(df, 6)->trigger);
	ctxd_dockerfile_destroy(df);
}

static void test_errors(void **state)
{
	char *big;

	(void)state;
	EXPECT_ERROR("FROM a\nFORM b\n",
		     "Dockerfile:2: dockerfile parse error on line 2: unknown instruction: FORM (did you mean FROM?)");
	EXPECT_ERROR("FROM a\ncopyy a b\n",
		     "Dockerfile:2: dockerfile parse error on line 2: unknown instruction: copyy (did you mean copy?)");
	EXPECT_ERROR("FROM a\nRun2x y\n",
		     "Dockerfile:2: dockerfile parse error on line 2: unknown instruction: Run2x (did you mean run?)");
	EXPECT_ERROR("FROM a\nXYZZY b\n",
		     "Dockerfile:2: dockerfile parse error on line 2: unknown instruction: XYZZY");
	EXPECT_ERROR("FROM a\n\\", "Dockerfile:2: dockerfile parse error on line 2: unknown instruction: ");
	EXPECT_ERROR("FROM a b\n",
		     "Dockerfile:1: dockerfile parse error on line 1: FROM requires either one or three arguments");
	EXPECT_ERROR("FROM\n",
		     "Dockerfile:1: dockerfile parse error on line 1: FROM requires either one or three arguments");
	EXPECT_ERROR("FROM a AS 1x\n",
		     "Dockerfile:1: dockerfile parse error on line 1: invalid name for build stage: \"1x\", name can't start with a number or contain symbols");
	EXPECT_ERROR("FROM a AS b$c\n",
		     "Dockerfile:1: dockerfile parse error on line 1: invalid name for build stage: \"b$c\", name can't start with a number or contain symbols");
	EXPECT_ERROR("FROM a\nRUN <<EOF\nx\n", "Dockerfile:2: unterminated heredoc");
	EXPECT_ERROR("FROM a\nCOPY <<A <<B /x\nA\n", "Dockerfile:2: unterminated heredoc");
	EXPECT_ERROR("# escape=x\nFROM a\n",
		     "Dockerfile:1: invalid escape token 'x' does not match ` or \\");
	EXPECT_ERROR("# escape=`\n# Escape=\\\nFROM a\n",
		     "Dockerfile:2: only one escape parser directive can be used");
	EXPECT_ERROR("# check=a\n#check=b\nFROM a\n",
		     "Dockerfile:2: only one check parser directive can be used");
	EXPECT_ERROR("RUN x\n", "Dockerfile:1: no build stage in current context");
	EXPECT_ERROR("ARG x\nCOPY a b\nFROM a\n", "Dockerfile:2: no build stage in current context");
	EXPECT_ERROR("# only a comment\n\n", "Dockerfile:2: file with no instructions");
	EXPECT_ERROR("", "Dockerfile: the Dockerfile cannot be empty");
	EXPECT_ERROR("FROM a\nRUN a\0b\n", "Dockerfile:2: NUL byte in instruction");
	EXPECT_ERROR("FROM a\nCOPY x\n",
		     "Dockerfile:2: dockerfile parse error on line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined");
	EXPECT_ERROR("FROM a\nADD\n",
		     "Dockerfile:2: dockerfile parse error on line 2: ADD requires at least two arguments, but only one was provided. Destination could not be determined");
	EXPECT_ERROR("FROM a\nCOPY a <<EOF\nEOF\n",
		     "Dockerfile:2: dockerfile parse error on line 2: COPY cannot accept a heredoc as a destination");
	EXPECT_ERROR("FROM a\nCOPY --fro=x a b\n",
		     "Dockerfile:2: dockerfile parse error on line 2: Unknown flag: fro");
	EXPECT_ERROR("FROM a\nCOPY --from=x --from=y a b\n",
		     "Dockerfile:2: dockerfile parse error on line 2: Duplicate flag specified: from");
	EXPECT_ERROR("FROM a\nCOPY --from a b\n",
		     "Dockerfile:2: dockerfile parse error on line 2: Missing a value on flag: from");
	EXPECT_ERROR("FROM a\nCOPY --link= a b\n",
		     "Dockerfile:2: dockerfile parse error on line 2: Missing a value on flag: link");
	EXPECT_ERROR("FROM a\nCOPY --link=yes a b\n",
		     "Dockerfile:2: dockerfile parse error on line 2: Expecting boolean value for flag link, not: yes");
	EXPECT_ERROR("FROM --plat=x a\n",
		     "Dockerfile:1: dockerfile parse error on line 1: Unknown flag: plat");
	EXPECT_ERROR("FROM a\nENV a\n", "Dockerfile:2: ENV must have two arguments");
	EXPECT_ERROR("FROM a\nENV a=b c\n",
		     "Dockerfile:2: Syntax error - can't find = in \"c\". Must be of the form: name=value");
	EXPECT_ERROR("FROM a\nENV\n",
		     "Dockerfile:2: dockerfile parse error on line 2: ENV requires at least one argument");
	EXPECT_ERROR("FROM a\nENV =x\n",
		     "Dockerfile:2: dockerfile parse error on line 2: ENV names can not be blank");
	EXPECT_ERROR("FROM a\nLABEL x\n", "Dockerfile:2: LABEL must have two arguments");
	EXPECT_ERROR("FROM a\nARG\n",
		     "Dockerfile:2: dockerfile parse error on line 2: ARG requires at least one argument");
	EXPECT_ERROR("FROM a\nARG x =y\n",
		     "Dockerfile:2: dockerfile parse error on line 2: ARG names can not be blank");
	EXPECT_ERROR("FROM a\nCMD [\"a\", 1]\n",
		     "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only");
	EXPECT_ERROR("FROM a\nSHELL sh -c\n",
		     "Dockerfile:2: dockerfile parse error on line 2: SHELL requires the arguments to be in JSON form");
	EXPECT_ERROR("FROM a\nSHELL []\n",
		     "Dockerfile:2: dockerfile parse error on line 2: SHELL requires at least one argument");
	EXPECT_ERROR("FROM a\nONBUILD ONBUILD RUN x\n",
		     "Dockerfile:2: dockerfile parse error on line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
	EXPECT_ERROR("FROM a\nONBUILD from x\n",
		     "Dockerfile:2: dockerfile parse error on line 2: FROM isn't allowed as an ONBUILD trigger");
	EXPECT_ERROR("FROM a\nONBUILD MAINTAINER x\n",
		     "Dockerfile:2: dockerfile parse error on line 2: MAINTAINER isn't allowed as an ONBUILD trigger");
	EXPECT_ERROR("FROM a\nONBUILD\n",
		     "Dockerfile:2: dockerfile parse error on line 2: ONBUILD requires at least one argument");
	EXPECT_ERROR("FROM a\nONBUILD --x RUN y\n",
		     "Dockerfile:2: dockerfile parse error on line 2: Unknown flag: x");
	EXPECT_ERROR("FROM a\nMAINTAINER\n",
		     "Dockerfile:2: dockerfile parse error on line 2: MAINTAINER requires exactly one argument");
	EXPECT_ERROR("FROM a\nWORKDIR\n",
		     "Dockerfile:2: dockerfile parse error on line 2: WORKDIR requires exactly one argument");
	EXPECT_ERROR("FROM a\nUSER\n",
		     "Dockerfile:2: dockerfile parse error on line 2: USER requires exactly one argument");
	EXPECT_ERROR("FROM a\nSTOPSIGNAL\n",
		     "Dockerfile:2: dockerfile parse error on line 2: STOPSIGNAL requires exactly one argument");
	EXPECT_ERROR("FROM a\nEXPOSE\n",
		     "Dockerfile:2: dockerfile parse error on line 2: EXPOSE requires at least one argument");
	EXPECT_ERROR("FROM a\nVOLUME\n",
		     "Dockerfile:2: dockerfile parse error on line 2: VOLUME requires at least one argument");
	EXPECT_ERROR("FROM a\nVOLUME [\"\"]\n",
		     "Dockerfile:2: dockerfile parse error on line 2: VOLUME specified can not be an empty string");
	EXPECT_ERROR("FROM a\nHEALTHCHECK\n",
		     "Dockerfile:2: dockerfile parse error on line 2: HEALTHCHECK requires at least one argument");
	EXPECT_ERROR("FROM a\nHEALTHCHECK NONE x\n",
		     "Dockerfile:2: dockerfile parse error on line 2: HEALTHCHECK NONE takes no arguments");
	EXPECT_ERROR("FROM a\nHEALTHCHECK FOO x\n",
		     "Dockerfile:2: dockerfile parse error on line 2: Unknown type \"FOO\" in HEALTHCHECK (try CMD)");
	EXPECT_ERROR("FROM a\nHEALTHCHECK CMD\n",
		     "Dockerfile:2: dockerfile parse error on line 2: Missing command after HEALTHCHECK CMD");
	EXPECT_ERROR("FROM a\nHEALTHCHECK --retries=-1 CMD x\n",
		     "Dockerfile:2: dockerfile parse error on line 2: --retries cannot be negative (-1)");
	EXPECT_ERROR("FROM a\nHEALTHCHECK --retries=z CMD x\n",
		     "Dockerfile:2: dockerfile parse error on line 2: strconv.ParseInt: parsing \"z\": invalid syntax");
	EXPECT_ERROR("FROM a\nRUN --mount=type=bind,from=$X true\n",
		     "Dockerfile:2: dockerfile parse error on line 2: 'from' doesn't support variable expansion, define alias stage instead");
	EXPECT_ERROR("FROM a\nRUN --mount=a\\\"b true\n",
		     "Dockerfile:2: dockerfile parse error on line 2: failed to parse csv mounts: parse error on line 1, column 2: bare \" in non-quoted-field");
	EXPECT_ERROR("FROM a\nRUN --mount= true\n",
		     "Dockerfile:2: dockerfile parse error on line 2: failed to parse csv mounts: EOF");
	EXPECT_ERROR("FROM a\nRUN --foo true\n",
		     "Dockerfile:2: dockerfile parse error on line 2: Unknown flag: foo");
	EXPECT_ERROR("FROM a\nRUN <<\"EOF\nx\n",
		     "Dockerfile:3: dockerfile parse error on line 3: unknown instruction: x");
	/* only RUN, COPY and ADD take heredocs: the body is read as instructions */
	EXPECT_ERROR("FROM a\nUSER <<INVALID\nINVALID\n",
		     "Dockerfile:3: dockerfile parse error on line 3: unknown instruction: INVALID");

	/* a line of 64 KiB stops the scanner */
	big = malloc(70000);
	memcpy(big, "FROM a\nRUN ", 11);
	memset(big + 11, 'x', 65600);
	strcpy(big + 11 + 65600, "\n");
	expect_error(big, strlen(big), "Dockerfile:2: dockerfile line greater than max allowed size of 65535");
	/* 65535 bytes still fit */
	big[7 + 65535] = '\n';
	big[7 + 65536] = '\0';
	{
		struct ctxd_dockerfile *df = parse(big);

		ctxd_dockerfile_destroy(df);
	}
	free(big);
}

static void test_instr_check_direct(void **state)
{
	struct ctxd_error err;
	const char *args[] = {"a", "b"};
	const char *flags[] = {"--from=x", "--", "--bogus"};
	struct ctxd_dockerfile_instr in = {.keyword = "COPY", .name = "copy", .args = args,
					   .nargs = 2, .flags = flags, .nflags = 3};
	struct ctxd_buf b = {0};
	static const char *const opts[] = {"bind", "cache", "tmpfs", "secret", "ssh"};

	(void)state;
	/* "--" ends the flags */
	assert_int_equal(ctxd_dockerfile_instr_check(&in, &err), 0);
	assert_string_equal(ctxd_dockerfile_instr_flag(&in, "from"), "x");
	assert_null(ctxd_dockerfile_instr_flag(&in, "bogus"));
	ctxd_dockerfile_instr_suggest(&b, "bnd", opts, 5, true);
	assert_string_equal(b.data, " (did you mean bind?)");
	ctxd_buf_free(&b);
	ctxd_dockerfile_instr_suggest(&b, "bind", opts, 5, true);
	assert_null(b.data);
	ctxd_dockerfile_instr_suggest(&b, "zzzzzz", opts, 5, true);
	assert_null(b.data);
}

static void expect_mount(const char *value, bool env_pass, const char *want)
{
	static const struct ctxd_dockerfile_lex lx = {.escape = '\\'};
	struct ctxd_dockerfile_env *env = ctxd_dockerfile_env_create(false);
	struct ctxd_dockerfile_mount m;
	struct ctxd_error err;
	char got[1200];

	ctxd_dockerfile_env_set(env, "SRC", "assets");
	ctxd_dockerfile_env_set(env, "NOPE", NULL);
	if (ctxd_dockerfile_mount_parse(value, env_pass, &lx, env, &m, &err) < 0) {
		snprintf(got, sizeof got, "error: %s", err.msg);
	} else {
		static const char *const types[] = {"bind", "cache", "tmpfs", "secret", "ssh"};

		snprintf(got, sizeof got, "%s from=%s src=%s dst=%s ro=%d%s%s", types[m.type],
			 m.from ? m.from : "-", m.source ? m.source : "-", m.target ? m.target : "-",
			 m.readonly, m.unknown_source ? " unknown-src" : "",
			 m.unknown_type ? " unknown-type" : "");
		ctxd_dockerfile_mount_clear(&m);
	}
	ctxd_dockerfile_env_destroy(env);
	if (strcmp(got, want) != 0)
		fail_msg("--mount=%s:\n  got  '%s'\n  want '%s'", value, got, want);
}

static void test_mounts(void **state)
{
	(void)state;
	expect_mount("type=bind,source=$SRC,target=/x", true, "bind from=- src=assets dst=/x ro=1");
	expect_mount("target=/x", true, "bind from=- src=- dst=/x ro=1");
	expect_mount("TYPE=Cache,dst=/c,rw=false", true, "cache from=- src=- dst=/c ro=1");
	expect_mount("type=cache,target=/c", true, "cache from=- src=- dst=/c ro=0");
	expect_mount("type=tmpfs,dst=/t,size=64m", true, "tmpfs from=- src=- dst=/t ro=0");
	expect_mount("type=secret,id=npmrc,required", true, "secret from=- src=- dst=- ro=1");
	expect_mount("type=ssh", true, "ssh from=- src=- dst=- ro=1");
	expect_mount("from=build,src=/out,target=/o,rw", true, "bind from=build src=/out dst=/o ro=0");
	expect_mount("\"src=a,b\",target=/q", true, "bind from=- src=a,b dst=/q ro=1");
	expect_mount("\"type=bind,src=a\",target=/q", true, "error: unsupported mount type \"bind,src=a\"");
	expect_mount("src=${NOPE},target=/u", true, "bind from=- src= dst=/u ro=1 unknown-src");
	expect_mount("type=$NOPE,required", true, "bind from=- src=- dst=- ro=0 unknown-type");
	/* the parser's pass: only from= is read */
	expect_mount("type=cache,from=stage,bogus", false, "bind from=stage src=- dst=- ro=1");
	expect_mount("type=bnd", true, "error: unsupported mount type \"bnd\" (did you mean bind?)");
	expect_mount("type=bind,sourc=x", true,
		     "error: unexpected key 'sourc' in 'sourc=x' (did you mean source?)");
	expect_mount("type=bind,readonly=maybe", true, "error: invalid value for readonly: maybe");
	expect_mount("bogus", true, "error: invalid field 'bogus' must be a key=value pair");
	expect_mount("type=bind,required", true, "error: unexpected key 'required' for mount type 'bind'");
	expect_mount("size=1g", true, "error: unexpected key 'size' for mount type 'bind'");
	expect_mount("mode=0755", true, "error: mode not allowed for \"bind\" type mounts");
	expect_mount("mode=0755,type=cache", true, "cache from=- src=- dst=- ro=0");
	expect_mount("type=cache,uid=x", true, "error: invalid value x for uid");
	expect_mount("sharing=locked", true, "error: invalid cache sharing set for bind mount");
	expect_mount("type=cache,sharing=all", true, "error: unsupported sharing value \"all\"");
	expect_mount("type=secret,from=x", true, "error: secret mount should not have a from");
	expect_mount("\"a\"b", true,
		     "error: failed to parse csv mounts: parse error on line 1, column 3: extraneous or missing \" in quoted-field");
	expect_mount("\"abc", true,
		     "error: failed to parse csv mounts: parse error on line 1, column 5: extraneous or missing \" in quoted-field");
	expect_mount("src=\"${X\"", true,
		     "error: failed to parse csv mounts: parse error on line 1, column 5: bare \" in non-quoted-field");
	expect_mount("src=${X", true, "error: failed to process \"${X\": unsupported modifier (\xEF\xBF\xBD) in substitution");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_words),
		cmocka_unit_test(test_directives),
		cmocka_unit_test(test_syntax_detection),
		cmocka_unit_test(test_continuations),
		cmocka_unit_test(test_heredocs),
		cmocka_unit_test(test_forms_and_flags),
		cmocka_unit_test(test_stages),
		cmocka_unit_test(test_onbuild_triggers),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_instr_check_direct),
		cmocka_unit_test(test_mounts),
	};

	return TU_RUN("dockerfile", tests);
}
