/* Test program: sets a signal's disposition through one libc entry point (or
 * the raw rt_sigaction syscall), or blocks it and reads it with signalfd or
 * sigwaitinfo, burns CPU while a profiler's timers would fire, then sends the
 * signal to itself a few times and prints what it saw. Run plainly and under
 * the agent, the output must be the same: `sig_entry MODE [SIGNO]` (SIGNO
 * defaults to SIGPROF; MODE is sysv, sigset, bsd, signal, sigaction, raw,
 * signalfd, sigwaitinfo or dfl). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Old entry points that the program under test may well use. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
extern sighandler_t bsd_signal(int, sighandler_t);

static volatile sig_atomic_t handled;

static void on_signal(int sig)
{
	(void)sig;
	handled++;
}

/* The kernel's struct sigaction on x86-64, and a return trampoline, for the
 * raw system call (glibc adds both itself). */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};
#define K_SA_RESTORER 0x04000000
void sig_entry_restorer(void);
__asm__(".text\n"
	"sig_entry_restorer:\n"
	"	movq $15, %rax\n" /* rt_sigreturn */
	"	syscall\n");

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A fifth of a second of CPU: at 1000 Hz, about 200 timer signals. */
static __attribute__((noinline)) uint64_t burn(void)
{
	volatile uint64_t h = 0;
	double end = cpu_now() + 0.2;
	while (cpu_now() < end)
		for (int i = 0; i < 100000; i++)
			h += (uint64_t)i * i;
	return h;
}

static int drain_signalfd(int fd)
{
	int n = 0;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		n++;
	return n;
}

static int drain_wait(int sig)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	struct timespec zero = {0, 0};
	int n = 0;
	while (sigtimedwait(&set, NULL, &zero) == sig)
		n++;
	return n;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: sig_entry MODE [SIGNO]\n");
		return 2;
	}
	const char *mode = argv[1];
	int sig = argc > 2 ? atoi(argv[2]) : SIGPROF;
	sighandler_t prev = SIG_ERR;
	if (!strcmp(mode, "sysv"))
		prev = sysv_signal(sig, on_signal);
	else if (!strcmp(mode, "sigset"))
		prev = sigset(sig, on_signal);
	else if (!strcmp(mode, "bsd"))
		prev = bsd_signal(sig, on_signal);
	else if (!strcmp(mode, "signal"))
		prev = signal(sig, on_signal);
	else if (!strcmp(mode, "sigaction")) {
		struct sigaction sa, old;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		if (sigaction(sig, &sa, &old) == 0)
			prev = old.sa_handler;
		siginterrupt(sig, 1);
		sigaction(sig, NULL, &old);
		printf("after siginterrupt: SA_RESTART %s, handler ours %s\n",
		       old.sa_flags & SA_RESTART ? "on" : "off", old.sa_handler == on_signal ? "yes" : "no");
	} else if (!strcmp(mode, "raw")) {
		struct ksigaction ka, old;
		memset(&ka, 0, sizeof(ka));
		ka.handler = (void *)on_signal;
		ka.flags = K_SA_RESTORER;
		ka.restorer = sig_entry_restorer;
		if (syscall(SYS_rt_sigaction, sig, &ka, &old, sizeof(ka.mask)) == 0)
			prev = (sighandler_t)old.handler;
		syscall(SYS_rt_sigaction, sig, NULL, &old, sizeof(ka.mask));
		printf("raw: reads back its handler %s\n", old.handler == (void *)on_signal ? "yes" : "no");
	} else if (!strcmp(mode, "dfl")) {
		prev = signal(sig, SIG_DFL);
	}
	if (!strcmp(mode, "signalfd") || !strcmp(mode, "sigwaitinfo")) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_BLOCK, &set, NULL);
		int fd = -1;
		if (!strcmp(mode, "signalfd") && (fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
			perror("signalfd");
			return 1;
		}
		burn();
		int before = fd >= 0 ? drain_signalfd(fd) : drain_wait(sig);
		int own = 0;
		for (int i = 0; i < 3; i++) {
			kill(getpid(), sig);
			own += fd >= 0 ? drain_signalfd(fd) : drain_wait(sig);
		}
		printf("%s: %d signals before sending any, %d of its own 3\n", mode, before, own);
		return 0;
	}
	printf("%s: previous disposition %s\n", mode,
	       prev == SIG_DFL	 ? "SIG_DFL"
	       : prev == SIG_IGN ? "SIG_IGN"
	       : prev == SIG_ERR ? "error"
				 : "a handler");
	burn();
	printf("%s: %d signals handled before sending any\n", mode, (int)handled);
	fflush(stdout);
	/* One-shot (System V) handlers reset themselves: the second signal
	 * takes the default action, which ends the process. */
	for (int i = 0; i < 3; i++) {
		raise(sig);
		printf("%s: %d handled after sending %d\n", mode, (int)handled, i + 1);
		fflush(stdout);
	}
	return 0;
}
