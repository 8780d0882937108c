/* Test program: threads that block every signal, as thread pools do, and the
 * calls that wait for signals. Its output must be the same with and without
 * the agent.
 *   msk_workers burn THREADS MS    workers block all signals (pthread_sigmask
 *                                  and sigprocmask, alternately), check their
 *                                  view of the mask, burn MS ms of CPU each;
 *                                  stderr gets "workers_cpu_ms N"
 *   msk_workers waits              sigsuspend, sigwaitinfo, sigtimedwait,
 *                                  signalfd, ppoll, pselect and epoll_pwait on
 *                                  ordinary signals, each woken or timed out
 *                                  only as the program arranged
 *   msk_workers own SIG            the program's own use of signal SIG (the
 *                                  agent's): blocked through every entry
 *                                  point, sent while blocked, delivered once
 *                                  unblocked; the mask inherited across exec
 *                                  and posix_spawn
 *   msk_workers showmask SIG       prints whether SIG and SIGUSR2 are blocked
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <spawn.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Old entry points that the program under test may well use. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static double clock_s(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Every signal a program can block (glibc keeps two for itself). */
static int blockable(int s)
{
	return s != SIGKILL && s != SIGSTOP && s != 32 && s != 33;
}

/* The view of the mask holds exactly what want says for every signal. */
static int mask_is(int all)
{
	sigset_t cur;
	if (pthread_sigmask(SIG_BLOCK, NULL, &cur) != 0)
		return 0;
	for (int s = 1; s <= SIGRTMAX; s++)
		if (blockable(s) && sigismember(&cur, s) != all)
			return 0;
	return 1;
}

static __attribute__((noinline)) uint64_t burn_cpu(double seconds)
{
	volatile uint64_t h = 1;
	double end = clock_s(CLOCK_THREAD_CPUTIME_ID) + seconds;
	while (clock_s(CLOCK_THREAD_CPUTIME_ID) < end)
		for (int i = 0; i < 20000; i++)
			h = h * 6364136223846793005u + 1442695040888963407u;
	return h;
}

struct worker {
	int index;
	double ms;
	double cpu;
	int ok;
};

static void *worker(void *p)
{
	struct worker *w = p;
	sigset_t all, none, old;
	sigfillset(&all);
	sigemptyset(&none);
	int ok = 1;
	/* Thread pools block everything so that signals go elsewhere. */
	if (w->index % 2)
		ok &= sigprocmask(SIG_SETMASK, &all, &old) == 0;
	else
		ok &= pthread_sigmask(SIG_BLOCK, &all, &old) == 0;
	ok &= mask_is(1);
	/* Unblocked and blocked again: the view follows. */
	ok &= pthread_sigmask(SIG_SETMASK, &none, NULL) == 0 && mask_is(0);
	ok &= sigprocmask(SIG_BLOCK, &all, &old) == 0 && mask_is(1);
	/* The old mask returned is what the thread set. */
	for (int s = 1; s <= SIGRTMAX; s++)
		if (blockable(s) && sigismember(&old, s))
			ok = 0;
	double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	burn_cpu(w->ms / 1000.0);
	w->cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	ok &= mask_is(1);
	w->ok = ok;
	return NULL;
}

static int burn(int n, double ms)
{
	struct worker w[64];
	pthread_t th[64];
	sigset_t all, old;
	if (n > 64)
		n = 64;
	/* xz's way: everything blocked around pthread_create, so the workers
	 * start blocked; the main thread's own mask is put back after. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 0; i < n; i++) {
		w[i] = (struct worker){i, ms, 0, 0};
		pthread_create(&th[i], NULL, worker, &w[i]);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	int ok = mask_is(0), nok = 0;
	double cpu = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		nok += w[i].ok;
		cpu += w[i].cpu;
	}
	printf("main thread's mask restored: %s\n", ok ? "yes" : "no");
	printf("workers that saw their own mask: %d of %d\n", nok, n);
	fprintf(stderr, "workers_cpu_ms %.0f\n", cpu * 1000);
	return ok && nok == n ? 0 : 1;
}

/* ---------------------------------------------------------------- waits */

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1++;
}

struct sender {
	pthread_t target;
	int sig;
	int ms;
};

