/* Allocates and frees N blocks (argv[1], default 1000) and computes for
 * about argv[2] ms of CPU (default 0): a program whose allocation count and
 * CPU time a recording must show. Prints "runallocs done". */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

__attribute__((noinline)) static double runallocs_spin(long ms)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	volatile double x = 1;
	for (;;) {
		for (int i = 0; i < 100000; i++)
			x = x * 1.0000001 + 1e-9;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= ms)
			return x;
	}
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000, ms = argc > 2 ? atol(argv[2]) : 0;
	for (long i = 0; i < n; i++) {
		volatile char *p = malloc(32 + (size_t)(i % 64));
		p[0] = 1;
		free((void *)p);
	}
	if (ms > 0)
		runallocs_spin(ms);
	printf("runallocs done\n");
	return 0;
}
