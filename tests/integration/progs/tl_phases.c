/* A program whose phases are known in time, for the time-range tests. Each
 * step waits for the previous one's actual time (a loaded machine may hold
 * the program off the CPU for a while), then:
 *   0.4 s       burst_a allocates 100 blocks of 10000 bytes and keeps them;
 *   +0.8 s      phase A (CPU in phase_a) ends, phase B (CPU in phase_b) begins;
 *   +0.4 s      burst_b allocates 50 blocks of 20000 bytes and keeps them;
 *   +0.4 s      drop_a frees burst_a's blocks;
 *   +0.4 s      the end.
 * It prints each step's time since main on stdout: "a T", "switch T"
 * (after the last phase_a call returned), "b T", "d T", "end T"; and first
 * "t0 S", main's start in CLOCK_REALTIME seconds, from which the tests put
 * those times on the recording's clock (tests/integration/tl-lib.sh). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile double g_sink;
static void *volatile g_a[100], *volatile g_b[50];
static double g_t0;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - g_t0;
}

static __attribute__((noinline)) void phase_a(void)
{
	double x = 0;
	for (int i = 0; i < 200000; i++)
		x += (double)i * 0.5;
	g_sink = x;
}

static __attribute__((noinline)) void phase_b(void)
{
	double x = 1;
	for (int i = 0; i < 200000; i++)
		x += (double)i * 0.25;
	g_sink = x;
}

static __attribute__((noinline)) void burst_a(void)
{
	for (int i = 0; i < 100; i++)
		g_a[i] = malloc(10000);
}

static __attribute__((noinline)) void burst_b(void)
{
	for (int i = 0; i < 50; i++)
		g_b[i] = malloc(20000);
}

static __attribute__((noinline)) void drop_a(void)
{
	for (int i = 0; i < 100; i++)
		free(g_a[i]);
}

int main(void)
{
	g_t0 = now_s();
	struct timespec real;
	clock_gettime(CLOCK_REALTIME, &real);
	printf("t0 %lld.%09ld\n", (long long)real.tv_sec, real.tv_nsec);
	double t, a = 0, sw = 0, b = 0, d = 0;
	while ((t = now_s()) < 0.4)
		phase_a();
	burst_a();
	printf("a %.3f\n", a = now_s());
	while ((t = now_s()) < a + 0.8)
		phase_a();
	printf("switch %.3f\n", sw = now_s());
	while ((t = now_s()) < sw + 0.4)
		phase_b();
	burst_b();
	printf("b %.3f\n", b = now_s());
	while ((t = now_s()) < b + 0.4)
		phase_b();
	drop_a();
	printf("d %.3f\n", d = now_s());
	while ((t = now_s()) < d + 0.4)
		phase_b();
	printf("end %.3f\n", now_s());
	fflush(stdout);
	return 0;
}
