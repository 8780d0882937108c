/* Test program for fathom lines --tid: the main thread and one worker each
 * burn CPU in their own function, about as long; prints the worker's thread
 * id ("worker_tid N") so that the test can ask for its lines only.
 *   lines_threads [ITERATIONS] */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static long iterations = 200000000;

static __attribute__((noinline)) double lt_main_work(void)
{
	volatile double x = 1;
	for (long i = 0; i < iterations; i++)
		x = x * 1.0000001 + 0.5;
	return x;
}

static __attribute__((noinline)) double lt_worker_work(void)
{
	volatile double x = 2;
	for (long i = 0; i < iterations; i++)
		x = x * 0.9999999 + 0.25;
	return x;
}

static void *worker(void *arg)
{
	printf("worker_tid %ld\n", (long)syscall(SYS_gettid));
	fflush(stdout);
	*(double *)arg = lt_worker_work();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		iterations = atol(argv[1]);
	double w = 0;
	pthread_t t;
	if (pthread_create(&t, NULL, worker, &w))
		return 1;
	double m = lt_main_work();
	pthread_join(t, NULL);
	return m + w > 0 ? 0 : 1;
}
