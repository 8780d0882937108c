/* 64 threads hammering 8 mutexes (normal, recursive, error-checking,
 * adaptive, PI, robust, and two normal ones taken through timedlock and
 * trylock), for test-wait-agent-stress: each thread does ITERS updates of
 * the counters the mutexes guard. The counts and the sum are the same on
 * every run: the test compares them with and without the agent. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define THREADS 64
#define LOCKS 8

static pthread_mutex_t locks[LOCKS];
static uint64_t count[LOCKS], sum[LOCKS];
static long iters = 20000;

static void lock(int i)
{
	if (i == 6) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 60;
		if (pthread_mutex_timedlock(&locks[i], &ts) != 0)
			abort();
	} else if (i == 7) {
		while (pthread_mutex_trylock(&locks[i]) != 0)
			sched_yield();
	} else if (pthread_mutex_lock(&locks[i]) != 0) {
		abort();
	}
}

static void *worker(void *arg)
{
	uint64_t x = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
	for (long k = 0; k < iters; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int i = (int)(x % LOCKS);
		lock(i);
		if (i == 1) /* recursive: once more inside */
			lock(i);
		count[i]++;
		sum[i] += x >> 40;
		if (i == 1)
			pthread_mutex_unlock(&locks[i]);
		if (pthread_mutex_unlock(&locks[i]) != 0)
			abort();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		iters = atol(argv[1]);
	int types[LOCKS] = {PTHREAD_MUTEX_NORMAL,      PTHREAD_MUTEX_RECURSIVE, PTHREAD_MUTEX_ERRORCHECK,
			    PTHREAD_MUTEX_ADAPTIVE_NP, PTHREAD_MUTEX_NORMAL,	PTHREAD_MUTEX_NORMAL,
			    PTHREAD_MUTEX_NORMAL,      PTHREAD_MUTEX_NORMAL};
	for (int i = 0; i < LOCKS; i++) {
		pthread_mutexattr_t a;
		pthread_mutexattr_init(&a);
		pthread_mutexattr_settype(&a, types[i]);
		if (i == 4)
			pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
		if (i == 5)
			pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
		pthread_mutex_init(&locks[i], &a);
		pthread_mutexattr_destroy(&a);
	}
	pthread_t th[THREADS];
	for (long t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)t);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	uint64_t total = 0, check = 0;
	for (int i = 0; i < LOCKS; i++) {
		printf("lock %d: %llu updates\n", i, (unsigned long long)count[i]);
		total += count[i];
		check = check * 1000003 + sum[i];
	}
	printf("total %llu, checksum %016llx\n", (unsigned long long)total, (unsigned long long)check);
	return 0;
}
