/* Stress program: recursion 10,000 frames deep (by default) with CPU work and
 * allocations at the bottom and on the way back up, so the agent unwinds and
 * records stacks far deeper than it keeps (FD_MAX_FRAMES). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void *blocks[64];

static __attribute__((noinline)) uint64_t bottom(uint64_t seed)
{
	uint64_t h = seed;
	for (int r = 0; r < 64; r++) {
		free(blocks[r]);
		blocks[r] = malloc(48 + (size_t)r);
		for (int i = 0; i < 2000000; i++)
			h = h * 2862933555777941757ULL + 3037000493ULL;
	}
	return h;
}

/* Not a tail call: the result is used after the recursive call returns. */
static __attribute__((noinline)) uint64_t descend(int depth, uint64_t acc)
{
	volatile char pad[32];
	pad[0] = (char)depth;
	uint64_t r = depth == 0 ? bottom(acc) : descend(depth - 1, acc + (uint64_t)depth);
	if (depth % 1000 == 0) {
		void *p = malloc(16);
		r ^= (uint64_t)(p != NULL);
		free(p);
	}
	return r + (uint64_t)pad[0];
}

int main(int argc, char **argv)
{
	int depth = argc > 1 ? atoi(argv[1]) : 10000;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	if (depth < 0 || depth > 100000 || rounds < 1) {
		fprintf(stderr, "usage: stress_recursion [DEPTH [ROUNDS]]\n");
		return 2;
	}
	uint64_t h = 0;
	for (int i = 0; i < rounds; i++)
		h ^= descend(depth, (uint64_t)i);
	for (int r = 0; r < 64; r++)
		free(blocks[r]);
	printf("depth %d rounds %d result %016llx\n", depth, rounds, (unsigned long long)h);
	return 0;
}
