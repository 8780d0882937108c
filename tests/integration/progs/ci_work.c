/* A fixed amount of work for the CI regression tests: one thread runs parse
 * (50% of its time), hash (30%) and sort (20%), allocates in stage(), and
 * the program leaks two blocks on purpose. It is single-threaded so that the
 * tests can sample the wall clock fast (the CPU clock gives at most 250
 * samples a second here) without a thread that waits for another adding
 * samples that depend on the machine's load. Modes change one thing each:
 *   ci_work baseline ITER   the reference
 *   ci_work slow ITER       ci_parse does 30% more work, nothing else changes
 *   ci_work leak ITER       one more 48-byte block leaks, from ci_remember()
 *   ci_work calibrate       prints how many iterations take one second of CPU
 * ITER is the number of iterations; the same ITER is the same work. With
 * CI_WORK_TIMES set, writes there the time each of ci_parse, ci_hash and
 * ci_sort took by the program's own monotonic clock ("ci_parse 0.753"),
 * what a wall-clock profile's shares are judged against on a loaded
 * machine (the thread CPU clock is a system call of 2-6 us here: 20% of
 * the run). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jitter.h"

#define UNIT 20000 /* xorshift steps in one unit of work; an iteration is 10 units on average */

static volatile uint64_t sink;
static long iterations;
static int slow;

/* Each function has its own constants so that the compiler cannot fold them
 * into one body, which would give the profile one name for three functions. */
__attribute__((noinline, noclone)) static uint64_t ci_parse(uint64_t x, long steps)
{
	for (long i = 0; i < steps; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

__attribute__((noinline, noclone)) static uint64_t ci_hash(uint64_t x, long steps)
{
	for (long i = 0; i < steps; i++) {
		x ^= x << 11;
		x ^= x >> 9;
		x ^= x << 19;
	}
	return x;
}

__attribute__((noinline, noclone)) static uint64_t ci_sort(uint64_t x, long steps)
{
	for (long i = 0; i < steps; i++) {
		x ^= x << 5;
		x ^= x >> 15;
		x ^= x << 23;
	}
	return x;
}

/* A temporary buffer per iteration: deterministic allocation calls and bytes. */
__attribute__((noinline, noclone)) static uint64_t ci_stage(uint64_t x)
{
	unsigned char *b = malloc(256);
	if (!b)
		abort();
	memset(b, (int)(x & 0xff), 256);
	x += b[(x >> 8) & 0xff];
	free(b);
	return x;
}

/* The program's own measure of its three functions (CI_WORK_TIMES). */
static int timed;
static double own[3];

static double own_clock(void)
{
	if (!timed)
		return 0;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void write_own(void)
{
	const char *path = getenv("CI_WORK_TIMES");
	FILE *f = path ? fopen(path, "w") : NULL;
	if (!f)
		return;
	fprintf(f, "ci_parse %.6f\nci_hash %.6f\nci_sort %.6f\n", own[0], own[1], own[2]);
	fclose(f);
}

__attribute__((noinline, noclone)) static uint64_t ci_run(uint64_t x)
{
	/* Units in tenths: parse 50, or 65 when it is 30% slower; hash 30; sort 20. */
	long parse = slow ? 65 : 50;
	/* Each call's length varies (jitter.h: the same sequence in every run
	 * and mode), so that the round does not alias with the sampling period. */
	uint32_t seed = JITTER_SEED;
	for (long i = 0; i < iterations; i++) {
		double p = jitter(&seed), h = jitter(&seed), s = jitter(&seed);
		double t0 = own_clock();
		x = ci_parse(x, (long)(p * parse * (UNIT / 10)));
		double t1 = own_clock();
		x = ci_hash(x, (long)(h * 30 * (UNIT / 10)));
		double t2 = own_clock();
		x = ci_sort(x, (long)(s * 20 * (UNIT / 10)));
		double t3 = own_clock();
		own[0] += t1 - t0;
		own[1] += t2 - t1;
		own[2] += t3 - t2;
		x = ci_stage(x);
	}
	return x;
}

static void *cache[2];

/* Blocks that every mode leaks: the base has leaks, and only new ones count. */
__attribute__((noinline, noclone)) static void ci_cache_init(void)
{
	for (int i = 0; i < 2; i++)
		if (!(cache[i] = malloc(100)))
			abort();
}

static void *remembered;

__attribute__((noinline, noclone)) static void ci_remember(void)
{
	remembered = malloc(48);
	if (!remembered)
		abort();
	memset(remembered, 1, 48);
}

/* CPU time, not wall time: a loaded machine must not shrink the work. */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	/* stdio's own buffer would be one more block leaked at exit. */
	static char outbuf[BUFSIZ];
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	const char *mode = argc > 1 ? argv[1] : "baseline";
	if (!strcmp(mode, "calibrate")) {
		double t0 = now();
		long n = 0;
		uint64_t x = 1;
		while (now() - t0 < 0.3) {
			x = ci_parse(x, 50 * UNIT / 10);
			x = ci_hash(x, 30 * UNIT / 10);
			x = ci_sort(x, 20 * UNIT / 10);
			n++;
		}
		sink += x;
		printf("%ld\n", (long)(n / (now() - t0)));
		return 0;
	}
	if (strcmp(mode, "baseline") && strcmp(mode, "slow") && strcmp(mode, "leak")) {
		fprintf(stderr, "usage: ci_work baseline|slow|leak ITER | calibrate\n");
		return 2;
	}
	slow = !strcmp(mode, "slow");
	iterations = argc > 2 ? atol(argv[2]) : 500;
	/* A table held for the whole run dominates the peak. */
	char *table = malloc(1 << 20);
	if (!table)
		return 1;
	memset(table, 0, 1 << 20);
	ci_cache_init();
	if (!strcmp(mode, "leak"))
		ci_remember();
	timed = getenv("CI_WORK_TIMES") != NULL;
	sink += ci_run(1);
	free(table);
	write_own();
	printf("ci_work %s done: %lu\n", mode, (unsigned long)(sink & 0xffff));
	return 0;
}
