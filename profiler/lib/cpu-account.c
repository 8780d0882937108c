/* The CPU account of a profile (cpu-account.h): what every report says
 * about how complete its CPU figures are. */
#include "cpu-account.h"

#include "fathom-dump.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_missed(const void *a, const void *b)
{
	const struct cpu_unsampled *x = a, *y = b;
	if (x->missed_ns != y->missed_ns)
		return x->missed_ns < y->missed_ns ? 1 : -1;
	return x->thread < y->thread ? -1 : x->thread > y->thread;
}

int cpu_account(const struct profile *p, struct cpu_account *a)
{
	memset(a, 0, sizeof(*a));
	bool *use = calloc(p->nprocs ? p->nprocs : 1, sizeof(*use));
	if (!use)
		return -ENOMEM;
	bool all_trailers = true;
	for (size_t i = 0; i < p->nprocs; i++) {
		const struct fa_process *pr = &p->procs[i];
		if (!pr->hz)
			continue;
		if (pr->clock == FD_CLOCK_WALL) {
			a->wall_procs++;
			continue;
		}
		if (!pr->cpu_threads)
			continue;
		use[i] = true;
		a->procs++;
		a->measured_ns += pr->cpu_measured_ns;
		a->threads += pr->cpu_threads;
		if (pr->has_process_cpu) {
			a->process_ns += pr->cpu_process_ns - pr->cpu_agent_ns;
			a->agent_ns += pr->cpu_agent_ns;
		} else {
			all_trailers = false;
		}
	}
	for (size_t i = 0; i < p->nthreads; i++) {
		const struct fa_thread *th = &p->threads[i];
		if (!use[th->proc] || !th->measured)
			continue;
		uint64_t period = 1000000000u / p->procs[th->proc].hz;
		uint64_t sampled = th->timer_ns;
		a->sampled_ns += sampled;
		a->charged_ns += th->end_ns;
		uint64_t missed = th->measured_ns > sampled ? th->measured_ns - sampled : 0;
		uint64_t floor = 2 * period > CPU_UNSAMPLED_MIN_NS ? 2 * period : CPU_UNSAMPLED_MIN_NS;
		if (missed < floor || sampled > th->measured_ns / 10)
			continue;
		if (!(a->nunsampled & (a->nunsampled + 1))) {
			size_t cap = (a->nunsampled + 1) * 2;
			struct cpu_unsampled *n = realloc(a->unsampled, cap * sizeof(*n));
			if (!n) {
				free(use);
				cpu_account_free(a);
				return -ENOMEM;
			}
			a->unsampled = n;
		}
		a->unsampled[a->nunsampled++] =
		    (struct cpu_unsampled){(uint32_t)i, th->measured_ns, missed, th->end_ns};
		a->unsampled_ns += missed;
	}
	free(use);
	if (a->nunsampled)
		qsort(a->unsampled, a->nunsampled, sizeof(*a->unsampled), by_missed);
	a->profile_ns = a->sampled_ns + a->charged_ns;
	if (a->procs && all_trailers) {
		a->has_process = true;
		a->outside_ns = a->process_ns > a->measured_ns ? a->process_ns - a->measured_ns : 0;
	}
	if (a->measured_ns) {
		a->ratio = (double)a->profile_ns / (double)a->measured_ns;
		a->warn = a->ratio < 0.95 || a->ratio > 1.05;
	}
	return 0;
}

#define NOTE_THREADS 10

bool cpu_account_note(const struct profile *p, const struct cpu_account *a, size_t i, char *buf, size_t len)
{
	char b1[32], b2[32], pid[32] = "";
	if (a->warn && i-- == 0) {
		snprintf(buf, len,
			 "warning: the profile holds %.1f%% of the CPU time its threads measured (%s of %s); "
			 "its shares may be wrong",
			 a->ratio * 100, fmt_duration(b1, a->profile_ns), fmt_duration(b2, a->measured_ns));
		return true;
	}
	if (i < a->nunsampled && i < NOTE_THREADS) {
		const struct cpu_unsampled *u = &a->unsampled[i];
		const struct fa_thread *th = &p->threads[u->thread];
		if (p->nprocs > 1)
			snprintf(pid, sizeof(pid), " of pid %d", p->procs[th->proc].pid);
		snprintf(buf, len, "not sampled: %s in thread %s (%d)%s, %s", fmt_duration(b1, u->missed_ns),
			 th->name && *th->name ? th->name : "?", th->tid, pid,
			 u->charged_ns * 2 >= u->missed_ns
			     ? "charged at its end to its last sampled stack or start routine"
			     : "not in the profile");
		return true;
	}
	if (i == NOTE_THREADS && a->nunsampled > NOTE_THREADS) {
		uint64_t rest = a->unsampled_ns;
		for (size_t k = 0; k < NOTE_THREADS; k++)
			rest -= a->unsampled[k].missed_ns;
		snprintf(buf, len, "not sampled: %s in %zu more threads (--json lists them all)",
			 fmt_duration(b1, rest), a->nunsampled - NOTE_THREADS);
		return true;
	}
	return false;
}

void cpu_account_free(struct cpu_account *a)
{
	free(a->unsampled);
	a->unsampled = NULL;
	a->nunsampled = 0;
}
