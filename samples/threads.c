/* Sample "threads": counting primes below a bound on one thread (slow) against
 * splitting the range over worker threads (fast). Practice: CPU-bound work that
 * splits into independent pieces should use every core; interleaved blocks keep
 * the threads evenly loaded although the cost per number grows. The profile's
 * per-thread view shows one thread doing everything, or the work shared. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sample.h"

#define BLOCK 4096

static int is_prime(uint64_t n)
{
	if (n < 2)
		return 0;
	if (n % 2 == 0)
		return n == 2;
	for (uint64_t d = 3; d * d <= n; d += 2)
		if (n % d == 0)
			return 0;
	return 1;
}

/* Blocks first, first + stride, first + 2*stride, ... of [0, limit). */
__attribute__((noinline)) static uint64_t count_primes_blocks(uint64_t limit, uint64_t first, uint64_t stride)
{
	uint64_t count = 0;
	for (uint64_t b = first; b * BLOCK < limit; b += stride) {
		uint64_t end = (b + 1) * BLOCK < limit ? (b + 1) * BLOCK : limit;
		for (uint64_t n = b * BLOCK; n < end; n++)
			count += (uint64_t)is_prime(n);
	}
	return count;
}

struct worker {
	pthread_t thread;
	uint64_t limit, first, stride, count;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	char name[16];
	snprintf(name, sizeof name, "worker-%llu", (unsigned long long)w->first);
	pthread_setname_np(pthread_self(), name);
	w->count = count_primes_blocks(w->limit, w->first, w->stride);
	return NULL;
}

int main(int argc, char **argv)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int fast = sample_way(argc, argv, "[LIMIT [THREADS]]  (defaults 4000000, one thread per CPU)");
	uint64_t limit = (uint64_t)sample_arg(argc, argv, 2, 4000000, 1L << 40);
	long nthreads = sample_arg(argc, argv, 3, ncpu > 0 ? ncpu : 1, 1024);

	uint64_t count = 0;
	if (!fast) {
		count = count_primes_blocks(limit, 0, 1);
	} else {
		struct worker *w = calloc((size_t)nthreads, sizeof *w);
		if (!w) {
			perror("threads: calloc");
			return 1;
		}
		for (long i = 0; i < nthreads; i++) {
			w[i] = (struct worker){
			    .limit = limit, .first = (uint64_t)i, .stride = (uint64_t)nthreads};
			int err = pthread_create(&w[i].thread, NULL, worker_run, &w[i]);
			if (err) {
				fprintf(stderr, "threads: pthread_create: %s\n", strerror(err));
				return 1;
			}
		}
		for (long i = 0; i < nthreads; i++) {
			pthread_join(w[i].thread, NULL);
			count += w[i].count;
		}
		free(w);
	}
	printf("threads: %llu primes below %llu\n", (unsigned long long)count, (unsigned long long)limit);
	return 0;
}
