/* A recording's windows and snapshots (WINDOW records, format 1.4): the
 * model's list of marks per process, the heap replay told of each, and the
 * words every report uses for the windows ("recorded 1.00 s to 3.00 s of a
 * 5.20 s run"). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fathom-dump.h"
#include "marks.h"

int marks_add(struct fa_process *pr, struct heap *h, int what, uint64_t time_ns, uint64_t seq, uint64_t id,
	      const char *label, size_t label_len)
{
	struct fa_mark *v = realloc(pr->marks, (pr->nmarks + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	pr->marks = v;
	struct fa_mark *m = &v[pr->nmarks];
	*m = (struct fa_mark){.what = what, .time_ns = time_ns, .seq = seq, .id = id};
	if (label_len) {
		if (!(m->label = malloc(label_len + 1)))
			return -ENOMEM;
		memcpy(m->label, label, label_len);
		m->label[label_len] = 0;
	}
	pr->nmarks++;
	return h ? heap_mark(h, seq, pr->nmarks - 1, what) : 0;
}

void marks_free(struct fa_process *pr)
{
	for (size_t i = 0; i < pr->nmarks; i++) {
		free(pr->marks[i].label);
		free(pr->marks[i].live);
	}
	free(pr->marks);
	pr->marks = NULL;
	pr->nmarks = 0;
}

size_t marks_windows(const struct fa_process *pr, struct marks_window *w, size_t max)
{
	size_t n = 0;
	bool on = true;
	uint64_t from = 0;
	for (size_t i = 0; i < pr->nmarks; i++) {
		const struct fa_mark *m = &pr->marks[i];
		if (m->what == FD_WIN_STOP && on) {
			/* A dump that begins paused: a STOP at time 0. */
			if (m->time_ns > from) {
				if (n < max)
					w[n] = (struct marks_window){from, m->time_ns};
				n++;
			}
			on = false;
		} else if (m->what == FD_WIN_START && !on) {
			from = m->time_ns;
			on = true;
		}
	}
	if (on) {
		uint64_t end = pr->duration_ns > from ? pr->duration_ns : from;
		if (n < max)
			w[n] = (struct marks_window){from, end};
		n++;
	}
	return n;
}

bool marks_windowed(const struct fa_process *pr)
{
	for (size_t i = 0; i < pr->nmarks; i++)
		if (pr->marks[i].what == FD_WIN_START || pr->marks[i].what == FD_WIN_STOP)
			return true;
	return false;
}

bool marks_attached(const struct fa_process *pr)
{
	return pr->nmarks && pr->marks[0].what == FD_WIN_START && pr->marks[0].label &&
	       !strcmp(pr->marks[0].label, "attach");
}

int marks_window_text(const struct fa_process *pr, char *buf, size_t cap)
{
	struct marks_window w[4];
	size_t n = marks_windows(pr, w, 4);
	double run = (double)pr->duration_ns / 1e9;
	uint64_t recorded = 0;
	for (size_t i = 0; i < n && i < 4; i++)
		recorded += w[i].to_ns - w[i].from_ns;
	if (n > 4) {
		/* The total needs every window. */
		struct marks_window *all = malloc(n * sizeof(*all));
		if (!all)
			return -ENOMEM;
		marks_windows(pr, all, n);
		recorded = 0;
		for (size_t i = 0; i < n; i++)
			recorded += all[i].to_ns - all[i].from_ns;
		free(all);
	}
	size_t len = 0;
	if (n == 0) {
		len = (size_t)snprintf(buf, cap, "recording was off for the whole %.2f s run", run);
	} else {
		len = (size_t)snprintf(buf, cap, "recorded ");
		for (size_t i = 0; i < n && i < 4 && len < cap; i++)
			len += (size_t)snprintf(buf + len, cap - len, "%s%.2f s to %.2f s", i ? ", " : "",
						(double)w[i].from_ns / 1e9, (double)w[i].to_ns / 1e9);
		if (n > 4 && len < cap)
			len += (size_t)snprintf(buf + len, cap - len, " and %zu more windows", n - 4);
		uint64_t paused = pr->duration_ns > recorded ? pr->duration_ns - recorded : 0;
		if (len < cap)
			snprintf(buf + len, cap - len, " of a %.2f s run (paused %.2f s)", run,
				 (double)paused / 1e9);
	}
	return 0;
}

const struct fa_mark *marks_find(const struct profile *p, int what, uint64_t id, uint32_t *proc)
{
	for (size_t i = 0; i < p->nprocs; i++)
		for (size_t k = 0; k < p->procs[i].nmarks; k++) {
			const struct fa_mark *m = &p->procs[i].marks[k];
			if (m->what == what && (what == FA_MARK_AT || m->id == id)) {
				*proc = (uint32_t)i;
				return m;
			}
		}
	return NULL;
}
