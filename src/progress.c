/* Rendering the /build response (see include/ctxd/progress.h). BuildKit
 * state is kept the way buildkit's progressui keeps it (steps by digest,
 * statuses by ID, logs cut into timestamped lines), so the plain output
 * follows its printer; the terminal view is redrawn from the same state.
 * Classic messages follow the docker CLI's jsonmessage display. */
#include "ctxd/progress.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "ctxd/bkstatus.h"
#include "ctxd/buf.h"
#include "ctxd/units.h"

#define LOG_RING 10         /* a step's last lines, shown again if it fails */
#define TTY_LOG_LINES 6     /* lines of a running step in the terminal view */
#define MAX_LINE (64 << 10) /* a log line is cut here: the daemon's output is unbounded */
#define QUIET_MAX (4 << 20) /* held-back output beyond this keeps only its tail */
#define REDRAW_SECS 0.1

/* A step's status line (VertexStatus), merged by ID. */
struct bstatus {
	char *id;
	int64_t current, total;
	struct ctxd_bkstatus_time timestamp, started, completed;
	bool listed;  /* started once: buildkit shows it from then on */
	bool updated; /* changed since the plain printer last looked */
	bool printed;
	int64_t last_current; /* what was last printed, for the throttle */
	struct ctxd_bkstatus_time last_ts;
};

struct logline {
	char *s;     /* "0.123 text" */
	size_t text; /* where text starts */
};

/* A step (Vertex), merged by digest. */
struct vtx {
	char *digest, *name, *error;
	bool cached;
	struct ctxd_bkstatus_time started, completed;
	unsigned index;  /* the N of "#N", given when first shown */
	bool updated;    /* touched by the message being applied */
	bool in_order;   /* in p->order (it has started) */
	struct ctxd_bkstatus_time done_shown; /* completion the plain printer showed */
	struct bstatus *st;
	size_t nst;

	struct ctxd_buf cur; /* the line still open: "0.123 text" */
	size_t cur_text;
	bool partial;        /* cur holds an open line */
	struct ctxd_buf pend; /* plain: finished lines not printed yet */
	size_t shown;        /* bytes of cur on screen, when it is p->current's open line */
	struct logline ring[LOG_RING];
	unsigned ring_n, ring_next;
};

struct ctxd_progress {
	enum ctxd_progress_mode mode; /* PLAIN, TTY or QUIET once created */
	FILE *out, *err, *last;
	bool out_tty;      /* keep classic colours */
	bool classic_term; /* docker's in-place pull progress lines on out */
	struct ctxd_buf quiet;
	bool quiet_cut;
	bool finished, warned;
	char *image_id, *error;

	/* classic: the pull progress lines' order on screen, by id */
	char **ids;
	size_t nids;

	/* BuildKit */
	struct vtx **vs; /* in first-seen order */
	size_t nvs;
	size_t *slots;   /* digest hash -> index into vs + 1 */
	size_t nslots;
	struct vtx **order; /* started steps, in start order */
	size_t norder;
	struct vtx **upd;   /* steps touched by the message being applied */
	size_t nupd;
	unsigned next_index;
	struct vtx *current; /* the plain printer's open step */
	bool not_first, screen_partial;
	char **warnings;
	size_t nwarnings;
	bool have_bk;
	double bk_t0;      /* local monotonic time of the first trace */
	double skew;       /* local wall clock minus the daemon's */
	bool skew_set;

	/* terminal view */
	unsigned tty_lines; /* lines of the view now on screen, cursor below them */
	double last_draw;
	bool dirty;

	/* upload */
	bool up_started, up_done, up_committed;
	uint64_t up_sent, up_total;
	double up_t0, up_t1;
};

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tsecs(struct ctxd_bkstatus_time t)
{
	return (double)t.sec + (double)t.nsec / 1e9;
}

/* In double, so untrusted seconds cannot overflow a subtraction. */
static double tdiff(struct ctxd_bkstatus_time a, struct ctxd_bkstatus_time b)
{
	return ((double)a.sec - (double)b.sec) + ((double)a.nsec - (double)b.nsec) / 1e9;
}

static bool teq(struct ctxd_bkstatus_time a, struct ctxd_bkstatus_time b)
{
	return a.set == b.set && (!a.set || (a.sec == b.sec && a.nsec == b.nsec));
}

static bool streq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static bool is_canceled(const char *error)
{
	return ends_with(error, "context canceled");
}

static bool failed(const struct vtx *v)
{
	return v->error && *v->error;
}

/* ---- output ---- */

static void quiet_append(struct ctxd_progress *p, const char *s, size_t n)
{
	ctxd_buf_append(&p->quiet, s, n);
	if (p->quiet.len > QUIET_MAX) {
		/* the end of a failed build's output is what explains it */
		size_t keep = QUIET_MAX / 2, from = p->quiet.len - keep;
		char *nl = memchr(p->quiet.data + from, '\n', keep);

		if (nl)
			from = (size_t)(nl + 1 - p->quiet.data);
		memmove(p->quiet.data, p->quiet.data + from, p->quiet.len - from);
		p->quiet.len -= from;
		p->quiet.data[p->quiet.len] = '\0';
		p->quiet_cut = true;
	}
}

static void put(struct ctxd_progress *p, FILE *f, const char *s, size_t n)
{
	if (!n)
		return;
	if (p->mode == CTXD_PROGRESS_QUIET) {
		quiet_append(p, s, n);
		return;
	}
	/* out and err often share a terminal: keep their order */
	if (p->last && p->last != f)
		fflush(p->last);
	p->last = f;
	fwrite(s, 1, n, f);
	/* a pipe is fully buffered: a CI log must show each line as it comes */
	if (s[n - 1] == '\n')
		fflush(f);
}

static void puts_(struct ctxd_progress *p, FILE *f, const char *s)
{
	put(p, f, s, strlen(s));
}

