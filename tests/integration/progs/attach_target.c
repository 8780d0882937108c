/* The running processes of the attach tests (fathom record --pid), one mode
 * each, every one running until SIGTERM and printing "ready" once running:
 *   split   one thread, CPU split 60/30/10 over hot60, warm30, cool10
 *   server  a reader thread in poll() answering each line of stdin with
 *           "LINE -> CHECKSUM" computed by 3 worker threads (their CPU in
 *           work_request), so the output depends on the input only
 *   alloc   mallocs at alloc_site (1000 live blocks of 100 bytes, replaced in
 *           turn) and a burst at burst_site; prints the counts at the end
 *   dlfork  dlopen/dlclose of ARG2 (a library path) and fork/wait in a loop
 *   clock   a tight CLOCK_MONOTONIC loop; at the end prints the longest gap
 *           between two readings, "maxgap_us N"
 *   masked  a thread that blocks every signal spins in masked_work, the main
 *           thread in open_work; at the end the thread prints whether its
 *           mask reads as it set it ("mask kept")
 *   exec    spins in hot60/warm30/cool10 for 1.5 s, then execs /bin/echo
 *           "exec ok"
 *   seccomp-kill, seccomp-ok  a seccomp filter that kills the process at
 *           timer_create (which the agent needs) or at acct (which it does
 *           not), then the split loop
 *   waits   threads that wait: "sleeper" in nanosleep (sleep_site, 20 ms at
 *           a time), "poller" in poll on a pipe nobody writes to
 *           (poll_site, 20 ms), "locker" for a mutex (lock_site) that
 *           "holder" holds 10 ms at a time; the main thread maps 1 MiB
 *           every 20 ms at map_site, keeping the last 4 (the older ones
 *           unmapped); leaves by _exit */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jitter.h"

static volatile sig_atomic_t g_stop;
static volatile uint64_t g_sink;

static void on_term(int sig)
{
	(void)sig;
	g_stop = 1;
}

static double thread_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static double mono_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* Spins for ms of this thread's CPU time. */
static void spin(double ms)
{
	double until = thread_ms() + ms;
	uint64_t x = g_sink;
	while (thread_ms() < until)
		for (int i = 0; i < 2000; i++)
			x = x * 6364136223846793005ull + (uint64_t)i;
	g_sink = x;
}

/* Each call's length varies around its mean (jitter.h), so that the 1 ms
 * round cannot alias with the timer's 4 ms tick (a fixed round read warm30
 * at 38.8% in a loaded run). */
static uint32_t g_seed = JITTER_SEED;

__attribute__((noinline, noipa)) void hot60(void)
{
	spin(0.6 * jitter(&g_seed));
	__asm__ volatile("");
}

__attribute__((noinline, noipa)) void warm30(void)
{
	spin(0.3 * jitter(&g_seed));
	__asm__ volatile("");
}

__attribute__((noinline, noipa)) void cool10(void)
{
	spin(0.1 * jitter(&g_seed));
	__asm__ volatile("");
}

/* ------------------------------------------------------------------ server */

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER, g_done = PTHREAD_COND_INITIALIZER;
static char g_req[256];
static int g_have, g_part[3], g_parts_done;
static uint64_t g_sum[3];

__attribute__((noinline, noipa)) uint64_t work_request(const char *s, int part)
{
	uint64_t h = 1469598103934665603ull + (uint64_t)part;
	for (int round = 0; round < 150000; round++)
		for (const char *p = s; *p; p++)
			h = (h ^ (uint64_t)(unsigned char)*p) * 1099511628211ull;
	return h;
}

static void *worker(void *arg)
{
	int part = (int)(intptr_t)arg;
	pthread_mutex_lock(&g_lock);
	for (;;) {
		while (!(g_have && !g_part[part]))
			pthread_cond_wait(&g_cond, &g_lock);
		char req[256];
		memcpy(req, g_req, sizeof(req));
		pthread_mutex_unlock(&g_lock);
		uint64_t h = work_request(req, part);
		pthread_mutex_lock(&g_lock);
		g_sum[part] = h;
		g_part[part] = 1;
		if (++g_parts_done == 3)
			pthread_cond_signal(&g_done);
	}
	return NULL;
}

