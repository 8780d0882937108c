/* Stress program: signal handlers that run on an alternate stack (sigaltstack)
 * and burn CPU there, so the profiler's sampling signal lands while the thread is
 * on the alternate stack and inside another handler; plus a periodic SIGALRM
 * that interrupts system calls (SA_RESTART off) in the main thread. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static sem_t handled;
static volatile sig_atomic_t on_alt_count, off_alt_count, alarms;
static char *alt_base;
static size_t alt_size;

static __attribute__((noinline)) uint64_t spin(uint64_t n)
{
	volatile uint64_t h = 0;
	for (uint64_t i = 0; i < n; i++)
		h += i * i;
	return h;
}

/* Context: signal handler on the alternate stack; only async-signal-safe calls. */
static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	char local;
	if (&local >= alt_base && &local < alt_base + alt_size)
		on_alt_count++;
	else
		off_alt_count++;
	spin(1000000);
	sem_post(&handled);
	errno = saved;
}

static void on_alarm(int sig)
{
	alarms++;
}

struct target {
	pthread_t main;
	int count;
};

static void *sender(void *arg)
{
	struct target *t = arg;
	for (int i = 0; i < t->count; i++) {
		pthread_kill(t->main, SIGUSR1);
		while (sem_wait(&handled) != 0 && errno == EINTR)
			;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 300;
	if (count < 1) {
		fprintf(stderr, "usage: stress_signals [COUNT]\n");
		return 2;
	}
	alt_size = 1 << 16;
	alt_base = malloc(alt_size);
	stack_t ss = {.ss_sp = alt_base, .ss_size = alt_size, .ss_flags = 0};
	if (!alt_base || sigaltstack(&ss, NULL) != 0) {
		perror("sigaltstack");
		return 1;
	}
	sem_init(&handled, 0, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	struct sigaction al;
	memset(&al, 0, sizeof(al));
	al.sa_handler = on_alarm;
	sigaction(SIGALRM, &al, NULL); /* no SA_RESTART: nanosleep returns EINTR */

	struct itimerval it = {.it_interval = {0, 20000}, .it_value = {0, 20000}};
	setitimer(ITIMER_REAL, &it, NULL);

	struct target t = {pthread_self(), count};
	pthread_t th;
	pthread_create(&th, NULL, sender, &t);
	/* The main thread sleeps and works between signals; its sleeps are
	 * interrupted by SIGALRM and resumed. */
	uint64_t h = 0;
	for (int i = 0; i < 50; i++) {
		struct timespec ts = {0, 2000000}, rem;
		while (nanosleep(&ts, &rem) != 0 && errno == EINTR)
			ts = rem;
		h += spin(100000);
	}
	pthread_join(th, NULL);
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	printf("handled %d on the alternate stack, %d off it; alarms seen: %s; h %llu\n", (int)on_alt_count,
	       (int)off_alt_count, alarms > 0 ? "yes" : "no", (unsigned long long)h);
	return off_alt_count == 0 ? 0 : 1;
}
