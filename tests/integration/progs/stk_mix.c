/* A program with a moderate amount of allocation, for comparing CPU profiles
 * with and without --alloc: three functions take turns, in short rounds;
 * each call is long next to the sampling period, so that shares are
 * measured with little sampling noise. stk_build allocates a small block
 * every 256 steps of its work (about one a microsecond), stk_hash and
 * stk_scan only compute. With `heavy`, stk_build allocates on every step
 * (a malloc-dominated program).
 * With STK_MIX_TIMES=FILE it writes there each worker's share of the
 * thread's CPU time, as measured around each call.
 * Usage: stk_mix [ROUNDS [STEPS [heavy]]] (default 20 rounds of 4M steps). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile uint64_t sink;
/* Through a volatile pointer: the compiler may not drop malloc and free. */
static void *(*volatile alloc)(size_t) = malloc;
static int heavy;
static unsigned steps = 4000000;

static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 29;
	return x;
}

/* Allocates a small block every `every` steps of its work, keeping the
 * last 64 alive (each new block replaces the oldest). */
__attribute__((noinline)) static void stk_build(uint64_t seed)
{
	static void *live[64];
	unsigned every = heavy ? 1 : 256;
	uint64_t h = seed;
	for (unsigned i = 0; i < steps; i++) {
		h = mix(h + i);
		if (i % every == 0) {
			unsigned k = (unsigned)(h >> 58);
			free(live[k]);
			uint64_t *b = alloc(16 + (h & 63));
			b[0] = h;
			live[k] = b;
			h += b[0] >> 3;
		}
	}
	sink += h;
}

__attribute__((noinline)) static void stk_hash(uint64_t seed)
{
	uint64_t h = seed;
	for (unsigned i = 0; i < steps; i++)
		h = mix(h ^ i);
	sink += h;
}

__attribute__((noinline)) static void stk_scan(uint64_t seed)
{
	static uint32_t buf[4096];
	uint64_t h = seed;
	for (unsigned r = 0; r < steps / 4096; r++)
		for (unsigned i = 0; i < 4096; i++) {
			buf[i] = (uint32_t)(buf[i] * 2654435761u + (uint32_t)h);
			h += buf[i] >> 7;
		}
	sink += h;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 20;
	if (argc > 2)
		steps = (unsigned)atol(argv[2]);
	heavy = argc > 3 && strcmp(argv[3], "heavy") == 0;
	/* The thread's CPU time in each worker, as the program itself
	 * measures it: the truth a profile of this run is held to. */
	uint64_t t[3] = {0, 0, 0};
	for (long r = 0; r < rounds; r++) {
		uint64_t a = cpu_ns();
		stk_build((uint64_t)r);
		uint64_t b = cpu_ns();
		stk_hash((uint64_t)r);
		uint64_t c = cpu_ns();
		stk_scan((uint64_t)r);
		uint64_t d = cpu_ns();
		t[0] += b - a;
		t[1] += c - b;
		t[2] += d - c;
	}
	const char *out = getenv("STK_MIX_TIMES");
	FILE *f = out ? fopen(out, "w") : NULL;
	if (f) {
		double all = (double)(t[0] + t[1] + t[2]);
		fprintf(f, "stk_build %.2f\nstk_hash %.2f\nstk_scan %.2f\n", 100 * t[0] / all,
			100 * t[1] / all, 100 * t[2] / all);
		fclose(f);
	}
	printf("stk_mix done %ld\n", rounds);
	return 0;
}
