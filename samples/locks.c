/* Sample "locks": worker threads counting hashed items into one histogram
 * guarded by one global mutex (slow), against each thread counting into its
 * own shard and merging once at the end (fast). Practice: do not share what you
 * can partition; the threads then stop waiting for each other. CPU sampling
 * sees only the CPU the lock burns, not the time a thread sleeps waiting for
 * it; wall-clock sampling (fathom record --clock wall) shows that time, in
 * pthread_mutex_lock (__lll_lock_wait) and pthread_mutex_unlock (waking the
 * sleepers). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sample.h"

#define BUCKETS 1024

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
#define SLICES 8

/* One histogram per byte of the hash: a small picture of how evenly it spreads. */
static uint64_t global_hist[SLICES][BUCKETS];

struct worker {
	pthread_t thread;
	int index;
	long items;
	int fast;
	uint64_t hist[SLICES][BUCKETS]; /* this thread's shard (fast way) */
};

/* A little work per item, so the lock is not the only thing the threads do. */
static uint64_t item_hash(uint64_t x)
{
	for (int i = 0; i < 8; i++)
		x = (x ^ (x >> 29)) * 0xbf58476d1ce4e5b9ULL + (uint64_t)i;
	return x;
}

static void hist_add(uint64_t hist[SLICES][BUCKETS], uint64_t h)
{
	for (int s = 0; s < SLICES; s++)
		hist[s][(h >> (8 * s)) % BUCKETS]++;
}

/* The easy way: the whole update of the shared histograms under the one lock.
 * Only one thread can make progress at a time, and the others sleep in the
 * kernel (futex) until the lock is handed to them. */
__attribute__((noinline)) static void count_items_global_lock(struct worker *w)
{
	uint64_t base = (uint64_t)w->index << 40;
	for (long i = 0; i < w->items; i++) {
		pthread_mutex_lock(&global_lock);
		hist_add(global_hist, item_hash(base + (uint64_t)i));
		pthread_mutex_unlock(&global_lock);
	}
}

/* Counts into the thread's own shard; the lock is taken once, to merge. */
__attribute__((noinline)) static void count_items_sharded(struct worker *w)
{
	uint64_t base = (uint64_t)w->index << 40;
	for (long i = 0; i < w->items; i++)
		hist_add(w->hist, item_hash(base + (uint64_t)i));
	pthread_mutex_lock(&global_lock);
	for (int s = 0; s < SLICES; s++)
		for (int b = 0; b < BUCKETS; b++)
			global_hist[s][b] += w->hist[s][b];
	pthread_mutex_unlock(&global_lock);
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	char name[16];
	snprintf(name, sizeof name, "counter-%d", w->index);
	pthread_setname_np(pthread_self(), name);
	if (w->fast)
		count_items_sharded(w);
	else
		count_items_global_lock(w);
	return NULL;
}

int main(int argc, char **argv)
{
	int fast = sample_way(argc, argv, "[ITEMS_PER_THREAD [THREADS]]  (defaults 4000000 4)");
	long items = sample_arg(argc, argv, 2, 4000000, 1L << 40);
	long nthreads = sample_arg(argc, argv, 3, 4, 1024);

	struct worker *w = calloc((size_t)nthreads, sizeof *w);
	if (!w) {
		perror("locks: calloc");
		return 1;
	}
	for (long i = 0; i < nthreads; i++) {
		w[i].index = (int)i;
		w[i].items = items;
		w[i].fast = fast;
		int err = pthread_create(&w[i].thread, NULL, worker_run, &w[i]);
		if (err) {
			fprintf(stderr, "locks: pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	for (long i = 0; i < nthreads; i++)
		pthread_join(w[i].thread, NULL);
	free(w);

	uint64_t total = 0, checksum = 0;
	for (int s = 0; s < SLICES; s++)
		for (int b = 0; b < BUCKETS; b++) {
			total += global_hist[s][b];
			checksum = checksum * 1000003 + global_hist[s][b];
		}
	printf("locks: %llu items, %d histograms of %d buckets, checksum %016llx\n",
	       (unsigned long long)(total / SLICES), SLICES, BUCKETS, (unsigned long long)checksum);
	return 0;
}
