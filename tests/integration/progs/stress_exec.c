/* Stress program: an exec chain. `stress_exec N` does some work, then execs
 * itself with N-1 until N is 0, so one pid goes through N+1 images; the agent
 * must flush before each exec and start again in the new image. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static __attribute__((noinline)) uint64_t work(long n)
{
	uint64_t h = 1;
	/* Mostly computing, with an allocation every 16th round: enough CPU to be
	 * sampled and allocations to track, without millions of events. */
	for (long i = 0; i < n; i++) {
		h = h * 31 + (uint64_t)i;
		if (i % 16 == 0) {
			void *p = malloc(32 + (size_t)(i % 100));
			h += (uint64_t)(p != NULL);
			free(p);
		}
	}
	return h;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 5;
	if (n < 0 || n > 100) {
		fprintf(stderr, "usage: stress_exec [N<=100]\n");
		return 2;
	}
	printf("generation %d work %llu\n", n, (unsigned long long)work(20000000));
	fflush(stdout);
	if (n == 0) {
		fprintf(stderr, "stress_exec: end of chain\n");
		return 9;
	}
	char arg[16];
	snprintf(arg, sizeof(arg), "%d", n - 1);
	execl("/proc/self/exe", argv[0], arg, (char *)NULL);
	perror("execl");
	return 1;
}
