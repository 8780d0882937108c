/* Waits of known length in known functions, for test-wait-agent-basic:
 * sleeps 200 ms in sleep_here, and a second thread blocks 300 ms on a pipe
 * read in read_here (the main thread writes after a 300 ms usleep). Prints
 * on stderr the lengths it measured itself. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int pfd[2];

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* Prints how long the sleep took, as the program measures it. */
__attribute__((noinline)) void sleep_here(void)
{
	struct timespec ts = {0, 200 * 1000 * 1000};
	long long t0 = now_ns();
	nanosleep(&ts, NULL);
	fprintf(stderr, "slept %lld\n", now_ns() - t0);
}

__attribute__((noinline)) void read_here(void)
{
	char c;
	if (read(pfd[0], &c, 1) != 1)
		perror("read");
	__asm__ volatile("" ::: "memory");
}

static void *reader(void *arg)
{
	(void)arg;
	read_here();
	return NULL;
}

int main(void)
{
	if (pipe(pfd) < 0)
		return 1;
	sleep_here();
	pthread_t th;
	pthread_create(&th, NULL, reader, NULL);
	long long t0 = now_ns();
	usleep(300 * 1000);
	fprintf(stderr, "usleep %lld\n", now_ns() - t0);
	if (write(pfd[1], "x", 1) != 1)
		return 1;
	pthread_join(th, NULL);
	printf("done\n");
	return 0;
}
