/* Many short-lived threads (argv[1], default 1000), each burning a fixed CPU
 * time (argv[2] µs, default 1200) in tcpu_burn: the CPU a profiler must not
 * lose at thread end. Prints what a profile must cover, as measured by the
 * program itself: the sum of each thread's CPU clock read as its routine
 * returns, plus the main thread's at the end (threads_ns), and the
 * process's CPU time (getrusage: every thread, the profiler's own
 * included) at the same moment (process_ns). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static long g_work_ns;
static _Atomic uint64_t g_threads_ns;

static uint64_t thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static __attribute__((noinline)) void *tcpu_burn(void *arg)
{
	volatile uint64_t x = (uintptr_t)arg;
	uint64_t end = thread_cpu() + (uint64_t)g_work_ns;
	while (thread_cpu() < end)
		for (int i = 0; i < 1000; i++)
			x = x * 6364136223846793005u + 1442695040888963407u;
	atomic_fetch_add(&g_threads_ns, thread_cpu());
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	g_work_ns = (argc > 2 ? atol(argv[2]) : 1200) * 1000;
	pthread_t th[8];
	for (int i = 0; i < n; i += 8) {
		int k = n - i < 8 ? n - i : 8;
		for (int j = 0; j < k; j++)
			if (pthread_create(&th[j], NULL, tcpu_burn, (void *)(uintptr_t)(i + j)))
				return 1;
		for (int j = 0; j < k; j++)
			pthread_join(th[j], NULL);
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("threads_ns %llu\n", (unsigned long long)(atomic_load(&g_threads_ns) + thread_cpu()));
	printf("process_ns %llu\n",
	       (unsigned long long)((ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
				    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull));
	return 0;
}