static void *send_later(void *p)
{
	struct sender *s = p;
	struct timespec ts = {s->ms / 1000, (s->ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
	pthread_kill(s->target, s->sig);
	return NULL;
}

static pthread_t later(struct sender *s, int sig, int ms)
{
	pthread_t th;
	s->target = pthread_self();
	s->sig = sig;
	s->ms = ms;
	pthread_create(&th, NULL, send_later, s);
	return th;
}

/* A wait that times out must take its whole time and end with 0 or EAGAIN,
 * never EINTR. */
static void report_timeout(const char *what, int r, int err, double took)
{
	printf("%s: %s, %s\n", what,
	       r < 0 ? (err == EINTR	? "EINTR"
			: err == EAGAIN ? "EAGAIN"
					: "error")
	       : r   ? "a signal"
		     : "0",
	       took >= 0.28 ? "after its timeout" : "EARLY");
}

static volatile sig_atomic_t full_in_handler;

/* A handler run with every signal blocked (sa_mask full), which saves and
 * restores the mask, as many do. */
static void on_usr2_full(int sig)
{
	(void)sig;
	sigset_t none, old;
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &none, &old);
	int all = 1;
	for (int s = 1; s <= SIGRTMAX; s++)
		if (blockable(s) && !sigismember(&old, s))
			all = 0;
	full_in_handler = all;
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static int waits(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t usr1, none, all;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigemptyset(&none);
	sigfillset(&all);
	struct sender snd;
	pthread_t th;

	/* sigsuspend returns only once the program's signal ran its handler. */
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	th = later(&snd, SIGUSR1, 300);
	int returns = 0;
	got_usr1 = 0;
	while (!got_usr1) {
		sigsuspend(&none);
		returns++;
	}
	pthread_join(th, NULL);
	printf("sigsuspend: returned %d time(s) for 1 signal\n", returns);

	/* sigwaitinfo and sigtimedwait take the program's signal. */
	th = later(&snd, SIGUSR1, 300);
	siginfo_t si;
	int r = sigwaitinfo(&usr1, &si);
	printf("sigwaitinfo: %s\n", r == SIGUSR1 ? "SIGUSR1" : r < 0 && errno == EINTR ? "EINTR" : "other");
	pthread_join(th, NULL);
	th = later(&snd, SIGUSR1, 300);
	struct timespec two = {2, 0}, t300 = {0, 300000000L};
	r = sigtimedwait(&usr1, &si, &two);
	printf("sigtimedwait: %s\n", r == SIGUSR1 ? "SIGUSR1" : r < 0 && errno == EINTR ? "EINTR" : "other");
	pthread_join(th, NULL);
	double t0 = clock_s(CLOCK_MONOTONIC);
	r = sigtimedwait(&usr1, &si, &t300);
	report_timeout("sigtimedwait with nothing sent", r, errno, clock_s(CLOCK_MONOTONIC) - t0);
	/* A set of every signal: only the program's. */
	sigset_t old;
	pthread_sigmask(SIG_SETMASK, &all, &old);
	th = later(&snd, SIGUSR1, 300);
	r = sigwaitinfo(&all, &si);
	printf("sigwaitinfo on every signal: %s\n", r == SIGUSR1	      ? "SIGUSR1"
						    : r < 0 && errno == EINTR ? "EINTR"
									      : "another signal");
	pthread_join(th, NULL);

	/* signalfd on every signal reads only the program's. */
	int fd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
	th = later(&snd, SIGUSR1, 300);
	burn_cpu(0.1);
	pthread_join(th, NULL);
	struct signalfd_siginfo fsi;
	int nusr1 = 0, others = 0;
	while (read(fd, &fsi, sizeof(fsi)) == (ssize_t)sizeof(fsi)) {
		if (fsi.ssi_signo == SIGUSR1)
			nusr1++;
		else
			others++;
	}
	printf("signalfd on every signal: %d SIGUSR1, %d other\n", nusr1, others);
	close(fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	/* Waits with a signal mask, timing out: never ended early. */
	struct pollfd pfd = {-1, 0, 0};
	t0 = clock_s(CLOCK_MONOTONIC);
	r = ppoll(&pfd, 1, &t300, &none);
	report_timeout("ppoll with a mask", r, errno, clock_s(CLOCK_MONOTONIC) - t0);
	t0 = clock_s(CLOCK_MONOTONIC);
	r = ppoll(&pfd, 1, &t300, NULL);
	report_timeout("ppoll without a mask", r, errno, clock_s(CLOCK_MONOTONIC) - t0);
	t0 = clock_s(CLOCK_MONOTONIC);
	r = pselect(0, NULL, NULL, NULL, &t300, &none);
	report_timeout("pselect with a mask", r, errno, clock_s(CLOCK_MONOTONIC) - t0);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev;
	t0 = clock_s(CLOCK_MONOTONIC);
	r = epoll_pwait(ep, &ev, 1, 300, &none);
	report_timeout("epoll_pwait with a mask", r, errno, clock_s(CLOCK_MONOTONIC) - t0);
	close(ep);

	/* After a handler that ran with every signal blocked, the mask is the
	 * one from before it. */
	struct sigaction full;
	memset(&full, 0, sizeof(full));
	full.sa_handler = on_usr2_full;
	sigfillset(&full.sa_mask);
	sigaction(SIGUSR2, &full, NULL);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	raise(SIGUSR2);
	printf("handler with a full sa_mask: saw every signal blocked %s, mask empty after it %s\n",
	       full_in_handler ? "yes" : "no", mask_is(0) ? "yes" : "no");

	/* And the program's own signal still ends them. */
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	th = later(&snd, SIGUSR1, 200);
	got_usr1 = 0;
	struct timespec t5 = {5, 0};
	r = ppoll(&pfd, 1, &t5, &none);
	printf("ppoll woken by SIGUSR1: %s\n", r < 0 && errno == EINTR && got_usr1 ? "yes" : "no");
	pthread_join(th, NULL);
	return 0;
}

/* ---------------------------------------------------- the program's own */

static volatile sig_atomic_t got_own;

static void on_own(int sig)
{
	(void)sig;
	got_own++;
}

static int blocked(int sig)
{
	sigset_t cur;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, sig) == 1;
}

static const char *yesno(int v)
{
	return v ? "yes" : "no";
}

static int showmask(int sig)
{
	printf("  SIG blocked %s, SIGUSR2 blocked %s\n", yesno(blocked(sig)), yesno(blocked(SIGUSR2)));
	return 0;
}

static int own(const char *self, int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_own;
	sigaction(sig, &sa, NULL);
	sigset_t one, none;
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigemptyset(&none);

	/* The raw system call, as a runtime might make it. */
	uint64_t k = 1ull << (sig - 1), kold = 0;
	long r = syscall(SYS_rt_sigprocmask, SIG_BLOCK, &k, &kold, 8);
	printf("raw rt_sigprocmask: %s, old had it %s, view now %s\n", r == 0 ? "ok" : "failed",
	       yesno(kold & k), yesno(blocked(sig)));
	burn_cpu(0.2);
	raise(sig);
	burn_cpu(0.05);
	sigset_t pend;
	sigpending(&pend);
	printf("sent while blocked: handled %d, pending %s\n", got_own, yesno(sigismember(&pend, sig) == 1));
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &(uint64_t){0}, &kold, 8);
	printf("unblocked: handled %d, old mask had it %s\n", got_own, yesno(kold & k));

	sighold(sig);
	printf("sighold: view %s\n", yesno(blocked(sig)));
	sigrelse(sig);
	printf("sigrelse: view %s\n", yesno(blocked(sig)));
	sighold(sig);
	sigsetmask(0);
	printf("sigsetmask(0): view %s\n", yesno(blocked(sig)));

	/* Blocked, sent, and taken by sigwaitinfo. */
	pthread_sigmask(SIG_BLOCK, &one, NULL);
	got_own = 0;
	burn_cpu(0.1);
	raise(sig);
	burn_cpu(0.05);
	siginfo_t si;
	int w = sigwaitinfo(&one, &si);
	printf("sigwaitinfo: %s, si_code %d, handled %d\n", w == sig ? "SIG" : "other", si.si_code, got_own);
	pthread_sigmask(SIG_SETMASK, &none, NULL);

	/* The mask the program believes it has goes to the programs it runs. */
	sigset_t two = one;
	sigaddset(&two, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &two, NULL);
	char sigs[16];
	snprintf(sigs, sizeof(sigs), "%d", sig);
	char *argv[] = {(char *)self, "showmask", sigs, NULL};
	extern char **environ;
	pid_t pid;
	printf("posix_spawn:\n");
	if (posix_spawn(&pid, self, NULL, NULL, argv, environ) == 0)
		waitpid(pid, NULL, 0);
	printf("fork and exec:\n");
	pid = fork();
	if (pid == 0) {
		execv(self, argv);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && !strcmp(argv[1], "burn"))
		return burn(atoi(argv[2]), atof(argv[3]));
	if (argc >= 2 && !strcmp(argv[1], "waits"))
		return waits();
	if (argc >= 3 && !strcmp(argv[1], "own"))
		return own(argv[0], atoi(argv[2]));
	if (argc >= 3 && !strcmp(argv[1], "showmask"))
		return showmask(atoi(argv[2]));
	fprintf(stderr, "usage: msk_workers burn THREADS MS | waits\n");
	return 2;
}