__attribute__((format(printf, 3, 4)))
static void putf(struct ctxd_progress *p, FILE *f, const char *fmt, ...)
{
	char small[512], *s = small;
	va_list ap, ap2;
	int n;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof small && (s = malloc((size_t)n + 1)))
		vsnprintf(s, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	if (n > 0 && s)
		put(p, f, s, (size_t)n);
	if (s != small)
		free(s);
}

/* ---- lifetime ---- */

struct ctxd_progress *ctxd_progress_create(enum ctxd_progress_mode mode, FILE *out, FILE *err,
					   bool err_is_tty)
{
	struct ctxd_progress *p = calloc(1, sizeof *p);
	int fd;

	if (!p)
		return NULL;
	p->out = out;
	p->err = err;
	fd = fileno(out);
	p->out_tty = fd >= 0 && isatty(fd);
	/* docker decides this by stdout alone; a forced TTY mode means it too */
	p->classic_term = mode == CTXD_PROGRESS_TTY || (mode == CTXD_PROGRESS_AUTO && p->out_tty);
	if (mode == CTXD_PROGRESS_AUTO)
		mode = err_is_tty ? CTXD_PROGRESS_TTY : CTXD_PROGRESS_PLAIN;
	p->mode = mode;
	return p;
}

static void free_vtx(struct vtx *v)
{
	free(v->digest);
	free(v->name);
	free(v->error);
	for (size_t i = 0; i < v->nst; i++)
		free(v->st[i].id);
	free(v->st);
	ctxd_buf_free(&v->cur);
	ctxd_buf_free(&v->pend);
	for (unsigned i = 0; i < LOG_RING; i++)
		free(v->ring[i].s);
	free(v);
}

static void clear_ids(struct ctxd_progress *p)
{
	for (size_t i = 0; i < p->nids; i++)
		free(p->ids[i]);
	free(p->ids);
	p->ids = NULL;
	p->nids = 0;
}

void ctxd_progress_destroy(struct ctxd_progress *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nvs; i++)
		free_vtx(p->vs[i]);
	free(p->vs);
	free(p->slots);
	free(p->order);
	free(p->upd);
	for (size_t i = 0; i < p->nwarnings; i++)
		free(p->warnings[i]);
	free(p->warnings);
	clear_ids(p);
	ctxd_buf_free(&p->quiet);
	free(p->image_id);
	free(p->error);
	free(p);
}

const char *ctxd_progress_image_id(const struct ctxd_progress *p)
{
	return p->image_id;
}

const char *ctxd_progress_error(const struct ctxd_progress *p)
{
	if (p->error)
		return p->error;
	if (p->image_id)
		return NULL;
	for (size_t i = 0; i < p->norder; i++)
		if (failed(p->order[i]) && !is_canceled(p->order[i]->error))
			return p->order[i]->error;
	return NULL;
}

/* Room for element n of the array *arrp points to (some "T *", copied
 * rather than cast to stay within aliasing rules). The capacity is the
 * power of two at or above n, at least 4, so no capacity field is kept.
 * false on ENOMEM. */
static bool grow(void *arrp, size_t n, size_t size)
{
	char *arr, *na;
	size_t cap;

	if (n && (n < 4 || (n & (n - 1)) != 0))
		return true;
	cap = n ? n * 2 : 4;
	memcpy(&arr, arrp, sizeof arr);
	if (cap > SIZE_MAX / size || !(na = realloc(arr, cap * size)))
		return false;
	memcpy(arrp, &na, sizeof na);
	return true;
}

static bool push_ptr(void *arrp, size_t *n, void *item)
{
	void **arr;

	if (!grow(arrp, *n, sizeof *arr))
		return false;
	memcpy(&arr, arrp, sizeof arr);
	arr[(*n)++] = item;
	return true;
}

/* Replaces *dst with a copy of s; false on ENOMEM. */
static bool set_str(char **dst, const char *s)
{
	char *c = NULL;

	if (s && !(c = strdup(s)))
		return false;
	free(*dst);
	*dst = c;
	return true;
}

/* ---- the terminal view ---- */

static void term_size(struct ctxd_progress *p, int *w, int *h)
{
	struct winsize ws;
	int fd = fileno(p->err);

	*w = 80;
	*h = 25;
	if (fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
		*w = ws.ws_col;
		*h = ws.ws_row;
	}
}

/* Bytes of s that fit in cols columns, a codepoint per column. */
static size_t fit(const char *s, size_t len, size_t cols)
{
	size_t i = 0, c = 0;

	while (i < len) {
		size_t j = i + 1;

		while (j < len && ((unsigned char)s[j] & 0xc0) == 0x80)
			j++;
		if (c + 1 > cols)
			break;
		c++;
		i = j;
	}
	return i;
}

