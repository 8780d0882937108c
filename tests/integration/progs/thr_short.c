/* Many short-lived threads, each burning a fixed CPU time (argv[2] µs,
 * default 1000) in thr_burn: the CPU a profiler must not lose at thread
 * end. Prints the process's CPU time (getrusage) in ns. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static long g_work_ns;

static uint64_t thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static __attribute__((noinline)) void *thr_burn(void *arg)
{
	volatile uint64_t x = (uintptr_t)arg;
	uint64_t end = thread_cpu() + (uint64_t)g_work_ns;
	while (thread_cpu() < end)
		for (int i = 0; i < 1000; i++)
			x = x * 6364136223846793005u + 1442695040888963407u;
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	g_work_ns = (argc > 2 ? atol(argv[2]) : 1000) * 1000;
	pthread_t th[8];
	for (int i = 0; i < n; i += 8) {
		int k = n - i < 8 ? n - i : 8;
		for (int j = 0; j < k; j++)
			if (pthread_create(&th[j], NULL, thr_burn, (void *)(uintptr_t)(i + j)))
				return 1;
		for (int j = 0; j < k; j++)
			pthread_join(th[j], NULL);
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("cpu_ns %llu\n",
	       (unsigned long long)((ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
				    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull));
	return 0;
}
