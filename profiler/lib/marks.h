/* A recording's windows and snapshots: the marks of each process
 * (fa_process.marks, from WINDOW records), and the windows they bound. */
#ifndef FATHOM_MARKS_H
#define FATHOM_MARKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heap.h"
#include "profile.h"

/* Appends a mark to pr (label: label_len bytes, not NUL-terminated) and
 * tells the heap replay h of it (NULL: no allocation tracking). Returns 0
 * or -ENOMEM. */
int marks_add(struct fa_process *pr, struct heap *h, int what, uint64_t time_ns, uint64_t seq, uint64_t id,
	      const char *label, size_t label_len);
void marks_free(struct fa_process *pr);

/* Whether recording was switched on or off in pr (a START or STOP mark). */
bool marks_windowed(const struct fa_process *pr);
/* The dump was made by fathom record --pid: its first mark is the START
 * labelled "attach" (preload/late.c). */
bool marks_attached(const struct fa_process *pr);

/* The windows pr recorded (ns since its start), in order: the first max
 * into w; returns how many there are (a dump without marks: one, the whole
 * run). */
struct marks_window {
	uint64_t from_ns, to_ns;
};
size_t marks_windows(const struct fa_process *pr, struct marks_window *w, size_t max);

/* "recorded 1.00 s to 3.00 s of a 5.20 s run (paused 3.20 s)". Returns 0 or
 * -ENOMEM. */
int marks_window_text(const struct fa_process *pr, char *buf, size_t cap);

/* The first mark of kind what (FD_WIN_SNAPSHOT: with number id; FA_MARK_AT:
 * any) over every process, its process in *proc; NULL when none. */
const struct fa_mark *marks_find(const struct profile *p, int what, uint64_t id, uint32_t *proc);

#endif
