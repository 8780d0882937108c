/* The waiting profile's cost, for bench-wait.sh: "uncontended N" makes N
 * lock/unlock pairs of one mutex on one thread; "contended N" makes N
 * pairs in all on 4 threads sharing one mutex, with a little work inside
 * (the uncontended loop runs beside an idle thread).
 * Prints "wall S cpu S" of the loop alone (the process's CPU clock). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long shared;
static long pairs;

static double clk(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;

static void *wait_gate(void *arg)
{
	pthread_mutex_lock(&gate);
	pthread_mutex_unlock(&gate);
	return arg;
}

static void *hammer(void *arg)
{
	long n = (long)arg;
	for (long i = 0; i < n; i++) {
		pthread_mutex_lock(&m);
		for (int k = 0; k < 20; k++)
			shared = shared * 31 + (unsigned long)k;
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	pairs = atol(argv[2]);
	double w0 = clk(CLOCK_MONOTONIC), c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
	if (!strcmp(argv[1], "uncontended")) {
		/* A second thread, idle: glibc locks a single-threaded
		 * process's mutexes without atomic instructions, and the
		 * agent's writer thread would make the difference alone. */
		pthread_t idle;
		pthread_mutex_lock(&gate);
		pthread_create(&idle, NULL, wait_gate, NULL);
		for (long i = 0; i < pairs; i++) {
			pthread_mutex_lock(&m);
			shared++;
			pthread_mutex_unlock(&m);
		}
		pthread_mutex_unlock(&gate);
		pthread_join(idle, NULL);
	} else {
		pthread_t th[4];
		for (int t = 0; t < 4; t++)
			pthread_create(&th[t], NULL, hammer, (void *)(pairs / 4));
		for (int t = 0; t < 4; t++)
			pthread_join(th[t], NULL);
	}
	printf("wall %.4f cpu %.4f\n", clk(CLOCK_MONOTONIC) - w0, clk(CLOCK_PROCESS_CPUTIME_ID) - c0);
	return 0;
}
