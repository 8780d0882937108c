/* A thread with the smallest stack (16 KB, PTHREAD_STACK_MIN), for the test
 * that the agent leaves a program's stack budget unchanged within 1 KB
 * (issue 12, item 8). Each mode runs one such thread that allocates and
 * burns CPU where its stack is deepest:
 *   unw_minstack depth N FRAME  recurses N levels of FRAME bytes each,
 *                               allocating and burning CPU at every level;
 *   unw_minstack use C          uses C bytes of stack below the thread
 *                               function's frame, then allocates and burns;
 *   unw_minstack avail          prints the bytes from the thread function's
 *                               frame to the end of its stack;
 *   unw_minstack altstack       sets, queries and disables a signal stack
 *                               and prints what sigaltstack reported (the
 *                               program's own view, with or without agent).
 * Prints "ok" when the thread finished (a stack overflow kills the process).
 */
#define _GNU_SOURCE
#include <alloca.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile unsigned long sink;
static int depth, frame;
static size_t use;

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Allocations from a few call sites (each a new stack for the hooks), and
 * CPU time for the sampling timer. */
static __attribute__((noinline)) void work(double seconds)
{
	double end = cpu_now() + seconds;
	do {
		void *p = malloc(24), *q = calloc(4, 100);
		p = realloc(p, 300);
		sink += (uintptr_t)p ^ (uintptr_t)q;
		free(q);
		free(p);
		for (int i = 0; i < 20000; i++)
			sink = sink * 31 + (unsigned long)i;
	} while (cpu_now() < end);
}

static __attribute__((noinline)) void recurse(int n)
{
	volatile char *buf = alloca((size_t)frame);
	buf[0] = (char)n;
	buf[frame - 1] = (char)n;
	work(0.005);
	if (n > 1)
		recurse(n - 1);
	sink += buf[0];
}

static __attribute__((noinline)) void deep(void)
{
	work(0.2);
}

static __attribute__((noinline)) void consume(void)
{
	volatile char *buf = alloca(use);
	buf[0] = 1;
	buf[use - 1] = 1;
	/* Touch every page from the top down, as the stack grows. */
	for (size_t i = use; i >= 4096; i -= 4096)
		buf[i - 4096] = 1;
	deep();
	sink += buf[0];
}

/* The thread's first allocation sets up its arena, deep inside glibc: do
 * it here, so that the deepest point measures the steady state. */
static void *run_depth(void *arg)
{
	free(malloc(1));
	recurse(depth);
	return arg;
}

static void *run_use(void *arg)
{
	free(malloc(1));
	consume();
	return arg;
}

static void *run_avail(void *arg)
{
	pthread_attr_t a;
	void *lo;
	size_t size;
	pthread_getattr_np(pthread_self(), &a);
	pthread_attr_getstack(&a, &lo, &size);
	printf("%zu\n", (size_t)((char *)__builtin_frame_address(0) - (char *)lo));
	return arg;
}

static void show(const char *what)
{
	stack_t o;
	if (sigaltstack(NULL, &o) < 0) {
		printf("%s: error\n", what);
		return;
	}
	printf("%s: %s size %zu\n", what,
	       o.ss_flags & SS_DISABLE	 ? "disabled"
	       : o.ss_flags & SS_ONSTACK ? "on"
					 : "enabled",
	       o.ss_flags & SS_DISABLE ? (size_t)0 : o.ss_size);
}

static void on_usr1(int sig)
{
	char here;
	stack_t o;
	sigaltstack(NULL, &o);
	sink += (size_t)(&here - (char *)o.ss_sp) < o.ss_size;
	printf("handler on its stack: %s\n", (size_t)(&here - (char *)o.ss_sp) < o.ss_size ? "yes" : "no");
}

static void *run_altstack(void *arg)
{
	static char mine[65536];
	show("start");
	stack_t ss = {.ss_sp = mine, .ss_size = sizeof(mine), .ss_flags = 0}, old;
	sigaltstack(&ss, &old);
	printf("old: %s\n", old.ss_flags & SS_DISABLE ? "disabled" : "enabled");
	show("set");
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, &old);
	printf("old: %s size %zu\n", old.ss_flags & SS_DISABLE ? "disabled" : "enabled", old.ss_size);
	show("disabled");
	work(0.05);
	return arg;
}

int main(int argc, char **argv)
{
	void *(*fn)(void *);
	if (argc == 4 && !strcmp(argv[1], "depth")) {
		depth = atoi(argv[2]);
		frame = atoi(argv[3]);
		fn = run_depth;
	} else if (argc == 3 && !strcmp(argv[1], "use")) {
		use = (size_t)atol(argv[2]);
		fn = run_use;
	} else if (argc == 2 && !strcmp(argv[1], "avail")) {
		fn = run_avail;
	} else if (argc == 2 && !strcmp(argv[1], "altstack")) {
		fn = run_altstack;
	} else {
		return 2;
	}
	pthread_attr_t a;
	pthread_t th;
	pthread_attr_init(&a);
	if (pthread_attr_setstacksize(&a, 16384) != 0 || pthread_create(&th, &a, fn, NULL) != 0) {
		printf("cannot create the thread\n");
		return 1;
	}
	pthread_join(th, NULL);
	if (fn != run_avail)
		printf("ok\n");
	return 0;
}
