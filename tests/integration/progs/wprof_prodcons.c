/* A producer and a consumer on a condition variable, for test-wait-e2e: the
 * producer makes ITEMS items, sleeping 2 ms before each in make_item; the
 * consumer waits for each on the condition in take_item. Prints the items'
 * sum, and on stderr the consumer's time in pthread_cond_wait by its own
 * clock ("cond_wait NS", and "cond_waits N" calls). usage: wprof_prodcons [ITEMS] (default 100) */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "asleep.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
static int queued, done;
static long items = 100;
static long long cond_ns, cond_calls;

__attribute__((noinline)) void make_item(void)
{
	struct timespec ts = {0, 2 * 1000 * 1000};
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&lock);
	queued++;
	pthread_cond_signal(&ready);
	pthread_mutex_unlock(&lock);
}

__attribute__((noinline)) int take_item(void)
{
	pthread_mutex_lock(&lock);
	while (!queued && !done) {
		long long t0 = now_ns();
		pthread_cond_wait(&ready, &lock);
		cond_ns += now_ns() - t0;
		cond_calls++;
	}
	int got = queued > 0;
	queued -= got;
	pthread_mutex_unlock(&lock);
	return got;
}

static void *producer(void *arg)
{
	(void)arg;
	for (long i = 0; i < items; i++)
		make_item();
	pthread_mutex_lock(&lock);
	done = 1;
	pthread_cond_broadcast(&ready);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *consumer(void *arg)
{
	long *sum = arg;
	while (take_item() || !done)
		++*sum;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		items = strtol(argv[1], NULL, 10);
	pthread_t p, c;
	long sum = 0;
	pthread_create(&c, NULL, consumer, &sum);
	pthread_setname_np(c, "consumer");
	pthread_create(&p, NULL, producer, NULL);
	pthread_setname_np(p, "producer");
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	printf("wprof_prodcons: %ld items\n", sum);
	fprintf(stderr, "cond_wait %lld\ncond_waits %lld\n", cond_ns, cond_calls);
	return 0;
}
