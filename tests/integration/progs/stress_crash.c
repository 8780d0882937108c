/* Stress program: dies of a signal after working and allocating for a while:
 *   stress_crash abort    abort() (SIGABRT, shell status 134)
 *   stress_crash segv     a write through a null pointer (SIGSEGV, 139)
 * A second thread is busy allocating when it happens. What the agent flushed
 * before the crash must stay readable. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int *volatile nowhere;

static __attribute__((noinline)) uint64_t churn(long n)
{
	uint64_t h = 3;
	for (long i = 0; i < n; i++) {
		h = h * 31 + (uint64_t)i;
		if (i % 16)
			continue; /* an allocation every 16th round */
		char *p = malloc(32 + (size_t)(i % 300));
		if (!p)
			abort();
		p[0] = (char)i;
		h += (uint64_t)p[0];
		if (i % 3)
			free(p); /* the rest is live at the crash */
	}
	return h;
}

static void *background(void *arg)
{
	for (;;)
		churn(16000);
	return NULL;
}

static __attribute__((noinline)) void crash(const char *mode)
{
	if (strcmp(mode, "abort") == 0)
		abort();
	*nowhere = 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "abort";
	if (strcmp(mode, "abort") != 0 && strcmp(mode, "segv") != 0) {
		fprintf(stderr, "usage: stress_crash abort|segv\n");
		return 2;
	}
	pthread_t t;
	pthread_create(&t, NULL, background, NULL);
	printf("before the crash: %llu\n", (unsigned long long)churn(40000000));
	fprintf(stderr, "stress_crash: about to %s\n", mode);
	fflush(stdout);
	crash(mode);
	return 0;
}
