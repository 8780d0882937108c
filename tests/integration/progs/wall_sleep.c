/* A program that computes a little and sleeps three times half a second:
 * under --clock wall its sleeps must take as long as without the agent and
 * show at their true share of the time. Prints a checksum on stdout (the
 * same with and without the agent), and on stderr each usleep's result and
 * the elapsed wall time measured with CLOCK_MONOTONIC. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* About as long as each sleep's share suggests: a few hundred ms in all. */
static __attribute__((noinline)) unsigned long wall_compute(unsigned long n)
{
	unsigned long h = 1469598103934665603ul;
	for (unsigned long i = 0; i < n; i++)
		h = (h ^ i) * 1099511628211ul;
	return h;
}

static __attribute__((noinline)) int wall_nap(void)
{
	return usleep(500000);
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000000ul;
	double t0 = now();
	unsigned long h = 0;
	int bad = 0;
	double slept = 0;
	for (int i = 0; i < 3; i++) {
		h ^= wall_compute(n);
		double s0 = now();
		int r = wall_nap();
		double s = now() - s0;
		slept += s;
		fprintf(stderr, "usleep %d: %d (%s) %.3f s\n", i, r, r ? strerror(errno) : "ok", s);
		if (r != 0 || s < 0.5)
			bad = 1;
	}
	fprintf(stderr, "slept %.3f s\n", slept);
	fprintf(stderr, "elapsed %.3f s\n", now() - t0);
	printf("checksum %lx\n", h);
	return bad ? 3 : 0;
}
