/* Calls clock_gettime(CLOCK_MONOTONIC) in a loop for about half a second
 * (argv[1]: seconds): most of its time is in the kernel's vDSO, which has
 * no file on disk. Prints "calls N". */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0.5;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned long calls = 0;
	do {
		clock_gettime(CLOCK_MONOTONIC, &t);
		calls++;
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	printf("calls %lu\n", calls);
	return 0;
}
