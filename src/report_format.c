/* A report as text for a terminal, markdown and JSON (see
 * include/ctxd/report.h; the JSON schema is doc/report-schema.md). */
#include "ctxd/report.h"

#include <inttypes.h>
#include <string.h>

#include "ctxd/units.h"

/* "1,234,567" */
static const char *num(uint64_t v, char out[32])
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v), o = 0;

	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = tmp[i];
	}
	out[o] = '\0';
	return out;
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static const char *filter_label(int reason)
{
	switch (reason) {
	case CTXD_REASON_DOCKERIGNORE: return ".dockerignore";
	case CTXD_REASON_NOT_READ: return "not read by the Dockerfile";
	case CTXD_REASON_GIT_IGNORED: return "ignored by git";
	case CTXD_REASON_GIT_UNTRACKED: return "not tracked by git";
	default: return "sent";
	}
}

static void row(struct ctxd_buf *o, const char *label, uint64_t files, uint64_t bytes,
		const char *note)
{
	char f[32], b[16];

	ctxd_buf_printf(o, "  %-28s %10s %10s%s%s\n", label, num(files, f), ctxd_units_human(bytes, b),
			note && *note ? "   " : "", note ? note : "");
}

static void tree_text(const struct ctxd_report *r, const struct ctxd_report_dir *d,
		      struct ctxd_buf *o, struct ctxd_buf *prefix, bool last)
{
	uint64_t total = ctxd_report_dir_docker(r->root), bytes = ctxd_report_dir_docker(d);
	char b[16], s[16];
	size_t shown = 0, keep = prefix->len;
	uint64_t rest = 0, nrest = 0;

	ctxd_buf_printf(o, "  %8s %5.1f%%  %s", ctxd_units_human(bytes, b), pct(bytes, total),
			prefix->data ? prefix->data : "");
	if (d != r->root)
		ctxd_buf_puts(o, last ? "└── " : "├── ");
	ctxd_buf_printf(o, "%s/", d == r->root ? "." : d->name);
	if (d->by[CTXD_REASON_SENT].bytes != bytes)
		ctxd_buf_printf(o, "  (sent %s)", ctxd_units_human(d->by[CTXD_REASON_SENT].bytes, s));
	ctxd_buf_putc(o, '\n');
	if (d->depth >= r->opt.depth)
		return;
	if (d != r->root)
		ctxd_buf_puts(prefix, last ? "    " : "│   ");
	for (size_t i = 0; i < d->nkids; i++) {
		uint64_t kb = ctxd_report_dir_docker(d->kids[i]);

		if (!kb)
			continue;
		if (shown < r->opt.top) {
			bool lastkid = true;

			for (size_t j = i + 1; j < d->nkids && lastkid; j++)
				lastkid = !ctxd_report_dir_docker(d->kids[j]) || shown + 1 >= r->opt.top;
			tree_text(r, d->kids[i], o, prefix, lastkid);
			shown++;
		} else {
			rest += kb;
			nrest++;
		}
	}
	if (nrest)
		ctxd_buf_printf(o, "  %8s %5.1f%%  %s    (%" PRIu64 " more directories)\n",
				ctxd_units_human(rest, b), pct(rest, total), prefix->data ? prefix->data : "",
				nrest);
	prefix->len = keep;
	if (prefix->data)
		prefix->data[keep] = '\0';
}

static const char *reason_short(enum ctxd_entry_reason r)
{
	return r == CTXD_REASON_SENT ? "sent" : ctxd_entry_reason_text(r);
}

void ctxd_report_suggest_text(const struct ctxd_report *r, struct ctxd_buf *o)
{
	char b[16], f[32];

	if (!r->nsuggestions) {
		ctxd_buf_puts(o, "No .dockerignore lines to suggest: nothing large is left that is "
			      "a cache, ignored by git or unread.\n");
		return;
	}
	ctxd_buf_puts(o, ".dockerignore lines that would cut the most from docker's context:\n");
	for (size_t i = 0; i < r->nsuggestions; i++) {
		const struct ctxd_report_suggestion *s = &r->suggestions[i];
		const char *reads = !s->read_bytes ? (strcmp(s->why, "not read by the Dockerfile") == 0
						      ? "nothing else is lost" : "the Dockerfile does not read it")
				    : s->read_bytes == s->bytes ? "the Dockerfile reads it: the image loses it"
				    : "the Dockerfile reads part of it: the image loses that part";

		ctxd_buf_printf(o, "  %-32s %10s %10s %-5s  %s; %s\n", s->pattern,
				ctxd_units_human(s->bytes, b), num(s->files, f),
				s->files == 1 ? "file" : "files", s->why, reads);
	}
}

