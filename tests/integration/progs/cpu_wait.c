/* One thread's CPU work, for the report's warning about waiting for a CPU:
 * "spin MS" burns MS ms of its CPU clock in cw_spin; "nap ROUNDS" burns
 * 1 ms in cw_spin then sleeps 4 ms, ROUNDS times (a thread that rarely has
 * to wait for a CPU even on a busy machine: a waking sleeper is placed
 * early). At its end it prints the scheduler's account of its main thread
 * (/proc/thread-self/schedstat): ns on a CPU, ns runnable but waiting for
 * one, and the share of its runnable time it waited, in percent; "waited=?"
 * when the kernel has no schedstat. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static __attribute__((noinline)) uint64_t cw_spin(uint64_t ns)
{
	volatile uint64_t x = ns;
	uint64_t end = thread_cpu() + ns;
	while (thread_cpu() < end)
		for (int i = 0; i < 1000; i++)
			x = x * 6364136223846793005u + 1442695040888963407u;
	return x;
}

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[1], "spin") && strcmp(argv[1], "nap"))) {
		fprintf(stderr, "usage: cpu_wait spin MS | nap ROUNDS\n");
		return 2;
	}
	long n = atol(argv[2]);
	uint64_t sum = 0;
	if (!strcmp(argv[1], "spin")) {
		sum = cw_spin((uint64_t)n * 1000000u);
	} else {
		for (long i = 0; i < n; i++) {
			sum += cw_spin(1000000u);
			nanosleep(&(struct timespec){0, 4000000}, NULL);
		}
	}
	unsigned long long run = 0, wait = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");
	if (f && fscanf(f, "%llu %llu", &run, &wait) == 2 && run + wait)
		printf("run_ns=%llu wait_ns=%llu waited=%.1f\n", run, wait,
		       100.0 * (double)wait / (double)(run + wait));
	else
		printf("waited=?\n");
	if (f)
		fclose(f);
	printf("done %llu\n", (unsigned long long)(sum & 1));
	return 0;
}
