/* Stress program: threads cancelled by pthread_cancel at different points:
 * blocked in a condition wait, sleeping, reading a pipe, and in a compute and
 * allocate loop with deferred cancellation points. Cleanup handlers free what
 * each thread holds, so nothing leaks. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t ready;
static int pipefd[2];

static void unlock(void *arg)
{
	pthread_mutex_unlock(arg);
}

static void release(void *arg)
{
	free(*(void **)arg);
	*(void **)arg = NULL;
}

static void *in_condwait(void *arg)
{
	void *held = malloc(100);
	pthread_cleanup_push(release, &held);
	pthread_mutex_lock(&mu);
	pthread_cleanup_push(unlock, &mu);
	pthread_barrier_wait(&ready);
	for (;;)
		pthread_cond_wait(&never, &mu);
	pthread_cleanup_pop(1);
	pthread_cleanup_pop(1);
	return NULL;
}

static void *in_sleep(void *arg)
{
	void *held = malloc(200);
	pthread_cleanup_push(release, &held);
	pthread_barrier_wait(&ready);
	for (;;)
		sleep(10);
	pthread_cleanup_pop(1);
	return NULL;
}

static void *in_read(void *arg)
{
	char c;
	void *held = malloc(300);
	pthread_cleanup_push(release, &held);
	pthread_barrier_wait(&ready);
	for (;;)
		if (read(pipefd[0], &c, 1) <= 0)
			break;
	pthread_cleanup_pop(1);
	return NULL;
}

static void release_volatile(void *arg)
{
	free(*(void *volatile *)arg);
	*(void *volatile *)arg = NULL;
}

static void *in_compute(void *arg)
{
	/* volatile: cleanup runs after the unwinder leaves this frame. */
	void *volatile held = NULL;
	volatile uint64_t h = 1;
	pthread_cleanup_push(release_volatile, (void *)&held);
	pthread_barrier_wait(&ready);
	for (;;) {
		free(held);
		held = malloc(64 + (size_t)(h % 1000));
		for (int i = 0; i < 10000; i++)
			h = h * 6364136223846793005ULL + 1;
		pthread_testcancel();
	}
	pthread_cleanup_pop(1);
	return NULL;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 20;
	void *(*kinds[])(void *) = {in_condwait, in_sleep, in_read, in_compute, in_compute};
	const int nk = (int)(sizeof(kinds) / sizeof(kinds[0]));
	if (rounds < 1 || pipe(pipefd) != 0) {
		fprintf(stderr, "usage: stress_cancel [ROUNDS]\n");
		return 2;
	}
	int cancelled = 0;
	for (int r = 0; r < rounds; r++) {
		pthread_t t[8];
		pthread_barrier_init(&ready, NULL, (unsigned)nk + 1);
		for (int k = 0; k < nk; k++)
			pthread_create(&t[k], NULL, kinds[k], NULL);
		pthread_barrier_wait(&ready);
		usleep(5000); /* let the compute threads run and be sampled */
		for (int k = 0; k < nk; k++)
			pthread_cancel(t[k]);
		for (int k = 0; k < nk; k++) {
			void *res;
			pthread_join(t[k], &res);
			cancelled += res == PTHREAD_CANCELED;
		}
		pthread_barrier_destroy(&ready);
	}
	printf("rounds %d cancelled %d of %d\n", rounds, cancelled, rounds * nk);
	return cancelled == rounds * nk ? 0 : 1;
}
