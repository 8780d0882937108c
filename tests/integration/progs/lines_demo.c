/* The program fathom lines is tested on: a hot loop on one line, a cold
 * branch, a helper inlined at -O2 and an allocating line with known bytes.
 * The tests find each line by its "LINE:" comment. Arguments: the hot
 * loop's iterations, and the divisor of the helper's (default 4). */
#include <stdio.h>
#include <stdlib.h>

static volatile unsigned long lines_sink;

/* Inlined into lines_work at -O2: its line is charged there, and is a line of its own. */
static inline unsigned long lines_mix(unsigned long x, unsigned long i)
{
	return (x ^ (x >> 7)) * 0x9e3779b97f4a7c15ul + i; /* LINE:inlined */
}

__attribute__((noinline)) static unsigned long lines_work(unsigned long n, unsigned long div)
{
	unsigned long x = lines_sink;
	/* clang-format off */
	for (unsigned long i = 0; i < n; i++) x = x * 6364136223846793005ul + (x >> 13); /* LINE:hot */
	/* clang-format on */
	if (x == 42) {
		lines_sink = x + 1; /* LINE:cold */
		puts("never");
	}
	for (unsigned long i = 0; i < n / div; i++)
		x = lines_mix(x, i); /* LINE:call */
	return x;
}

/* 5,000 blocks of 1,000 bytes, every 500th leaked: 5,000,000 bytes, 10,000 leaked. */
__attribute__((noinline)) static void lines_alloc(int count)
{
	for (int i = 0; i < count; i++) {
		char *p = malloc(1000); /* LINE:alloc */
		p[0] = (char)i;
		lines_sink += (unsigned long)p[0];
		if (i % 500)
			free(p);
	}
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000000ul;
	unsigned long div =
	    argc > 2 ? strtoul(argv[2], NULL, 10) : 4; /* 1: the inlined helper's loop 4x longer */
	lines_alloc(5000);
	lines_sink = lines_work(n, div ? div : 1);
	printf("%lu\n", lines_sink);
	return 0;
}