void ctxd_report_text(const struct ctxd_report *r, struct ctxd_buf *o)
{
	const struct ctxd_summary *s = &r->sum;
	char b[16], c[16], f[32];
	struct ctxd_buf prefix = {0};
	uint64_t total = s->docker.bytes;
	size_t n;

	ctxd_buf_printf(o, "Context %s (Dockerfile %s)\n\n", r->ctx->root, r->ctx->dockerfile_rel);
	ctxd_buf_printf(o, "  %-28s %10s %10s\n", "", "files", "bytes");
	row(o, "docker build would send", s->docker.files, s->docker.bytes, NULL);
	snprintf(c, sizeof c, "%.1f%%", pct(s->sent.bytes, total));
	row(o, "ctxd sends", s->sent.files, s->sent.bytes, c);

	ctxd_buf_puts(o, "\nWhat each filter saves\n");
	for (int i = CTXD_REASON_DOCKERIGNORE; i <= CTXD_REASON_GIT_UNTRACKED; i++) {
		const struct ctxd_summary_count *k = &s->by_reason[i];
		struct ctxd_buf note = {0};

		if (i == CTXD_REASON_DOCKERIGNORE && r->unopened_dirs && r->opt.measure_ignored)
			ctxd_buf_printf(&note, "(%s of it in %" PRIu64 " directories it keeps docker out of)",
					ctxd_units_human(r->unopened.bytes, b), r->unopened_dirs);
		else if (i == CTXD_REASON_DOCKERIGNORE && r->unopened_dirs)
			ctxd_buf_printf(&note, "(+ %" PRIu64 " directories not opened: --measure-ignored sizes them)",
					r->unopened_dirs);
		if (i == CTXD_REASON_NOT_READ && r->prune_all)
			ctxd_buf_puts(&note, "(the Dockerfile reads everything)");
		if (i == CTXD_REASON_NOT_READ && !r->sel)
			ctxd_buf_puts(&note, "(pruning off)");
		if (i == CTXD_REASON_GIT_IGNORED && !k->files && r->git_sent.ignored_files)
			ctxd_buf_printf(&note, "(--git-filter=ignored would drop %s more)",
					ctxd_units_human(r->git_sent.ignored_bytes, b));
		if (i == CTXD_REASON_GIT_UNTRACKED && !k->files && r->git_sent.untracked_files)
			ctxd_buf_printf(&note, "(--git-filter=untracked would drop %s more)",
					ctxd_units_human(r->git_sent.untracked_bytes, b));
		if (i >= CTXD_REASON_GIT_IGNORED && !r->git_repo && !k->files)
			ctxd_buf_puts(&note, "(no git repository)");
		row(o, filter_label(i), k->files, k->bytes, note.data);
		ctxd_buf_free(&note);
	}
	row(o, "duplicates (--dedup)", r->dup.files, r->dup.bytes,
	    r->opt.no_dedup ? "(not looked for: --dedup finds them)" : NULL);

	ctxd_buf_printf(o, "\nLargest directories in docker's context (depth %u, top %u)\n",
			r->opt.depth, r->opt.top);
	tree_text(r, r->root, o, &prefix, true);
	ctxd_buf_free(&prefix);

	if (r->nfiles) {
		ctxd_buf_puts(o, "\nLargest files in docker's context\n");
		for (size_t i = 0; i < r->nfiles; i++)
			ctxd_buf_printf(o, "  %8s %5.1f%%  %s  (%s)\n", ctxd_units_human(r->files[i].size, b),
					pct(r->files[i].size, total), r->files[i].path,
					reason_short(r->files[i].reason));
	}
	if (r->nexts) {
		ctxd_buf_puts(o, "\nBy extension (docker's context)\n");
		n = r->nexts < r->opt.top ? r->nexts : r->opt.top;
		for (size_t i = 0; i < n; i++) {
			const struct ctxd_report_ext *x = &r->exts[i];

			ctxd_buf_printf(o, "  %8s %5.1f%%  %-12s %10s files  (sent %s)\n",
					ctxd_units_human(x->docker.bytes, b), pct(x->docker.bytes, total),
					*x->ext ? x->ext : "(none)", num(x->docker.files, f),
					ctxd_units_human(x->sent.bytes, c));
		}
	}
	if (r->findings.n) {
		ctxd_buf_puts(o, "\nSecrets: files that look like credentials in docker's context\n");
		for (size_t i = 0; i < r->findings.n; i++) {
			const struct ctxd_secret *x = &r->findings.items[i];

			ctxd_buf_printf(o, "  %s  [%s] %s; %s\n", x->path, x->rule,
					ctxd_secrets_rule_text(x->rule),
					x->sent ? "ctxd sends it" : "only docker would send it");
		}
	}
	if (r->nadvice || r->git_warning) {
		ctxd_buf_puts(o, "\nAdvice\n");
		for (size_t i = 0; i < r->nadvice; i++)
			ctxd_buf_printf(o, "  - %s\n", r->advice[i].text);
		if (r->git_warning)
			ctxd_buf_printf(o, "  - git's view is missing: %s\n", r->git_warning);
	}
	if (r->nsuggestions) {
		ctxd_buf_putc(o, '\n');
		ctxd_report_suggest_text(r, o);
	}
}

