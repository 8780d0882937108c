/* Allocation stacks that share their outer frames and differ inside: a
 * walk of depth 12 through pa() or pb() chosen by the bits of a path
 * number, and, for half of the paths, through pc() frames first (so the
 * same outer frames sit at other stack depths). The leaf allocates
 * 1000 + path bytes, so every path has a size of its own and the bytes
 * charged to a stack say which path it was. Prints "paths N rounds R".
 *
 *   stk_paths [ROUNDS]   (default 2000: 64 paths each ROUNDS times) */
#include <stdio.h>
#include <stdlib.h>

#define DEPTH 6
#define PATHS 64

static volatile unsigned long g_sink;

static __attribute__((noinline)) void leaf(unsigned path)
{
	void *p = malloc(1000 + path);
	g_sink += (unsigned long)(p != NULL);
	free(p);
}

static void step(unsigned path, int level);

/* Not tail calls: each adds after the call returns. */
static __attribute__((noinline)) void pa(unsigned path, int level)
{
	step(path, level + 1);
	g_sink += 1;
}

static __attribute__((noinline)) void pb(unsigned path, int level)
{
	step(path, level + 1);
	g_sink += 2;
}

static __attribute__((noinline)) void step(unsigned path, int level)
{
	if (level == DEPTH) {
		leaf(path);
		return;
	}
	if (path >> level & 1)
		pb(path, level);
	else
		pa(path, level);
	g_sink += 3;
}

static __attribute__((noinline)) void pc(unsigned path, int n)
{
	if (n > 0)
		pc(path, n - 1);
	else
		step(path, 0);
	g_sink += 4;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 2000;
	for (int r = 0; r < rounds; r++)
		for (unsigned path = 0; path < PATHS; path++) {
			/* Paths in an order that changes the inner frames most. */
			unsigned q = (path * 37u + (unsigned)r) % PATHS;
			if (q & 32)
				pc(q, (int)(q & 3));
			else
				step(q, 0);
		}
	printf("paths %d rounds %d\n", PATHS, rounds);
	return 0;
}
