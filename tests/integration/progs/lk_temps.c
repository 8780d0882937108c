/* Allocations whose temporaries an exact recording counts and a sampled one
 * cannot: each round allocates two blocks and frees them in order, so only
 * the second is temporary (half the calls). */
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 200000;
	for (long i = 0; i < rounds; i++) {
		char *p = malloc(128), *q = malloc(128);
		if (!p || !q)
			return 1;
		memset(p, 1, 128);
		memset(q, 2, 128);
		__asm__ volatile("" ::"r"(p), "r"(q) : "memory");
		free(p);
		free(q);
	}
	return 0;
}
