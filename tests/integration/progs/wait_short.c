/* Many sleeps shorter than the waiting profile's threshold, for
 * test-wait-agent-estimator: 4000 nanosleeps of 200 us in short_sleeps.
 * Prints the total time they took, as the program measures it (ns). */
#include <stdio.h>
#include <time.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

__attribute__((noinline)) long long short_sleeps(int n)
{
	long long total = 0;
	for (int i = 0; i < n; i++) {
		struct timespec ts = {0, 200 * 1000};
		long long t0 = now_ns();
		nanosleep(&ts, NULL);
		total += now_ns() - t0;
	}
	return total;
}

int main(void)
{
	printf("slept %lld\n", short_sleeps(4000));
	return 0;
}
