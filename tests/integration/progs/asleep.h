/* A test program's own clock, and its wait until one of its threads sleeps
 * in the kernel (its state in /proc: S or D), so that a helper starts the time it makes a
 * waiter wait only once the waiter waits: on a loaded machine a thread
 * may start its wait long after it was created. Polls every 0.2 ms, in
 * the raw system call: the agent times the C library's nanosleep, and the
 * polls are no wait of the program's (test-wait-e2e sums a thread's
 * sleeps); a poll without a sleep would take a CPU from the thread it
 * waits for. */
#ifndef PROGS_ASLEEP_H
#define PROGS_ASLEEP_H

#define _GNU_SOURCE
#include <sys/syscall.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* The monotonic clock in ns: the program's own measure of its waits. */
static inline long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* Waits (at most 3 s) until thread tid of process pid sleeps. */
static inline void task_asleep(pid_t pid, pid_t tid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
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
		struct timespec nap = {0, 200000};
		syscall(SYS_nanosleep, &nap, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < 3);
}

/* Waits until thread tid of this process sleeps. */
static inline void thread_asleep(pid_t tid)
{
	task_asleep(getpid(), tid);
}

#endif
