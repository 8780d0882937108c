/* A server-like program for the window tests: a loop of work (work_loop,
 * about 1 ms of CPU a round) with an allocation burst (burst: 100 blocks of
 * 1000 bytes, freed) every 50 ms, until SIGTERM; it writes its pid to the
 * file named by its first argument (if any) once it runs. With "leak" as the
 * second argument it instead leaks in steps for the snapshot test: step N
 * (N = 1, 2, 3) leaks N*10 blocks of 1000 bytes at leak_step<N>, writes
 * "stepN" to stdout, and waits until a file named ARG1.goN exists. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;
static volatile double g_sink;
static void *volatile g_keep;

static void on_term(int sig)
{
	(void)sig;
	g_stop = 1;
}

static __attribute__((noinline)) void work_loop(void)
{
	double x = 0;
	for (int i = 0; i < 300000; i++)
		x += (double)i * 0.5;
	g_sink = x;
}

static __attribute__((noinline)) void burst(void)
{
	void *b[100];
	for (int i = 0; i < 100; i++)
		b[i] = malloc(1000);
	for (int i = 0; i < 100; i++)
		free(b[i]);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#define LEAK_STEP(n)                                                                                         \
	static __attribute__((noinline)) void leak_step##n(void)                                             \
	{                                                                                                    \
		for (int i = 0; i < (n)*10; i++) {                                                           \
			void **p = malloc(1000);                                                             \
			*p = g_keep;                                                                         \
			g_keep = p;                                                                          \
		}                                                                                            \
	}
LEAK_STEP(1)
LEAK_STEP(2)
LEAK_STEP(3)

static void wait_for(const char *base, int n)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof(path), "%s.go%d", base, n);
	while (stat(path, &st) < 0 && !g_stop)
		usleep(5000);
}

int main(int argc, char **argv)
{
	signal(SIGTERM, on_term);
	if (argc > 1) {
		FILE *f = fopen(argv[1], "w");
		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
	if (argc > 2 && !strcmp(argv[2], "leak")) {
		void (*steps[3])(void) = {leak_step1, leak_step2, leak_step3};
		for (int n = 1; n <= 3; n++) {
			steps[n - 1]();
			printf("step%d\n", n);
			fflush(stdout);
			wait_for(argv[1], n);
		}
		return 0;
	}
	double next = now_s();
	while (!g_stop) {
		work_loop();
		if (now_s() >= next) {
			burst();
			next += 0.05;
		}
	}
	return 0;
}
