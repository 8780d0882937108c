/* A server-like program for the rotation tests, which counts its own
 * allocations: two worker threads each run a loop of work (work_a, about
 * twice as long as work_b) and every 5 ms allocate a batch of blocks of
 * varied sizes (rot_alloc) into a shared queue, from which the oldest blocks
 * are freed (rot_free) by whichever thread comes next, so that blocks live
 * across file boundaries and are often freed by another thread than their
 * own; every 100 ms one block of 333 bytes leaks (rot_leak). Until SIGTERM;
 * then it prints its counters: "alloc CALLS BYTES live BLOCKS BYTES leak
 * BLOCKS BYTES", the queue's blocks still live being rot_alloc's leaks. It
 * writes its pid to the file its first argument names once it runs. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define QCAP 512

static volatile sig_atomic_t g_stop;
static volatile double g_sink;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static void *g_q[QCAP];
static size_t g_qsize[QCAP];
static unsigned g_qhead, g_qn;
static unsigned long long g_calls, g_bytes, g_leaks, g_leak_bytes, g_seed;
static void *volatile g_leaked;

static void on_term(int sig)
{
	(void)sig;
	g_stop = 1;
}

static __attribute__((noinline)) void work_a(void)
{
	double x = 0;
	for (int i = 0; i < 200000; i++)
		x += (double)i * 0.5;
	g_sink = x;
}

static __attribute__((noinline)) void work_b(void)
{
	double x = 0;
	for (int i = 0; i < 100000; i++)
		x += (double)i * 0.25;
	g_sink = x;
}

static __attribute__((noinline)) void rot_free(void)
{
	free(g_q[g_qhead]);
	g_qhead = (g_qhead + 1) % QCAP;
	g_qn--;
}

/* With g_lock held. */
static __attribute__((noinline)) void rot_alloc(void)
{
	for (int i = 0; i < 20; i++) {
		size_t size = 16 + (size_t)(g_seed++ * 37 % 4000);
		if (g_qn == QCAP)
			rot_free();
		unsigned at = (g_qhead + g_qn) % QCAP;
		g_q[at] = malloc(size);
		g_qsize[at] = size;
		g_qn++;
		g_calls++;
		g_bytes += size;
	}
}

static __attribute__((noinline)) void rot_leak(void)
{
	void **p = malloc(333);
	*p = g_leaked;
	g_leaked = p;
	g_leaks++;
	g_leak_bytes += 333;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	double next = now_s(), next_leak = next + 0.1;
	while (!g_stop) {
		work_a();
		work_b();
		double t = now_s();
		if (t >= next) {
			pthread_mutex_lock(&g_lock);
			rot_alloc();
			if (id == 0 && t >= next_leak) {
				rot_leak();
				next_leak += 0.1;
			}
			pthread_mutex_unlock(&g_lock);
			next += 0.005;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	signal(SIGTERM, on_term);
	pthread_t th[2];
	for (long i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	if (argc > 1) {
		FILE *f = fopen(argv[1], "w");
		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
	/* SIGTERM may land on a worker: the main thread looks now and then. */
	while (!g_stop)
		usleep(20000);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	unsigned long long live_bytes = 0;
	for (unsigned i = 0; i < g_qn; i++)
		live_bytes += g_qsize[(g_qhead + i) % QCAP];
	printf("alloc %llu %llu live %u %llu leak %llu %llu\n", g_calls, g_bytes, g_qn, live_bytes, g_leaks,
	       g_leak_bytes);
	return 0;
}
