/* The CPU-bound workload of the sampling benchmarks (bench-cpu-overhead.sh,
 * perf-table.sh): two threads of floating point and integer work, about a
 * second with the default N; argv[1] sets N. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
static volatile double sink;
__attribute__((noinline)) static double fp_work(long n)
{
	double s = 0;
	for (long i = 1; i < n; i++)
		s += 1.0 / (double)i * (i & 1 ? 1 : -1);
	return s;
}
__attribute__((noinline)) static unsigned long int_work(long n)
{
	unsigned long h = 1469598103934665603ul;
	for (long i = 0; i < n; i++)
		h = (h ^ (unsigned long)i) * 1099511628211ul;
	return h;
}
static void *thread_main(void *arg)
{
	sink += (double)int_work((long)arg);
	return NULL;
}
int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 300000000;
	pthread_t t;
	pthread_create(&t, NULL, thread_main, (void *)(n * 2));
	sink += fp_work(n);
	pthread_join(t, NULL);
	printf("%d\n", sink != 0);
	return 0;
}