static size_t columns(const char *s, size_t len)
{
	size_t c = 0;

	for (size_t i = 0; i < len; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

/* Text for one line of the view: after the last CR (progress bars redraw
 * with it), without escape sequences or control characters, which would
 * move the cursor the view relies on. */
static void sanitize(struct ctxd_buf *b, const char *s, size_t len)
{
	const char *cr = NULL;

	for (size_t i = 0; i < len; i++)
		if (s[i] == '\r' && i + 1 < len)
			cr = s + i;
	if (cr) {
		len -= (size_t)(cr + 1 - s);
		s = cr + 1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0x1b) {
			if (i + 1 < len && s[i + 1] == '[') {
				i += 2;
				while (i < len && !((unsigned char)s[i] >= 0x40 && (unsigned char)s[i] <= 0x7e))
					i++;
			} else {
				i++;
			}
		} else if (c == '\t') {
			ctxd_buf_putc(b, ' ');
		} else if (c >= 0x20 && c != 0x7f) {
			ctxd_buf_putc(b, (char)c);
		}
	}
}

/* One row: left text cut to fit, right text (a timer) at the right edge. */
static void row(struct ctxd_buf *b, unsigned *nrows, int width, const char *color,
		const char *left, size_t llen, const char *right)
{
	size_t avail = width > 2 ? (size_t)width - 1 : 1; /* the last column would wrap */
	size_t rlen = strlen(right), lcols, keep;

	keep = fit(left, llen, avail > rlen + 1 ? avail - rlen - 1 : 0);
	lcols = columns(left, keep);
	if (color)
		ctxd_buf_puts(b, color);
	ctxd_buf_append(b, left, keep);
	if (rlen && avail > lcols + rlen) {
		for (size_t i = lcols; i < avail - rlen; i++)
			ctxd_buf_putc(b, ' ');
		ctxd_buf_puts(b, right);
	}
	if (color)
		ctxd_buf_puts(b, "\033[0m");
	ctxd_buf_puts(b, "\033[K\n");
	(*nrows)++;
}

static void fmt_bytes(char *out, size_t n, int64_t v)
{
	static const char *const unit[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
	double f = (double)v;
	int i = 0;

	/* tonistiigi/units Bytes with %.2f: decimal units, integers below 1kB */
	if (v > -1000 && v < 1000) {
		snprintf(out, n, "%lldB", (long long)v);
		return;
	}
	while ((f >= 1000 || f <= -1000) && i < 6) {
		f /= 1000;
		i++;
	}
	snprintf(out, n, "%.2f%s", f, unit[i]);
}

static void fmt_rate(char *out, size_t n, double bps)
{
	char h[16];

	ctxd_units_human(bps > 0 ? (uint64_t)bps : 0, h);
	snprintf(out, n, "%s/s", h);
}

static void upload_row(struct ctxd_progress *p, struct ctxd_buf *b, unsigned *nrows, int width)
{
	char line[256], sent[16], total[16], rate[32], eta[32] = "", bar[40];
	double secs = (p->up_done ? p->up_t1 : mono_now()) - p->up_t0;
	double bps = secs > 0 ? (double)p->up_sent / secs : 0;

	ctxd_units_human(p->up_sent, sent);
	if (p->up_done) {
		snprintf(line, sizeof line, "Sending build context to Docker daemon  %s", sent);
		row(b, nrows, width, NULL, line, strlen(line), "");
		return;
	}
	fmt_rate(rate, sizeof rate, bps);
	if (p->up_total && p->up_sent <= p->up_total) {
		/* the total is the tar's estimated size: a bar, and an ETA once a
		 * rate is known; the numbers stay on screen, the bar and the
		 * wording give way on a narrow terminal */
		const char *head = "Sending build context to Docker daemon  ";
		char nums[96];
		int w;

		ctxd_units_human(p->up_total, total);
		if (bps > 0) {
			double left = (double)(p->up_total - p->up_sent) / bps;

			if (left < 3600 * 24)
				snprintf(eta, sizeof eta, "  ETA %um%02us", (unsigned)left / 60,
					 (unsigned)left % 60);
		}
		snprintf(nums, sizeof nums, "%s/%s  %s%s", sent, total, rate, eta);
		if (width > 0 && (int)(strlen(head) + strlen(nums)) + 12 > width)
			head = "Sending context ";
		w = width > 0 ? width - (int)(strlen(head) + strlen(nums)) - 5 : 24;
		w = w > 24 ? 24 : w;
		if (w >= 8) {
			unsigned k = (unsigned)((double)p->up_sent / (double)p->up_total * w);

			bar[0] = '[';
			for (int i = 0; i < w; i++)
				bar[1 + i] = (unsigned)i < k ? '=' : (unsigned)i == k ? '>' : ' ';
			bar[w + 1] = ']';
			bar[w + 2] = ' ';
			bar[w + 3] = '\0';
		} else {
			bar[0] = '\0';
		}
		snprintf(line, sizeof line, "%s%s%s", head, bar, nums);
	} else {
		snprintf(line, sizeof line, "Sending build context to Docker daemon  %s  %s", sent, rate);
	}
	row(b, nrows, width, NULL, line, strlen(line), "");
}

/* The daemon's clock, as far as it can be told: buildkit takes the first
 * step's start as "now" on the daemon when it arrives. */
static double daemon_now(const struct ctxd_progress *p)
{
	return wall_now() - p->skew;
}

static void timer(char *out, size_t n, double secs)
{
	if (secs < 0.05)
		secs = 0;
	snprintf(out, n, "%.1fs", secs);
}

struct rowmark {
	size_t off;
	bool done; /* a finished step's row: the first to go when space runs out */
};

static void bk_rows(struct ctxd_progress *p, struct ctxd_buf *b, struct rowmark **marks,
		    size_t *nmarks, int width, bool *oom)
{
	struct ctxd_buf t = {0};
	double now = daemon_now(p);
	char tm[32];

	for (size_t i = 0; i < p->norder; i++) {
		struct vtx *v = p->order[i];
		bool done = v->completed.set;
		const char *color = NULL;
		unsigned dummy = 0;
		struct rowmark m = {b->len, done};

		t.len = 0;
		ctxd_buf_puts(&t, " => ");
		if (v->cached)
			ctxd_buf_puts(&t, "CACHED ");
		if (failed(v))
			ctxd_buf_puts(&t, is_canceled(v->error) ? "CANCELED " : "ERROR ");
		if (v->name)
			sanitize(&t, v->name, strlen(v->name));
		timer(tm, sizeof tm, (done ? tsecs(v->completed) : now) - tsecs(v->started));
		if (done)
			color = failed(v) ? (is_canceled(v->error) ? "\033[33m" : "\033[31m") : "\033[34m";
		if (!grow(marks, *nmarks, sizeof m)) {
			*oom = true;
			break;
		}
		(*marks)[(*nmarks)++] = m;
		row(b, &dummy, width, color, t.data ? t.data : "", t.len, tm);

		for (size_t j = 0; j < v->nst; j++) {
			struct bstatus *s = &v->st[j];
			char cur[32], tot[32];
			double end;

			if (!s->listed)
				continue;
			t.len = 0;
			ctxd_buf_puts(&t, " => => ");
			sanitize(&t, s->id ? s->id : "", s->id ? strlen(s->id) : 0);
			fmt_bytes(cur, sizeof cur, s->current);
			fmt_bytes(tot, sizeof tot, s->total);
			if (s->total)
				ctxd_buf_printf(&t, " %s / %s", cur, tot);
			else if (s->current)
				ctxd_buf_printf(&t, " %s", cur);
			end = s->completed.set ? tsecs(s->completed) : now;
			timer(tm, sizeof tm, s->started.set ? end - tsecs(s->started) : 0);
			m.off = b->len;
			m.done = done;
			if (!grow(marks, *nmarks, sizeof m)) {
				*oom = true;
				break;
			}
			(*marks)[(*nmarks)++] = m;
			row(b, &dummy, width, s->completed.set ? "\033[34m" : NULL, t.data ? t.data : "", t.len, tm);
		}
		if (done)
			continue;
		/* the last lines of a running step, faint, as buildkit's view does */
		{
			unsigned have = v->ring_n + (v->partial ? 1 : 0);
			unsigned skip = have > TTY_LOG_LINES ? have - TTY_LOG_LINES : 0;

			for (unsigned k = skip; k < have; k++) {
				const char *s;
				size_t len;

				if (k < v->ring_n) {
					const struct logline *l =
						&v->ring[(v->ring_next + LOG_RING - v->ring_n + k) % LOG_RING];

					s = l->s + l->text;
					len = strlen(s);
				} else {
					s = v->cur.data + v->cur_text;
					len = v->cur.len - v->cur_text;
				}
				t.len = 0;
				ctxd_buf_puts(&t, " => => # ");
				sanitize(&t, s, len);
				m.off = b->len;
				m.done = false;
				if (!grow(marks, *nmarks, sizeof m)) {
					*oom = true;
					break;
				}
				(*marks)[(*nmarks)++] = m;
				row(b, &dummy, width, "\033[2m", t.data ? t.data : "", t.len, "");
			}
		}
	}
	if (t.oom)
		*oom = true;
	ctxd_buf_free(&t);
}

static void tty_draw(struct ctxd_progress *p, bool final)
{
	struct ctxd_buf head = {0}, body = {0}, b = {0};
	struct rowmark *marks = NULL;
	size_t nmarks = 0;
	unsigned nhead = 0, nrows, done = 0;
	int width, height;
	bool oom = false;

	term_size(p, &width, &height);
	if (p->up_started && !p->up_committed)
		upload_row(p, &head, &nhead, width);
	if (p->have_bk) {
		char line[128];

		for (size_t i = 0; i < p->nvs; i++)
			done += p->vs[i]->completed.set;
		snprintf(line, sizeof line, "[+] Building %.1fs (%u/%zu)%s", mono_now() - p->bk_t0, done,
			 p->nvs, final && done == p->nvs && p->nvs ? " FINISHED" : "");
		row(&head, &nhead, width, NULL, line, strlen(line), "");
		bk_rows(p, &body, &marks, &nmarks, width, &oom);
	}
	if (oom || head.oom || body.oom)
		goto out;
	/* too many rows for the screen: finished steps go first, then the oldest */
	if (!final && height > 2 && nhead + nmarks > (size_t)height - 2) {
		size_t excess = nhead + nmarks - ((size_t)height - 2), dropped = 0;
		bool *drop = calloc(nmarks ? nmarks : 1, sizeof *drop);

		if (!drop)
			goto out;
		for (size_t i = 0; i < nmarks && dropped < excess; i++)
			if (marks[i].done)
				drop[i] = true, dropped++;
		for (size_t i = 0; i < nmarks && dropped < excess; i++)
			if (!drop[i])
				drop[i] = true, dropped++;
		for (size_t i = 0; i < nmarks; i++) {
			size_t end = i + 1 < nmarks ? marks[i + 1].off : body.len;

			if (!drop[i])
				ctxd_buf_append(&b, body.data + marks[i].off, end - marks[i].off);
		}
		free(drop);
		nmarks -= dropped;
		ctxd_buf_free(&body);
		body = b;
		b = (struct ctxd_buf){0};
	}
	nrows = nhead + (unsigned)nmarks;
	if (!nrows && !p->tty_lines)
		goto out;
	if (p->tty_lines)
		ctxd_buf_printf(&b, "\033[%uA\r", p->tty_lines);
	ctxd_buf_puts(&b, "\033[?25l");
	if (head.len)
		ctxd_buf_append(&b, head.data, head.len);
	if (body.len)
		ctxd_buf_append(&b, body.data, body.len);
	if (nrows < p->tty_lines)
		ctxd_buf_puts(&b, "\033[J");
	ctxd_buf_puts(&b, "\033[?25h");
	if (!b.oom) {
		put(p, p->err, b.data, b.len);
		fflush(p->err);
		p->tty_lines = nrows;
	}
	p->last_draw = mono_now();
	p->dirty = false;
out:
	free(marks);
	ctxd_buf_free(&head);
	ctxd_buf_free(&body);
	ctxd_buf_free(&b);
}

/* Clears the view so other text can go where it was; the next draw puts
 * the view back below that text. */
static void tty_clear(struct ctxd_progress *p)
{
	if (p->mode != CTXD_PROGRESS_TTY || !p->tty_lines)
		return;
	putf(p, p->err, "\033[%uA\r\033[J", p->tty_lines);
	fflush(p->err);
	p->tty_lines = 0;
	p->dirty = true;
}

/* ---- the plain printer ---- */

/* Ends the open log line on screen, if any, before other output. */
static void close_partial(struct ctxd_progress *p)
{
	if (!p->screen_partial)
		return;
	puts_(p, p->err, "\n");
	p->screen_partial = false;
	if (p->current)
		p->current->shown = 0; /* it is printed again, whole, when it ends */
}

static void plain_logs(struct ctxd_progress *p, struct vtx *v)
{
	size_t pos = 0;

	while (pos < v->pend.len) {
		char *nl = memchr(v->pend.data + pos, '\n', v->pend.len - pos);
		size_t end = nl ? (size_t)(nl - v->pend.data) : v->pend.len;

		if (pos == 0 && v->shown && p->screen_partial && p->current == v) {
			/* the open line on screen ended: print only what it lacked */
			put(p, p->err, v->pend.data + v->shown, end > v->shown ? end - v->shown : 0);
		} else {
			close_partial(p);
			putf(p, p->err, "#%u ", v->index);
			put(p, p->err, v->pend.data + pos, end - pos);
		}
		puts_(p, p->err, "\n");
		p->screen_partial = false;
		v->shown = 0;
		pos = end + 1;
	}
	v->pend.len = 0;
	if (v->partial && v->cur.len > v->shown) {
		if (v->shown && p->screen_partial && p->current == v) {
			put(p, p->err, v->cur.data + v->shown, v->cur.len - v->shown);
		} else {
			close_partial(p);
			putf(p, p->err, "#%u ", v->index);
			put(p, p->err, v->cur.data, v->cur.len);
		}
		v->shown = v->cur.len;
		p->screen_partial = true;
	}
}

/* buildkit's textMux.printVtx for one step. */
static void plain_vertex(struct ctxd_progress *p, struct vtx *v)
{
	v->updated = false;
	if (!v->index)
		v->index = ++p->next_index;
	if (v != p->current) {
		if (p->current) {
			close_partial(p);
			putf(p, p->err, "#%u ...\n", p->current->index);
			p->current->shown = 0;
		}
		if (p->not_first)
			puts_(p, p->err, "\n");
		p->not_first = true;
		putf(p, p->err, "#%u %s\n", v->index, v->name ? v->name : "");
		p->current = v;
	}
	for (size_t i = 0; i < v->nst; i++) {
		struct bstatus *s = &v->st[i];
		char bytes[80] = "", tm[48] = "", a[32], b[32];

		if (!s->listed || !s->updated)
			continue;
		s->updated = false;
		if (s->printed && !s->completed.set) {
			double pd = s->total > 0 ? ((double)s->current - (double)s->last_current) / (double)s->total : 0;

			if (pd < 0.05 && tdiff(s->timestamp, s->last_ts) < 5)
				continue;
		}
		s->printed = true;
		s->last_current = s->current;
		s->last_ts = s->timestamp;
		if (s->total) {
			fmt_bytes(a, sizeof a, s->current);
			fmt_bytes(b, sizeof b, s->total);
			snprintf(bytes, sizeof bytes, " %s / %s", a, b);
		} else if (s->current) {
			fmt_bytes(a, sizeof a, s->current);
			snprintf(bytes, sizeof bytes, " %s", a);
		}
		if (s->started.set) {
			double d = tdiff(s->completed.set ? s->completed : s->timestamp, s->started);

			if (d > 0.01)
				snprintf(tm, sizeof tm, " %.1fs", d);
		}
		if (s->completed.set) {
			size_t n = strlen(tm);

			snprintf(tm + n, sizeof tm - n, " done");
		}
		close_partial(p);
		putf(p, p->err, "#%u %s%s%s\n", v->index, s->id ? s->id : "", bytes, tm);
	}
	plain_logs(p, v);
	if (v->completed.set) {
		if (!teq(v->done_shown, v->completed)) {
			close_partial(p);
			if (failed(v) && is_canceled(v->error))
				putf(p, p->err, "#%u CANCELED\n", v->index);
			else if (failed(v))
				putf(p, p->err, "#%u ERROR: %s\n", v->index, v->error);
			else if (v->cached)
				putf(p, p->err, "#%u CACHED\n", v->index);
			else if (v->started.set)
				putf(p, p->err, "#%u DONE %.1fs\n", v->index, tdiff(v->completed, v->started));
			else
				putf(p, p->err, "#%u DONE\n", v->index);
			v->done_shown = v->completed;
		}
		close_partial(p);
		p->current = NULL;
	}
}

static double completed_at(const struct vtx *v)
{
	return tsecs(v->completed);
}

/* buildkit's textMux.print: finished steps first (the open one, then by
 * completion time), then the rest; all of them, as nothing is deferred. */
static void plain_print(struct ctxd_progress *p)
{
	struct vtx *cur0 = p->current;

	if (cur0 && cur0->updated && cur0->completed.set)
		plain_vertex(p, cur0);
	for (;;) {
		struct vtx *next = NULL;

		for (size_t i = 0; i < p->nupd; i++) {
			struct vtx *v = p->upd[i];

			if (v->updated && v->completed.set && (!next || completed_at(v) < completed_at(next)))
				next = v;
		}
		if (!next)
			break;
		plain_vertex(p, next);
	}
	if (cur0 && cur0->updated)
		plain_vertex(p, cur0);
	for (size_t i = 0; i < p->nupd; i++)
		if (p->upd[i]->updated)
			plain_vertex(p, p->upd[i]);
}

/* ---- BuildKit state ---- */

static size_t hash(const char *s)
{
	size_t h = (size_t)14695981039346656037ull; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

static struct vtx *find_vtx(const struct ctxd_progress *p, const char *digest)
{
	if (!p->nslots)
		return NULL;
	for (size_t i = hash(digest) & (p->nslots - 1);; i = (i + 1) & (p->nslots - 1)) {
		size_t s = p->slots[i];

		if (!s)
			return NULL;
		if (strcmp(p->vs[s - 1]->digest, digest) == 0)
			return p->vs[s - 1];
	}
}

static bool rehash(struct ctxd_progress *p)
{
	size_t n = p->nslots ? p->nslots * 2 : 64;
	size_t *slots = calloc(n, sizeof *slots);

	if (!slots)
		return false;
	for (size_t k = 0; k < p->nvs; k++) {
		size_t i = hash(p->vs[k]->digest) & (n - 1);

		while (slots[i])
			i = (i + 1) & (n - 1);
		slots[i] = k + 1;
	}
	free(p->slots);
	p->slots = slots;
	p->nslots = n;
	return true;
}

static struct vtx *add_vtx(struct ctxd_progress *p, const char *digest)
{
	struct vtx *v;
	size_t i;

	if ((p->nvs + 1) * 4 > p->nslots * 3 && !rehash(p))
		return NULL;
	if (!(v = calloc(1, sizeof *v)) || !(v->digest = strdup(digest))) {
		free(v);
		return NULL;
	}
	if (!push_ptr(&p->vs, &p->nvs, v)) {
		free_vtx(v);
		return NULL;
	}
	for (i = hash(digest) & (p->nslots - 1); p->slots[i]; i = (i + 1) & (p->nslots - 1))
		;
	p->slots[i] = p->nvs;
	return v;
}

static bool touch(struct ctxd_progress *p, struct vtx *v)
{
	if (v->updated)
		return true;
	v->updated = true;
	return push_ptr(&p->upd, &p->nupd, v);
}

static void ring_push(struct vtx *v, const char *s, size_t len, size_t text)
{
	struct logline *l = &v->ring[v->ring_next];
	char *c = malloc(len + 1);

	if (!c)
		return; /* the summary loses a line; the build goes on */
	memcpy(c, s, len);
	c[len] = '\0';
	free(l->s);
	l->s = c;
	l->text = text;
	v->ring_next = (v->ring_next + 1) % LOG_RING;
	if (v->ring_n < LOG_RING)
		v->ring_n++;
}

static void end_line(struct ctxd_progress *p, struct vtx *v)
{
	ring_push(v, v->cur.data ? v->cur.data : "", v->cur.len, v->cur_text);
	if (p->mode != CTXD_PROGRESS_TTY) {
		ctxd_buf_append(&v->pend, v->cur.data ? v->cur.data : "", v->cur.len);
		ctxd_buf_putc(&v->pend, '\n');
	}
	v->cur.len = 0;
	v->partial = false;
}

/* buildkit's split: each line gets the time since the step started; a
 * chunk that does not end in a newline leaves the line open for the next. */
static void add_log(struct ctxd_progress *p, struct vtx *v, const struct ctxd_bkstatus_log *l)
{
	const char *s = l->msg.data;
	size_t len = l->msg.len;
	bool first = true;

	while (len > 0) {
		const char *nl = memchr(s, '\n', len);
		size_t seg = nl ? (size_t)(nl - s) : len;

		if (!(first && v->partial)) {
			double ts = l->timestamp.set && v->started.set ? tdiff(l->timestamp, v->started) : 0;
			int prec = ts < 10 ? 3 : ts < 100 ? 2 : 1;

			v->cur.len = 0;
			ctxd_buf_printf(&v->cur, "%.*f ", prec, ts);
			v->cur_text = v->cur.len;
			v->partial = true;
		}
		if (v->cur.len < MAX_LINE)
			ctxd_buf_append(&v->cur, s, seg < MAX_LINE - v->cur.len ? seg : MAX_LINE - v->cur.len);
		first = false;
		if (!nl)
			break;
		end_line(p, v);
		s = nl + 1;
		len -= seg + 1;
	}
}

static struct bstatus *find_status(struct vtx *v, const char *id)
{
	struct bstatus *s;

	if (!id)
		id = "";
	for (size_t i = 0; i < v->nst; i++)
		if (strcmp(v->st[i].id, id) == 0)
			return &v->st[i];
	if (!grow(&v->st, v->nst, sizeof *s))
		return NULL;
	s = &v->st[v->nst];
	memset(s, 0, sizeof *s);
	if (!(s->id = strdup(id)))
		return NULL;
	v->nst++;
	return s;
}

/* Merges one StatusResponse; *big tells whether a step started, finished
 * or failed (worth an immediate redraw). */
static int apply(struct ctxd_progress *p, const struct ctxd_bkstatus *st, bool *big)
{
	for (size_t i = 0; i < st->nvertexes; i++) {
		const struct ctxd_bkstatus_vertex *u = &st->vertexes[i];
		const char *d = u->digest ? u->digest : "";
		struct vtx *v = find_vtx(p, d);
		bool changed, was_started;

		if (!v && !(v = add_vtx(p, d)))
			return -1;
		/* a repeated initial record must not reset a step that started */
		if (v->started.set && !u->started.set)
			continue;
		changed = !streq(v->name, u->name) || !teq(v->started, u->started) ||
			  (u->completed.set && !teq(v->completed, u->completed)) ||
			  v->cached != u->cached || !streq(v->error, u->error);
		was_started = v->started.set;
		if (!set_str(&v->name, u->name) || !set_str(&v->error, u->error))
			return -1;
		v->cached = u->cached;
		v->started = u->started;
		v->completed = u->completed;
		if (u->started.set && !was_started) {
			if (!p->skew_set) {
				p->skew = wall_now() - tsecs(u->started);
				p->skew_set = true;
			}
			if (!v->in_order) {
				if (!push_ptr(&p->order, &p->norder, v))
					return -1;
				v->in_order = true;
			}
			if (!v->index)
				v->index = ++p->next_index;
		}
		if (u->started.set && changed) {
			*big = true;
			if (!touch(p, v))
				return -1;
		}
	}
	for (size_t i = 0; i < st->nstatuses; i++) {
		const struct ctxd_bkstatus_status *u = &st->statuses[i];
		struct vtx *v = find_vtx(p, u->vertex ? u->vertex : "");
		struct bstatus *s;

		if (!v)
			continue; /* buildkit ignores these too */
		if (!(s = find_status(v, u->id)))
			return -1;
		if (u->started.set)
			s->listed = true;
		s->current = u->current;
		s->total = u->total;
		s->timestamp = u->timestamp;
		s->started = u->started;
		s->completed = u->completed;
		s->updated = true;
		if (!touch(p, v))
			return -1;
	}
	for (size_t i = 0; i < st->nlogs; i++) {
		const struct ctxd_bkstatus_log *u = &st->logs[i];
		struct vtx *v = find_vtx(p, u->vertex ? u->vertex : "");

		if (!v)
			continue;
		add_log(p, v, u);
		if (v->cur.oom || v->pend.oom || !touch(p, v))
			return -1;
	}
	for (size_t i = 0; i < st->nwarnings; i++) {
		const struct ctxd_bkstatus_warning *w = &st->warnings[i];
		char *s = strdup(w->short_text.data ? w->short_text.data : "");

		if (!s || !push_ptr(&p->warnings, &p->nwarnings, s)) {
			free(s);
			return -1;
		}
	}
	return 0;
}

static void warn_once(struct ctxd_progress *p, const char *what)
{
	if (p->warned)
		return;
	p->warned = true;
	if (p->mode == CTXD_PROGRESS_QUIET)
		return;
	tty_clear(p);
	close_partial(p);
	putf(p, p->err, "ctxd: warning: ignoring what the daemon sent: %s\n", what);
}

static int trace(struct ctxd_progress *p, const char *b64, size_t len, struct ctxd_error *err)
{
	struct ctxd_error why;
	struct ctxd_bkstatus *st = ctxd_bkstatus_decode_base64(b64, len, &why);
	bool big = false;
	int rc;

	if (!st) {
		warn_once(p, why.msg);
		return 0;
	}
	if (!p->have_bk) {
		p->have_bk = true;
		p->bk_t0 = mono_now();
	}
	rc = apply(p, st, &big);
	ctxd_bkstatus_destroy(st);
	if (rc < 0) {
		p->nupd = 0;
		ctxd_error_set(err, "out of memory showing the build's progress");
		return -1;
	}
	if (p->mode == CTXD_PROGRESS_TTY) {
		for (size_t i = 0; i < p->nupd; i++)
			p->upd[i]->updated = false;
		p->dirty = true;
		if (big || mono_now() - p->last_draw >= REDRAW_SECS)
			tty_draw(p, false);
	} else {
		plain_print(p);
	}
	p->nupd = 0;
	return 0;
}

/* ---- classic messages ---- */

static bool is_image_id(const char *s, size_t len)
{
	if (len && s[len - 1] == '\n')
		len--;
	if (len != 71 || memcmp(s, "sha256:", 7) != 0)
		return false;
	for (size_t i = 7; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int set_image_id(struct ctxd_progress *p, const char *s, size_t len, struct ctxd_error *err)
{
	char *c;

	if (len && s[len - 1] == '\n')
		len--;
	if (!(c = strndup(s, len))) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	free(p->image_id);
	p->image_id = c;
	return 0;
}

/* Text for out: the classic builder's red for RUN's stderr only makes
 * sense on a terminal. */
static void stream_text(struct ctxd_progress *p, const char *s, size_t len)
{
	static const char red[] = "\033[91m", reset[] = "\033[0m";
	size_t i = 0, from = 0;

	if (p->out_tty && p->mode != CTXD_PROGRESS_QUIET) {
		put(p, p->out, s, len);
		return;
	}
	while (i < len) {
		size_t m = 0;

		if (s[i] == '\033') {
			if (len - i >= sizeof red - 1 && memcmp(s + i, red, sizeof red - 1) == 0)
				m = sizeof red - 1;
			else if (len - i >= sizeof reset - 1 && memcmp(s + i, reset, sizeof reset - 1) == 0)
				m = sizeof reset - 1;
		}
		if (m) {
			put(p, p->out, s + from, i - from);
			i += m;
			from = i;
		} else {
			i++;
		}
	}
	put(p, p->out, s + from, len - from);
}

static const char *str_field(json_t *msg, const char *key, size_t *len)
{
	json_t *v = json_object_get(msg, key);

	if (!json_is_string(v))
		return NULL;
	if (len)
		*len = json_string_length(v);
	return json_string_value(v);
}

/* jsonmessage.DisplayJSONMessagesStream for one status/progress message. */
static void classic_status(struct ctxd_progress *p, json_t *msg)
{
	const char *status = str_field(msg, "status", NULL), *prog = str_field(msg, "progress", NULL);
	const char *id = str_field(msg, "id", NULL), *from = str_field(msg, "from", NULL);
	json_t *detail = json_object_get(msg, "progressDetail");
	bool has_detail = json_is_object(detail);
	json_int_t cur = json_integer_value(json_object_get(detail, "current"));
	json_int_t tot = json_integer_value(json_object_get(detail, "total"));
	size_t diff = 0;

	if (id && !*id)
		id = NULL;
	if (prog && !*prog)
		prog = NULL;
	if (!p->classic_term) {
		/* docker drops progress bars off a terminal */
		if (has_detail && (cur > 0 || tot > 0))
			return;
		if (id)
			putf(p, p->out, "%s: ", id);
		if (from)
			putf(p, p->out, "(from %s) ", from);
		putf(p, p->out, "%s%s%s\n", status ? status : "", prog ? " " : "", prog ? prog : "");
		return;
	}
	if (id && (has_detail || prog)) {
		size_t line;

		for (line = 0; line < p->nids && strcmp(p->ids[line], id) != 0; line++)
			;
		if (line == p->nids) {
			char *c = strdup(id);

			if (!c || !push_ptr(&p->ids, &p->nids, c)) {
				free(c);
				return;
			}
			puts_(p, p->out, "\n");
		}
		diff = p->nids - line;
		if (diff)
			putf(p, p->out, "\033[%zuA", diff);
	} else {
		clear_ids(p);
	}
	if (has_detail)
		puts_(p, p->out, "\033[2K\r");
	if (id)
		putf(p, p->out, "%s: ", id);
	if (from)
		putf(p, p->out, "(from %s) ", from);
	if (has_detail) {
		char a[16], b[16];

		if (prog)
			putf(p, p->out, "%s %s\r", status ? status : "", prog);
		else if (tot > 0)
			putf(p, p->out, "%s %s/%s\r", status ? status : "",
			     ctxd_units_human((uint64_t)(cur > 0 ? cur : 0), a), ctxd_units_human((uint64_t)tot, b));
		else if (cur > 0)
			putf(p, p->out, "%s %s\r", status ? status : "", ctxd_units_human((uint64_t)cur, a));
		else
			putf(p, p->out, "%s\r", status ? status : "");
	} else if (prog) {
		putf(p, p->out, "%s %s\n", status ? status : "", prog);
	} else {
		putf(p, p->out, "%s\n", status ? status : "");
	}
	if (id && diff)
		putf(p, p->out, "\033[%zuB", diff);
}

static int record_error(struct ctxd_progress *p, json_t *msg, struct ctxd_error *err)
{
	const char *m = str_field(json_object_get(msg, "errorDetail"), "message", NULL);

	if (p->error)
		return 0; /* the first one is the cause */
	if (!m || !*m)
		m = str_field(msg, "error", NULL);
	if (!m || !*m)
		m = "the daemon reported an error without a message";
	if (!(p->error = strdup(m))) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	return 0;
}

int ctxd_progress_message(struct ctxd_progress *p, json_t *msg, struct ctxd_error *err)
{
	const char *id, *stream;
	json_t *aux;
	size_t len;

	if (!json_is_object(msg)) {
		ctxd_error_set(err, "unexpected message from the daemon: not a JSON object");
		return -1;
	}
	id = str_field(msg, "id", NULL);
	aux = json_object_get(msg, "aux");
	if (aux) {
		const char *iid;

		/* aux messages are for the client, never displayed */
		if (id && strcmp(id, "moby.buildkit.trace") == 0) {
			if (json_is_string(aux))
				return trace(p, json_string_value(aux), json_string_length(aux), err);
			return 0;
		}
		iid = str_field(aux, "ID", &len);
		if (iid && *iid && (!id || strcmp(id, "moby.image.id") == 0))
			return set_image_id(p, iid, len, err);
		return 0;
	}
	if (json_object_get(msg, "errorDetail") || str_field(msg, "error", NULL))
		return record_error(p, msg, err);
	if ((stream = str_field(msg, "stream", &len))) {
		if (is_image_id(stream, len) && set_image_id(p, stream, len, err) < 0)
			return -1;
		clear_ids(p);
		if (p->out_tty)
			tty_clear(p);
		close_partial(p);
		stream_text(p, stream, len);
		if (p->mode == CTXD_PROGRESS_TTY && p->dirty && len && stream[len - 1] == '\n') {
			fflush(p->out);
			tty_draw(p, false);
		}
		return 0;
	}
	if (str_field(msg, "status", NULL) || str_field(msg, "progress", NULL)) {
		if (p->out_tty)
			tty_clear(p);
		classic_status(p, msg);
	}
	return 0;
}

/* ---- upload ---- */

void ctxd_progress_upload(struct ctxd_progress *p, uint64_t sent, uint64_t total, bool done)
{
	double now;

	if (p->mode == CTXD_PROGRESS_QUIET || p->up_done || p->finished)
		return;
	now = mono_now();
	if (!p->up_started) {
		p->up_started = true;
		p->up_t0 = now;
	}
	p->up_sent = sent;
	p->up_total = total;
	if (done) {
		char h[16];

		p->up_done = true;
		p->up_t1 = now;
		if (p->mode == CTXD_PROGRESS_TTY) {
			tty_draw(p, false);
			if (!p->have_bk) {
				/* alone on screen, the final line stays where it is */
				p->tty_lines = 0;
				p->up_committed = true;
			}
		} else {
			close_partial(p);
			putf(p, p->err, "Sending build context to Docker daemon  %s\n",
			     ctxd_units_human(sent, h));
			fflush(p->err);
		}
		return;
	}
	if (p->mode == CTXD_PROGRESS_TTY && now - p->last_draw >= REDRAW_SECS)
		tty_draw(p, false);
}

void ctxd_progress_tick(struct ctxd_progress *p)
{
	if (p->mode != CTXD_PROGRESS_TTY || p->finished)
		return;
	if ((p->have_bk || (p->up_started && !p->up_committed)) && mono_now() - p->last_draw >= REDRAW_SECS)
		tty_draw(p, false);
}

/* ---- the end ---- */

/* buildkit's printErrorLogs: each failed step's last lines. */
static void error_logs(struct ctxd_progress *p)
{
	for (size_t i = 0; i < p->norder; i++) {
		struct vtx *v = p->order[i];

		if (!failed(v) || is_canceled(v->error))
			continue;
		puts_(p, p->err, "------\n");
		putf(p, p->err, " > %s:\n", v->name ? v->name : "");
		for (unsigned k = 0; k < v->ring_n; k++) {
			const struct logline *l = &v->ring[(v->ring_next + LOG_RING - v->ring_n + k) % LOG_RING];

			putf(p, p->err, "%s\n", l->s);
		}
		if (v->partial && v->cur.len) {
			put(p, p->err, v->cur.data, v->cur.len);
			puts_(p, p->err, "\n");
		}
		puts_(p, p->err, "------\n");
	}
}

void ctxd_progress_finish(struct ctxd_progress *p)
{
	if (p->finished)
		return;
	if (p->mode == CTXD_PROGRESS_TTY) {
		if (p->have_bk || p->tty_lines)
			tty_draw(p, true);
		p->tty_lines = 0;
	} else {
		close_partial(p);
	}
	p->finished = true;
	error_logs(p);
	if (p->nwarnings) {
		putf(p, p->err, "\n %zu warning%s found:\n", p->nwarnings, p->nwarnings == 1 ? "" : "s");
		for (size_t i = 0; i < p->nwarnings; i++)
			putf(p, p->err, " - %s\n", p->warnings[i]);
	}
	if (p->mode == CTXD_PROGRESS_QUIET && ctxd_progress_error(p) && p->quiet.len) {
		if (p->quiet_cut)
			fputs("[... earlier output cut ...]\n", p->err);
		fwrite(p->quiet.data, 1, p->quiet.len, p->err);
	}
	fflush(p->out);
	fflush(p->err);
}
