/* Where threads waited (format 1.4's WAIT and HOLD records, fathom record
 * --wait): per thread by reason, per lock or condition with its waiters and
 * its holders' release sites, and each thread's running and waiting over
 * the run. The stacks' FA_WAIT weights are the aggregation's (aggregate.h);
 * this is what a stack's weight cannot say.
 *
 * Every sum is of WAIT's weight_ns, an unbiased estimate of the waiting time:
 * a wait at or over the recording's threshold T is recorded with its own
 * length; a shorter wait w is recorded with probability w / T and weight T,
 * so its expected weight is w. The variance of a sum is estimated by
 * Horvitz-Thompson, the sum over the sampled records of T * (T - w): the
 * figures carry it so that outputs can say how far off they may be. */
#ifndef FATHOM_WAIT_H
#define FATHOM_WAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "reader.h"

/* What reports group reasons by: lock (mutex, rwlock, spin, futex),
 * condition (cond, sem, barrier), join, I/O by descriptor kind (read,
 * write, accept, connect, fsync), poll, sleep, child, other. */
enum wait_group {
	WAIT_G_LOCK,
	WAIT_G_CONDITION,
	WAIT_G_JOIN,
	WAIT_G_FILE,
	WAIT_G_SOCKET,
	WAIT_G_PIPE,
	WAIT_G_TTY,
	WAIT_G_IO_OTHER,
	WAIT_G_POLL,
	WAIT_G_SLEEP,
	WAIT_G_CHILD,
	WAIT_G_OTHER,
	WAIT_NGROUPS
};

/* "lock", "condition", "join", "file", "socket", "pipe", "tty", "io",
 * "poll", "sleep", "child", "other": JSON keys and text labels. */
extern const char *const wait_group_names[WAIT_NGROUPS];
/* The group of a WAIT's reason (FD_WAIT_*) and descriptor kind (FD_FDK_*). */
enum wait_group wait_group_of(uint64_t reason, uint64_t fd_kind);
/* "mutex", "rwlock", ... "other" for a FD_WAIT_* ("reason N" past the known). */
const char *wait_reason_name(uint64_t reason);

/* A thread's waiting and running over time: buckets of width_ns from its
 * process's start, widened (pairs merged) as the run grows. */
#define WAIT_TL_BUCKETS 240
struct wait_timeline {
	uint64_t width_ns;
	double run[WAIT_TL_BUCKETS];  /* CPU time sampled in the bucket, ns */
	double wait[WAIT_TL_BUCKETS]; /* waiting time, ns (a long wait spread over its buckets) */
	uint64_t first_ns, last_ns;   /* the thread was seen (a sample, a wait) between these */
};

/* Per thread of the profile (same index as p->threads). */
struct wait_thread {
	int64_t by_group[WAIT_NGROUPS]; /* weight_ns */
	int64_t total;
	double var;	     /* the estimate's variance, ns^2 */
	uint64_t events;     /* WAIT records */
	uint64_t longest_ns; /* the longest single wait recorded */
	uint32_t longest_stack;
	struct wait_timeline *tl; /* NULL: never seen in a process that recorded waits */
};

/* A waiter's or a holder's stack on one object, on one thread. */
struct wait_party {
	uint32_t stack, thread;
	int64_t weight;	 /* waiters: waiting time (ns); holders: contended releases */
	int64_t held_ns; /* holders: held time of the releases that said it (weighted) */
	uint64_t records;
};

/* A lock, condition, semaphore or barrier that threads waited on, or a
 * mutex whose holders released it with waiters queued (HOLD). */
struct wait_object {
	uint32_t proc;
	uint64_t addr;
	uint32_t reasons; /* bit (1 << FD_WAIT_*) of every reason it was waited for */
	enum wait_group group;
	int64_t wait_ns; /* weight */
	double var;
	uint64_t events;
	uint32_t nthreads;	    /* distinct waiting threads */
	struct wait_party *waiters; /* heaviest first */
	size_t nwaiters;
	struct wait_party *holders; /* most releases first */
	size_t nholders;
	int64_t releases; /* contended releases (HOLD weights) */
	int64_t held_ns;  /* of those with a held time */
	int64_t held_releases;
};

struct wait_raw; /* the records kept while loading (wait.c) */

struct fa_waits {
	struct wait_thread *threads; /* nthreads entries (the profile's, at load's end) */
	size_t nthreads;
	struct wait_object *objects; /* most waited first */
	size_t nobjects;
	int64_t by_group[WAIT_NGROUPS];
	int64_t total;
	double var;
	uint64_t events, holds;
	uint64_t sampled;     /* records of waits shorter than the threshold */
	uint64_t bad;	      /* records dropped as impossible (damage) */
	struct wait_raw *raw; /* loading only */
};

/* ---- loading (model.c) ---- */

/* No wait or run lasts 400 days: a record saying so is damage, left out
 * (it would wreck every sum). */
#define WAIT_MAX_NS (400ull * 24 * 3600 * 1000000000ull)

/* A WAIT or HOLD record r of process proc, on thread `thread`, at global
 * stack `stack`: into p->waits (made on first use). Returns 0 or -ENOMEM. */
int wait_record(struct profile *p, uint32_t proc, uint32_t thread, uint32_t stack, const struct rd_rec *r);
/* A CPU sample of ns at time on thread `thread` of a process that records
 * waits: the running part of its timeline. */
int wait_sample(struct profile *p, uint32_t thread, uint64_t time, uint64_t ns);
/* After every file: objects grouped, parties merged and sorted. */
int wait_finish(struct profile *p);
void wait_free(struct fa_waits *w);

/* ---- reading ---- */

/* Whether any process of p was recorded with --wait (or holds waits). */
bool wait_recorded(const struct profile *p);

/* The timeline of thread t in ncols columns over its process's run: per
 * column the fraction of it the thread ran (sampled CPU), waited, and was
 * alive (seen between its first and last record), each 0 to 1. Returns
 * false when the thread has no timeline. */
bool wait_timeline_columns(const struct profile *p, uint32_t t, size_t ncols, double *run, double *wait,
			   double *alive);

/* Waiters or holders of one object grouped by their site (wait_site). */
struct wait_site_sum {
	struct fa_frame fr; /* func FA_NONE: no known frame */
	int64_t weight, held_ns;
	uint64_t records;
};
/* a[0..n) grouped by site, heaviest first, into a new *out (*nout of them):
 * only the parties of threads with id tid when tid is not 0. Returns 0 or
 * -ENOMEM. */
int wait_sites_of(const struct profile *p, const struct wait_party *a, size_t n, int tid,
		  struct wait_site_sum **out, size_t *nout);

/* The frame of stack s where its waiting time belongs (the aggregation's
 * self frame for FA_WAIT: the program's call past the C library), into
 * *out; false when the stack has no frame. */
bool wait_site(const struct profile *p, uint32_t s, struct fa_frame *out);

#endif
