/* Stress program: the process ends from a thread other than main.
 *   stress_thread_exit exit          a worker calls exit(7) while main is blocked
 *   stress_thread_exit pthread_exit  main calls pthread_exit; the last worker to
 *                                    finish ends the process (status 0)
 * Both while other threads are still computing and allocating. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_barrier_t go;
static uint64_t results[3];
static int finished;

static __attribute__((noinline)) uint64_t churn(long n)
{
	uint64_t h = 5;
	for (long i = 0; i < n; i++) {
		h = h * 1099511628211ULL ^ (uint64_t)i;
		if (i % 16)
			continue; /* an allocation every 16th round */
		char *p = malloc(24 + (size_t)(i % 200));
		if (!p)
			abort();
		p[0] = (char)i;
		h ^= (uint64_t)p[0];
		free(p);
	}
	return h;
}

static void *busy(void *arg)
{
	long n = (long)(intptr_t)arg;
	pthread_barrier_wait(&go);
	uint64_t h = churn(n);
	/* The last worker to finish prints everyone's result in a fixed order,
	 * so the output does not depend on scheduling. */
	results[n % 3] = h;
	if (__atomic_add_fetch(&finished, 1, __ATOMIC_ACQ_REL) == 3)
		for (int i = 0; i < 3; i++)
			printf("worker %d %016llx\n", i, (unsigned long long)results[i]);
	return NULL;
}

static void *exiter(void *arg)
{
	pthread_barrier_wait(&go);
	churn(1600000);
	printf("exiting from a worker thread\n");
	exit(7);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "exit";
	pthread_t t[4];
	pthread_barrier_init(&go, NULL, 4);
	if (strcmp(mode, "exit") == 0) {
		/* Busy threads run far longer than the exiter, so exit(7) happens
		 * while they are allocating; they never print. */
		pthread_create(&t[0], NULL, busy, (void *)(intptr_t)100000000);
		pthread_create(&t[1], NULL, busy, (void *)(intptr_t)100000000);
		pthread_create(&t[2], NULL, exiter, NULL);
		pthread_barrier_wait(&go);
		for (;;)
			pause();
	} else if (strcmp(mode, "pthread_exit") == 0) {
		for (int i = 0; i < 3; i++)
			pthread_create(&t[i], NULL, busy, (void *)(intptr_t)(30000000 * (i + 1) + i));
		pthread_barrier_wait(&go);
		printf("main thread leaves\n");
		fflush(stdout);
		pthread_exit(NULL);
	}
	fprintf(stderr, "usage: stress_thread_exit exit|pthread_exit\n");
	return 2;
}