/* Markdown: pipes and backticks in paths would break a table cell. */
static void md_code(struct ctxd_buf *o, const char *s)
{
	ctxd_buf_putc(o, '`');
	for (; *s; s++) {
		if (*s == '|')
			ctxd_buf_puts(o, "\\|");
		else if (*s == '`' || *s == '\n')
			ctxd_buf_putc(o, '\'');
		else
			ctxd_buf_putc(o, *s);
	}
	ctxd_buf_putc(o, '`');
}

static void tree_md(const struct ctxd_report *r, const struct ctxd_report_dir *d, struct ctxd_buf *o)
{
	uint64_t total = ctxd_report_dir_docker(r->root), bytes = ctxd_report_dir_docker(d);
	char b[16], s[16];
	size_t shown = 0;

	ctxd_buf_puts(o, "| ");
	for (unsigned i = 0; i < d->depth; i++)
		ctxd_buf_puts(o, "&nbsp;&nbsp;");
	md_code(o, d == r->root ? "./" : d->name);
	ctxd_buf_printf(o, " | %s | %.1f%% | %s |\n", ctxd_units_human(bytes, b), pct(bytes, total),
			ctxd_units_human(d->by[CTXD_REASON_SENT].bytes, s));
	if (d->depth >= r->opt.depth)
		return;
	for (size_t i = 0; i < d->nkids && shown < r->opt.top; i++) {
		if (!ctxd_report_dir_docker(d->kids[i]))
			continue;
		tree_md(r, d->kids[i], o);
		shown++;
	}
}