static int server(void)
{
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
	printf("ready\n");
	fflush(stdout);
	char line[256];
	size_t n = 0;
	while (!g_stop) {
		struct pollfd p = {0, POLLIN, 0};
		int r = poll(&p, 1, 100);
		if (r <= 0)
			continue;
		ssize_t k = read(0, line + n, 1);
		if (k <= 0)
			break;
		if (line[n] != '\n' && n + 2 < sizeof(line)) {
			n++;
			continue;
		}
		line[n] = 0;
		n = 0;
		pthread_mutex_lock(&g_lock);
		memcpy(g_req, line, sizeof(g_req));
		memset(g_part, 0, sizeof(g_part));
		g_parts_done = 0;
		g_have = 1;
		pthread_cond_broadcast(&g_cond);
		while (g_parts_done < 3)
			pthread_cond_wait(&g_done, &g_lock);
		g_have = 0;
		uint64_t h = g_sum[0] ^ g_sum[1] ^ g_sum[2];
		pthread_mutex_unlock(&g_lock);
		printf("%s -> %016llx\n", line, (unsigned long long)h);
		fflush(stdout);
	}
	return 0;
}

/* ------------------------------------------------------------------- alloc */

#define LIVE 1000
static void *g_live[LIVE];

__attribute__((noinline, noipa)) void *alloc_site(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" ::"r"(p)); /* no tail call: this frame stays */
	return p;
}

__attribute__((noinline, noipa)) void burst_site(void)
{
	void *b[64];
	for (int i = 0; i < 64; i++)
		b[i] = calloc(1, 256);
	for (int i = 0; i < 64; i++)
		free(b[i]);
}

static int alloc_mode(void)
{
	unsigned long long allocs = 0;
	for (int i = 0; i < LIVE; i++)
		g_live[i] = alloc_site(100);
	printf("ready\n");
	fflush(stdout);
	for (unsigned i = 0; !g_stop; i++) {
		free(g_live[i % LIVE]);
		g_live[i % LIVE] = alloc_site(100);
		allocs++;
		if (i % 1000 == 0) {
			burst_site();
			nanosleep(&(struct timespec){0, 1000000}, NULL);
		}
	}
	printf("allocs %llu\n", allocs);
	return 0;
}

/* ------------------------------------------------------------------ dlfork */

static int dlfork(const char *lib)
{
	printf("ready\n");
	fflush(stdout);
	unsigned long rounds = 0;
	while (!g_stop) {
		void *h = dlopen(lib, RTLD_NOW);
		if (!h) {
			fprintf(stderr, "dlopen: %s\n", dlerror());
			return 1;
		}
		dlclose(h);
		if (++rounds % 20 == 0) {
			pid_t c = fork();
			if (c == 0)
				_exit(7);
			int st;
			if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 7) {
				fprintf(stderr, "fork child went wrong\n");
				return 1;
			}
		}
	}
	printf("rounds ok\n");
	return 0;
}

/* ------------------------------------------------------------------- clock */

static int clock_mode(void)
{
	printf("ready\n");
	fflush(stdout);
	double last = mono_us(), max = 0;
	while (!g_stop) {
		double now = mono_us();
		if (now - last > max)
			max = now - last;
		last = now;
	}
	printf("maxgap_us %.0f\n", max);
	return 0;
}

/* ------------------------------------------------------------------ masked */

__attribute__((noinline, noipa)) void masked_work(void)
{
	spin(1);
	__asm__ volatile("");
}

__attribute__((noinline, noipa)) void open_work(void)
{
	spin(1);
	__asm__ volatile("");
}

static void *masked_thread(void *a)
{
	sigset_t all, set, now;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	pthread_sigmask(SIG_BLOCK, NULL, &set);
	*(volatile int *)a = 1;
	while (!g_stop)
		masked_work();
	pthread_sigmask(SIG_BLOCK, NULL, &now);
	for (int s = 1; s < NSIG; s++)
		if (sigismember(&set, s) != sigismember(&now, s)) {
			printf("mask changed: signal %d\n", s);
			return NULL;
		}
	printf("mask kept\n");
	return NULL;
}

static int masked_mode(void)
{
	volatile int started = 0;
	pthread_t th;
	pthread_create(&th, NULL, masked_thread, (void *)&started);
	while (!started)
		sched_yield();
	printf("ready\n");
	fflush(stdout);
	while (!g_stop)
		open_work();
	pthread_join(th, NULL);
	return 0;
}

