/* Two threads with a known CPU split over three noinline functions: thread 1
 * runs spine_a, thread 2 runs spine_b and then spine_c, for 6, 3 and 1 units
 * of the same loop. Each function's true CPU time is measured with the
 * thread's CPU clock and printed as "truth a=.. b=.. c=.." (percent). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile unsigned long spine_sink;
static unsigned long unit = 20000000;
static double ns_a, ns_b, ns_c;

static double thread_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

#define SPIN(n)                                                                                              \
	do {                                                                                                 \
		unsigned long x = spine_sink;                                                                \
		for (unsigned long i = 0; i < (n); i++)                                                      \
			x = x * 6364136223846793005ul + i;                                                   \
		spine_sink = x;                                                                              \
	} while (0)

__attribute__((noinline, noipa)) void spine_a(unsigned long n)
{
	SPIN(n);
}
__attribute__((noinline, noipa)) void spine_b(unsigned long n)
{
	SPIN(n);
}
__attribute__((noinline, noipa)) void spine_c(unsigned long n)
{
	SPIN(n);
}

static void *thread1(void *arg)
{
	double t0 = thread_ns();
	spine_a(6 * unit);
	ns_a = thread_ns() - t0;
	return NULL;
}

static void *thread2(void *arg)
{
	double t0 = thread_ns();
	spine_b(3 * unit);
	double t1 = thread_ns();
	spine_c(unit);
	ns_b = t1 - t0;
	ns_c = thread_ns() - t1;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		unit = strtoul(argv[1], NULL, 10);
	pthread_t t1, t2;
	pthread_create(&t1, NULL, thread1, NULL);
	pthread_create(&t2, NULL, thread2, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	double all = ns_a + ns_b + ns_c;
	printf("truth a=%.1f b=%.1f c=%.1f cpu_ms=%.0f\n", 100 * ns_a / all, 100 * ns_b / all,
	       100 * ns_c / all, all / 1e6);
	return 0;
}
