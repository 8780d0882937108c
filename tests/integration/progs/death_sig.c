/* A program ended by a signal at its default action, for test-sig-death:
 *   spin      prints its view of SIGTERM, SIGINT and SIGPIPE (sigaction, the
 *             raw rt_sigaction system call), then burns CPU in hot() until
 *             a signal ends it
 *   own       installs its own SIGTERM handler, then waits: the handler
 *             prints and exits 3
 *   reraise   a cleanup handler for SIGTERM that puts SIG_DFL back and
 *             raises it again (as git and xz do), then burns CPU
 *   oneshot   a one-shot SIGTERM handler (SA_RESETHAND, all signals blocked
 *             in it, as node's) that prints and raises it again, then
 *             burns CPU
 *   ignore    ignores SIGTERM, raises it, survives and exits 0
 *   pipe      writes lines to stdout forever (ended by SIGPIPE)
 *   child     forks a child that spins; kills it with SIGTERM after 300 ms
 *             and prints how the child ended
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t sink;

__attribute__((noinline)) static void hot(void)
{
	for (;;)
		for (int i = 0; i < 1000000; i++)
			sink += (uint64_t)i * 2654435761u;
}

struct ksigaction {
	void *handler;
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

static void view(int sig, const char *name)
{
	struct sigaction sa;
	struct ksigaction k;
	sigaction(sig, NULL, &sa);
	memset(&k, 0, sizeof(k));
	if (sig == SIGPIPE)
		syscall(SYS_rt_sigaction, sig, NULL, &k, 8);
	printf("%s: %s flags %#x\n", name,
	       sa.sa_handler == SIG_DFL	  ? "SIG_DFL"
	       : sa.sa_handler == SIG_IGN ? "SIG_IGN"
					  : "handler",
	       (unsigned)sa.sa_flags);
	if (sig == SIGPIPE)
		printf("%s raw: %s\n", name, k.handler == SIG_DFL ? "SIG_DFL" : "handler");
}

static void on_term(int sig)
{
	(void)sig;
	static const char m[] = "own handler ran\n";
	write(1, m, sizeof(m) - 1);
	_exit(3);
}

static void cleanup_then_die(int sig)
{
	static const char m[] = "cleaned up\n";
	write(1, m, sizeof(m) - 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* As node's SignalExit: the kernel has reset the disposition (one-shot),
 * so the signal raised again ends the process once this returns. */
static void oneshot_exit(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	struct sigaction now;
	sigaction(sig, NULL, &now);
	static const char m[] = "one-shot handler ran, SIG_DFL again\n",
			  n[] = "one-shot handler ran, not reset\n";
	if (now.sa_handler == SIG_DFL)
		write(1, m, sizeof(m) - 1);
	else
		write(1, n, sizeof(n) - 1);
	raise(sig);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "spin";
	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(mode, "spin")) {
		view(SIGTERM, "SIGTERM");
		view(SIGINT, "SIGINT");
		view(SIGPIPE, "SIGPIPE");
		printf("ready\n");
		hot();
	} else if (!strcmp(mode, "own")) {
		signal(SIGTERM, on_term);
		printf("ready\n");
		for (;;)
			pause();
	} else if (!strcmp(mode, "reraise")) {
		signal(SIGTERM, cleanup_then_die);
		printf("ready\n");
		hot();
	} else if (!strcmp(mode, "oneshot")) {
		struct sigaction sa, back;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = oneshot_exit;
		sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
		sigfillset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGTERM, NULL, &back);
		printf("view: %s resethand %d\n",
		       back.sa_sigaction == oneshot_exit ? "its handler" : "another",
		       !!(back.sa_flags & SA_RESETHAND));
		printf("ready\n");
		hot();
	} else if (!strcmp(mode, "ignore")) {
		signal(SIGTERM, SIG_IGN);
		raise(SIGTERM);
		printf("survived\n");
		return 0;
	} else if (!strcmp(mode, "pipe")) {
		for (uint64_t i = 0;; i++) {
			printf("line %llu\n", (unsigned long long)i);
			sink += i;
		}
	} else if (!strcmp(mode, "child")) {
		pid_t c = fork();
		if (c == 0)
			hot();
		struct timespec ts = {0, 300 * 1000000};
		nanosleep(&ts, NULL);
		kill(c, SIGTERM);
		int st;
		waitpid(c, &st, 0);
		printf("child: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit",
		       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		return 0;
	}
	return 2;
}
