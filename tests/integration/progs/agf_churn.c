/* A malloc-heavy program for test-agf-agent-frames: a hot malloc/free loop
 * in a function of its own next to a loop of pure arithmetic, so that a CPU
 * profile under --alloc can be compared with one without.
 * Usage: agf_churn [ROUNDS] (default 4,000,000 of each). */
#include <stdio.h>
#include <stdlib.h>

static volatile unsigned long sink;
/* Through a volatile pointer: the compiler may not pair malloc with free
 * and drop both. */
static void *(*volatile alloc)(size_t) = malloc;

__attribute__((noinline)) static void agf_churn_loop(long n)
{
	for (long i = 0; i < n; i++) {
		char *p = alloc(16 + (size_t)(i & 255));
		p[0] = (char)i;
		sink += (unsigned char)p[0];
		free(p);
	}
}

__attribute__((noinline)) static void agf_spin_loop(long n)
{
	unsigned long x = 88172645463325252ul;
	for (long i = 0; i < 8 * n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	sink += x;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 4000000;
	agf_churn_loop(n);
	agf_spin_loop(n);
	printf("agf_churn done %lu\n", sink);
	return 0;
}
