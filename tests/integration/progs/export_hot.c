/* Test program for the flame graph and export tests: export_hot_a and
 * export_hot_b burn the CPU milliseconds given on the command line in the main
 * thread, export_hot_c in a thread named "export-worker"; export_leak leaks
 * 100 blocks of 1000 bytes and export_churn allocates and frees 2000 of 64.
 * usage: export_hot [MS_A MS_B MS_C] (default 600 300 100) */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile uint64_t sink;
/* Global, so that the compiler cannot drop the allocations. */
void *export_leaks[100];

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Each function spins in its own loop, so that the time is its own (self); the
 * thread CPU clock (a system call, slow on some VMs) is read every 200,000 steps. */
#define BURN(ms)                                                                                             \
	do {                                                                                                 \
		double end = cpu_ms() + (ms);                                                                \
		uint64_t x = sink;                                                                           \
		while (cpu_ms() < end)                                                                       \
			for (int i = 0; i < 200000; i++)                                                     \
				x = x * 6364136223846793005ull + 1442695040888963407ull;                     \
		sink = x;                                                                                    \
	} while (0)

__attribute__((noinline)) void export_hot_a(double ms)
{
	BURN(ms);
}

__attribute__((noinline)) void export_hot_b(double ms)
{
	BURN(ms);
}

__attribute__((noinline)) void export_hot_c(double ms)
{
	BURN(ms);
}

__attribute__((noinline)) void export_leak(void)
{
	for (int i = 0; i < 100; i++)
		export_leaks[i] = malloc(1000);
}

__attribute__((noinline)) void export_churn(void)
{
	for (int i = 0; i < 2000; i++) {
		char *p = malloc(64);
		p[0] = (char)i;
		sink += (uint64_t)p[0];
		free(p);
	}
}

static void *worker(void *arg)
{
	pthread_setname_np(pthread_self(), "export-worker");
	export_hot_c(*(double *)arg);
	return NULL;
}

int main(int argc, char **argv)
{
	double a = argc > 1 ? atof(argv[1]) : 600, b = argc > 2 ? atof(argv[2]) : 300,
	       c = argc > 3 ? atof(argv[3]) : 100;
	export_leak();
	export_churn();
	pthread_t t;
	if (pthread_create(&t, NULL, worker, &c))
		return 1;
	export_hot_a(a);
	export_hot_b(b);
	pthread_join(t, NULL);
	printf("export_hot: done\n");
	return 0;
}