void ctxd_report_markdown(const struct ctxd_report *r, struct ctxd_buf *o)
{
	const struct ctxd_summary *s = &r->sum;
	char b[16], f[32];

	ctxd_buf_puts(o, "### ctxd report: ");
	md_code(o, r->ctx->root);
	ctxd_buf_puts(o, "\n\n| | files | bytes |\n|---|---:|---:|\n");
	ctxd_buf_printf(o, "| docker build would send | %s | %s |\n", num(s->docker.files, f),
			ctxd_units_human(s->docker.bytes, b));
	ctxd_buf_printf(o, "| **ctxd sends** | %s | **%s** |\n", num(s->sent.files, f),
			ctxd_units_human(s->sent.bytes, b));
	for (int i = CTXD_REASON_DOCKERIGNORE; i <= CTXD_REASON_GIT_UNTRACKED; i++)
		if (s->by_reason[i].files)
			ctxd_buf_printf(o, "| saved: %s | %s | %s |\n", filter_label(i),
					num(s->by_reason[i].files, f),
					ctxd_units_human(s->by_reason[i].bytes, b));
	if (r->dup.files)
		ctxd_buf_printf(o, "| would save: duplicates (--dedup) | %s | %s |\n", num(r->dup.files, f),
				ctxd_units_human(r->dup.bytes, b));

	ctxd_buf_puts(o, "\n#### Largest directories (docker's context)\n\n"
		      "| directory | bytes | share | sent |\n|---|---:|---:|---:|\n");
	tree_md(r, r->root, o);
	if (r->nfiles) {
		ctxd_buf_puts(o, "\n#### Largest files\n\n| file | bytes | |\n|---|---:|---|\n");
		for (size_t i = 0; i < r->nfiles; i++) {
			ctxd_buf_puts(o, "| ");
			md_code(o, r->files[i].path);
			ctxd_buf_printf(o, " | %s | %s |\n", ctxd_units_human(r->files[i].size, b),
					reason_short(r->files[i].reason));
		}
	}
	if (r->findings.n) {
		ctxd_buf_puts(o, "\n#### Secrets\n\n| file | rule | sent by ctxd |\n|---|---|---|\n");
		for (size_t i = 0; i < r->findings.n; i++) {
			ctxd_buf_puts(o, "| ");
			md_code(o, r->findings.items[i].path);
			ctxd_buf_printf(o, " | %s | %s |\n", r->findings.items[i].rule,
					r->findings.items[i].sent ? "yes" : "no");
		}
	}
	if (r->nsuggestions) {
		ctxd_buf_puts(o, "\n#### Suggested `.dockerignore` lines\n\n"
			      "| line | saves | read by the Dockerfile |\n|---|---:|---|\n");
		for (size_t i = 0; i < r->nsuggestions; i++) {
			const struct ctxd_report_suggestion *x = &r->suggestions[i];

			ctxd_buf_puts(o, "| ");
			md_code(o, x->pattern);
			ctxd_buf_printf(o, " | %s | %s |\n", ctxd_units_human(x->bytes, b),
					!x->read_bytes ? "no" : x->read_bytes == x->bytes ? "yes" : "partly");
		}
	}
	if (r->nadvice) {
		ctxd_buf_puts(o, "\n#### Advice\n\n");
		for (size_t i = 0; i < r->nadvice; i++)
			ctxd_buf_printf(o, "- %s\n", r->advice[i].text);
	}
}

static json_t *count(uint64_t files, uint64_t bytes)
{
	return json_pack("{sIsI}", "files", (json_int_t)files, "bytes", (json_int_t)bytes);
}

json_t *ctxd_report_tree_json(const struct ctxd_report *r, const struct ctxd_report_dir *d,
			      unsigned max_depth, uint64_t min_bytes, size_t max_kids)
{
	json_t *o = json_pack("{sssssIsIsIsIsI}", "name", d == r->root ? "." : d->name, "path", d->path,
			      "docker", (json_int_t)ctxd_report_dir_docker(d),
			      "files", (json_int_t)ctxd_report_dir_docker_files(d),
			      "sent", (json_int_t)d->by[CTXD_REASON_SENT].bytes,
			      "not_read", (json_int_t)d->by[CTXD_REASON_NOT_READ].bytes,
			      "dockerignore", (json_int_t)d->by[CTXD_REASON_DOCKERIGNORE].bytes);
	json_t *kids;
	size_t shown = 0;

	if (!o)
		return NULL;
	json_object_set_new(o, "git", json_integer(
		(json_int_t)(d->by[CTXD_REASON_GIT_IGNORED].bytes + d->by[CTXD_REASON_GIT_UNTRACKED].bytes)));
	if (d->depth >= max_depth || !d->nkids)
		return o;
	kids = json_array();
	for (size_t i = 0; i < d->nkids && shown < max_kids; i++) {
		uint64_t kb = ctxd_report_dir_docker(d->kids[i]) +
			      d->kids[i]->by[CTXD_REASON_DOCKERIGNORE].bytes;

		if (!kb || kb < min_bytes)
			continue;
		json_array_append_new(kids, ctxd_report_tree_json(r, d->kids[i], max_depth, min_bytes,
								  max_kids));
		shown++;
	}
	json_object_set_new(o, "children", kids);
	return o;
}

