/* Test program: ways out of a process that must still leave a complete dump.
 * `fd_exits daemon` (daemon(): its parent leaves by the C library's own
 * _exit, the child works a little), `fd_exits quick` (quick_exit after an
 * at_quick_exit handler, status 3), `fd_exits early` (exits at once),
 * `fd_exits forkearly` (forks a child that works, and exits at once). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

static __attribute__((noinline)) void work(long ms)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 10000; i++) {
			void *p = malloc(64 + (size_t)(i % 64));
			sink += (unsigned long)p;
			free(p);
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

static void on_quick_exit(void)
{
	/* Work done on the way out is recorded too. */
	void *p = malloc(100);
	sink += (unsigned long)p;
	printf("at_quick_exit handler ran\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "daemon")) {
		if (daemon(1, 1) < 0) {
			perror("daemon");
			return 1;
		}
		work(100);
		return 0;
	}
	if (!strcmp(mode, "quick")) {
		work(50);
		at_quick_exit(on_quick_exit);
		quick_exit(3);
	}
	if (!strcmp(mode, "early"))
		return 0;
	if (!strcmp(mode, "forkearly")) {
		if (fork() == 0) {
			work(100);
			return 0;
		}
		return 0;
	}
	fprintf(stderr, "usage: fd_exits daemon|quick|early|forkearly\n");
	return 2;
}
