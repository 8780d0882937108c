/* Allocation benchmark workload: N malloc/free pairs (default 10 million) of
 * 16 sizes, each made about 10 frames deep through one of four call paths,
 * then 15 blocks leaked. Used by tests/bench/bench-alloc.sh.
 * Usage: bench_alloc [N [touch]]; with "touch" each block is filled before it
 * is freed, as a program that uses its memory would. With BENCH_THREAD_CPU set
 * in the environment, the main thread's own CPU time is printed to stderr at
 * the end (an agent's writer thread and the machine's load left out). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const size_t sizes[16] = {8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 1024, 2048, 4096, 8192};
static volatile unsigned sink;
static int touch;
/* Called through a volatile pointer: the compiler may not drop the stores
 * to a block that is freed right after. */
static void *(*volatile fill)(void *, int, size_t) = memset;

__attribute__((noinline)) static void pair(long i)
{
	char *p = malloc(sizes[i & 15]);
	if (touch)
		fill(p, (int)i, sizes[i & 15]);
	p[0] = (char)i;
	sink += (unsigned char)p[0];
	free(p);
}

#define LEVEL(name, next)                                                                                    \
	__attribute__((noinline)) static void name(long i)                                                   \
	{                                                                                                    \
		next(i);                                                                                     \
		sink++;                                                                                      \
	}
LEVEL(d1, pair)
LEVEL(d2, d1)
LEVEL(d3, d2)
LEVEL(d4, d3)
LEVEL(pa, d4)
LEVEL(pb, d4)
LEVEL(pc, d4)
LEVEL(pd, d4)

__attribute__((noinline)) static void d6(long i)
{
	switch (i >> 4 & 3) {
	case 0:
		pa(i);
		break;
	case 1:
		pb(i);
		break;
	case 2:
		pc(i);
		break;
	default:
		pd(i);
		break;
	}
	sink++;
}
LEVEL(d7, d6)
LEVEL(d8, d7)
LEVEL(d9, d8)

__attribute__((noinline)) static void leak(int i)
{
	void *p = malloc(100 + (size_t)i);
	sink += (unsigned)(size_t)p & 1;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000000;
	touch = argc > 2 && !strcmp(argv[2], "touch");
	for (long i = 0; i < n; i++)
		d9(i);
	for (int i = 0; i < 15; i++)
		leak(i);
	printf("%ld pairs, 15 leaks\n", n);
	if (getenv("BENCH_THREAD_CPU")) {
		struct timespec ts;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
		fprintf(stderr, "thread_cpu_s=%.4f\n", (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
	}
	return 0;
}
