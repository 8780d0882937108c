/* A small workload for the viewer's tests: two named threads burning CPU in
 * known functions, allocations with a peak in the middle, and one leak. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile unsigned long sink;

__attribute__((noinline)) static void view_spin(unsigned long n)
{
	unsigned long x = 0;
	for (unsigned long i = 0; i < n; i++)
		x = x * 6364136223846793005ul + i;
	sink += x;
}

/* The empty asm keeps the calls out of tail position, so these frames stay on the stack. */
__attribute__((noinline)) static void view_hot_parse(void)
{
	view_spin(300000000ul);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void view_hot_hash(void)
{
	view_spin(150000000ul);
	__asm__ volatile("" ::: "memory");
}

/* Allocates up to a peak of about 8 MiB, then frees all but one block. */
__attribute__((noinline)) static void *view_grow(void)
{
	enum { N = 64 };
	char *blocks[N];
	for (int i = 0; i < N; i++) {
		blocks[i] = malloc(128 << 10);
		memset(blocks[i], i, 128 << 10);
		view_spin(200000ul);
	}
	for (int i = 1; i < N; i++)
		free(blocks[i]);
	return blocks[0];
}

__attribute__((noinline)) static void *view_temp_churn(void)
{
	for (int i = 0; i < 2000; i++) {
		char *p = malloc(64 + i % 64);
		p[0] = (char)i;
		sink += (unsigned long)p[0];
		free(p);
	}
	return NULL;
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "view-worker");
	view_hot_hash();
	view_temp_churn();
	return NULL;
}

int main(void)
{
	pthread_t t;
	pthread_create(&t, NULL, worker, NULL);
	view_hot_parse();
	void *leak = view_grow();
	pthread_join(t, NULL);
	printf("leaked block at %p\n", leak);
	return 0;
}
