/* Presentation helpers for context entries. */
#include "ctxd/entry.h"

void ctxd_entry_mode_string(const struct ctxd_entry *e, char out[11])
{
	static const char types[] = "-dlhpcbs";
	uint32_t m = e->mode;

	out[0] = types[e->type];
	out[1] = m & 0400 ? 'r' : '-';
	out[2] = m & 0200 ? 'w' : '-';
	out[3] = m & 04000 ? (m & 0100 ? 's' : 'S') : (m & 0100 ? 'x' : '-');
	out[4] = m & 040 ? 'r' : '-';
	out[5] = m & 020 ? 'w' : '-';
	out[6] = m & 02000 ? (m & 010 ? 's' : 'S') : (m & 010 ? 'x' : '-');
	out[7] = m & 04 ? 'r' : '-';
	out[8] = m & 02 ? 'w' : '-';
	out[9] = m & 01000 ? (m & 01 ? 't' : 'T') : (m & 01 ? 'x' : '-');
	out[10] = '\0';
}

const char *ctxd_entry_type_name(enum ctxd_entry_type t)
{
	static const char *const names[] = {
		"file", "dir", "symlink", "hardlink", "fifo", "char", "block", "socket",
	};

	return names[t];
}

const char *ctxd_entry_reason_name(enum ctxd_entry_reason r)
{
	static const char *const names[] = {
		[CTXD_REASON_SENT] = "sent",
		[CTXD_REASON_DOCKERIGNORE] = "dockerignore",
		[CTXD_REASON_NOT_READ] = "not-read",
		[CTXD_REASON_GIT_IGNORED] = "git-ignored",
		[CTXD_REASON_GIT_UNTRACKED] = "git-untracked",
	};

	return (size_t)r < sizeof names / sizeof *names ? names[r] : "?";
}

const char *ctxd_entry_reason_text(enum ctxd_entry_reason r)
{
	static const char *const texts[] = {
		[CTXD_REASON_SENT] = "sent",
		[CTXD_REASON_DOCKERIGNORE] = "excluded by the ignore file",
		[CTXD_REASON_NOT_READ] = "not read by the Dockerfile",
		[CTXD_REASON_GIT_IGNORED] = "ignored by git",
		[CTXD_REASON_GIT_UNTRACKED] = "not tracked by git",
	};

	return (size_t)r < sizeof texts / sizeof *texts ? texts[r] : "?";
}
