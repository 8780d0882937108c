/* What a recording left, for fathom record's summary: the manifest in which
 * the agent lists the dumps it made and what it noticed, and a first count of
 * each dump (manifest.c). */
#ifndef FATHOM_MANIFEST_H
#define FATHOM_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The manifest: the dumps in the order the agent created them, the agent's
 * notes ("disk-full BYTES PATH": the disk filled and the dump lost its tail;
 * "closed PATH": the program closed the dump's descriptor), and the processes
 * it left alone: Go programs ("go PID EXE"), and those exec'd with an
 * environment that dropped LD_PRELOAD ("unprofiled PID PATH", taken back by
 * "unprofiled-undo PID" when the exec failed). */
struct manifest {
	char **dumps; /* an entry may be NULL when out of memory */
	size_t ndumps;
	int disk_full, closed;
	unsigned long long disk_lost;
	struct manifest_left {
		int pid;
		char *what; /* the first one's executable */
	} go, unprof;
	int ngo, nunprof;
};

/* Reads the manifest at path into m (zeroed by the caller) and removes the
 * file. With no dump listed (an agent without manifest support), the main
 * dump named by `pattern` (FATHOM_OUTPUT, %p the pid) for pid, if it exists. */
void manifest_read(struct manifest *m, const char *path, const char *pattern, pid_t pid);
void manifest_free(struct manifest *m);

/* The dumps' totals, as a recording's summary says them. */
struct dump_tally {
	uint64_t samples, lost, allocs, lost_allocs;
	bool cpu, alloc; /* some process sampled CPU, tracked allocations */
	int damaged;
	int cpu_procs, cpu_off; /* processes meant to sample CPU, and those that could not */
	uint64_t cpu_unsampled; /* threads whose timer could not be made */
	char cpu_why[200];	/* why, as the first such dump says */
	int running;		/* dumps without a trailer whose process is still running (a daemon) */
	char bypass[300];	/* the allocator that took the hooks' place, as a dump notes it */
	char bypass_exe[300];	/* in that process */
};

/* Adds a dump's samples, lost samples, allocation events and notes to t; the
 * trailer's totals win. A dump without a trailer whose process is still
 * running (a daemon's child, which outlived the recorded command) is still
 * being written, not damaged; when that process has just ended and `again`,
 * the dump is read once more, for the trailer it may have written meanwhile. */
void dump_tally_add(struct dump_tally *t, const char *path, bool again);

#endif