/* ------------------------------------------------------------------- waits */

static pthread_mutex_t g_wlock = PTHREAD_MUTEX_INITIALIZER;
static int g_pipe[2];

static void nap_ms(long ms)
{
	nanosleep(&(struct timespec){ms / 1000, ms % 1000 * 1000000}, NULL);
}

__attribute__((noinline, noipa)) void sleep_site(void)
{
	nap_ms(20);
	__asm__ volatile("");
}

__attribute__((noinline, noipa)) void poll_site(void)
{
	struct pollfd p = {g_pipe[0], POLLIN, 0};
	poll(&p, 1, 20);
	__asm__ volatile("");
}

__attribute__((noinline, noipa)) void lock_site(void)
{
	pthread_mutex_lock(&g_wlock);
	pthread_mutex_unlock(&g_wlock);
	__asm__ volatile("");
}

__attribute__((noinline, noipa)) void hold_site(void)
{
	pthread_mutex_lock(&g_wlock);
	nap_ms(10);
	pthread_mutex_unlock(&g_wlock);
	__asm__ volatile("");
}

__attribute__((noinline, noipa)) void *map_site(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED)
		memset(p, 1, n);
	__asm__ volatile("" ::"r"(p));
	return p;
}

static void *waiter(void *arg)
{
	const char *name = arg;
	pthread_setname_np(pthread_self(), name);
	while (!g_stop) {
		if (!strcmp(name, "sleeper"))
			sleep_site();
		else if (!strcmp(name, "poller"))
			poll_site();
		else if (!strcmp(name, "holder")) {
			hold_site();
			nap_ms(1); /* the locker's turn */
		} else
			lock_site();
	}
	return NULL;
}

static int waits_mode(void)
{
	static const char *const names[] = {"sleeper", "poller", "holder", "locker"};
	pthread_t th[4];
	if (pipe(g_pipe) < 0)
		return 2;
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, waiter, (void *)names[i]);
	printf("ready\n");
	fflush(stdout);
	void *maps[4] = {0};
	unsigned long n = 0;
	while (!g_stop) {
		void **m = &maps[n++ % 4];
		if (*m && *m != MAP_FAILED)
			munmap(*m, 1 << 20);
		*m = map_site(1 << 20);
		nap_ms(20);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	printf("maps %lu\n", n);
	fflush(stdout);
	_exit(0); /* no destructor sees it: the agent's _exit ends a dump */
}

/* ---------------------------------------------------------------- seccomp */

/* Installs a seccomp filter that lets everything through but one call,
 * which it answers with action. Returns 0, or 77 when filters are not
 * permitted here. */
static int seccomp_filter(int nr, unsigned action)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, action),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		perror("seccomp");
		return 77;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_term, .sa_flags = SA_RESTART};
	sigaction(SIGTERM, &sa, NULL);
	const char *mode = argc > 1 ? argv[1] : "split";
	if (!strcmp(mode, "server"))
		return server();
	if (!strcmp(mode, "alloc"))
		return alloc_mode();
	if (!strcmp(mode, "dlfork"))
		return argc > 2 ? dlfork(argv[2]) : 2;
	if (!strcmp(mode, "clock"))
		return clock_mode();
	if (!strcmp(mode, "masked"))
		return masked_mode();
	if (!strcmp(mode, "waits"))
		return waits_mode();
	/* seccomp-kill: timer_create (which the agent needs) kills the process;
	 * seccomp-ok: acct (which it does not) does. */
	int rc = !strcmp(mode, "seccomp-kill") ? seccomp_filter(SYS_timer_create, SECCOMP_RET_KILL_PROCESS)
		 : !strcmp(mode, "seccomp-ok") ? seccomp_filter(SYS_acct, SECCOMP_RET_KILL_PROCESS)
					       : 0;
	if (rc)
		return rc;
	int exec = !strcmp(mode, "exec");
	double until = mono_us() + 1.5e6;
	printf("ready\n");
	fflush(stdout);
	while (!g_stop) {
		hot60();
		warm30();
		cool10();
		if (exec && mono_us() > until) {
			fflush(stdout);
			execl("/bin/echo", "echo", "exec ok", (char *)NULL);
			return 3;
		}
	}
	return 0;
}
