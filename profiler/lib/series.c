/* Rotated recordings: the files of one series found by their first records
 * (HEADER, and the WINDOW ROTATE that opens every file after the first),
 * and read in their order (series.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fathom-dump.h"
#include "reader.h"
#include "series.h"

/* The records before a file's events: its HEADER, NOTEs, a LOST that says
 * CPU sampling is unavailable, and the WINDOW marks of its start. */
#define PEEK_MAX 16

static void peek(const char *path, struct series_file *f)
{
	struct reader *rd;
	char *err = NULL;
	memset(f, 0, sizeof(*f));
	f->number = 1;
	if (reader_open(&rd, path, &err) < 0) {
		free(err);
		return;
	}
	struct rd_rec r;
	for (int i = 0; i < PEEK_MAX && reader_next(rd, &r) > 0; i++) {
		if (r.kind == FD_REC_HEADER && !f->known) {
			f->known = 1;
			f->pid = r.pid;
			f->generation = (int)(r.generation > 1000000 ? 1000000 : r.generation);
			f->start_real_ns = r.start_real_ns;
		} else if (r.kind == FD_REC_WINDOW && r.what == FD_WIN_ROTATE) {
			if (r.id > 1 && r.id < UINT32_MAX)
				f->number = (uint32_t)r.id;
			break;
		} else if (r.kind != FD_REC_NOTE && r.kind != FD_REC_LOST && r.kind != FD_REC_WINDOW &&
			   r.kind != FD_REC_HEADER) {
			break;
		}
	}
	reader_close(rd);
}

int series_same(const struct series_file *a, const struct series_file *b)
{
	return a->known && b->known && a->pid == b->pid && a->generation == b->generation &&
	       a->start_real_ns == b->start_real_ns;
}

int series_order(char *const *paths, size_t n, struct series_file *info, size_t *order)
{
	char *placed = calloc(n ? n : 1, 1);
	if (!placed)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		peek(paths[i], &info[i]);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (placed[i])
			continue;
		/* The series of file i, where its first given file stands, by
		 * number (a selection sort: a series has few files given). */
		for (;;) {
			size_t best = n;
			for (size_t j = i; j < n; j++)
				if (!placed[j] && (j == i || series_same(&info[i], &info[j])) &&
				    (best == n || info[j].number < info[best].number))
					best = j;
			if (best == n)
				break;
			placed[best] = 1;
			order[k++] = best;
			if (!info[i].known)
				break;
		}
	}
	free(placed);
	return 0;
}
