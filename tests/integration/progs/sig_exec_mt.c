/* Test program: a multithreaded exec chain. `sig_exec_mt N` starts workers
 * that burn CPU and allocate, and a thread that keeps starting short-lived
 * threads, burns a little CPU itself, then execs itself with N-1 while all
 * of them run (so threads are being created at the moment of the exec);
 * with N = 0 it prints one line and exits 0. Under the agent, no image may
 * be killed by a sampling timer or signal left over from the one before. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t sink;

static __attribute__((noinline)) void spin(long n)
{
	uint64_t h = 1;
	for (long i = 0; i < n; i++) {
		h = h * 31 + (uint64_t)i;
		if (i % 4096 == 0) {
			void *p = malloc(16 + (size_t)(i % 200));
			h += (uint64_t)(p != NULL);
			free(p);
		}
	}
	sink += h;
}

static void *worker(void *arg)
{
	(void)arg;
	for (;;)
		spin(100000);
	return NULL;
}

static void *brief(void *arg)
{
	(void)arg;
	spin(20000);
	return NULL;
}

static void *spawner(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_t th;
		if (pthread_create(&th, NULL, brief, NULL) == 0)
			pthread_join(th, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2;
	if (n < 0 || n > 100) {
		fprintf(stderr, "usage: sig_exec_mt [N<=100]\n");
		return 2;
	}
	if (n == 0) {
		printf("end of chain\n");
		return 0;
	}
	pthread_t th;
	for (int i = 0; i < 3; i++)
		pthread_create(&th, NULL, worker, NULL);
	pthread_create(&th, NULL, spawner, NULL);
	spin(100000);
	char arg[16];
	snprintf(arg, sizeof(arg), "%d", n - 1);
	execl("/proc/self/exe", argv[0], arg, (char *)NULL);
	perror("execl");
	return 1;
}
