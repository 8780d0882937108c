/* How complete a profile's CPU figures are: the CPU time its samples hold
 * against the CPU time its threads measured on their own CPU clocks (format
 * 1.2), and the threads whose CPU was measured but not sampled. */
#ifndef FATHOM_CPU_ACCOUNT_H
#define FATHOM_CPU_ACCOUNT_H

#include "profile.h"

/* A thread that sampling could not reach: its timer's samples hold less
 * than a tenth of its measured CPU time, and miss at least
 * CPU_UNSAMPLED_MIN_NS and two sampling periods. (A thread that runs in
 * short bursts can end with several periods its timer did not report yet:
 * the kernel checks CPU timers at its ticks. That is charged at its end
 * like the rest, but it is not a thread sampling could not reach.) */
#define CPU_UNSAMPLED_MIN_NS 20000000ull
struct cpu_unsampled {
	uint32_t thread;      /* index into p->threads */
	uint64_t measured_ns; /* its measured CPU time */
	uint64_t missed_ns;   /* of which no timer sample covers */
	uint64_t charged_ns;  /* CPU time charged at its end (in the profile) */
};

struct cpu_account {
	/* Processes sampled on the CPU clock whose dumps carry measured CPU
	 * times (format 1.2): only these are compared. */
	size_t procs;
	/* Processes sampled on the wall clock: their samples are time, not
	 * CPU time, and are not compared. */
	size_t wall_procs;
	uint64_t measured_ns; /* the threads' measured CPU time */
	uint64_t threads;     /* threads measured */
	uint64_t profile_ns;  /* CPU time the profile holds for those threads ... */
	uint64_t sampled_ns;  /* ... of it, the timer's samples ... */
	uint64_t charged_ns;  /* ... and the time charged at thread ends */
	/* From the trailers, when every compared process has one: the
	 * process's CPU time since the agent started, the agent's writer
	 * thread's (left out of both sides), and what no thread's measure
	 * holds (CPU used after a thread's end was recorded, in the kernel's
	 * thread exit, and threads that ended unseen). */
	bool has_process;
	uint64_t process_ns, agent_ns, outside_ns;
	double ratio;			 /* profile_ns / measured_ns */
	bool warn;			 /* they differ by more than 5% */
	struct cpu_unsampled *unsampled; /* most missed first */
	size_t nunsampled;
	uint64_t unsampled_ns; /* missed_ns summed over them */
};

/* Writes the i-th note of the account into buf (the warning when the
 * profile and the measure differ by more than 5%, then "not sampled: ..."
 * for the ten threads that missed most, and one line for the rest), and
 * returns true; false when there is no i-th note. */
bool cpu_account_note(const struct profile *p, const struct cpu_account *a, size_t i, char *buf, size_t len);

/* Fills a from p. Returns 0 or -ENOMEM; cpu_account_free() releases it. */
int cpu_account(const struct profile *p, struct cpu_account *a);
void cpu_account_free(struct cpu_account *a);

#endif
