/* A test program's wait until one of its threads sleeps in the kernel (its
 * state in /proc: S or D), so that a helper starts the time it makes a
 * waiter wait only once the waiter waits: on a loaded machine a thread
 * may start its wait long after it was created. Spins with sched_yield,
 * which no profile counts as a wait. */
#ifndef PROGS_ASLEEP_H
#define PROGS_ASLEEP_H

#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Waits (at most 3 s) until thread tid of this process sleeps. */
static inline void thread_asleep(pid_t tid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		if (f)
			fclose(f);
		buf[n] = 0;
		const char *paren = strrchr(buf, ')');
		if (!paren || paren[1] != ' ' || paren[2] == 'S' || paren[2] == 'D')
			return;
		sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < 3);
}

#endif
