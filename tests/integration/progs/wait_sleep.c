/* Waits of known length in known functions, for test-wait-agent-basic and
 * test-wait-e2e: sleeps 200 ms in sleep_here, and a second thread blocks
 * on a pipe read in read_here while the main thread sleeps 300 ms in
 * usleep (which starts only once the reader sleeps in its read) and then
 * writes. Prints on stderr the lengths it measured itself: "slept",
 * "usleep" and "read", in ns. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "asleep.h"

static int pfd[2];
static atomic_int reader_tid;
static long long read_ns;

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
	atomic_store(&reader_tid, gettid());
	long long t0 = now_ns();
	if (read(pfd[0], &c, 1) != 1)
		perror("read");
	read_ns = now_ns() - t0;
	__asm__ volatile("" ::: "memory");
}

static void *reader(void *arg)
{
	(void)arg;
	read_here();
	fprintf(stderr, "read %lld\n", read_ns);
	return NULL;
}

int main(void)
{
	if (pipe(pfd) < 0)
		return 1;
	sleep_here();
	pthread_t th;
	pthread_create(&th, NULL, reader, NULL);
	while (!atomic_load(&reader_tid))
		sched_yield();
	thread_asleep(atomic_load(&reader_tid));
	long long t0 = now_ns();
	usleep(300 * 1000);
	fprintf(stderr, "usleep %lld\n", now_ns() - t0);
	if (write(pfd[1], "x", 1) != 1)
		return 1;
	pthread_join(th, NULL);
	printf("done\n");
	return 0;
}
