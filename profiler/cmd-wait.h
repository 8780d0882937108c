/* What fathom wait's gathering (cmd-wait.c) and printing (cmd-wait-out.c)
 * share. */
#ifndef FATHOM_CMD_WAIT_H
#define FATHOM_CMD_WAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggregate.h"
#include "profile.h"
#include "wait.h"

struct waitcmd {
	const struct profile *p;
	int top, width;
	bool json, full_names;
	int tid;
	bool has_tid;
	struct agg_table sites; /* AGG_FRAME rows of FA_WAIT self: the calls that waited */
};

/* "func (file.c:12)" (module when no file) into buf. */
const char *waitcmd_where(const struct waitcmd *w, const struct fa_frame *fr, char *buf, size_t len);
/* Two standard deviations of an estimate of variance var. */
double waitcmd_sigma2(double var);
/* a[0..n) of the selected threads grouped by site, heaviest first, into a
 * new *out (*nout of them). Returns 0 or -ENOMEM. */
int waitcmd_sites(const struct waitcmd *w, const struct wait_party *a, size_t n, struct wait_site_sum **out,
		  size_t *nout);
void waitcmd_object_figures(const struct waitcmd *w, const struct wait_object *o, int64_t *ns,
			    uint32_t *threads);
/* How long thread t was seen (first to last record), ns; 0 unknown. */
int64_t waitcmd_life(const struct profile *p, uint32_t t);
/* Thread t's timeline in ncols characters (# running, ~ waiting, . neither,
 * blank not seen) into out (ncols + 1 bytes). */
void waitcmd_timeline_text(const struct waitcmd *w, uint32_t t, char *out, size_t ncols);
/* The threads to show into order (p->nthreads entries), most waiting first. */
size_t waitcmd_threads(const struct waitcmd *w, uint32_t *order);
void waitcmd_groups(const struct waitcmd *w, int64_t *by, double *var, int64_t *total);

int waitcmd_text(const struct waitcmd *w);
int waitcmd_json(const struct waitcmd *w);

#endif
