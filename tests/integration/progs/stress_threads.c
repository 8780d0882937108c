/* Stress program: many threads (64 by default) that compute and allocate at
 * the same time, started together, so the agent sees thread creation, per-thread
 * timers and allocation rings under contention. Its output is deterministic. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_barrier_t start;
static long iterations = 20000;

struct job {
	int id;
	uint64_t result;
};

static __attribute__((noinline)) uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 29;
	return x;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	uint64_t h = (uint64_t)j->id;
	char *keep[16] = {0};

	pthread_barrier_wait(&start);
	for (long i = 0; i < iterations; i++) {
		/* A few live blocks per thread, replaced in turn: frees and
		 * allocations interleave across all threads. */
		size_t slot = (size_t)i % 16;
		free(keep[slot]);
		size_t n = 16 + (size_t)(mix(h + (uint64_t)i) % 512);
		keep[slot] = malloc(n);
		if (!keep[slot])
			abort();
		memset(keep[slot], (int)(i & 0xff), n);
		for (int k = 0; k < 100; k++)
			h = mix(h + (uint64_t)keep[slot][n / 2] + (uint64_t)k);
	}
	for (int s = 0; s < 16; s++)
		free(keep[s]);
	j->result = h;
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 64;
	if (argc > 2)
		iterations = atol(argv[2]);
	if (n < 1 || n > 1024 || iterations < 1) {
		fprintf(stderr, "usage: stress_threads [NTHREADS [ITERATIONS]]\n");
		return 2;
	}
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	struct job *jobs = calloc((size_t)n, sizeof(*jobs));
	if (!t || !jobs)
		return 1;
	pthread_barrier_init(&start, NULL, (unsigned)n);
	for (int i = 0; i < n; i++) {
		jobs[i].id = i;
		if (pthread_create(&t[i], NULL, worker, &jobs[i]) != 0) {
			fprintf(stderr, "stress_threads: pthread_create failed\n");
			return 1;
		}
	}
	uint64_t sum = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		sum ^= jobs[i].result;
	}
	printf("threads %d iterations %ld checksum %016llx\n", n, iterations, (unsigned long long)sum);
	fprintf(stderr, "stress_threads: done\n");
	free(t);
	free(jobs);
	return 0;
}
