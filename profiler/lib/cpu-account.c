/* The CPU account of a profile (cpu-account.h): what every report says
 * about how complete its CPU figures are. */
#include "cpu-account.h"

#include "fathom-dump.h"

#include <errno.h>
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
		if (missed < floor || missed < th->measured_ns / 10)
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

void cpu_account_free(struct cpu_account *a)
{
	free(a->unsampled);
	a->unsampled = NULL;
	a->nunsampled = 0;
}
