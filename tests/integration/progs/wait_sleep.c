/* Waits of known length in known functions, for test-wait-agent-basic:
 * sleeps 200 ms in sleep_here, and a second thread blocks 300 ms on a pipe
 * read in read_here (the main thread writes after 300 ms). */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int pfd[2];

__attribute__((noinline)) void sleep_here(void)
{
	struct timespec ts = {0, 200 * 1000 * 1000};
	nanosleep(&ts, NULL);
	__asm__ volatile("" ::: "memory");
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
	usleep(300 * 1000);
	if (write(pfd[1], "x", 1) != 1)
		return 1;
	pthread_join(th, NULL);
	printf("done\n");
	return 0;
}