json_t *ctxd_report_json(const struct ctxd_report *r)
{
	const struct ctxd_summary *s = &r->sum;
	json_t *o = json_object(), *saved = json_object(), *a;
	size_t n;

	json_object_set_new(o, "schema", json_string("ctxd-report"));
	json_object_set_new(o, "version", json_integer(CTXD_REPORT_SCHEMA_VERSION));
	json_object_set_new(o, "context", json_string(r->ctx->root));
	json_object_set_new(o, "dockerfile", json_string(r->ctx->dockerfile_rel));
	json_object_set_new(o, "ignore_file",
			    r->ctx->ignore_path ? json_string(r->ctx->ignore_path) : json_null());
	json_object_set_new(o, "docker", count(s->docker.files, s->docker.bytes));
	json_object_set_new(o, "sent", count(s->sent.files, s->sent.bytes));
	json_object_set_new(o, "pruning", json_boolean(r->sel != NULL));
	json_object_set_new(o, "prune_disabled", r->prune_all ? json_string(r->prune_all) : json_null());
	for (int i = CTXD_REASON_DOCKERIGNORE; i <= CTXD_REASON_GIT_UNTRACKED; i++)
		json_object_set_new(saved, ctxd_entry_reason_name(i),
				    count(s->by_reason[i].files, s->by_reason[i].bytes));
	json_object_set_new(json_object_get(saved, "dockerignore"), "unopened",
			    json_pack("{sIsIsI}", "dirs", (json_int_t)r->unopened_dirs, "files",
				      (json_int_t)r->unopened.files, "bytes", (json_int_t)r->unopened.bytes));
	json_object_set_new(saved, "duplicates", count(r->dup.files, r->dup.bytes));
	json_object_set_new(o, "saved", saved);
	if (r->git_repo)
		json_object_set_new(o, "git", json_pack("{s{so so}s{so so}}",
			"would_drop_from_sent",
			"ignored", count(r->git_sent.ignored_files, r->git_sent.ignored_bytes),
			"untracked", count(r->git_sent.untracked_files, r->git_sent.untracked_bytes),
			"in_docker_context",
			"ignored", count(r->git_docker.ignored_files, r->git_docker.ignored_bytes),
			"untracked", count(r->git_docker.untracked_files, r->git_docker.untracked_bytes)));
	else
		json_object_set_new(o, "git", json_null());
	json_object_set_new(o, "tree", ctxd_report_tree_json(r, r->root, r->opt.depth, 1, r->opt.top));
	a = json_array();
	for (size_t i = 0; i < r->nfiles; i++)
		json_array_append_new(a, json_pack("{sssIss}", "path", r->files[i].path, "bytes",
						   (json_int_t)r->files[i].size, "reason",
						   ctxd_entry_reason_name(r->files[i].reason)));
	json_object_set_new(o, "largest_files", a);
	a = json_array();
	n = r->nexts < r->opt.top ? r->nexts : r->opt.top;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{ssso so}", "ext", r->exts[i].ext, "docker",
						   count(r->exts[i].docker.files, r->exts[i].docker.bytes),
						   "sent", count(r->exts[i].sent.files, r->exts[i].sent.bytes)));
	json_object_set_new(o, "extensions", a);
	a = json_array();
	for (size_t i = 0; i < r->nsuggestions; i++) {
		const struct ctxd_report_suggestion *x = &r->suggestions[i];

		json_array_append_new(a, json_pack("{sssIsIsIss}", "pattern", x->pattern, "files",
						   (json_int_t)x->files, "bytes", (json_int_t)x->bytes,
						   "read_bytes", (json_int_t)x->read_bytes, "why", x->why));
	}
	json_object_set_new(o, "suggestions", a);
	a = json_array();
	for (size_t i = 0; i < r->findings.n; i++) {
		const struct ctxd_secret *x = &r->findings.items[i];

		json_array_append_new(a, json_pack("{sssssssb}", "path", x->path, "rule", x->rule,
						   "description", ctxd_secrets_rule_text(x->rule),
						   "sent", x->sent));
	}
	json_object_set_new(o, "secrets", a);
	a = json_array();
	for (size_t i = 0; i < r->nadvice; i++)
		json_array_append_new(a, json_string(r->advice[i].text));
	json_object_set_new(o, "advice", a);
	a = json_array();
	if (r->git_warning)
		json_array_append_new(a, json_string(r->git_warning));
	json_object_set_new(o, "warnings", a);
	return o;
}
