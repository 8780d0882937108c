/* The hot loop lives in a function that is always inlined into its caller:
 * the report must show the inlined function as a frame of its own. */
#include <stdio.h>
#include <stdlib.h>

static volatile unsigned long spine_i_sink;

static inline __attribute__((always_inline)) unsigned long spine_inlined_hot(unsigned long n)
{
	unsigned long x = spine_i_sink;
	for (unsigned long i = 0; i < n; i++)
		x = x * 6364136223846793005ul + i;
	return x;
}

__attribute__((noinline, noipa)) void spine_outer(unsigned long n)
{
	spine_i_sink = spine_inlined_hot(n);
}

int main(int argc, char **argv)
{
	spine_outer(argc > 1 ? strtoul(argv[1], NULL, 10) : 150000000ul);
	return 0;
}
