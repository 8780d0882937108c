/* Stress program for stack interning races: waves of short-lived threads walk
 * the same many distinct call paths at the same moment (so several threads
 * meet each new stack together), allocating as they go, and the process
 * exits while detached threads are still walking new paths. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>

static volatile uint64_t sink;
static int g_alloc = 1;

static uint64_t walk(uint64_t path, int depth, uint64_t h);

/* Two functions that call each other by the bits of `path`: 2^depth
 * distinct stacks, each a chain of left/right frames. */
static __attribute__((noinline)) uint64_t left(uint64_t path, int depth, uint64_t h)
{
	h = h * 0x9e3779b97f4a7c15ull + 1;
	return walk(path >> 1, depth - 1, h) ^ 1;
}

static __attribute__((noinline)) uint64_t right(uint64_t path, int depth, uint64_t h)
{
	h = h * 0xbf58476d1ce4e5b9ull + 3;
	return walk(path >> 1, depth - 1, h) ^ 2;
}

static __attribute__((noinline)) uint64_t leaf(uint64_t h)
{
	/* A little work, and an allocation, at the end of each path. */
	for (int i = 0; i < 2000; i++)
		h = (h ^ (h >> 31)) * 0x94d049bb133111ebull;
	if (g_alloc) {
		char *p = malloc(16 + (h & 255));
		if (p) {
			p[0] = (char)h;
			h += (uint64_t)p[0];
			free(p);
		}
	}
	return h;
}

static __attribute__((noinline)) uint64_t walk(uint64_t path, int depth, uint64_t h)
{
	if (depth == 0)
		return leaf(h);
	return (path & 1) ? right(path, depth, h) : left(path, depth, h);
}

static int g_depth = 12;
static _Atomic uint64_t g_next_path;

static void *worker(void *arg)
{
	uint64_t h = (uintptr_t)arg, paths = 1ull << g_depth;
	/* Every thread takes the paths in the same order, starting from the
	 * wave's shared position, so threads meet new stacks together. */
	uint64_t start = g_next_path;
	for (uint64_t k = 0; k < 64; k++)
		h += walk((start + k) % paths, g_depth, h);
	sink += h;
	return NULL;
}

static _Atomic int g_started;
static pthread_mutex_t g_park_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_park_cond = PTHREAD_COND_INITIALIZER;

static void *park(void *arg)
{
	pthread_mutex_lock(&g_park_lock);
	for (;;)
		pthread_cond_wait(&g_park_cond, &g_park_lock);
	return arg;
}

static void *forever(void *arg)
{
	g_started++;
	uint64_t h = (uintptr_t)arg, paths = 1ull << g_depth;
	for (uint64_t k = (uintptr_t)arg * 977;; k++)
		sink += walk(k % paths, g_depth, h);
	return NULL;
}

int main(int argc, char **argv)
{
	int waves = argc > 1 ? atoi(argv[1]) : 40, width = argc > 2 ? atoi(argv[2]) : 8;
	int spinners = width, parked = 0;
	if (argc > 3)
		g_depth = atoi(argv[3]);
	if (argc > 4)
		spinners = atoi(argv[4]);
	if (argc > 5)
		parked = atoi(argv[5]);
	if (getenv("STK_NOALLOC"))
		g_alloc = 0;
	if (waves < 1 || width < 1 || width > 256 || g_depth < 1 || g_depth > 40) {
		fprintf(stderr, "usage: stk_race [WAVES [WIDTH [DEPTH [SPINNERS [PARKED]]]]]\n");
		return 2;
	}
	pthread_t th[256];
	for (int w = 0; w < waves; w++) {
		for (int i = 0; i < width; i++)
			if (pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(w * width + i + 1)))
				return 1;
		for (int i = 0; i < width; i++)
			pthread_join(th[i], NULL);
		g_next_path += 64;
	}
	/* Threads that wait, alive, until the process exits. */
	for (int i = 0; i < parked; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, park, NULL) == 0)
			pthread_detach(t);
	}
	/* Threads still walking new paths while the process exits. */
	for (int i = 0; i < spinners; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, forever, (void *)(uintptr_t)(i + 1)) == 0)
			pthread_detach(t);
	}
	while (g_started < spinners)
		sched_yield();
	struct timespec ts = {0, 20000000};
	nanosleep(&ts, NULL);
	printf("done %d waves of %d threads\n", waves, width);
	return 0;
}
