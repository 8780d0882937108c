/* POSIX: open() returns the lowest descriptor not open, and programs rely on
 * it (close(0), then open("/dev/null") as the new stdin). fd_lowest opens
 * and closes /dev/null for argv[1] seconds (default 1) in a thread renamed
 * by prctl(PR_SET_NAME) while a second thread, renamed by the main thread
 * with pthread_setname_np, burns CPU; it counts the opens that did not get
 * the lowest free number (the agent's own descriptors must never take it,
 * even for a moment), prints the count and exits 1 when it is not 0. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static double g_secs = 1.0;
static atomic_int g_done;
static long g_opens, g_wrong;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *opener(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "fdlow-opener", 0, 0, 0);
	/* The lowest free descriptor: one past what is open now. */
	int want = open("/dev/null", O_RDONLY);
	if (want < 0)
		return NULL;
	close(want);
	double end = now() + g_secs;
	while (now() < end) {
		for (int i = 0; i < 1000; i++) {
			int fd = open("/dev/null", O_RDONLY);
			if (fd < 0)
				return NULL;
			g_opens++;
			if (fd != want)
				g_wrong++;
			close(fd);
		}
		/* Some allocation, so the agent's writer has work. */
		free(malloc(64 + (size_t)(g_opens & 1023)));
	}
	return NULL;
}

static __attribute__((noinline)) void *burner(void *arg)
{
	(void)arg;
	volatile unsigned long x = 0;
	while (!atomic_load(&g_done))
		for (int i = 0; i < 100000; i++)
			x += (unsigned long)i * 7;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		g_secs = atof(argv[1]);
	pthread_t o, b;
	if (pthread_create(&b, NULL, burner, NULL))
		return 2;
	/* Before the opener starts: glibc writes another thread's name through
	 * /proc/self/task/TID/comm, a descriptor of the program's own. */
	pthread_setname_np(b, "fdlow-burner");
	if (pthread_create(&o, NULL, opener, NULL))
		return 2;
	pthread_join(o, NULL);
	atomic_store(&g_done, 1);
	pthread_join(b, NULL);
	printf("fd_lowest: %ld opens, %ld not the lowest free descriptor\n", g_opens, g_wrong);
	return g_wrong != 0;
}
