/* 32 threads, each named spine-wNN, each burning the same CPU time in
 * spine_thread_work: every one of them must be sampled. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static volatile unsigned long spine_t_sink;
static unsigned long n = 25000000;

__attribute__((noinline, noipa)) void spine_thread_work(unsigned long k)
{
	unsigned long x = spine_t_sink;
	for (unsigned long i = 0; i < k; i++)
		x = x * 6364136223846793005ul + i;
	spine_t_sink = x;
}

static void *run(void *arg)
{
	char name[16];
	snprintf(name, sizeof(name), "spine-w%02d", (int)(long)arg);
	pthread_setname_np(pthread_self(), name);
	spine_thread_work(n);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		n = strtoul(argv[1], NULL, 10);
	pthread_t t[32];
	for (long i = 0; i < 32; i++)
		pthread_create(&t[i], NULL, run, (void *)i);
	for (int i = 0; i < 32; i++)
		pthread_join(t[i], NULL);
	return 0;
}
